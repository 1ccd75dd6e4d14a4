"""WSGI entry point: ``python -m service.serve`` serves ``service.wsgi:app`` with granian.

A request that runs past WORKER_TIMEOUT seconds ends its worker (service/watchdog.py)."""

from service import create_app, watchdog

app = create_app()
app.wsgi_app = watchdog.wrap(app.wsgi_app)  # type: ignore[method-assign]
