"""gunicorn's own logs as JSON lines, like the app's (``logger_class`` in gunicorn.conf.py)."""

from __future__ import annotations

from typing import Any

from gunicorn import glogging

from .logs import JsonFormatter


class GunicornJsonLogger(glogging.Logger):
    """gunicorn's error and access logs as JSON lines (``logger_class`` in gunicorn.conf.py).
    The access line names the path (no query string) and never the client address."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        rid = atoms.get("{x-request-id}o", "-")
        try:
            status: Any = int(str(atoms.get("s", "0")))
        except ValueError:
            status = atoms.get("s")
        self.access_log.info(
            "access",
            extra={
                "request_id": rid if rid != "-" else None,
                "method": atoms.get("m"),
                "path": atoms.get("U"),
                "status": status,
                "bytes": atoms.get("B"),
                "duration_ms": round(request_time.total_seconds() * 1000, 2),
            },
        )
