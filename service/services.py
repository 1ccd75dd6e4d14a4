"""The long-lived objects one app uses, built once in create_app and typed.

They used to be ``current_app.extensions["comments_*"]`` entries made on first use; here
every one exists from the start (nothing is connected: the Redis client and the probe
engine open connections when first used), so a request never builds one and a mistake in
a setting shows at start-up.
"""

from __future__ import annotations

import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import redis
from flask import Flask
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from .cache import PageCache
from .cache import from_url as cache_from_url
from .config import Settings
from .domain.comments import Rules
from .domain.moderation import TermsCache
from .domain.threads import Cursors

EXTENSION = "comments"
PROBE_TIMEOUT_SECONDS = 1


@dataclass(frozen=True)
class Services:
    settings: Settings  # typed and frozen: code reads settings().max_links, not strings
    rules: Rules
    cursors: Cursors
    terms: TermsCache  # the blocked-terms file, re-read when it changes
    page_cache: PageCache | None  # None: COMMENTS_CACHE_URL=off
    probe_engine: Engine  # /readyz: its own small pool, short timeouts (see probe_engine)
    probe_redis: redis.Redis | None  # /readyz: the rate-limit Redis, pooled; None without one
    probe_runner: ThreadPoolExecutor  # /readyz: runs the checks under a deadline


def probe_engine(url: str) -> Engine:
    """/readyz's own engine: one pooled connection kept between probes (each probe used to
    open a new one), and short timeouts, so a dead database is still a prompt 503: to
    connect (connect_timeout), to wait for the pool (pool_timeout), for the server's answer
    (statement_timeout) and for packets a vanished host never acknowledges
    (tcp_user_timeout). It is not the app's pool, whose longer waits suit requests.
    pool_pre_ping replaces a connection the server dropped (a restart) before a probe uses
    it, so a stale connection is not mistaken for a dead database."""
    if url.startswith("sqlite"):
        return create_engine(url, connect_args={"timeout": PROBE_TIMEOUT_SECONDS})
    return create_engine(
        url,
        pool_size=1,
        max_overflow=2,
        pool_timeout=PROBE_TIMEOUT_SECONDS,
        pool_pre_ping=True,
        pool_recycle=300,
        connect_args={
            "connect_timeout": PROBE_TIMEOUT_SECONDS,
            "options": f"-c statement_timeout={PROBE_TIMEOUT_SECONDS * 1000}",
            "tcp_user_timeout": PROBE_TIMEOUT_SECONDS * 1000,
        },
    )


def probe_redis(url: str) -> redis.Redis | None:
    """A client for the rate-limit Redis (when limits live in one) whose pool keeps its
    connection between probes; 1 s timeouts and no retries (redis-py's default retries ten
    times with back-off), so an outage is a prompt 503. RESP2: a PING needs no handshake."""
    if not url.startswith(("redis://", "rediss://")):
        return None
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
        socket_timeout=PROBE_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),
        protocol=2,
    )


def of(app: Flask) -> Services:
    """The services ``app`` was built with (create_app)."""
    services: Services = app.extensions[EXTENSION]
    return services


def init_app(app: Flask, settings: Settings) -> Services:
    services = Services(
        settings=settings,
        rules=Rules.from_settings(settings),
        cursors=Cursors(settings.secret_key or ""),
        terms=TermsCache(),
        page_cache=cache_from_url(settings.cache_url),
        probe_engine=probe_engine(settings.database_url or ""),
        probe_redis=probe_redis(str(settings.ratelimit_storage_uri)),
        # Two threads: the database and Redis checks run side by side, each under its own
        # deadline (threads start on the first probe, so after a server forks its workers).
        probe_runner=ThreadPoolExecutor(max_workers=2, thread_name_prefix="readyz"),
    )
    app.extensions[EXTENSION] = services
    # The probe pool keeps a connection open between probes: close it with the app (an app
    # dropped without this, in tests, left the driver warning about an open connection).
    weakref.finalize(app, services.probe_engine.dispose)
    return services
