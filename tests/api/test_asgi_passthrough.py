"""service/asgi.py's way to the Flask app (issue 13): what a request sees through the Router
is what it would see through WSGI, bodies included, and the lean hop keeps its promises."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from a2wsgi.wsgi import build_environ

from service.asgi import AppThreads, Router, wsgi_environ


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]], **extra: Any) -> dict:
    return {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"limit=5",
        "root_path": "",
        "headers": headers,
        "client": ("203.0.113.9", 4242),
        "server": ("127.0.0.1", 8080),
        **extra,
    }


def _run(router: Router, scope: dict, chunks: list[bytes] | None) -> tuple[int, dict, bytes]:
    """Send one request through ``Router.passthrough``; ``chunks`` None: receive() must not
    be called (a request without a body)."""
    sent: list[dict[str, Any]] = []
    parts = list(chunks or [])

    async def receive() -> dict[str, Any]:
        assert chunks is not None, "receive() awaited for a request that declared no body"
        body = parts.pop(0) if parts else b""
        return {"type": "http.request", "body": body, "more_body": bool(parts)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(router.passthrough(scope, receive, send))
    start, body = sent
    return start["status"], dict(start["headers"]), body["body"]


@pytest.fixture
def router(app: Any) -> Any:
    made = Router(app, threads=2)
    yield made
    made.executor.shutdown(wait=True)


def test_the_environ_is_a2wsgis(app: Any) -> None:
    headers = [
        (b"host", b"example.org"),
        (b"content-type", b"application/json"),
        (b"content-length", b"2"),
        (b"x-forwarded-for", b"198.51.100.1"),
        (b"accept", b"text/html"),
        (b"accept", b"application/json"),  # repeated: joined with a comma
    ]
    scope = _scope("POST", "/api/v1/articles/caf\u00e9/comments", headers)
    ours = wsgi_environ(scope)
    theirs = build_environ(scope, None)  # type: ignore[arg-type]
    theirs.pop("wsgi.input")
    assert ours == theirs


def test_a_get_is_answered_without_reading_a_body(router: Router, post: Any) -> None:
    post("asgi-1", "Read through the router")
    status, headers, body = _run(
        router, _scope("GET", "/api/v1/articles/asgi-1/comments", [(b"host", b"x")]), None
    )
    assert status == 200
    assert headers[b"content-type"] == b"application/json"
    assert b"Read through the router" in body


def test_a_posted_body_arrives_whole_across_chunks(router: Router, callers: Any) -> None:
    payload = b'{"body": "Sent in three parts through the router"}'
    headers = [
        (b"host", b"x"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *[(k.lower().encode(), v.encode()) for k, v in callers.reader.items()],
    ]
    status, _, body = _run(
        router,
        _scope("POST", "/api/v1/articles/asgi-2/comments", headers),
        [payload[:10], payload[10:30], payload[30:]],
    )
    assert status == 201, body
    assert b"Sent in three parts through the router" in body


def test_app_threads_hand_back_results_and_errors() -> None:
    threads = AppThreads(2)

    async def main() -> tuple[Any, BaseException | None]:
        value = await threads.submit(lambda: 41 + 1)
        try:
            await threads.submit(lambda: 1 // 0)
        except ZeroDivisionError as exc:
            return value, exc
        return value, None

    try:
        value, error = asyncio.run(main())
    finally:
        threads.shutdown(wait=True)
    assert value == 42
    assert isinstance(error, ZeroDivisionError)
