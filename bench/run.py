"""`make bench`: the comments API under load, side by side with the ceiling of this machine.

For each database (SQLite always; PostgreSQL when BENCH_DATABASE_URL, by default
postgresql+psycopg://postgres@127.0.0.1:5432/comments_perf, answers) it

1. builds the schema with the migrations and bulk-inserts the data (bench/seed.py);
2. starts the service as `make run` does (python -m service.serve: granian), and beside it
   a bare Flask route under the same server that returns a constant 20-comment document:
   the ceiling;
3. drives each scenario with wrk from a separate process, alternating ceiling and endpoint
   runs so that drift on a noisy machine cancels out, and reports req/s, p50, p99 and the
   ratio to the ceiling;
4. adds 1,000,000 comments over 10,000 articles and measures the 200-comment thread again;
5. reads each worker's resident memory from /proc after the run;
6. compares the servers considered (--servers: granian WSGI and ASGI, gunicorn sync,
   gthread and gevent) on the same data, and how each copes with stalled clients.

Rate limiting is off in the benchmark (RATELIMIT_ENABLED=false): the posting scenario is a
few hundred distinct users each posting many times, which the per-user limits would refuse.

    python -m bench.run                 # the full run; rewrites docs/performance.md
    python -m bench.run --smoke         # seconds: tiny data, a few requests, no file written
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from sqlalchemy import create_engine, text

from tests.helpers import reset_schema

from . import seed

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/comments_perf"
JWT_SECRET = "bench-secret-that-is-long-enough-for-hs256-0123456789"
API = "/api/v1"


# --- data ---------------------------------------------------------------------------------


@dataclass
class Sizes:
    small: int = 200  # the popular article
    reactors: int = 50  # distinct users reacting in it
    big: int = 20_000  # a very long thread
    listing: int = 50  # articles on a listing page (/counts)
    scale_comments: int = 1_000_000
    scale_articles: int = 10_000


SMOKE = Sizes(small=30, reactors=5, big=300, listing=5, scale_comments=2_000, scale_articles=20)


def reset_database(url: str) -> None:
    """The database migrated from nothing: a SQLite file deleted first (with its WAL), a
    PostgreSQL schema dropped (tests.helpers.reset_schema)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    reset_schema(url)


def seed_base(url: str, sizes: Sizes) -> dict[str, Any]:
    """The popular article, the long thread and a listing page's worth of articles."""
    engine = create_engine(url)
    rng = random.Random(42)
    next_id = 1
    plans = [
        seed.plan_articles(
            article_ids=["bench-200"],
            comments=sizes.small,
            first_id=next_id,
            rng=rng,
            reactors=sizes.reactors,
            reactions_per_comment=3.0,
        ),
    ]
    next_id += sizes.small
    plans.append(
        seed.plan_articles(
            article_ids=["bench-20k"],
            comments=sizes.big,
            first_id=next_id,
            rng=rng,
            reactors=500,
            reactions_per_comment=0.5,
        )
    )
    next_id += sizes.big
    listing = [f"bench-list-{i:02d}" for i in range(sizes.listing)]
    plans.append(
        seed.plan_articles(
            article_ids=listing,
            comments=20 * sizes.listing,
            first_id=next_id,
            rng=rng,
            reactors=20,
            reactions_per_comment=0.5,
        )
    )
    for plan in plans:
        seed.insert_plan(engine, plan)
    seed.finish(engine)
    with engine.connect() as conn:
        big_ids = list(
            conn.execute(
                text("SELECT id FROM comments WHERE article_id = 'bench-20k' ORDER BY id")
            ).scalars()
        )
    # the moderators' queue: one comment in 500 of the long thread is flagged
    seed.flag_comments(engine, big_ids[::500], rng)
    engine.dispose()
    return {"listing": listing, "react_ids": big_ids}


