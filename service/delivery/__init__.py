"""What leaves the service later than the request (docs/notifications.md): notification
e-mails (email.py) and, from the delivery branch, webhooks and the worker loop."""
