"""Drive the ASGI router (service/asgi.py) in process: its own event loop on a thread, each
stream's bytes collected as they are sent, and server-sent events parsed from them.
Writes go through the Flask test client as usual; the stream sees them as a browser's
EventSource would."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
from typing import Any

from service.asgi import Router


class Harness:
    def __init__(self, flask_app: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.router = Router(flask_app, threads=2)
        self.streams: list[Stream] = []

    def open(
        self,
        article_id: str,
        headers: dict[str, str] | None = None,
        client: str = "203.0.113.7",
    ) -> "Stream":
        stream = Stream(self)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": f"/api/v1/articles/{article_id}/events",
            "raw_path": f"/api/v1/articles/{article_id}/events".encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
            "client": (client, 50000),
            "server": ("127.0.0.1", 80),
        }
        stream.future = asyncio.run_coroutine_threadsafe(
            self.router(scope, stream.receive, stream.send), self.loop
        )
        self.streams.append(stream)
        return stream

    def close(self) -> None:
        for stream in self.streams:
            stream.close()

        async def stop() -> None:
            await self.router.hub.stop()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
        self.router.executor.shutdown(wait=False)


class Stream:
    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.future: Any = None
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.chunks: queue.Queue[bytes | None] = queue.Queue()
        self.buffer = ""
        self.ended = False
        self._requested = False
        self._gone: asyncio.Event | None = None
        self._gate: asyncio.Event | None = None
        self._started = threading.Event()

    async def receive(self) -> dict[str, Any]:
        if not self._requested:
            self._requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        if self._gone is None:
            self._gone = asyncio.Event()
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode(): v.decode() for k, v in message["headers"]}
            self._started.set()
            return
        if self._gate is not None:  # a client that stopped reading
            await self._gate.wait()
        self.chunks.put(message.get("body", b""))
        if not message.get("more_body", False):
            self.chunks.put(None)

    def wait_started(self, timeout: float = 10) -> int:
        assert self._started.wait(timeout), "no response started"
        assert self.status is not None
        return self.status

    def body(self, timeout: float = 10) -> bytes:
        """The whole body of a response that ends (a refusal)."""
        out = b""
        deadline = time.monotonic() + timeout
        while True:
            chunk = self.chunks.get(timeout=max(0.01, deadline - time.monotonic()))
            if chunk is None:
                return out
            out += chunk

    def blocks(self, count: int, timeout: float = 10, *, pings: bool = False) -> list[dict]:
        """The next ``count`` blocks (events, id-only blocks; pings only when asked)."""
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            while "\n\n" in self.buffer and len(out) < count:
                raw, self.buffer = self.buffer.split("\n\n", 1)
                block = parse_block(raw)
                if block.get("comment") is not None and not pings:
                    continue
                out.append(block)
            if len(out) >= count:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"only {len(out)} of {count} blocks arrived: {out}")
            try:
                chunk = self.chunks.get(timeout=remaining)
            except queue.Empty:
                continue
            if chunk is None:
                self.ended = True
                raise AssertionError(f"the stream ended after {out}")
            self.buffer += chunk.decode()
        return out

    def events(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        """The next ``count`` events (blocks with an event type)."""
        out: list[dict[str, Any]] = []
        while len(out) < count:
            out += [b for b in self.blocks(1, timeout) if "event" in b]
        return out

    def quiet(self, seconds: float = 0.5) -> list[dict[str, Any]]:
        """Whatever events arrive within ``seconds`` (expected: none)."""
        try:
            return self.events(1, timeout=seconds)
        except AssertionError:
            return []

    def stall(self) -> None:
        """The client stops reading: every send of a body part waits until ``resume``."""

        def stall() -> None:
            self._gate = asyncio.Event()

        self.harness.loop.call_soon_threadsafe(stall)

    def resume(self) -> None:
        def resume() -> None:
            gate, self._gate = self._gate, None
            if gate is not None:
                gate.set()

        self.harness.loop.call_soon_threadsafe(resume)

    def close(self) -> None:
        """The client goes away."""

        def gone() -> None:  # on the loop, like receive()
            if self._gone is None:
                self._gone = asyncio.Event()
            self._gone.set()

        self.harness.loop.call_soon_threadsafe(gone)
        try:
            self.future.result(5)
        except Exception:
            pass


def parse_block(raw: str) -> dict[str, Any]:
    block: dict[str, Any] = {}
    for line in raw.split("\n"):
        if line.startswith(":"):
            block["comment"] = line[1:].strip()
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            block["data"] = json.loads(value)
        elif name in ("id", "event", "retry"):
            block[name] = value
    return block


__all__ = ["Harness", "Stream", "parse_block"]