def seed_scale(url: str, sizes: Sizes) -> float:
    engine = create_engine(url)
    started = time.monotonic()
    articles = [f"scale-{i:05d}" for i in range(sizes.scale_articles)]
    first = seed.next_comment_id(engine)
    done = 0
    chunk = 200_000  # bounded memory: each chunk is its own set of articles
    rng = random.Random(7)
    per_chunk = max(1, len(articles) * chunk // max(sizes.scale_comments, 1))
    offset = 0
    while done < sizes.scale_comments:
        n = min(chunk, sizes.scale_comments - done)
        group = articles[offset : offset + per_chunk] or articles[-1:]
        plan = seed.plan_articles(
            article_ids=group,
            comments=n,
            first_id=first + done,
            rng=rng,
            reactors=100,
            reactions_per_comment=0.3,
            unique_bodies=False,
        )
        seed.insert_plan(engine, plan)
        done += n
        offset += per_chunk
    seed.finish(engine)
    engine.dispose()
    return time.monotonic() - started


# --- servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The servers compared (--servers): the default, as `make run` and the container start it,
# and the others considered for it, each with 2 worker processes.
SERVERS = {
    "granian": "granian ASGI: event streams native, the app on a thread pool (the default: python -m service.serve)",
    "granian-wsgi": "granian WSGI, the app alone (the default before issue 16)",
    "granian-asgi": "granian ASGI, the Flask app through a2wsgi",
    "uvicorn": "uvicorn (uvloop, httptools): the same ASGI app (COMMENTS_SERVER=uvicorn, the streams instance)",
    "sync": "gunicorn sync (the previous default)",
    "gthread": "gunicorn gthread, 4 threads",
    "gevent": "gunicorn gevent",
}
DEFAULT_SERVER = "granian"


def server_command(kind: str, app: str, port: int) -> tuple[list[str], dict[str, str]]:
    if kind == "granian":
        # What `make run` and the container serve: the service's default target (ASGI,
        # service/asgi.py); the ceiling, a WSGI app, on the WSGI interface.
        target = [] if app == "service.wsgi:app" else [app]
        return [sys.executable, "-m", "service.serve", *target], {}
    if kind == "granian-wsgi":
        return [sys.executable, "-m", "service.serve", app], {}
    if kind == "granian-asgi":
        name = "ceiling" if app.startswith("bench.ceiling") else "service"
        return [
            sys.executable, "-m", "granian", "--interface", "asgi", "--workers",
            os.environ.get("WEB_CONCURRENCY", "2"), "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning", f"bench.asgi:{name}",
        ], {}  # fmt: skip
    if kind == "uvicorn":
        if app == "service.wsgi:app":
            return [sys.executable, "-m", "service.serve"], {"COMMENTS_SERVER": "uvicorn"}
        return [
            sys.executable, "-m", "uvicorn", "--workers", os.environ.get("WEB_CONCURRENCY", "2"),
            "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http",
            "httptools", "--log-level", "warning", "--no-access-log", "bench.asgi:ceiling",
        ], {}  # fmt: skip
    if kind in ("sync", "gthread", "gevent"):
        return [
            sys.executable, "-m", "gunicorn", "--config", "bench/gunicorn_conf.py", app
        ], {"GUNICORN_WORKER_CLASS": kind, "WEB_THREADS": "4"}  # fmt: skip
    raise SystemExit(f"unknown server {kind!r}; one of {', '.join(SERVERS)}")


class Server:
    """One of SERVERS serving a WSGI app (the service or the ceiling) on a free port."""

    def __init__(
        self, app: str, env: dict[str, str], log: Path, kind: str = DEFAULT_SERVER
    ) -> None:
        self.port = free_port()
        self.kind = kind
        self.base = f"http://127.0.0.1:{self.port}"
        command, extra = server_command(kind, app, self.port)
        full_env = {
            "WEB_CONCURRENCY": "2",
            **os.environ,
            **env,
            **extra,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
        }
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env=full_env,
            stdout=self.log,
            stderr=self.log,
        )
        deadline = time.monotonic() + 90  # a busy machine starts a worker slowly
        while True:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{app} did not start; see {log}") from None
                time.sleep(0.1)

    def worker_rss_mb(self) -> list[float]:
        """VmRSS of each worker, from /proc."""
        out = []
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return out
        for pid in children.split():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
            if match:
                out.append(int(match.group(1)) / 1024)
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# --- load ---------------------------------------------------------------------------------


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not match:
        raise ValueError(f"unexpected wrk latency {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> Run:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = 0
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if match:
        errors += int(match.group(1))
    match = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if match:
        errors += sum(int(g) for g in match.groups())
    return Run(rps, p50, p99, errors, requests)


def wrk(
    url: str,
    *,
    seconds: float,
    connections: int,
    threads: int,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
) -> Run:
    # wrk takes whole seconds ("-d3.0s" is a usage error)
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    if script is not None:
        cmd += ["-s", str(script)]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds + 60)
    return parse_wrk(out.stdout)


