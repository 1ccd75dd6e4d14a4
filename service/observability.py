"""Metrics, structured logs and request ids.

* Prometheus metrics are module-level (one set per process). Under the server,
  PROMETHEUS_MULTIPROC_DIR (set up by service/serve.py) makes every worker write its values
  to files there, and ``/metrics`` sums them, so a scrape answered by any worker sees all of
  them. Without it (tests, ``flask run``) the values live in this module's own registry.
* Logs are one JSON object per line on stderr. Inside a request every line carries the
  request id, method and route; each request ends with one "request" line (the access log)
  with status and duration. Client IP addresses and emails are never logged.
* ``X-Request-ID`` is taken from the request when it is sane, made otherwise, and echoed on
  every response, errors included.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import sys
import time
import random
from typing import Any, Callable, Iterable

import orjson

from flask import Flask, Response, g, has_request_context, request

# prometheus_client opens its per-process files on the first metric; a named directory that
# does not exist yet (a CLI command run before the server made it) must not crash the import.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from prometheus_client import (  # noqa: E402  (after the directory exists)
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily  # noqa: E402
from prometheus_client.multiprocess import MultiProcessCollector  # noqa: E402

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_STARTED = "comments.started"
UNMATCHED_ROUTE = "<unmatched>"  # 404s and the like: one label, not one per probed path

# --- metrics ------------------------------------------------------------------------------

# The *_created series double every counter for little use (and multiprocess mode lacks them).
disable_created_metrics()
REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "comments_http_requests",
    "HTTP requests answered, by route (the URL rule) and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "comments_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route", "status"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
COMMENTS_CREATED = Counter(
    "comments_created",
    "New comments accepted (Idempotency-Key replays excluded), by status.",
    ["status"],
    registry=REGISTRY,
)
REACTIONS = Counter(
    "comments_reaction_requests",
    "Successful reaction requests (idempotent repeats included), by target and action.",
    ["target", "action"],
    registry=REGISTRY,
)
FLAGS = Counter(
    "comments_flags",
    "New flags (a repeated flag by the same user is not counted).",
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "comments_rate_limited_requests",
    "Requests refused with 429, by route.",
    ["route"],
    registry=REGISTRY,
)
RATELIMIT_STORAGE_ERRORS = Counter(
    "comments_ratelimit_storage_errors",
    "Times the rate-limit storage (Redis) failed and the limiter fell back or gave up.",
    registry=REGISTRY,
)


_HTTP_SERIES: dict[tuple[str, str, str], tuple[Any, Any]] = {}


def _http_series(method: str, route: str, status: str) -> tuple[Any, Any]:
    """The request counter and latency histogram of one (method, route, status): looked up
    once per process instead of through labels() on every request."""
    key = (method, route, status)
    series = _HTTP_SERIES.get(key)
    if series is None:
        series = _HTTP_SERIES[key] = (HTTP_REQUESTS.labels(*key), HTTP_LATENCY.labels(*key))
    return series


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED_ROUTE


def _count_business_events(response: Response, route: str) -> None:
    """Domain counters derived from the answered request, so the views stay untouched:
    the URL rule and status say what happened."""
    method, status = request.method, response.status_code
    if method == "POST" and route.endswith("/comments") and status == 201:
        if response.headers.get("Idempotent-Replayed") != "true":
            body = response.get_json(silent=True) or {}
            COMMENTS_CREATED.labels(str(body.get("status", "unknown"))).inc()
    elif method in ("PUT", "DELETE") and "/reactions/" in route and 200 <= status < 300:
        target = "article" if route.startswith("/api/v1/articles/") else "comment"
        REACTIONS.labels(target, "add" if method == "PUT" else "remove").inc()
    elif method == "POST" and route.endswith("/flags") and status == 201:
        FLAGS.inc()
    if status == 429:
        RATE_LIMITED.labels(route).inc()


class _QueueCollector:
    """The moderation queue, counted by one query at scrape time (a gauge that every worker
    would otherwise have to keep in step)."""

    def __init__(self, count: Callable[[], dict[str, int]]) -> None:
        self._count = count

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "comments_moderation_queue_size",
            "Comments waiting for a moderator, by state (pending, hidden, flagged).",
            labels=["state"],
        )
        try:
            sizes = self._count()
        except Exception as exc:  # the database is down: serve the other metrics anyway
            logging.getLogger(__name__).warning(
                "moderation queue size unavailable: %s", exc.__class__.__name__
            )
            return
        for state, n in sorted(sizes.items()):
            family.add_metric([state], n)
        yield family


class _Registered:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterable[Any]:
        return self._registry.collect()


def metrics_text(queue_sizes: Callable[[], dict[str, int]]) -> bytes:
    """The Prometheus exposition: this process's metrics, or every worker's in multiprocess
    mode, plus the moderation queue gauge."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_Registered(REGISTRY))  # type: ignore[arg-type]
    registry.register(_QueueCollector(queue_sizes))  # type: ignore[arg-type]
    return generate_latest(registry)


