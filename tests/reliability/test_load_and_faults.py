"""Live servers under load, and faults injected underneath them.

RELIABILITY_SECONDS (default 8) is how long each load runs; docs/reliability.md records a
30-second run. The PostgreSQL tests need TEST_DATABASE_URL (CI's second run sets it, with
TEST_REDIS_URL); the SQLite load always runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.parse
from typing import Any, Iterator

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from service.models import Comment
from tests.helpers import JWT_SECRET
from tests.servers import gunicorn, is_server_process

from .invariants import drift, orphans
from .load import Outcome, TcpProxy, request, run_load

SECONDS = float(os.environ.get("RELIABILITY_SECONDS", "8"))
THREADS = int(os.environ.get("RELIABILITY_THREADS", "8"))
PG_URL = os.environ.get("TEST_DATABASE_URL")
REDIS_URL = os.environ.get("TEST_REDIS_URL")
needs_postgres = pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL (PostgreSQL)")

pytestmark = pytest.mark.slow


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "COMMENTS_JWT_SECRET": JWT_SECRET,
        "COMMENTS_SECRET_KEY": "reliability-cursor-secret-0123456789abcdef",
        "RATELIMIT_ENABLED": "false",
        "RATELIMIT_STORAGE_URI": "memory://",
        "COMMENTS_DUPLICATE_WINDOW_SECONDS": "0",
        **extra,
    }


def assert_nothing_lost(database_url: str, outcome: Outcome) -> None:
    """Every comment answered with 201 is stored, and every counter equals a recount."""
    assert outcome.acknowledged, "the load acknowledged no comment at all"
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            stored = set(session.scalars(select(Comment.id)))
            assert outcome.acknowledged - stored == set()
            assert drift(session) == {}
            assert orphans(session) == {}
    finally:
        engine.dispose()


def summary(outcome: Outcome) -> str:
    return (
        f"statuses={dict(sorted(outcome.statuses.items()))} acknowledged="
        f"{len(outcome.acknowledged)} transport_errors={dict(outcome.transport_kinds)}"
    )


@pytest.fixture
def fresh_db(app: Any, database_url: str) -> str:
    """The test database with empty tables (the app fixture empties them)."""
    return database_url


@needs_postgres
def test_two_instances_on_postgres_and_redis_under_load(fresh_db: str) -> None:
    extra = {"RATELIMIT_STORAGE_URI": REDIS_URL} if REDIS_URL else {}
    env = server_env(fresh_db, **extra)
    with gunicorn(env, workers=2) as one, gunicorn(env, workers=2) as two:
        outcome = run_load([one, two], SECONDS, THREADS)
    print(summary(outcome))
    assert outcome.errors == []
    assert not [s for s in outcome.statuses if s >= 500]
    assert outcome.transport_errors == 0
    assert_nothing_lost(fresh_db, outcome)


def test_several_workers_on_sqlite_never_show_database_is_locked(
    tmp_path: Any, database_url: str
) -> None:
    from service.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'load.db'}"
    upgrade(url)
    with gunicorn(server_env(url), workers=3) as base:
        outcome = run_load([base], SECONDS, THREADS)
    print(summary(outcome))
    assert outcome.errors == []
    assert not [s for s in outcome.statuses if s >= 500]  # a locked database would be 503
    assert outcome.transport_errors == 0
    assert_nothing_lost(url, outcome)


def _proxied(url: str, proxy: TcpProxy) -> str:
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = netloc[0] + "@" if len(netloc) == 2 else ""
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{userinfo}127.0.0.1:{proxy.port}"))


@pytest.fixture
def pg_proxy() -> Iterator[TcpProxy]:
    assert PG_URL
    parts = urllib.parse.urlsplit(PG_URL)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    yield proxy
    proxy.close()


@needs_postgres
def test_postgres_outage_is_a_fast_503_and_the_service_recovers_by_itself(
    fresh_db: str, pg_proxy: TcpProxy
) -> None:
    env = server_env(_proxied(fresh_db, pg_proxy))
    outage = max(2.0, SECONDS / 4)
    readiness: dict[str, Any] = {}
    with gunicorn(env, workers=2) as base:

        def cut_and_restore() -> None:
            time.sleep(SECONDS / 3)
            pg_proxy.cut()
            time.sleep(outage / 2)
            readiness["during"] = request(base, "GET", "/readyz", {})
            status, _, _ = request(
                base,
                "POST",
                "/api/v1/articles/load-a/comments",
                {"Authorization": "Bearer x"},
                {"body": "x"},
            )
            time.sleep(outage / 2)
            pg_proxy.restore()

        outcome = run_load([base], SECONDS + outage, THREADS, during=cut_and_restore)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            readiness["after"] = request(base, "GET", "/readyz", {})
            if readiness["after"][0] == 200:
                break
            time.sleep(0.2)
        after = run_load([base], 2, 2)  # writes work again without a restart
    print(summary(outcome), "slowest 503:", round(outcome.slowest_503, 2), "s")
    status, headers, body = readiness["during"]
    assert status == 503 and body["checks"]["database"] == "down"
    assert readiness["after"][0] == 200
    assert outcome.statuses[503] > 0, "the outage was not seen by any request"
    assert outcome.errors == []  # every 503 was problem+json with Retry-After
    assert not [s for s in outcome.statuses if s >= 500 and s != 503]
    assert outcome.slowest_503 < 6  # fails fast: connect timeout 3 s, never the 30 s worker timeout
    assert after.statuses[201] > 0 and not [s for s in after.statuses if s >= 500]
    outcome.merge(after)
    assert_nothing_lost(fresh_db, outcome)


def test_redis_outage_keeps_the_service_serving(tmp_path: Any) -> None:
    from service.migrate import upgrade

    redis_url = REDIS_URL or "redis://127.0.0.1:6379/7"
    parts = urllib.parse.urlsplit(redis_url)
    import redis

    try:
        redis.Redis(host=parts.hostname, port=parts.port or 6379, socket_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis at " + redis_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    url = f"sqlite:///{tmp_path / 'redis.db'}"
    upgrade(url)
    limited = "100000/minute"
    env = server_env(
        url,
        RATELIMIT_ENABLED="true",
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{proxy.port}{parts.path or '/7'}",
        **{
            name: limited
            for name in (
                "COMMENTS_LIMIT_COMMENT",
                "COMMENTS_LIMIT_EDIT",
                "COMMENTS_LIMIT_REACTION",
                "COMMENTS_LIMIT_FLAG",
                "COMMENTS_LIMIT_READ",
                "COMMENTS_LIMIT_ADMIN",
                "COMMENTS_LIMIT_WRITE_PER_IP",
            )
        },
    )
    try:
        with gunicorn(env, workers=2) as base:

            def cut() -> None:
                time.sleep(SECONDS / 4)
                proxy.cut()

            outcome = run_load([base], SECONDS / 2 + 1, 4, during=cut)
            ready = request(base, "GET", "/readyz", {})
    finally:
        proxy.close()
    print(summary(outcome))
    assert outcome.errors == []
    assert not [s for s in outcome.statuses if s >= 500]
    assert outcome.transport_errors == 0
    assert ready[0] == 503 and ready[2]["checks"] == {"database": "ok", "redis": "down"}
    assert_nothing_lost(url, outcome)


def _worker_pids(master: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True, check=False
    ).stdout
    return [int(p) for p in out.split()]


def test_a_worker_killed_mid_request_loses_nothing_acknowledged(
    tmp_path: Any, database_url: str, fresh_db: str
) -> None:
    """SIGKILL a worker under load (twice): clients of that worker see a dropped connection,
    never a 201 for a write that was not committed."""
    url = fresh_db if PG_URL else f"sqlite:///{tmp_path / 'kill.db'}"
    if not PG_URL:
        from service.migrate import upgrade

        upgrade(url)
    with gunicorn(server_env(url), workers=2) as base:
        master = int(request(base, "GET", "/healthz", {})[0] == 200 and _master_pid(base))
        killed: list[int] = []

        def kill_workers() -> None:
            for _ in range(2):
                time.sleep(SECONDS / 3)
                pids = _worker_pids(master)
                if pids:
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])

        outcome = run_load([base], SECONDS, THREADS, during=kill_workers)
    print(summary(outcome), "killed", killed)
    assert len(killed) == 2
    assert outcome.errors == []
    assert not [s for s in outcome.statuses if s >= 500]
    assert_nothing_lost(url, outcome)


def _master_pid(base: str) -> int:
    port = urllib.parse.urlsplit(base).port
    out = subprocess.run(
        ["ps", "-eo", "pid=,ppid=,args="], capture_output=True, text=True, check=True
    ).stdout
    for line in out.splitlines():
        pid, ppid, args = line.split(None, 2)
        if is_server_process(args) and int(ppid) == os.getpid():
            # our child: the master of a server started by this test process
            if _worker_pids(int(pid)):
                return int(pid)
    raise AssertionError(f"no server master process for port {port}")