def stalled_clients_delay(base: str, clients: int = 16, limit: float = 5.0) -> float | None:
    """Seconds /healthz takes to answer while `clients` connections each hold half a
    request; None when it does not answer within `limit` (the issue's slow-client attack)."""
    host, port = base.removeprefix("http://").split(":")
    held = []
    try:
        for i in range(clients):
            s = socket.create_connection((host, int(port)), timeout=limit)
            s.sendall(b"GET /heal" if i % 2 else b"GET /healthz HTTP/1.1\r\nHost: x")
            held.append(s)
        time.sleep(0.2)
        started = time.monotonic()
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=limit) as r:
                r.read()
        except OSError:
            return None
        return time.monotonic() - started
    finally:
        for s in held:
            s.close()


def token(sub: str, **claims: Any) -> str:
    now = int(time.time())
    return jwt.encode(
        {"sub": sub, "name": f"Bench {sub}", "iat": now, "exp": now + 7200, **claims},
        JWT_SECRET,
        algorithm="HS256",
    )


LUA_POST = """
local tokens = {%(tokens)s}
-- unique per run, so a second round does not repeat the first one's bodies (409 duplicate)
local nonce = os.time() .. string.sub(tostring({}), 8)
local counter = 0
tid = 0
local nthreads = 0
setup = function(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
end
request = function()
  counter = counter + 1
  local t = tokens[((counter * %(threads)d + tid) %% #tokens) + 1]
  local body = '{"body":"Bench comment ' .. nonce .. '-' .. tid .. '-' .. counter .. ': revenue grew **26%%** year on year."}'
  return wrk.format("POST", "%(path)s",
    {["Authorization"] = "Bearer " .. t, ["Content-Type"] = "application/json"}, body)
end
"""

LUA_REACT = """
local tokens = {%(tokens)s}
local ids = {%(ids)s}
local counter = 0
tid = 0
local nthreads = 0
setup = function(thread)
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
end
request = function()
  counter = counter + 1
  local n = counter * %(threads)d + tid
  local t = tokens[(n %% #tokens) + 1]
  local id = ids[(math.floor(n / #tokens) %% #ids) + 1]
  return wrk.format("PUT", "%(api)s/comments/" .. id .. "/reactions/insightful",
    {["Authorization"] = "Bearer " .. t}, nil)
end
"""


@dataclass
class Scenario:
    key: str
    name: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    script: Path | None = None
    note: str = ""


@dataclass
class Result:
    scenario: Scenario
    runs: list[Run]
    ceiling: list[Run]
    skipped: str = ""

    @property
    def rps(self) -> float:
        return statistics.median(r.rps for r in self.runs)

    @property
    def p50(self) -> float:
        return statistics.median(r.p50_ms for r in self.runs)

    @property
    def p99(self) -> float:
        return statistics.median(r.p99_ms for r in self.runs)

    @property
    def ceiling_rps(self) -> float:
        return statistics.median(r.rps for r in self.ceiling)

    @property
    def ratio(self) -> float:
        return self.rps / self.ceiling_rps

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.runs)


