"""The JSON log line: one object per line (time, level, logger, message, pid and the
request's fields when a filter set them). Its own module, without Flask, so the server's
main process formats its lines without importing the app's stack (service/serve.py)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import orjson

_RECORD_FIELDS = ("request_id", "method", "route", "path", "status", "bytes", "duration_ms")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for name in _RECORD_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        # orjson: one line per request is written by every request (measured with the page
        # cache: docs/performance.md)
        return orjson.dumps(out, default=str).decode()


__all__ = ["JsonFormatter"]
