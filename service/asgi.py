"""ASGI entry point: what ``python -m service.serve`` serves (granian's ASGI interface).

One port, two kinds of response:

* ``GET /api/v1/articles/{id}/events`` (issue 16): the Flask app answers the request first
  (checks, limits, CORS, the replay: service/api/events.py); when it accepts the stream,
  the response stays open here as one asyncio task on the worker's event loop, fed by the
  live hub (service/live/hub.py), with a heartbeat comment line when idle. No thread is
  held, so one worker holds thousands of streams.
* everything else goes to the Flask app on a pool of WEB_THREADS threads (what granian's
  WSGI interface gave each worker before): the request body read first, the app called
  once on the pool, its buffered answer sent back (``passthrough``; a2wsgi builds the
  WSGI environ).

A stream ends when the client goes, when it falls too far behind, when the Redis
subscription is lost (the client resumes with Last-Event-ID), or at shutdown (SIGTERM
ends every stream at once, so in-flight requests, not idle streams, decide how long a
graceful stop takes).
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import signal
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Awaitable, Callable

from a2wsgi.wsgi import build_environ
from flask import Flask

from .api.events import STREAM_KEY
from .live import hub_of
from .live.hub import Hub, Subscriber

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

STREAM_PATH = re.compile(r"/api/v1/articles/([^/]+)/events")


class Router:
    """The ASGI app: event streams natively, the rest to ``flask_app`` on a thread pool."""

    def __init__(self, flask_app: Flask, *, threads: int | None = None) -> None:
        settings = flask_app.extensions["comments"].settings
        self.flask_app = flask_app
        self.hub: Hub = hub_of(flask_app)
        threads = threads or settings.web_threads
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="app")
        self.body_limit = (flask_app.config.get("MAX_CONTENT_LENGTH") or 1 << 20) + 1
        if not self.hub.uses_redis and settings.web_concurrency > 1:
            log.warning(
                "live events: %d worker processes and no Redis: a stream hears only of the "
                "writes its own worker served; set COMMENTS_REDIS_URL (or run one worker)",
                settings.web_concurrency,
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            match = STREAM_PATH.fullmatch(scope["path"]) if scope["method"] == "GET" else None
            if match is not None:
                await self.stream(match.group(1), scope, receive, send)
                return

            await self.passthrough(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.hub.start()
                self._end_streams_on_signals()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.hub.stop()
                self.executor.shutdown(wait=False)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _end_streams_on_signals(self) -> None:
        """granian stops on SIGTERM/SIGINT once open responses end; open streams never would
        (it would wait its 20 s and kill the worker): end them as the signal arrives, then
        let granian's own handler run."""
        loop = asyncio.get_running_loop()
        handlers = getattr(loop, "_signal_handlers", None)  # asyncio's; absent elsewhere
        if not isinstance(handlers, dict):
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            handle = handlers.get(sig)
            if handle is None:
                continue

            def chained(handle: Any = handle) -> None:
                try:
                    self.hub.close_all()
                finally:
                    handle._run()  # granian's own: stop serving, then end the worker

            loop.add_signal_handler(sig, chained)

    # --- a stream -------------------------------------------------------------------------

    async def stream(self, article_id: str, scope: Scope, receive: Receive, send: Send) -> None:
        await self.hub.start()
        # Subscribed before the app reads the replay: an event published meanwhile is in
        # both, and sent once (Subscriber.wants); none falls between the two.
        subscriber = self.hub.subscribe(article_id)
        handle: dict[str, Any] = {}
        try:
            status, headers, body = await self._ask_app(scope, handle)
            if not handle.get("stream") or status != 200:
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            headers = [(k, v) for k, v in headers if k != b"content-length"]
            try:
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body, "more_body": True})
                await self.hold(subscriber, handle, receive, send)
            except Exception as exc:  # the client went away mid-send
                log.debug("event stream ended: %s", exc.__class__.__name__)
        finally:
            self.hub.unsubscribe(subscriber)
            if handle.get("ip") is not None:
                self.hub.release(handle["ip"])

    async def hold(
        self, subscriber: Subscriber, handle: dict[str, Any], receive: Receive, send: Send
    ) -> None:
        """Keep the stream open until the client goes or the hub ends it. The hub's
        fan-out writes the events and its one ticker the heartbeats (service/live/hub.py);
        this waits, with the client's disconnect heard through a callback on ``receive``
        rather than a task of its own."""
        self.hub.attach(subscriber, send, handle.get("era"), handle.get("seq", 0))
        _hear_disconnect(receive, subscriber)
        assert subscriber.done is not None
        await subscriber.done
        if not subscriber.gone:  # ended here (shutdown, a lagging client, Redis lost)
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def passthrough(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Any other request: its body read here (up to one byte past the app's limit,
        which is then refused with 413 from the length alone), the app run on the pool,
        its whole answer sent at once. Every response of the app is built in memory
        anyway; no route streams."""
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body", False) or len(body) > self.body_limit:
                break
        status, headers, out = await self._ask_app(scope, None, bytes(body))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": out})

    async def _ask_app(
        self, scope: Scope, handle: dict[str, Any] | None, body: bytes = b""
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The Flask app's answer (status, headers, body), run on the pool: one hop to a
        thread and back, where a2wsgi's adapter makes three more per request (it hands
        each part of the response back to the loop and waits): 40-60 % more CPU per cached
        thread page than this (bench/adapter.py, docs/performance.md)."""
        environ = build_environ(scope, io.BytesIO(body))  # type: ignore[arg-type]
        if handle is not None:
            environ[STREAM_KEY] = handle
        flask_app = self.flask_app

        def run() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            started: dict[str, Any] = {}
            chunks: list[bytes] = []

            def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
                started["status"] = int(status.split(" ", 1)[0])
                started["headers"] = [
                    (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers
                ]
                return chunks.append

            result = flask_app(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                getattr(result, "close", lambda: None)()
            return started["status"], started["headers"], b"".join(chunks)

        return await asyncio.get_running_loop().run_in_executor(self.executor, run)


def _hear_disconnect(receive: Receive, subscriber: Subscriber) -> None:
    """Await ``receive`` through callbacks: the request's (empty) body first, then the
    client's disconnect, which closes the subscriber."""

    def heard(message: asyncio.Future[dict[str, Any]]) -> None:
        if message.cancelled() or message.exception() is not None:
            gone = True
        else:
            gone = message.result().get("type") == "http.disconnect"
        if gone:
            subscriber.gone = True
            subscriber.close()
        elif not subscriber.closed:
            _hear_disconnect(receive, subscriber)

    subscriber.listening = asyncio.ensure_future(receive())
    subscriber.listening.add_done_callback(heard)


def build() -> Router:
    from .wsgi import app as flask_app  # lazy: builds the app (with its worker watchdog)

    return Router(flask_app)


def __getattr__(name: str) -> Any:
    # ``service.asgi:app`` builds the app when the server loads it, not when a test or
    # tool imports this module for the Router.
    if name == "app":
        globals()["app"] = built = build()
        return built
    raise AttributeError(name)


__all__ = ["Router", "build"]
