"""What leaves the service after the request that caused it (issue #15).

* ``outbox.py``: the webhooks' event sink; writes outbox rows in the transaction of the
  change (a request never touches the network);
* ``worker.py``: the worker loop that runs the registered jobs (``flask --app service
  worker``; ``python -m service.serve`` starts one beside the server);
* ``webhooks.py``: the webhooks job (claim, sign, send, retry, give up, disable);
* ``sender.py`` and ``ssrf.py``: signing and sending one request, and where it may go;
* ``metrics.py``: the worker's Prometheus metrics and the queue-depth gauge;
* ``email.py``: notification e-mails (docs/notifications.md), a job of the same worker.

``init_app`` registers the sink and the jobs; other deliveries (e-mail) register theirs
here too.
"""

from __future__ import annotations

from flask import Flask

from .. import events
from ..extensions import db
from . import email, outbox, webhooks
from .worker import register_job


def queue_depths() -> dict[str, tuple[int, float]]:
    """Each outbox's (items waiting, age of the oldest in seconds), for the metrics (needs
    an app context)."""
    try:
        return {
            "webhooks": outbox.queue_depth(db.session()),
            "email": email.queue_depth(db.session()),
        }
    finally:
        db.session.rollback()


def init_app(app: Flask) -> None:
    events.add_sink(app, outbox.WebhookSink())
    register_job(app, "webhooks", webhooks.deliver_due)
    register_job(app, "email", email.send_due_emails)  # notification e-mails (#15)


__all__ = ["init_app", "queue_depths"]