class _LimiterStorageErrors(logging.Handler):
    """Flask-Limiter reports a failing storage only through its logger; count those."""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.levelno >= logging.WARNING and (
            "unreachable" in message or "Swallowing" in message
        ):
            RATELIMIT_STORAGE_ERRORS.inc()


# --- request ids --------------------------------------------------------------------------

# Request ids: 128 random bits, as uuid4().hex, without a getrandom() system call per
# request (an id must be unique, not secret). A generator of our own, so the service never
# moves the global `random` state that other code (and test tools) may have seeded; a
# server that imports this module before forking its workers must not hand them one
# sequence, so each forked worker reseeds it.
_IDS = random.Random()
os.register_at_fork(after_in_child=_IDS.seed)


def request_id() -> str:
    """This request's id: the caller's X-Request-ID if sane (≤128 of [A-Za-z0-9._-]), else new."""
    rid = g.get("request_id")
    if rid is None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        rid = given if _SANE_REQUEST_ID.fullmatch(given) else f"{_IDS.getrandbits(128):032x}"
        g.request_id = rid
    return rid


# --- logs ---------------------------------------------------------------------------------

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


class _RequestContext(logging.Filter):
    """Adds the request id, method and route to lines logged while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context() and getattr(record, "request_id", None) is None:
            record.request_id = request_id()
            record.method = request.method
            record.route = _route()
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is now (pytest swaps it), like logging.lastResort."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


_HANDLER_MARK = "_comments_json_handler"
log = logging.getLogger("service.request")


def configure_logging(level: str) -> None:
    """JSON lines on stderr for the service's loggers and Flask-Limiter's. Idempotent: apps
    created again (tests) reuse the one handler."""
    # Every request logs a line, so the LogRecord fields that no line prints are not
    # gathered: the caller's file and line (a stack walk per record), thread and process
    # names. The logging HOWTO's "Optimization" section names these switches.
    logging._srcfile = None  # type: ignore[attr-defined]
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
    if not any(isinstance(h, _LimiterStorageErrors) for h in limiter_logger.handlers):
        limiter_logger.addHandler(_LimiterStorageErrors())


# --- wiring -------------------------------------------------------------------------------


class _StartClock:
    """WSGI middleware noting when a request arrived, before any before_request hook (the
    rate limiter's may refuse it before ours would run)."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ[_STARTED] = time.perf_counter()
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    from flask.logging import default_handler

    configure_logging(app.config.get("COMMENTS_LOG_LEVEL", "INFO"))
    app.logger.removeHandler(default_handler)
    app.wsgi_app = _StartClock(app.wsgi_app)  # type: ignore[method-assign]

    @app.after_request
    def _observe(response: Response) -> Response:
        rid = request_id()
        response.headers[REQUEST_ID_HEADER] = rid
        started = request.environ.get(_STARTED)
        elapsed = time.perf_counter() - started if started is not None else 0.0
        route, status = _route(), response.status_code
        requests, latency = _http_series(request.method, route, str(status))
        requests.inc()
        latency.observe(elapsed)
        _count_business_events(response, route)
        log.info("request", extra={"status": status, "duration_ms": round(elapsed * 1000, 2)})
        return response


__all__ = ["init_app", "metrics_text", "request_id", "JsonFormatter", "configure_logging"]