@dataclass
class Comparison:
    """One server's row in the comparison: wrk runs by column, the stall check, RSS."""

    server: str
    runs: dict[str, Run]
    stall_seconds: float | None
    rss: list[float]


# (column, scenario key or "ceiling", Connection: close?) for each server compared
COMPARE = [
    ("bare route", "ceiling", False),
    ("bare route, Connection: close", "ceiling", True),
    ("anonymous page", "anon-small", False),
    ("anonymous page, Connection: close", "anon-small", True),
    ("signed-in page", "signed-small", False),
    ("counts", "counts", False),
    ("posting", "post", False),
]


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.cores = os.cpu_count() or 1
        self.connections = max(args.connections or 0, 2 * self.cores)
        self.threads = min(self.cores, self.connections)

    def measure(self, service: Server, ceiling: Server, scenario: Scenario) -> Result:
        if scenario.script is None:  # a fast 404 or 401 would measure nothing
            status = probe(service.base + scenario.path, scenario.headers or {})
            if status != 200:
                raise SystemExit(f"{scenario.name}: GET {scenario.path} answered {status}")
        runs, ceilings = [], []
        for _ in range(self.args.rounds):  # alternate, so drift hits both alike
            ceilings.append(
                wrk(
                    ceiling.base + "/ceiling",
                    seconds=self.args.duration,
                    connections=self.connections,
                    threads=self.threads,
                )
            )
            runs.append(
                wrk(
                    service.base + scenario.path,
                    seconds=self.args.duration,
                    connections=self.connections,
                    threads=self.threads,
                    headers=scenario.headers,
                    script=scenario.script,
                )
            )
        result = Result(scenario, runs, ceilings)
        print(
            f"  {scenario.name:<44} {result.rps:>8.0f} req/s  p50 {result.p50:6.1f} ms  "
            f"p99 {result.p99:6.1f} ms  {result.ratio:5.0%} of ceiling "
            f"({result.ceiling_rps:.0f})" + (f"  ERRORS {result.errors}" if result.errors else ""),
            flush=True,
        )
        return result

    def compare(
        self, env: dict[str, str], log: Path, scenarios: dict[str, Scenario]
    ) -> list[Comparison]:
        """Every server in --servers, one wrk run per column, the same settings otherwise."""
        out = []
        for kind in self.args.servers.split(","):
            service = Server("service.wsgi:app", env, log, kind)
            ceiling = Server("bench.ceiling:app", {}, log, kind)
            runs: dict[str, Run] = {}
            try:
                for column, key, close in COMPARE:
                    if key == "ceiling":
                        url, scenario = ceiling.base + "/ceiling", None
                    else:
                        scenario = scenarios[key]
                        url = service.base + scenario.path
                    headers = dict(scenario.headers) if scenario else {}
                    if close:
                        headers["Connection"] = "close"
                    runs[column] = wrk(
                        url,
                        seconds=self.args.duration,
                        connections=self.connections,
                        threads=self.threads,
                        headers=headers,
                        script=scenario.script if scenario else None,
                    )
                stall = stalled_clients_delay(service.base)
                rss = service.worker_rss_mb()
            finally:
                service.stop()
                ceiling.stop()
            row = Comparison(kind, runs, stall, rss)
            print(
                f"  {kind:<13} "
                + "  ".join(f"{c.split(',')[0][:10]} {r.rps:6.0f}" for c, r in runs.items())
                + f"  stalled: {'no answer' if stall is None else f'{stall:.2f} s'}",
                flush=True,
            )
            out.append(row)
        return out

    def lua(self, name: str, template: str, **values: Any) -> Path:
        path = self.workdir / name
        path.write_text(template % {"threads": self.threads, "api": API, **values})
        return path

    def run_database(self, label: str, url: str) -> dict[str, Any]:
        sizes = SMOKE if self.args.smoke else Sizes()
        print(f"\n== {label}: seeding", flush=True)
        started = time.monotonic()
        reset_database(url)
        data = seed_base(url, sizes)
        seeded = time.monotonic() - started
        env = {
            "DATABASE_URL": url,
            "COMMENTS_JWT_SECRET": JWT_SECRET,
            "COMMENTS_SECRET_KEY": "bench-cursor-secret-0123456789abcdefghij",
            "RATELIMIT_ENABLED": "false",
            "COMMENTS_ENV": "production",
            "COMMENTS_METRICS_PUBLIC": "true",  # nothing scrapes it here
        }
        env.update(dict(kv.split("=", 1) for kv in self.args.env))
        log = self.workdir / f"{label}.log"
        service = Server("service.wsgi:app", env, log)
        ceiling = Server("bench.ceiling:app", {}, log)
        reader = {"Authorization": f"Bearer {token('reader-1')}"}
        moderator = {"Authorization": f"Bearer {token('mod-1', roles=['moderator'])}"}
        posters = ",".join(f'"{token(f"poster-{i}")}"' for i in range(500))
        reactors = ",".join(f'"{token(f"reactor-{i}")}"' for i in range(500))
        ids = ",".join(str(i) for i in data["react_ids"])
        counts_qs = "&".join(f"article_id={a}" for a in data["listing"])
        thread = f"{API}/articles/bench-200/comments?limit=20"
        scenarios = [
            Scenario("anon-small", f"thread page, anonymous ({sizes.small} comments)", thread),
            Scenario(
                "signed-small", f"thread page, signed in ({sizes.small} comments)", thread, reader
            ),
            Scenario(
                "anon-big",
                f"thread page 1, anonymous ({sizes.big:,} comments)",
                f"{API}/articles/bench-20k/comments?limit=20",
            ),
            Scenario(
                "signed-big",
                f"thread page 1, signed in ({sizes.big:,} comments)",
                f"{API}/articles/bench-20k/comments?limit=20",
                reader,
            ),
            # sort=hot (issue #18): ranked at request time, so compare it with `newest` both
            # through the public page cache and uncached (moderators bypass the cache).
            Scenario(
                "anon-big-hot",
                f"thread page 1, anonymous, sort=hot ({sizes.big:,} comments)",
                f"{API}/articles/bench-20k/comments?limit=20&sort=hot",
            ),
            Scenario(
                "mod-big",
                f"thread page 1, moderator, uncached ({sizes.big:,} comments)",
                f"{API}/articles/bench-20k/comments?limit=20",
                moderator,
            ),
            Scenario(
                "mod-big-hot",
                f"thread page 1, moderator, uncached, sort=hot ({sizes.big:,} comments)",
                f"{API}/articles/bench-20k/comments?limit=20&sort=hot",
                moderator,
            ),
            Scenario(
                "counts", f"counts for {len(data['listing'])} articles", f"{API}/counts?{counts_qs}"
            ),
            Scenario("queue", "moderator queue", f"{API}/admin/queue", moderator),
            Scenario(
                "post",
                "post a comment (500 users)",
                f"{API}/articles/bench-post/comments",
                script=self.lua(
                    "post.lua", LUA_POST, tokens=posters, path=f"{API}/articles/bench-post/comments"
                ),
            ),
            Scenario(
                "react",
                "react to a comment (500 users)",
                f"{API}/comments/1/reactions/insightful",
                script=self.lua("react.lua", LUA_REACT, tokens=reactors, ids=ids),
            ),
        ]
        results: list[Result] = []
        scale: list[Result] = []
        scale_seconds = 0.0
        rss: list[float] = []
        comparison: list[Comparison] = []
        try:
            print(
                f"== {label}: {sizes.small}, {sizes.big:,} and {sizes.listing}x20 comments "
                f"(seeded in {seeded:.1f} s)",
                flush=True,
            )
            for scenario in scenarios:
                if self.args.only and scenario.key not in self.args.only.split(","):
                    continue
                results.append(self.measure(service, ceiling, scenario))
            rss = service.worker_rss_mb()
            if self.args.servers:
                service.stop()
                ceiling.stop()
                print(f"== {label}: servers compared", flush=True)
                comparison = self.compare(env, log, {s.key: s for s in scenarios})
                service = Server("service.wsgi:app", env, log)
                ceiling = Server("bench.ceiling:app", {}, log)
            if not self.args.no_scale:
                service.stop()
                print(
                    f"== {label}: adding {sizes.scale_comments:,} comments over "
                    f"{sizes.scale_articles:,} articles",
                    flush=True,
                )
                scale_seconds = seed_scale(url, sizes)
                print(f"   seeded in {scale_seconds:.0f} s", flush=True)
                service = Server("service.wsgi:app", env, log)
                for scenario in scenarios[:2]:
                    big = Scenario(
                        scenario.key.replace("small", "scale"),
                        scenario.name.replace(
                            " comments)", f" comments, {sizes.scale_comments:,} in the database)"
                        ),
                        scenario.path,
                        scenario.headers,
                    )
                    scale.append(self.measure(service, ceiling, big))
        finally:
            service.stop()
            ceiling.stop()
        return {
            "label": label,
            "url": url,
            "results": results,
            "scale": scale,
            "rss": rss,
            "comparison": comparison,
            "sizes": sizes,
            "scale_seconds": scale_seconds,
        }


