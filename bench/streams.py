"""Live event streams at scale (issue 16): the real service, N open streams.

Starts the service as `make run` and the container do (``python -m service.serve``:
granian's ASGI interface, service/asgi.py) on a seeded SQLite database (the 200-comment
article of bench/run.py), and measures:

1. the anonymous thread page with wrk, before any stream is open;
2. the instance's resident memory (granian's main process, its workers and the delivery
   worker, by process) cold, then after warm-up posts: a worker's first post loads and
   trains the spam model, which a live instance has long done (``--warmup 0``: none);
3. N subscribers to one article's ``/events``, opened by ``--clients`` client processes
   (asyncio, loopback), and the memory with them open;
4. the anonymous thread page again, with the N streams open (target: >= 70 % of 1.);
5. one comment posted through the API: when each subscriber received its
   ``comment.created`` (target: p99 <= 1 s, all within 3 s), beside the server's own
   timing of each fan-out (the hub logs when it began and how long it took, per worker),
   so the delay splits into before the fan-out, the fan-out, and after it (granian
   writing the sockets, the clients reading them).

    python -m bench.streams --subscribers 10000             # the issue's targets
    python -m bench.streams --subscribers 2000 --duration 3  # a quicker check
    python -m bench.streams --redis redis://127.0.0.1:6379/5 --workers 2
    python -m bench.streams --subscribers 10000 --server uvicorn --no-delivery-worker
                                                   # a streams instance (docs/production.md)

Without ``--redis`` the instance runs one worker process (in-process fan-out reaches the
streams of the process that took the post only); with it, ``--workers`` (default 2) share
events through Redis pub/sub. Per-IP caps and rate limits are off: every client is
127.0.0.1. Raises its own open-files limit (each stream is two sockets on one machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ARTICLE = "bench-200"
THREAD = f"/api/v1/articles/{ARTICLE}/comments?limit=20"
EVENTS = f"/api/v1/articles/{ARTICLE}/events"


def raise_open_files(want: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else want
    if soft < min(want, target):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, target), hard))


# --- a client process: `python -m bench.streams --client PORT COUNT MARKER` ------------------


async def _subscriber(port: int, marker: bytes, ready: list[int], got: list[float]) -> None:
    for attempt in range(20):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            break
        except OSError:
            await asyncio.sleep(0.2 * (attempt + 1))  # the backlog is finite
    else:
        return
    writer.write(
        f"GET {EVENTS} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    buffer = b""
    while b"retry:" not in buffer:
        chunk = await reader.read(4096)
        if not chunk:
            return
        buffer += chunk
    ready.append(1)
    while marker not in buffer:
        chunk = await reader.read(65536)
        if not chunk:
            return
        buffer = buffer[-4096:] + chunk
    got.append(time.time())
    writer.close()


async def _client(port: int, count: int, marker: bytes) -> None:
    ready: list[int] = []
    got: list[float] = []
    tasks = []
    for i in range(count):
        tasks.append(asyncio.create_task(_subscriber(port, marker, ready, got)))
        if i % 250 == 249:
            await asyncio.sleep(0.05)
    deadline = time.monotonic() + 120
    while len(ready) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    print(f"READY {len(ready)}", flush=True)
    try:
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=180)
    except asyncio.TimeoutError:
        pass
    print("DONE " + json.dumps(got), flush=True)


# --- the driver ----------------------------------------------------------------------------


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (granian's main process, its workers, the delivery
    worker ``python -m service.serve`` starts beside them)."""
    out = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for child in children:
        out += _tree(int(child))
    return out


def _rss(main: int) -> dict[str, float]:
    """VmRSS in MB of each process of the instance, by "pid command", and "total"."""
    out: dict[str, float] = {}
    for pid in _tree(main):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                out[f"{pid} {command.strip()[:60]}"] = round(int(line.split()[1]) / 1024, 1)
    out["total"] = round(sum(out.values()), 1)
    return out


FANOUT_LINE = re.compile(r"live fan-out: event (\S+) of article (\S+) to (\d+) streams, "
                         r"began ([\d.]+), took ([\d.]+) ms")  # fmt: skip


def _fan_outs(log: Path, marker_after: float) -> list[tuple[int, float, float]]:
    """The server's fan-out lines (service/live/hub.py) since ``marker_after``: (streams,
    began, took in s), one per worker that wrote the event."""
    out = []
    for line in log.read_text(errors="replace").splitlines():
        found = FANOUT_LINE.search(line)
        if found and float(found.group(4)) >= marker_after:
            out.append((int(found.group(3)), float(found.group(4)), float(found.group(5)) / 1000))
    return out


WARM_MB = 40.0


