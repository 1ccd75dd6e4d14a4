"""Observability, one module per concern: metrics.py (Prometheus, and the business events
the views count), requests.py (request ids and what each request records), and logs.py (JSON
lines). Nothing happens at import; init_app wires the
app."""

from __future__ import annotations

from flask import Flask
from flask.logging import default_handler

from ..config import Settings
from ..jsonlog import JsonFormatter
from . import metrics, requests
from .logs import configure_logging
from .metrics import metrics_text
from .requests import request_id


def init_app(app: Flask, settings: Settings) -> None:
    metrics.metrics()  # made at start-up, not by the first request
    configure_logging(settings.log_level)
    app.logger.removeHandler(default_handler)
    requests.init_app(app)


__all__ = [
    "JsonFormatter",
    "configure_logging",
    "init_app",
    "metrics",
    "metrics_text",
    "request_id",
]
