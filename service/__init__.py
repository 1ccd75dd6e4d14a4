"""The comments service: create_app() builds one configured Flask application."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, Response
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import load_config

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
        return {"connect_args": {"timeout": 10}}
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
    from sqlalchemy.exc import DBAPIError

    return (
        isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES
    )


class CommentsApp(Flask):
    """Flask, plus: a request whose transaction lost a deadlock is run again from the start
    (the loser's work was rolled back, so nothing is done twice)."""

    def dispatch_request(self) -> Any:  # type: ignore[override]
        from .extensions import db

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
    settings = load_config(config, instance_path=app.instance_path)
    app.config.update(settings)
    url = settings["DATABASE_URL"]
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
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
    )
    from .jsonprovider import OrjsonProvider

    app.json = OrjsonProvider(app)  # measured: docs/performance.md
    app.json.sort_keys = False  # type: ignore[attr-defined]
    from .user_paths import UserIdConverter, UserIdPaths

    from .converters import AsciiIntegerConverter

    app.url_map.converters["user_id"] = UserIdConverter
    app.url_map.converters["int"] = AsciiIntegerConverter
    app.wsgi_app = UserIdPaths(app.wsgi_app)  # type: ignore[method-assign]
    if settings["COMMENTS_TRUSTED_PROXIES"] > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings["COMMENTS_TRUSTED_PROXIES"])  # type: ignore[method-assign]

    from . import cors, errors, observability, ratelimit, requestlimits
    from .domain.threads import Cursors
    from .extensions import db, limiter

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
    _release_sessions_safely(app, db)
    ratelimit.guard_retry_after(app)
    limiter.init_app(app)
    ratelimit.init_app(app)
    errors.init_app(app)
    requestlimits.init_app(app)
    observability.init_app(app)
    cors.init_app(app)
    app.extensions["comments_cursors"] = Cursors(settings["COMMENTS_SECRET_KEY"])

    from .admin import bp as admin_bp
    from .api import bp as api_bp
    from .apidocs import bp as apidocs_bp
    from .console import bp as console_bp
    from .ops import bp as ops_bp
    from .web import bp as web_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(web_bp)
    app.register_blueprint(console_bp)
    app.register_blueprint(apidocs_bp)

    from .cli import init_app as init_cli

    init_cli(app)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return app


__all__ = ["create_app"]
