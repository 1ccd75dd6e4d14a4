"""The delivery worker's Prometheus metrics, in the service's registry
(service/observability/metrics.py): beside ``python -m service.serve`` the worker writes to
the shared multiprocess directory, so the server's /metrics shows them; a worker in its own
container serves them itself (``flask --app service worker --metrics-port 9100``).

The queue's depth is counted by one query when metrics are scraped (any process can answer
it, and no worker has to keep a gauge in step)."""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from typing import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily

from ..observability.metrics import REGISTRY, metrics, multiprocess_registry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryMetrics:
    attempts: Counter
    attempt_seconds: Histogram
    delivery_lag: Histogram
    gave_up: Counter
    endpoints_disabled: Counter


@functools.cache
def delivery_metrics() -> DeliveryMetrics:
    metrics()  # the shared directory exists first (see metrics())
    return DeliveryMetrics(
        attempts=Counter(
            "comments_webhook_attempts",
            "Webhook delivery attempts, by result: delivered, http_error (a non-2xx answer, "
            "redirects included), timeout, connection_error, refused (SSRF rule).",
            ["result"],
            registry=REGISTRY,
        ),
        attempt_seconds=Histogram(
            "comments_webhook_attempt_duration_seconds",
            "Time from sending a webhook to its endpoint's answer (or the failure).",
            registry=REGISTRY,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
        ),
        delivery_lag=Histogram(
            "comments_webhook_delivery_lag_seconds",
            "From the event to its successful delivery (queueing and retries included).",
            registry=REGISTRY,
            buckets=(0.1, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0, 3600.0, 21600.0, 86400.0),
        ),
        gave_up=Counter(
            "comments_webhook_deliveries_failed",
            "Webhook deliveries given up after COMMENTS_WEBHOOK_RETRY_HOURS of retries.",
            registry=REGISTRY,
        ),
        endpoints_disabled=Counter(
            "comments_webhook_endpoints_disabled",
            "Webhook endpoints disabled for failing continuously for the retry window.",
            registry=REGISTRY,
        ),
    )


def attempt(result: str, seconds: float) -> None:
    m = delivery_metrics()
    m.attempts.labels(result).inc()
    m.attempt_seconds.observe(seconds)


def delivered(lag_seconds: float) -> None:
    delivery_metrics().delivery_lag.observe(max(0.0, lag_seconds))


def gave_up() -> None:
    delivery_metrics().gave_up.inc()


def endpoint_disabled() -> None:
    delivery_metrics().endpoints_disabled.inc()


QueueDepths = Callable[[], dict[str, tuple[int, float]]]


class QueueCollector:
    """``comments_delivery_queue_depth{queue}`` and ``comments_delivery_queue_oldest_seconds
    {queue}``: items waiting in each outbox (webhooks; others may add theirs), counted at
    scrape time."""

    def __init__(self, depths: QueueDepths) -> None:
        self._depths = depths

    def collect(self) -> Iterable[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "comments_delivery_queue_depth",
            "Items waiting to be delivered (due or being retried), by queue.",
            labels=["queue"],
        )
        oldest = GaugeMetricFamily(
            "comments_delivery_queue_oldest_seconds",
            "Age of the oldest item waiting, by queue (0 when none waits).",
            labels=["queue"],
        )
        try:
            found = self._depths()
        except Exception as exc:  # the database is down: serve the other metrics anyway
            log.warning("delivery queue depth unavailable: %s", exc.__class__.__name__)
            return
        for queue, (count, age) in sorted(found.items()):
            depth.add_metric([queue], count)
            oldest.add_metric([queue], age)
        yield depth
        yield oldest


class _Registered:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterable[object]:
        return self._registry.collect()


def serve_worker_metrics(port: int, depths: QueueDepths) -> None:
    """A worker in its own container: its metrics (and the queue's depth) on ``port``."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = multiprocess_registry()
    else:
        registry = CollectorRegistry()
        registry.register(_Registered(REGISTRY))  # type: ignore[arg-type]
    registry.register(QueueCollector(depths))
    delivery_metrics()
    start_http_server(port, registry=registry)
    log.info("delivery worker metrics on port %d", port)


__all__ = [
    "QueueCollector",
    "attempt",
    "delivered",
    "delivery_metrics",
    "endpoint_disabled",
    "gave_up",
    "serve_worker_metrics",
]
