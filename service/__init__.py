"""The comments service: create_app() builds one configured Flask application.

Importing the package imports nothing else: ``python -m service.preflight`` and gunicorn's
master (which loads service.observability for its logger) start without loading the whole
application; service/app.py is imported when an app is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides settings (tests); the environment supplies the rest."""
    from .app import create_app as build  # lazy: keeps `import service.config` light

    return build(config)


def is_retryable(exc: BaseException) -> bool:
    """True for a transaction PostgreSQL aborted (deadlock, serialization) and that is safe to
    run again; see service/app.py."""
    from .app import is_retryable as check  # lazy: keeps `import service.config` light

    return check(exc)


__all__ = ["create_app", "is_retryable"]
