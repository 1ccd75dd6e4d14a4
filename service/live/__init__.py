"""Live updates (issue 16): the per-article event stream and what feeds it.

* ``sink.py``: domain events → the stream's events, built inside the transaction and
  published after it commits;
* ``hub.py``: ids, the replay buffer and fan-out (Redis pub/sub, or in process);
* ``stream.py``: ``GET /api/v1/articles/{id}/events`` (the Flask half: checks, replay);
* ``service/asgi.py`` holds the streams open without a thread each.
"""

from __future__ import annotations

from flask import Flask, current_app

from .. import events
from ..config import Settings
from .hub import Hub
from .sink import LiveSink

EXTENSION = "comments_live"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def redis_url(settings: Settings) -> str | None:
    """COMMENTS_REDIS_URL, else the page cache's or the rate limiter's Redis, else None."""
    for url in (settings.redis_url, settings.cache_url, settings.ratelimit_storage_uri):
        if url and url.startswith(REDIS_SCHEMES):
            return url
    return None


def init_app(app: Flask, settings: Settings) -> Hub:
    hub = Hub(
        redis_url=redis_url(settings),
        buffer=settings.sse_buffer,
        max_per_ip=settings.sse_max_per_ip,
        heartbeat=float(settings.sse_heartbeat_seconds),
    )
    app.extensions[EXTENSION] = hub
    events.add_sink(app, LiveSink(hub))
    return hub


def hub_of(app: Flask | None = None) -> Hub:
    found: Hub = (app or current_app).extensions[EXTENSION]
    return found


__all__ = ["EXTENSION", "Hub", "LiveSink", "hub_of", "init_app", "redis_url"]
