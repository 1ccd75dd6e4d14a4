"""The event stream through the real server (python -m service.serve: granian's ASGI
interface, service/asgi.py, or uvicorn with COMMENTS_SERVER=uvicorn): a stream on one port
beside the normal pages, shutdown with streams open, a dead uvicorn worker replaced, and two
instances sharing one Redis (TEST_REDIS_URL)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

from service.migrate import upgrade
from tests.helpers import JWT_SECRET, auth
from tests.servers import base_env, get, start, stop, wait_until_ready

pytestmark = pytest.mark.slow
REDIS_URL = os.environ.get("TEST_REDIS_URL")


@contextmanager
def instance(tmp_path: Path, db_url: str, **env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    name = f"{len(list(tmp_path.glob('server-*.log')))}"
    log_path = tmp_path / f"server-{name}.log"
    process, base = start(
        base_env(
            DATABASE_URL=db_url,
            COMMENTS_SECRET_KEY="k" * 48,
            COMMENTS_JWT_SECRET=JWT_SECRET,
            PROMETHEUS_MULTIPROC_DIR=str(tmp_path / f"prom-{name}"),
            **env,
        ),
        log_path,
    )
    try:
        wait_until_ready(process, base + "/readyz")
        yield base, process
    finally:
        assert stop(process) == 0, log_path.read_text()[-3000:]


class RawStream:
    """An event stream read off a socket, as a browser would."""

    def __init__(self, base: str, article_id: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.sock.sendall(
            f"GET /api/v1/articles/{article_id}/events HTTP/1.1\r\nHost: x\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        self.buffer = b""
        self.read_until(b"\r\n\r\n")
        self.head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")

    def read_until(self, marker: bytes, timeout: float = 10) -> bytes:
        deadline = time.monotonic() + timeout
        while marker not in self.buffer:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError(f"stream closed; had {self.buffer!r}")
            self.buffer += chunk
        return self.buffer

    def close(self) -> None:
        self.sock.close()


def post(base: str, article_id: str, body: str) -> int:
    request = urllib.request.Request(
        f"{base}/api/v1/articles/{article_id}/comments",
        data=json.dumps({"body": body}).encode(),
        headers={"Content-Type": "application/json", **auth("u-live", name="Live")},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 201
        return int(json.loads(answer.read())["id"])


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.db'}"
    upgrade(url)
    return url


@pytest.mark.parametrize("server", ["granian", "uvicorn"])
def test_one_port_serves_the_stream_beside_the_pages_and_shutdown_ends_streams(
    tmp_path: Path, sqlite_url: str, server: str
) -> None:
    """On both servers COMMENTS_SERVER offers: the default granian, and uvicorn (the
    streams instance of docs/production.md)."""
    a = f"live-server-{uuid.uuid4().hex[:6]}"
    env = {"WEB_CONCURRENCY": "1", "COMMENTS_SERVER": server}
    with instance(tmp_path, sqlite_url, **env) as (base, process):
        stream = RawStream(base, a)
        assert stream.head.startswith(b"HTTP/1.1 200")
        assert b"text/event-stream" in stream.head.lower()
        stream.read_until(b"retry: 3000\n\n")
        cid = post(base, a, "over the wire")
        stream.read_until(b"event: article\n")
        assert f'"id":{cid}'.encode() in stream.buffer
        assert b"event: comment.created\n" in stream.buffer
        status, page = get(f"{base}/api/v1/articles/{a}/comments")
        assert status == 200 and json.loads(page)["total"] == 1
        started = time.monotonic()
        process.send_signal(15)  # SIGTERM with the stream still open
        assert process.wait(timeout=15) == 0
        assert time.monotonic() - started < 10  # not granian's 20 s wait for the stream
        stream.close()
    # Every line the server wrote, its own (granian's, uvicorn's) included, is one JSON object
    lines = (tmp_path / "server-0.log").read_text().splitlines()
    logged = [json.loads(line) for line in lines if line.strip()]
    assert logged and all({"time", "level", "logger", "message"} <= set(x) for x in logged)
    assert any(x["logger"].startswith(("_granian", "granian", "uvicorn")) for x in logged)


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(child) for child in text.split()]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_uvicorn_replaces_a_dead_worker_and_its_streams_reconnect(
    tmp_path: Path, sqlite_url: str
) -> None:
    """COMMENTS_SERVER=uvicorn keeps what granian gives: a worker that dies (killed, or the
    watchdog's exit) is replaced, and the instance answers again."""
    a = f"live-respawn-{uuid.uuid4().hex[:6]}"
    env = {"WEB_CONCURRENCY": "1", "COMMENTS_SERVER": "uvicorn"}
    with instance(tmp_path, sqlite_url, **env) as (base, process):
        stream = RawStream(base, a)
        stream.read_until(b"retry: 3000\n\n")
        workers = [p for p in _children(process.pid) if b"spawn_main" in _cmdline(p)]
        assert len(workers) == 1, [_cmdline(p) for p in _children(process.pid)]
        os.kill(workers[0], 9)
        with pytest.raises((AssertionError, OSError)):
            stream.read_until(b"never sent", timeout=10)  # the stream ends with its worker
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            fresh = [p for p in _children(process.pid) if b"spawn_main" in _cmdline(p)]
            if fresh and fresh != workers:
                try:
                    if get(base + "/readyz", timeout=1)[0] == 200:
                        break
                except OSError:
                    pass
            time.sleep(0.2)
        else:
            raise AssertionError("no new worker answered within 20 s")
        again = RawStream(base, a)
        cid = post(base, a, "after the respawn")
        again.read_until(b"event: comment.created\n")
        assert f'"id":{cid}'.encode() in again.buffer
        again.close()
        stream.close()


@pytest.mark.skipif(not REDIS_URL, reason="set TEST_REDIS_URL to run two instances on Redis")
def test_two_instances_one_redis(tmp_path: Path, database_url: str) -> None:
    db_url = database_url  # the run's database, migrated (PostgreSQL on CI's Redis run)
    a = f"live-two-{uuid.uuid4().hex[:6]}"
    env: dict[str, Any] = {"COMMENTS_REDIS_URL": REDIS_URL, "WEB_CONCURRENCY": "1"}
    with (
        instance(tmp_path, db_url, **env) as (one, _),
        instance(tmp_path, db_url, **env) as (
            two,
            _,
        ),
    ):
        stream = RawStream(two, a)
        stream.read_until(b"retry:")
        cid = post(one, a, "posted on instance one")
        stream.read_until(b"event: article\n")
        assert f'"id":{cid}'.encode() in stream.buffer
        stream.close()