def _sample_sockets(port: int, out: list[tuple[float, int, int]], seconds: float = 8) -> None:
    """Every 0.5 s: (time, client sockets to ``port`` still open, of which holding unread
    bytes), from ``ss``; stops when none is left open."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        at = time.time()
        try:
            listing = subprocess.run(
                ["ss", "-tnH", "state", "established", f"( dport = :{port} )"],
                capture_output=True, text=True, timeout=5,
            ).stdout.splitlines()  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return
        unread = sum(1 for row in listing if row.split() and row.split()[0] != "0")
        out.append((at, len(listing), unread))
        if len(listing) <= 8:  # wrk and the POST are not streams
            return
        time.sleep(max(0.0, 0.5 - (time.time() - at)))


def _all_warm(cold: dict[str, float], now: dict[str, float]) -> bool:
    """Every granian worker's RSS grew by WARM_MB since ``cold`` (its first post loaded and
    trained the spam model)."""
    workers = [name for name in cold if "worker-" in name or "spawn_main" in name]
    return bool(workers) and all(now.get(name, 0) - cold[name] >= WARM_MB for name in workers)


def _post(base: str, body: str, token: str) -> int:
    request = urllib.request.Request(
        base + f"/api/v1/articles/{ARTICLE}/comments",
        data=json.dumps({"body": body}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return int(json.loads(answer.read())["id"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL"))
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="comments posted before the streams open (default: until every worker has "
        "taken one, at most 8 per worker), so the timed post is not a worker's first "
        "(which trains the spam model); 0: cold",
    )
    parser.add_argument(
        "--server",
        choices=("granian", "uvicorn"),
        default="granian",
        help="COMMENTS_SERVER: the default granian, or uvicorn (the streams instance)",
    )
    parser.add_argument(
        "--no-delivery-worker",
        action="store_true",
        help="COMMENTS_DELIVERY_WORKER=false: an instance whose deliveries run elsewhere",
    )
    parser.add_argument("--client", nargs=3, metavar=("PORT", "COUNT", "MARKER"))
    args = parser.parse_args(argv)
    raise_open_files(args.subscribers * 2 + 4096)
    if args.client:
        port, count, marker = args.client
        asyncio.run(_client(int(port), int(count), marker.encode()))
        return 0

    from bench.run import JWT_SECRET, Server, Sizes, reset_database, seed_base, token, wrk

    workers = args.workers or (2 if args.redis else 1)
    workdir = Path(tempfile.mkdtemp(prefix="bench-streams-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    reset_database(url)
    seed_base(url, Sizes(small=200, big=200, listing=2))
    env = {
        "DATABASE_URL": url,
        "COMMENTS_JWT_SECRET": JWT_SECRET,
        "COMMENTS_SECRET_KEY": "bench-cursor-secret-0123456789abcdefghij",
        "RATELIMIT_ENABLED": "false",
        "COMMENTS_ENV": "production",
        "COMMENTS_METRICS_PUBLIC": "true",  # nothing scrapes it here
        "COMMENTS_SSE_MAX_PER_IP": str(args.subscribers + 10),
        "WEB_CONCURRENCY": str(workers),
        "COMMENTS_SERVER": args.server,
        "COMMENTS_DELIVERY_WORKER": "false" if args.no_delivery_worker else "true",
    }
    if args.redis:
        env["COMMENTS_REDIS_URL"] = args.redis
    server = Server("service.wsgi:app", env, workdir / "server.log")  # service.serve's ASGI app
    clients: list[subprocess.Popen[str]] = []
    try:
        base = server.base
        page = base + THREAD
        wrk(page, seconds=1, connections=4, threads=2)  # warm up
        alone = wrk(page, seconds=args.duration, connections=4, threads=2)
        cold_rss = _rss(server.proc.pid)
        # Which worker takes a post is the kernel's choice: post until every worker has
        # taken one (its RSS grew by the spam model, WARM_MB), at most 8 per worker.
        warmups = workers * 8 if args.warmup is None else args.warmup
        warmup_ms = []
        for i in range(warmups):
            if args.warmup is None and _all_warm(cold_rss, _rss(server.proc.pid)):
                break
            clock = time.perf_counter()
            _post(base, f"warm-up {i} before the streams open", token(f"bench-warmup-{i}"))
            warmup_ms.append(round((time.perf_counter() - clock) * 1000))
        idle_rss = _rss(server.proc.pid)
        marker = f"stream-marker-{time.time_ns()}"
        share = [args.subscribers // args.clients] * args.clients
        share[0] += args.subscribers - sum(share)
        opened = time.monotonic()
        for count in share:
            clients.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "bench.streams",
                        "--client",
                        str(server.port),
                        str(count),
                        marker,
                    ],
                    stdout=subprocess.PIPE,
                    text=True,
                    cwd=Path(__file__).resolve().parent.parent,
                )  # fmt: skip
            )
        ready = 0
        for client in clients:
            assert client.stdout is not None
            words = client.stdout.readline().split()
            ready += int(words[1]) if words and words[0] == "READY" else 0
        opened_s = time.monotonic() - opened
        time.sleep(1)
        streams_rss = _rss(server.proc.pid)
        beside = wrk(page, seconds=args.duration, connections=4, threads=2)
        sockets: list[tuple[float, int, int]] = []
        sampler = threading.Thread(target=_sample_sockets, args=(server.port, sockets), daemon=True)
        published = time.time()
        sampler.start()
        _post(base, f"{marker}: a posted comment", token("bench-poster"))
        answered = time.time()  # the publish happens after the commit, inside the POST
        arrivals: list[float] = []
        for client in clients:
            assert client.stdout is not None
            for line in client.stdout:
                if line.startswith("DONE "):
                    arrivals += json.loads(line[5:])
                    break
            client.wait(timeout=60)
    finally:
        for client in clients:
            if client.poll() is None:
                client.kill()
        server.stop()
    fan_outs = _fan_outs(workdir / "server.log", published - 1)
    delays = sorted(t - published for t in arrivals) or [float("nan")]
    p99 = delays[max(0, int(len(delays) * 0.99) - 1)]
    last = published + delays[-1]
    kept = beside.rps / alone.rps if alone.rps else 0.0
    result = {
        "subscribers": args.subscribers,
        "open": ready,
        "received": len(arrivals),
        "workers": workers,
        "fan_out": "redis" if args.redis else "in-process",
        "opened_s": round(opened_s, 1),
        "p50_ms": round(statistics.median(delays) * 1000, 1),
        "p99_ms": round(p99 * 1000, 1),
        "max_ms": round(delays[-1] * 1000, 1),
        "post_ms": round((answered - published) * 1000, 1),
        "first_ms": round(delays[0] * 1000, 1),
        "warmup_post_ms": warmup_ms,
        # server side (service/live/hub.py's log line, per worker): from the POST being sent
        # to the fan-out starting, its duration, and from its end to the last arrival
        "fan_outs": [
            {
                "streams": n,
                "began_after_post_ms": round((began - published) * 1000, 1),
                "took_ms": round(took * 1000, 1),
                "last_arrival_after_end_ms": round((last - began - took) * 1000, 1),
            }
            for n, began, took in fan_outs
        ],
        # the clients' sockets still open (a client closes its socket once it has read
        # the comment) and how many of them hold bytes the client has not read yet: open
        # and unread = the client is behind; open with nothing unread = not yet written
        "client_sockets": [
            {"after_post_ms": round((t - published) * 1000), "open": n, "unread": unread}
            for t, n, unread in sockets
        ],
        "rss_cold_mb": cold_rss["total"],
        "rss_idle_mb": idle_rss["total"],
        "rss_streams_mb": streams_rss["total"],
        "rss_by_process_cold": cold_rss,
        "rss_by_process_streams": streams_rss,
        "kb_per_stream": round(
            (streams_rss["total"] - idle_rss["total"]) * 1024 / max(1, ready), 1
        ),
        "page_rps_alone": round(alone.rps),
        "page_rps_beside_streams": round(beside.rps),
        "page_kept": round(kept, 3),
        "server": args.server,
        "delivery_worker": not args.no_delivery_worker,
        "load_average": os.getloadavg()[0],
    }
    print(json.dumps(result))
    targets = {
        "all subscribers received the event": len(arrivals) == args.subscribers,
        "p99 <= 1 s": p99 <= 1.0,
        "max <= 3 s": delays[-1] <= 3.0,
        "RSS < 400 MB": streams_rss["total"] < 400,
        "thread page >= 70 % beside the streams": kept >= 0.70,
    }
    for name, ok in targets.items():
        print(f"  {'met   ' if ok else 'MISSED'}  {name}")
    print(
        f"{args.server} ASGI, {workers} worker(s)"
        f"{'' if args.no_delivery_worker else ' and the delivery worker'}, "
        f"{result['fan_out']} fan-out: {ready:,} open streams "
        f"(opened in {opened_s:.0f} s), {len(arrivals):,} received the event; "
        f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, "
        f"max {result['max_ms']:.0f} ms (the POST itself took {result['post_ms']:.0f} ms, "
        f"the first arrival {result['first_ms']:.0f} ms); "
        f"RSS {cold_rss['total']:.0f} MB cold, {idle_rss['total']:.0f} MB after {len(warmup_ms)} "
        f"warm-up post(s), {streams_rss['total']:.0f} MB "
        f"with the streams ({result['kb_per_stream']} KB each); thread page {alone.rps:,.0f} "
        f"req/s alone, {beside.rps:,.0f} beside the streams ({kept:.0%})"
    )
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
