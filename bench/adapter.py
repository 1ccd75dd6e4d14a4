"""CPU per request of the Flask app behind each way of putting it on granian's ASGI
interface, in process (no server, no network: CPU time is what a loaded machine distorts
least): called as WSGI directly (the floor), through a2wsgi's adapter, and through
service/asgi.py's ``Router.passthrough``. Four requests at a time, the anonymous thread
page of bench/run.py's 200-comment article (a cache hit after the first).

    python -m bench.adapter            # seeds its own SQLite database
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

PATH = "/api/v1/articles/bench-200/comments"


def _scope() -> dict[str, Any]:
    return {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"limit=20",
        "root_path": "",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    from a2wsgi import WSGIMiddleware
    from werkzeug.test import EnvironBuilder

    from bench.run import Sizes, reset_database, seed_base
    from service import create_app
    from service.asgi import Router

    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-adapter-')) / 'bench.db'}"
    reset_database(url)
    seed_base(url, Sizes(small=200, big=200, listing=2))
    app = create_app(
        {"DATABASE_URL": url, "RATELIMIT_ENABLED": False, "COMMENTS_LOG_LEVEL": "WARNING"}
    )
    router = Router(app, threads=4)
    a2wsgi = WSGIMiddleware(app, workers=4)

    async def one(adapter: Any) -> None:
        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        started: dict[str, int] = {}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started["status"] = message["status"]

        await adapter(_scope(), receive, send)
        assert started["status"] == 200, started

    async def many(adapter: Any) -> None:
        gate = asyncio.Semaphore(4)

        async def task() -> None:
            async with gate:
                await one(adapter)

        await asyncio.gather(*(task() for _ in range(args.requests)))

    def direct() -> None:
        environ = EnvironBuilder(path=PATH, query_string="limit=20").get_environ()
        for _ in range(args.requests):
            result = app(dict(environ), lambda status, headers, exc=None: None)
            b"".join(result)
            getattr(result, "close", lambda: None)()

    runs = {
        "WSGI, called directly": direct,
        "a2wsgi": lambda: asyncio.run(many(a2wsgi)),
        "service/asgi.py passthrough": lambda: asyncio.run(many(router.passthrough)),
    }
    for _ in range(args.rounds):
        for name, run in runs.items():
            cpu = time.process_time()
            run()
            per = (time.process_time() - cpu) / args.requests * 1e6
            print(f"{name:<28} {per:6.0f} us CPU per request", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
