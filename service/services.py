"""The long-lived objects one app uses, built once in create_app and typed.

They used to be ``current_app.extensions["comments_*"]`` entries made on first use; here
every one exists from the start (nothing is connected: the Redis client and the probe
engine open connections when first used), so a request never builds one and a mistake in
a setting shows at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

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
    probe_engine: Engine  # /readyz: pool-less, short timeouts (the app's pool waits longer)


def probe_engine(url: str) -> Engine:
    """A separate, pool-less engine with 1 s timeouts: the app's pool waits longer (and would
    hide a dead database behind a healthy pooled connection)."""
    if url.startswith("sqlite"):
        connect_args: dict[str, Any] = {"timeout": PROBE_TIMEOUT_SECONDS}
    else:
        connect_args = {
            "connect_timeout": PROBE_TIMEOUT_SECONDS,
            "options": f"-c statement_timeout={PROBE_TIMEOUT_SECONDS * 1000}",
        }
    return create_engine(url, poolclass=NullPool, connect_args=connect_args)


def init_app(app: Flask, settings: Settings) -> Services:
    services = Services(
        settings=settings,
        rules=Rules.from_config(settings.as_config()),
        cursors=Cursors(settings.secret_key or ""),
        terms=TermsCache(),
        page_cache=cache_from_url(settings.cache_url),
        probe_engine=probe_engine(settings.database_url or ""),
    )
    app.extensions[EXTENSION] = services
    return services
