"""Logs: one JSON object per line on stderr. Inside a request every line carries the
request id, method and route. Client IP addresses and emails are never logged."""

from __future__ import annotations

import logging
import sys
from typing import Any

from flask import has_request_context, request

from ..jsonlog import JsonFormatter
from .metrics import LimiterStorageErrors
from .requests import request_id, route


class _RequestContext(logging.Filter):
    """Adds the request id, method and route to lines logged while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and getattr(record, "request_id", None) is None:
            record.request_id = request_id()
            record.method = request.method
            record.route = route()
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is now (pytest swaps it), like logging.lastResort."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


_HANDLER_MARK = "_comments_json_handler"


def configure_logging(level: str) -> None:
    """JSON lines on stderr for the service's loggers and Flask-Limiter's. Idempotent: apps
    created again (tests) reuse the one handler."""
    # Every request logs a line, so the LogRecord fields that no line prints are not
    # gathered: the caller's file and line (a stack walk per record), thread and process
    # names. The logging HOWTO's "Optimization" section names these switches.
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    handler = _StderrHandler()
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(_RequestContext())
    for name in ("service", "flask-limiter"):
        logger = logging.getLogger(name)
        logger.setLevel(level.upper())
        if not any(getattr(h, _HANDLER_MARK, False) for h in logger.handlers):
            logger.addHandler(handler)
    limiter_logger = logging.getLogger("flask-limiter")
    if not any(isinstance(h, LimiterStorageErrors) for h in limiter_logger.handlers):
        limiter_logger.addHandler(LimiterStorageErrors())
