"""Prometheus metrics: one set per process, made on first use (so importing the service
opens no file and makes no directory), and the business events the views count where
they happen.

Under the server, PROMETHEUS_MULTIPROC_DIR (set up by service/serve.py) makes every worker
write its values to files there, and ``/metrics`` sums them, so a scrape answered by any
worker sees all of them. Without it (tests, ``flask run``) the values live in this module's
own registry.
"""

from __future__ import annotations

import functools
import glob
import logging
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)


@dataclass(frozen=True)
class Metrics:
    http_requests: Counter
    http_latency: Histogram
    comments_created: Counter
    reactions: Counter
    flags: Counter
    rate_limited: Counter
    ratelimit_storage_errors: Counter


@functools.cache
def metrics() -> Metrics:
    """This process's metrics, made on first use. In multiprocess mode a metric without
    labels opens its file when it is made; a named directory that does not exist yet (a CLI
    command run before the server made it) is made here, not at import."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
    # The *_created series double every counter for little use (and multiprocess mode lacks
    # them). prometheus_client reads this switch when it collects, so setting it here, with
    # the metrics, rather than at import keeps importing free of global changes.
    disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus_client: unannotated
    return Metrics(
        http_requests=Counter(
            "comments_http_requests",
            "HTTP requests answered, by route (the URL rule) and status.",
            ["method", "route", "status"],
            registry=REGISTRY,
        ),
        http_latency=Histogram(
            "comments_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            ["method", "route", "status"],
            registry=REGISTRY,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        ),
        comments_created=Counter(
            "comments_created",
            "New comments accepted (Idempotency-Key replays excluded), by status.",
            ["status"],
            registry=REGISTRY,
        ),
        reactions=Counter(
            "comments_reaction_requests",
            "Successful reaction requests (idempotent repeats included), by target and action.",
            ["target", "action"],
            registry=REGISTRY,
        ),
        flags=Counter(
            "comments_flags",
            "New flags (a repeated flag by the same user is not counted).",
            registry=REGISTRY,
        ),
        rate_limited=Counter(
            "comments_rate_limited_requests",
            "Requests refused with 429, by route.",
            ["route"],
            registry=REGISTRY,
        ),
        ratelimit_storage_errors=Counter(
            "comments_ratelimit_storage_errors",
            "Times the rate-limit storage (Redis) failed and the limiter fell back or gave up.",
            registry=REGISTRY,
        ),
    )


_HTTP_SERIES: dict[tuple[str, str, str], tuple[Any, Any]] = {}


def http_series(method: str, route: str, status: str) -> tuple[Any, Any]:
    """The request counter and latency histogram of one (method, route, status): looked up
    once per process instead of through labels() on every request."""
    key = (method, route, status)
    series = _HTTP_SERIES.get(key)
    if series is None:
        m = metrics()
        series = _HTTP_SERIES[key] = (m.http_requests.labels(*key), m.http_latency.labels(*key))
    return series


# --- business events: called by the views, after the commit, where the event happened ----


def comment_created(status: str) -> None:
    metrics().comments_created.labels(status).inc()


def reaction(target: str, *, added: bool) -> None:
    metrics().reactions.labels(target, "add" if added else "remove").inc()


def flag_added() -> None:
    metrics().flags.inc()


def rate_limited(route: str) -> None:
    metrics().rate_limited.labels(route).inc()


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


_HEADER_BYTES = 8  # a value file's "bytes used" integer and its padding


class WorkerFiles(MultiProcessCollector):
    """prometheus_client's sum over the workers' value files, minus the files that do not
    hold their header yet. A process opens its file before it sizes it, so for a moment the
    file is empty, and the library's reader then raises ``struct.error``, failing the whole
    scrape with a 500 (prometheus/client_python#1199). A process killed in that moment leaves
    the empty file for good. Such a file has no value in it, so leaving it out loses
    nothing; a file that has its header but is corrupt further on still fails loudly."""

    def collect(self) -> Iterable[Any]:
        files = [f for f in glob.glob(os.path.join(self._path, "*.db")) if _has_header(f)]
        merged: Iterable[Any] = self.merge(files, accumulate=True)  # type: ignore[no-untyped-call]
        return merged


def _has_header(path: str) -> bool:
    try:
        return os.stat(path).st_size >= _HEADER_BYTES
    except FileNotFoundError:  # a dead process's "live" gauge file, removed since the glob
        return False


def multiprocess_registry() -> CollectorRegistry:
    """A registry that sums every process's value files in PROMETHEUS_MULTIPROC_DIR."""
    registry = CollectorRegistry()
    WorkerFiles(registry)  # type: ignore[no-untyped-call]
    return registry


def metrics_text(queue_sizes: Callable[[], dict[str, int]], *collectors: Any) -> bytes:
    """The Prometheus exposition: this process's metrics, or every worker's in multiprocess
    mode, plus the moderation queue gauge and any scrape-time ``collectors`` (the delivery
    queues: service/delivery/metrics.py)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = multiprocess_registry()
    else:
        registry = CollectorRegistry()
        registry.register(_Registered(REGISTRY))
    registry.register(_QueueCollector(queue_sizes))
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)


class LimiterStorageErrors(logging.Handler):
    """Flask-Limiter reports a failing storage only through its logger; count those."""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.levelno >= logging.WARNING and (
            "unreachable" in message or "Swallowing" in message
        ):
            metrics().ratelimit_storage_errors.inc()
