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
    adapter = WSGIMiddleware(app, workers=8)

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        # a2wsgi hands receive() to run_coroutine_threadsafe, which wants a coroutine;
        # granian's receive() returns another awaitable (a 500 on every POST otherwise).
        async def coroutine_receive() -> Any:
            return await receive()

        await adapter(scope, coroutine_receive, send)

    globals()[name] = wrapped
    return wrapped
