"""A real HTTP server for webhook tests: a threaded http.server on a free loopback port that
records every request and answers as the test tells it (a status, or a stall)."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def message_id(self) -> str:
        return self.headers["webhook-id"]

    def verify(self, secret: str) -> Any:
        """The payload, if the signature verifies with ``secret`` (the receiving side's
        check, done with the standardwebhooks package); raises otherwise."""
        return Webhook(secret).verify(self.body, self.headers)


STALL = "stall"


class Receiver:
    """``plan``: what to answer, request by request (an int status, or STALL: hold the
    request until ``release()`` or the stall time passes, then 200); afterwards
    ``default``."""

    def __init__(self, *, default: int = 200, stall_seconds: float = 30.0, delay: float = 0.0):
        self.default = default
        self.stall_seconds = stall_seconds
        self.delay = delay
        self.plan: deque[Any] = deque()
        self.received: list[Received] = []
        self.arrived = threading.Condition()
        self._release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.arrived:
                    receiver.received.append(Received(self.path, headers, body))
                    step = receiver.plan.popleft() if receiver.plan else receiver.default
                    receiver.arrived.notify_all()
                if receiver.delay:
                    time.sleep(receiver.delay)
                if step == STALL:
                    receiver._release.wait(receiver.stall_seconds)
                    step = 200
                try:
                    self.send_response(int(step))
                    self.send_header("Content-Length", "2")
                    if 300 <= int(step) < 400:
                        self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the sender gave up (timeout) or died
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/comments"

    def release(self) -> None:
        self._release.set()

    def wait_for(self, count: int, seconds: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + seconds
        with self.arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.received)} requests arrived, not {count}")
                self.arrived.wait(left)
            return list(self.received)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
