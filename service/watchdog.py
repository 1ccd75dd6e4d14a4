"""A stuck request ends its worker, which the server then replaces.

gunicorn killed a worker whose request ran past ``timeout``; granian has no such limit, so
this middleware keeps the start time of every request in progress and a daemon thread
checks them once a second. When one has run for WORKER_TIMEOUT seconds (0: never) it logs
the request id and route and exits the process (status 70); granian's
``respawn_failed_workers`` starts a new worker. As with gunicorn, the other requests that
worker was serving at that moment are cut.

Only the app's call is timed, not the sending of the body a response streams afterwards.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Callable

log = logging.getLogger("service.watchdog")
EXIT_STATUS = 70


class Watchdog:
    def __init__(
        self,
        wsgi_app: Any,
        timeout: float,
        *,
        exit: Callable[[int], None] = os._exit,
        interval: float = 1.0,
    ) -> None:
        self.wsgi_app = wsgi_app
        self.timeout = timeout
        self._exit = exit
        self._interval = interval
        self._running: dict[int, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self._pid != os.getpid():  # first request in this (forked) worker
            self._start()
        key = threading.get_ident()
        self._running[key] = (time.monotonic(), environ)
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            self._running.pop(key, None)

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._watch, name="watchdog", daemon=True)
            self._thread.start()

    def _watch(self) -> None:
        while True:
            time.sleep(self._interval)
            now = time.monotonic()
            for started, environ in list(self._running.values()):
                if now - started >= self.timeout:
                    self._expire(now - started, environ)
                    return

    def _expire(self, seconds: float, environ: dict[str, Any]) -> None:
        log.error(
            "request ran past WORKER_TIMEOUT; ending this worker so a new one replaces it",
            extra={
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO"),
                "duration_ms": round(seconds * 1000),
            },
        )
        for handler in log.handlers + logging.getLogger("service").handlers:
            handler.flush()
        self._exit(EXIT_STATUS)


def wrap(wsgi_app: Any, timeout: float | None = None) -> Any:
    """``wsgi_app`` guarded by WORKER_TIMEOUT (from the environment unless given)."""
    if timeout is None:
        timeout = float(os.environ.get("WORKER_TIMEOUT", "0") or 0)
    return Watchdog(wsgi_app, timeout) if timeout > 0 else wsgi_app