def probe(url: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def postgres_reachable(url: str) -> bool:
    """Does the server answer? A missing benchmark database is created (a fresh machine
    has the server but not comments_perf)."""
    server, _, name = url.rpartition("/")
    try:
        admin = create_engine(
            f"{server}/postgres", isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
        )
        with admin.connect() as conn:
            if not conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:  # noqa: BLE001 - reported by the check below
        print(f"Could not create the benchmark database {name!r} ({type(exc).__name__}).")
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        print(f"PostgreSQL at {url} is not reachable ({type(exc).__name__}); SQLite only.")
        return False


# --- report -------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
        memory = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[
        0
    ]
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "wrk": wrk_version.strip(),
    }


def table(db: dict[str, Any]) -> str:
    lines = [
        "| scenario | req/s | p50 ms | p99 ms | ceiling req/s | of ceiling |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in db["results"] + db["scale"]:
        if result.skipped:
            lines.append(f"| {result.scenario.name} | skipped: {result.skipped} | | | | |")
            continue
        errors = f" ({result.errors} errors)" if result.errors else ""
        lines.append(
            f"| {result.scenario.name}{errors} | {result.rps:,.0f} | {result.p50:.1f} | "
            f"{result.p99:.1f} | {result.ceiling_rps:,.0f} | {result.ratio:.0%} |"
        )
    return "\n".join(lines)


def comparison_table(db: dict[str, Any]) -> str:
    rows = db.get("comparison") or []
    if not rows:
        return ""
    columns = [column for column, _, _ in COMPARE]
    lines = [
        "| server | "
        + " | ".join(f"{c} req/s" for c in columns)
        + " | anonymous page p99 ms | /healthz beside 16 stalled clients | RSS per worker |",
        "| --- |" + " ---: |" * (len(columns) + 1) + " --- | --- |",
    ]
    for row in rows:
        cells = []
        for column in columns:
            run = row.runs[column]
            cells.append(f"{run.rps:,.0f}" + (f" ({run.errors} errors)" if run.errors else ""))
        stall = "no answer in 5 s" if row.stall_seconds is None else f"{row.stall_seconds:.2f} s"
        rss = ", ".join(f"{v:.0f} MB" for v in row.rss) or "?"
        lines.append(
            f"| {SERVERS.get(row.server, row.server)} | "
            + " | ".join(cells)
            + f" | {row.runs['anonymous page'].p99_ms:.1f} | {stall} | {rss} |"
        )
    return "\n".join(lines)


def by_key(db: dict[str, Any], key: str) -> Result | None:
    for result in db["results"] + db["scale"]:
        if result.scenario.key == key and not result.skipped:
            return result
    return None


def fastest_ceiling(db: dict[str, Any]) -> tuple[float, str]:
    """The fastest bare-Flask ceiling any server reached in this run, and which server."""
    best = (0.0, DEFAULT_SERVER)
    for result in db["results"] + db["scale"]:
        if not result.skipped:
            best = max(best, (result.ceiling_rps, DEFAULT_SERVER))
    for row in db.get("comparison", []):
        run = row.runs.get("bare route")
        if run:
            best = max(best, (run.rps, row.server))
    return best


def targets(db: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(target, measured, met?) for the goals in docs/performance.md; ratios are against
    the fastest ceiling any server reached in the run, not the default server's own."""
    out: list[tuple[str, str, bool]] = []
    top, top_server = fastest_ceiling(db)
    sqlite = db["label"] == "SQLite"

    def ratio(key: str, goal: float, label: str) -> None:
        r = by_key(db, key)
        if r and top:
            share = r.rps / top
            out.append(
                (
                    f"{label} ≥ {goal:.0%} of the fastest ceiling ({top:,.0f}, {top_server})",
                    f"{share:.0%}",
                    share >= goal,
                )
            )

    ratio("anon-small", 0.50, "anonymous thread page")
    ratio("signed-small", 0.30 if sqlite else 0.25, "signed-in thread page")
    ratio("counts", 0.50, "counts for 50 articles")
    anon = by_key(db, "anon-small")
    if anon:
        out.append(("anonymous thread page ≥ 3,000 req/s", f"{anon.rps:,.0f}", anon.rps >= 3000))
        out.append(("thread page p99 ≤ 25 ms (anonymous)", f"{anon.p99:.1f} ms", anon.p99 <= 25))
    signed = by_key(db, "signed-small")
    if signed:
        out.append(
            ("thread page p99 ≤ 25 ms (signed in)", f"{signed.p99:.1f} ms", signed.p99 <= 25)
        )
    post = by_key(db, "post")
    if post:
        goal = 1000 if sqlite else 800
        out.append(
            (
                f"posting ≥ {goal:,} comments/s on {db['label']}",
                f"{post.rps:,.0f}/s",
                post.rps >= goal,
            )
        )
    for who, prefix in (("anonymous", "anon"), ("signed in", "signed")):
        small = by_key(db, f"{prefix}-small")
        big = by_key(db, f"{prefix}-big")
        if small and big:
            slow = small.rps / big.rps
            out.append(
                (
                    f"20,000-comment page 1 ≤ 1.3x the 200-comment page ({who})",
                    f"{slow:.2f}x (p50 {big.p50:.1f} vs {small.p50:.1f} ms)",
                    slow <= 1.3,
                )
            )
        scaled = by_key(db, f"{prefix}-scale")
        if small and scaled:
            slow = small.rps / scaled.rps
            out.append(
                (
                    f"200-comment page with 1M comments ≤ 1.3x small database ({who})",
                    f"{slow:.2f}x (p50 {scaled.p50:.1f} vs {small.p50:.1f} ms)",
                    slow <= 1.3,
                )
            )
    if db["rss"]:
        top = max(db["rss"])
        out.append(
            (
                "< 120 MB RSS per worker after the run",
                ", ".join(f"{v:.0f} MB" for v in db["rss"]),
                top < 120,
            )
        )
    return out


def report(dbs: list[dict[str, Any]], command: str, args: argparse.Namespace) -> str:
    m = machine()
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        f"Run {when} on {m['cores']} cores ({m['cpu']}), {m['memory']} memory, Python "
        f"{m['python']}, {m['wrk']}; wrk on the same machine with {args.connections_used} "
        f"connections and {args.threads_used} threads, {args.rounds} alternating rounds of "
        f"{args.duration} s per scenario (medians shown). Command: `{command}`. Rate limiting "
        "off (`RATELIMIT_ENABLED=false`).",
    ]
    for db in dbs:
        parts.append(f"\n### {db['label']}\n\n{table(db)}")
        compared = comparison_table(db)
        if compared:
            parts.append(
                f"\nServers compared ({db['label']}; each with 2 worker processes, one wrk run "
                f"of {args.duration} s per cell, {args.connections_used} connections):\n\n"
                + compared
            )
        rows = targets(db)
        if rows:
            parts.append("\n| target | measured | met |\n| --- | --- | --- |")
            parts.extend(f"| {t} | {v} | {'yes' if ok else '**no**'} |" for t, v, ok in rows)
        if db["scale_seconds"]:
            parts.append(
                f"\nScale data ({db['sizes'].scale_comments:,} comments over "
                f"{db['sizes'].scale_articles:,} articles) bulk-inserted in "
                f"{db['scale_seconds']:.0f} s."
            )
    return "\n".join(parts) + "\n"


START = "<!-- bench:start -->"
END = "<!-- bench:end -->"


def write_doc(path: Path, body: str) -> None:
    doc = path.read_text() if path.exists() else f"# Performance\n\n{START}\n{END}\n"
    if START not in doc:
        doc += f"\n{START}\n{END}\n"
    head, _, rest = doc.partition(START)
    _, _, tail = rest.partition(END)
    path.write_text(f"{head}{START}\n{body}{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--smoke", action="store_true", help="tiny data, a second per run, PostgreSQL only if asked"
    )
    parser.add_argument("--duration", type=float, default=None, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=None, help="alternating rounds")
    parser.add_argument(
        "--connections", type=int, default=0, help="wrk connections (at least two per core)"
    )
    parser.add_argument(
        "--databases",
        default=None,
        help="sqlite,postgres (default: both when PostgreSQL answers; smoke: sqlite)",
    )
    parser.add_argument("--no-scale", action="store_true", help="skip the 1M-comment stage")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated scenario keys (anon-small, signed-small, anon-big, "
        "signed-big, anon-big-hot, mod-big, mod-big-hot, counts, queue, post, react); a quick "
        "look, not a report",
    )
    parser.add_argument(
        "--servers",
        default=None,
        help="comma-separated servers to compare ("
        + ", ".join(SERVERS)
        + "); default: all (smoke: granian; with --only: none); '' skips the comparison",
    )
    parser.add_argument(
        "--env", action="append", default=[], help="NAME=value for the service (repeatable)"
    )
    parser.add_argument(
        "--output",
        default=None,
        help="markdown file whose bench section is rewritten "
        "(default docs/performance.md; smoke: none)",
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print(
            "wrk is not installed: `apt-get install -y wrk` (make bench does it when it can).",
            file=sys.stderr,
        )
        return 2
    args.duration = args.duration or (1 if args.smoke else 5)
    args.rounds = args.rounds or (1 if args.smoke else 2)
    if args.servers is None:
        args.servers = DEFAULT_SERVER if args.smoke else "" if args.only else ",".join(SERVERS)
    output = args.output or (None if args.smoke else str(ROOT / "docs" / "performance.md"))
    databases = (args.databases or ("sqlite" if args.smoke else "sqlite,postgres")).split(",")
    dbs = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        bench = Bench(args, workdir)
        args.connections_used, args.threads_used = bench.connections, bench.threads
        if "sqlite" in databases:
            dbs.append(bench.run_database("SQLite", f"sqlite:///{workdir / 'bench.db'}"))
        pg = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
        if "postgres" in databases and postgres_reachable(pg):
            dbs.append(bench.run_database("PostgreSQL", pg))
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    body = report(dbs, command.strip(), args)
    print("\n" + body)
    if output:
        write_doc(Path(output), body)
        print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
