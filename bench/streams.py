"""How cheaply the server holds idle streaming responses (for server-sent events, issue 16).

Starts granian with its ASGI interface, one worker, serving a minimal event stream (below:
every subscriber waits on one in-process broadcast, with a heartbeat comment line every
15 s), opens N subscriber connections from this process, publishes one event with a POST,
and reports how long the event took to reach the subscribers (p50, p99, max), the
worker's resident memory with N streams open, and whether a plain request still answers
quickly beside them. The WSGI interface cannot do this: each open response holds one of
the worker's threads until it ends.

    python -m bench.streams --subscribers 10000
"""

from __future__ import annotations

import argparse
import asyncio
import re
import resource
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

# --- the stream app (ASGI), served by granian in the child process -------------------------

_published: asyncio.Event | None = None  # made on the server's loop, at the first request
_open = 0


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    global _published, _open
    if scope["type"] != "http":
        return
    if _published is None:
        _published = asyncio.Event()
    if scope["path"] == "/publish":
        _published.set()
        _published = asyncio.Event()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    if scope["path"] == "/healthz":
        body = f'{{"open":{_open}}}'.encode()
        await send(
            {"type": "http.response.start", "status": 200,
             "headers": [(b"content-type", b"application/json")]}
        )  # fmt: skip
        await send({"type": "http.response.body", "body": body})
        return
    await send(
        {"type": "http.response.start", "status": 200,
         "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]}
    )  # fmt: skip
    await send({"type": "http.response.body", "body": b"retry: 3000\n\n", "more_body": True})
    _open += 1
    try:
        while True:
            event = _published
            try:
                await asyncio.wait_for(event.wait(), timeout=15)
            except asyncio.TimeoutError:
                await send({"type": "http.response.body", "body": b": hb\n\n", "more_body": True})
                continue
            await send(
                {"type": "http.response.body", "body": b"event: comment.created\ndata: {}\n\n",
                 "more_body": True}
            )  # fmt: skip
    finally:
        _open -= 1


# --- the driver ----------------------------------------------------------------------------


async def _subscribe(port: int, ready: list[int], got: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
    await writer.drain()
    buffer = b""
    while b"retry:" not in buffer:
        buffer += await reader.read(4096)
    ready.append(1)
    while b"comment.created" not in buffer:
        chunk = await reader.read(4096)
        if not chunk:
            return
        buffer += chunk
    got.append(time.monotonic())
    writer.close()


async def _request(port: int, data: bytes) -> tuple[float, bytes]:
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    answer = await reader.read(65536)
    writer.close()
    return time.monotonic() - started, answer


async def drive(port: int, subscribers: int, rss: callable) -> dict[str, float]:  # type: ignore[valid-type]
    ready: list[int] = []
    got: list[float] = []
    tasks = []
    for i in range(subscribers):
        tasks.append(asyncio.create_task(_subscribe(port, ready, got)))
        if i % 500 == 499:
            await asyncio.sleep(0.05)  # the backlog is finite
    while len(ready) < subscribers:
        await asyncio.sleep(0.1)
    await asyncio.sleep(1)
    memory = rss()
    health, _ = await _request(
        port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    published = time.monotonic()
    await _request(port, b"POST /publish HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    delays = sorted(t - published for t in got)
    return {
        "subscribers": subscribers,
        "received": len(delays),
        "p50_ms": statistics.median(delays) * 1000,
        "p99_ms": delays[int(len(delays) * 0.99) - 1] * 1000,
        "max_ms": delays[-1] * 1000,
        "rss_mb": memory,
        "healthz_ms": health * 1000,
    }


def _worker_rss_mb(main: int) -> float:
    children = Path(f"/proc/{main}/task/{main}/children").read_text().split()
    total = 0.0
    for pid in [str(main), *children]:
        match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
        total += int(match.group(1)) / 1024 if match else 0
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=2000)
    args = parser.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, args.subscribers * 2 + 1000)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    from bench.run import free_port

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "granian", "--interface", "asgi", "--workers", "1",
         "--port", str(port), "--backlog", "4096", "--backpressure", str(args.subscribers + 100),
         "--log-level", "warning", "bench.streams:app"],
        cwd=Path(__file__).resolve().parent.parent,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                asyncio.run(_request(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        idle = _worker_rss_mb(server.pid)
        result = asyncio.run(drive(port, args.subscribers, lambda: _worker_rss_mb(server.pid)))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    print(
        f"granian ASGI, 1 worker: {result['subscribers']:,} open streams, "
        f"{result['received']:,} received the event; p50 {result['p50_ms']:.0f} ms, "
        f"p99 {result['p99_ms']:.0f} ms, max {result['max_ms']:.0f} ms; "
        f"RSS {idle:.0f} MB idle, {result['rss_mb']:.0f} MB with the streams open "
        f"({(result['rss_mb'] - idle) * 1024 / result['subscribers']:.1f} KB each); "
        f"/healthz beside them: {result['healthz_ms']:.1f} ms"
    )
    return 0 if result["received"] == result["subscribers"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
