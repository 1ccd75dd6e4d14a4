"""The WSGI apps behind a2wsgi's ASGI adapter, for the server comparison's "granian ASGI"
row (what serving the Flask app through ASGI, to add native async routes beside it, costs).
Loaded lazily so that importing this module builds neither app."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    from a2wsgi import WSGIMiddleware

    if name == "service":
        from service.wsgi import app
    elif name == "ceiling":
        from bench.ceiling import app
    else:
        raise AttributeError(name)
    wrapped = WSGIMiddleware(app, workers=8)
    globals()[name] = wrapped
    return wrapped
