"""ASGI entry point: what ``python -m service.serve`` serves (granian's ASGI interface).

One port, two kinds of response:

* ``GET /api/v1/articles/{id}/events`` (issue 16): the Flask app answers the request first
  (checks, limits, CORS, the replay: service/api/events.py); when it accepts the stream,
  the response stays open here as one asyncio task on the worker's event loop, fed by the
  live hub (service/live/hub.py), with a heartbeat comment line when idle. No thread is
  held, so one worker holds thousands of streams.
* everything else goes to the Flask app on a pool of WEB_THREADS threads (what granian's
  WSGI interface gave each worker before): the request body read first, the app called
  once on the pool, its buffered answer sent back (``passthrough``).

A stream ends when the client goes, when it falls too far behind, when the Redis
subscription is lost (the client resumes with Last-Event-ID), or at shutdown (SIGTERM
ends every stream at once, so in-flight requests, not idle streams, decide how long a
graceful stop takes).
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import queue
import re
import signal
import sys
import threading
from typing import Any, Awaitable, Callable

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
        self.executor = AppThreads(threads)
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
        for sig in (signal.SIGTERM, signal.SIGINT):
            handle = handlers.get(sig) if isinstance(handlers, dict) else None
            if handle is None:  # uvloop, or a server that set a plain handler (uvicorn)
                self._end_streams_on_signal_any_loop(loop, sig)
                continue

            def chained(handle: Any = handle) -> None:
                try:
                    self.hub.close_all()
                finally:
                    handle._run()  # granian's own: stop serving, then end the worker

            loop.add_signal_handler(sig, chained)

    def _end_streams_on_signal_any_loop(self, loop: asyncio.AbstractEventLoop, sig: int) -> None:
        """The same for a loop that keeps its handlers out of reach (uvloop, the default
        when installed: its ``add_signal_handler`` sets a Python-level handler that only
        marks the signal, and the loop wakes through the wakeup fd and runs granian's
        callback), or for a server that sets a Python-level handler itself (uvicorn's
        ``handle_exit``). That handler is wrapped here: it still runs, and the streams
        end on the loop's next turn."""
        previous = signal.getsignal(sig)
        if not callable(previous):
            return

        def wrapped(signum: int, frame: Any, previous: Callable[..., Any] = previous) -> None:
            try:
                loop.call_soon_threadsafe(self.hub.close_all)
            finally:
                previous(signum, frame)

        signal.signal(sig, wrapped)

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
        anyway; no route streams. An HTTP/1 request that declares no body (no
        Content-Length, no Transfer-Encoding: every GET) is not read at all: one await
        fewer."""
        environ = wsgi_environ(scope)
        body = b""
        if (
            environ.get("CONTENT_LENGTH", "0") != "0"
            or "HTTP_TRANSFER_ENCODING" in environ
            or not scope["http_version"].startswith("1")  # HTTP/2 may send a body without either
        ):
            read = bytearray()
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                read += message.get("body", b"")
                if not message.get("more_body", False) or len(read) > self.body_limit:
                    break
            body = bytes(read)
        environ["wsgi.input"] = io.BytesIO(body)
        status, headers, out = await self._run_app(environ)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": out})

    async def _ask_app(
        self, scope: Scope, handle: dict[str, Any] | None, body: bytes = b""
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The Flask app's answer (status, headers, body) to ``scope``, run on the pool."""
        environ = wsgi_environ(scope)
        environ["wsgi.input"] = io.BytesIO(body)
        if handle is not None:
            environ[STREAM_KEY] = handle
        return await self._run_app(environ)

    def _run_app(
        self, environ: dict[str, Any]
    ) -> asyncio.Future[tuple[int, list[tuple[bytes, bytes]], bytes]]:
        """One hop to a thread and back (a2wsgi's adapter made three more per request:
        it hands each part of the response back to the loop and waits; 40-60 % more CPU
        per cached thread page than this, bench/adapter.py, docs/performance.md)."""
        flask_app = self.flask_app

        def run() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            started: list[Any] = []
            chunks: list[bytes] = []

            def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
                started[:] = (
                    int(status[:3]),
                    [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
                )
                return chunks.append

            result = flask_app(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            return started[0], started[1], b"".join(chunks)

        return self.executor.submit(run)


class AppThreads:
    """The app's threads: ``submit(fn)`` runs ``fn`` on one of them and returns an asyncio
    future of its result, settled by one ``call_soon_threadsafe``. Leaner than
    ``loop.run_in_executor`` (which wraps a concurrent.futures.Future, with its lock and
    condition, and chains it to the asyncio one): this hop is on every request."""

    def __init__(self, threads: int) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"app_{i}", daemon=True)
            for i in range(max(1, threads))
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[[], Any]) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((loop, future, fn))
        return future

    def shutdown(self, wait: bool = False) -> None:
        for _ in self._threads:
            self._queue.put(None)
        if wait:
            for thread in self._threads:
                thread.join()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            loop, future, fn = item
            try:
                result, error = fn(), None
            except BaseException as exc:  # handed to the awaiting task, as an executor would
                result, error = None, exc
            try:
                loop.call_soon_threadsafe(_settle, future, result, error)
            except RuntimeError:  # the loop closed meanwhile (shutdown): nobody waits
                pass


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


# WSGI's name for each request header, kept for the names seen (bounded: clients choose them).
_HEADER_KEYS: dict[bytes, str] = {
    b"content-length": "CONTENT_LENGTH",
    b"content-type": "CONTENT_TYPE",
}
_HEADER_KEYS_MAX = 512
_SCRIPT_NAME = os.environ.get("SCRIPT_NAME", "")


def wsgi_environ(scope: Scope) -> dict[str, Any]:
    """The WSGI environ of an ASGI request (as a2wsgi's ``build_environ`` makes it, without
    its per-request work that never changes: header names are translated once). The
    caller sets ``wsgi.input``."""
    root = scope.get("root_path", "")
    path = scope["path"]
    if root:
        script_name = root.encode("utf8").decode("latin1")
        path_info = path.encode("utf8").decode("latin1")
        if path_info.startswith(script_name):
            path_info = path_info[len(script_name) :]
    else:
        script_name = ""
        path_info = path if path.isascii() else path.encode("utf8").decode("latin1")
    if _SCRIPT_NAME:
        script_name = _SCRIPT_NAME.encode("utf8").decode("latin1")
    server = scope.get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "asgi.scope": scope,
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path_info,
        "QUERY_STRING": scope["query_string"].decode("ascii"),
        "SERVER_PROTOCOL": f"HTTP/{scope['http_version']}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.errors": sys.stdout,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1] or 0),
    }
    client = scope.get("client")
    if client is not None:
        environ["REMOTE_ADDR"] = client[0]
        environ["REMOTE_PORT"] = str(client[1])
    keys = _HEADER_KEYS
    for name, value in scope.get("headers", ()):
        key = keys.get(name)
        if key is None:
            key = "HTTP_" + name.decode("latin1").upper().replace("-", "_")
            if len(keys) < _HEADER_KEYS_MAX:
                keys[name] = key
        text = value.decode("latin1")
        if key in environ:
            text = environ[key] + "," + text
        environ[key] = text
    return environ


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
