"""create_app(): settings, extensions, services, blueprints, error handlers, CLI.

Imported by service.create_app when an app is built, so that importing service.config
(preflight, service/serve.py) does not import the whole application."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, Response
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (
    cors,
    delivery,
    errors,
    events,
    live,
    observability,
    ratelimit,
    requestlimits,
    services,
    spam,
)
from .admin import bp as admin_bp
from .api import bp as api_bp
from .apidocs import bp as apidocs_bp
from .cli import init_app as init_cli
from .config import SETTINGS, load_settings
from .console import bp as console_bp
from .converters import AsciiIntegerConverter
from .delivery import email as email_delivery
from .domain.notifications import NotificationSink
from .extensions import db
from .jsonprovider import OrjsonProvider
from .ops import bp as ops_bp
from .sqlite_writers import QueuedConnection
from .user_paths import UserIdConverter, UserIdPaths
from .web import bp as web_bp

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; busy_timeout makes a writer wait for the
    # lock instead of failing with "database is locked"; SQLite leaves foreign keys off.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except Exception:  # a read-only file keeps its journal mode; reads still work
        log.warning("SQLite: cannot switch to WAL (read-only database?)")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Writers queue for their turn (service/sqlite_writers.py) instead of polling
        # SQLite's lock; ``timeout`` bounds both waits.
        return {"connect_args": {"timeout": 10, "factory": QueuedConnection}}
    return {
        "pool_pre_ping": True,
        "pool_size": 5,
        "max_overflow": 5,
        "pool_timeout": 5,
        "connect_args": {"connect_timeout": 3},
    }


# PostgreSQL aborts one of two transactions that wait on each other (deadlock, 40P01) or
# that cannot be serialised (40001), and the transaction is then safe to run again.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
ATTEMPTS = 3


def is_retryable(exc: BaseException) -> bool:
    return (
        isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES
    )


class CommentsApp(Flask):
    """Flask, plus: a request whose transaction lost a deadlock is run again from the start
    (the loser's work was rolled back, so nothing is done twice)."""

    def dispatch_request(self) -> Any:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return super().dispatch_request()
            except Exception as exc:
                if attempt == ATTEMPTS or not is_retryable(exc):
                    raise
                log.warning(
                    "transaction retried after %s (attempt %d)",
                    getattr(getattr(exc, "orig", None), "sqlstate", "?"),
                    attempt,
                )
                db.session.rollback()
        raise AssertionError("unreachable")


def _release_sessions_safely(app: Flask, db: Any) -> None:
    """End each request's session without letting a dead connection escape.

    Registered after flask-sqlalchemy's own teardown, so it runs first: when the database
    vanished mid-request, the rollback inside ``remove()`` raises outside every error
    handler and the server would answer with its own bare 500. Here the session's connections
    are invalidated instead (the pool drops them) and the next request starts clean."""

    @app.teardown_appcontext
    def _release(_exc: BaseException | None) -> None:
        try:
            db.session.remove()
        except Exception as exc:
            log.warning("discarding a session whose connection failed: %s", exc.__class__.__name__)
            try:
                db.session.invalidate()
            except Exception:
                log.debug("invalidating the failed session raised", exc_info=True)
            db.session.registry.clear()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides settings (tests); the environment supplies the rest."""
    app = CommentsApp(__name__, instance_path=str(Path.cwd() / "instance"))
    settings = load_settings(config, instance_path=app.instance_path)
    # app.config keeps every setting under its environment name too: Flask extensions
    # (flask-limiter's RATELIMIT_*) read it there. The service's code reads ``settings``.
    app.config.update(settings.as_config())
    known = {s.name for s in SETTINGS}
    app.config.update({k: v for k, v in (config or {}).items() if k not in known})
    url = settings.database_url or ""
    if (
        url.startswith("sqlite:///")
        and not url.startswith(("sqlite:///:memory:", "sqlite:///file:"))
        and "?" not in url
    ):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # No SECRET_KEY: nothing uses Flask's cookie session, and without a key Flask skips
    # building its signing serializer on every request (measured: docs/performance.md).
    # COMMENTS_SECRET_KEY signs cursors and hashes guest IPs, where it is passed explicitly.
    app.config.update(
        SQLALCHEMY_DATABASE_URI=url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(url),
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        JSON_SORT_KEYS=False,
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        # The fallback is switched by the first thread that sees the storage fail; another
        # thread whose Redis call was already in flight then fails *after* the switch, and
        # flask-limiter re-raises that error unless told to swallow it: one 500 per worker
        # at the moment Redis goes (test_redis_outage_keeps_the_service_serving, 1 in ~1,000
        # requests). Swallowed, that request goes unlimited and the error is logged.
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
    )
    app.json = OrjsonProvider(app)  # measured: docs/performance.md
    app.json.sort_keys = False
    app.url_map.converters["user_id"] = UserIdConverter
    app.url_map.converters["int"] = AsciiIntegerConverter
    app.wsgi_app = UserIdPaths(app.wsgi_app)  # type: ignore[method-assign]
    if settings.trusted_proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore[method-assign]

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
    _release_sessions_safely(app, db)
    ratelimit.init_app(app)
    errors.init_app(app)
    requestlimits.init_app(app)
    observability.init_app(app, settings)
    cors.init_app(app, settings)
    services.init_app(app, settings)
    events.init_app(app)  # domain events to their sinks (notifications, webhooks, live)
    spam.init_app(app, settings)  # spam scores; moderators' decisions teach the model
    events.add_sink(app, NotificationSink())  # notifications (#15): rows in the same transaction
    delivery.init_app(app)  # webhooks: the outbox sink and the worker's jobs (#15)
    live.init_app(app, settings)  # issue 16: the live event stream's sink and hub

    app.register_blueprint(api_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(console_bp)
    app.register_blueprint(apidocs_bp)

    init_cli(app)
    email_delivery.init_app(app)  # `flask send-emails` (#15)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return app


__all__ = ["CommentsApp", "create_app", "is_retryable"]
