"""Request ids, the route label, and what every request records when it ends: the
X-Request-ID header, its count and latency, and one "request" log line (the access log).

``X-Request-ID`` is taken from the request when it is sane, made otherwise, and echoed on
every response, errors included.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import re
import time
from typing import Any

from flask import Flask, Response, g, request

from .metrics import http_series

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_STARTED = "comments.started"
UNMATCHED_ROUTE = "<unmatched>"  # 404s and the like: one label, not one per probed path

# Request ids: 128 random bits, as uuid4().hex, without a getrandom() system call per
# request (an id must be unique, not secret). A generator of our own, so the service never
# moves the global `random` state that other code (and test tools) may have seeded; a
# server that imports this module before forking its workers must not hand them one
# sequence, so each forked worker reseeds it.
_IDS = random.Random()


@functools.cache
def _reseed_in_forked_workers() -> None:
    """Registered once, at the first create_app (not at import)."""
    os.register_at_fork(after_in_child=_IDS.seed)


def request_id() -> str:
    """This request's id: the caller's X-Request-ID if sane (≤128 of [A-Za-z0-9._-]), else new."""
    rid: str | None = g.get("request_id")
    if rid is None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        rid = given if _SANE_REQUEST_ID.fullmatch(given) else f"{_IDS.getrandbits(128):032x}"
        g.request_id = rid
    return rid


def route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED_ROUTE


class _StartClock:
    """WSGI middleware noting when a request arrived, before any before_request hook (the
    rate limiter's may refuse it before ours would run)."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ[_STARTED] = time.perf_counter()
        return self.wsgi_app(environ, start_response)


log = logging.getLogger("service.request")


def init_app(app: Flask) -> None:
    # A server may import this module (its log formatter) before forking and make _IDS
    # there: each worker builds its app after the fork, and a preloaded app forks after this.
    _IDS.seed()
    _reseed_in_forked_workers()
    app.wsgi_app = _StartClock(app.wsgi_app)  # type: ignore[method-assign]

    @app.after_request
    def _observe(response: Response) -> Response:
        rid = request_id()
        response.headers[REQUEST_ID_HEADER] = rid
        started = request.environ.get(_STARTED)
        elapsed = time.perf_counter() - started if started is not None else 0.0
        status = response.status_code
        requests, latency = http_series(request.method, route(), str(status))
        requests.inc()
        latency.observe(elapsed)
        log.info("request", extra={"status": status, "duration_ms": round(elapsed * 1000, 2)})
        return response
