"""The server as `make run` and the container start it (python -m service.serve): slow
clients, shutdown with requests in flight, the worker timeout, and refusals of its own."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from service.migrate import upgrade
from tests.servers import STRONG, base_env, get, start, stop, wait_until_ready

pytestmark = pytest.mark.slow


def _start(
    tmp_path: Path, target: list[str], **env: str
) -> tuple[subprocess.Popen[Any], str, Path]:
    log_path = tmp_path / f"server-{len(list(tmp_path.glob('server-*.log')))}.log"
    process, base = start(base_env(**env), log_path, target)
    return process, base, log_path


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app with the default server settings (two workers), on SQLite."""
    tmp_path = tmp_path_factory.mktemp("server")
    url = f"sqlite:///{tmp_path / 'server.db'}"
    upgrade(url)
    process, base, log = _start(
        tmp_path,
        [],
        DATABASE_URL=url,
        COMMENTS_SECRET_KEY=STRONG,
        COMMENTS_JWT_SECRET=STRONG,
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"),
    )
    try:
        wait_until_ready(process, base + "/readyz")
        yield base
    finally:
        assert stop(process) == 0, log.read_text()[-3000:]


def _raw(base: str, data: bytes, timeout: float = 5.0) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


def test_stalled_partial_requests_do_not_delay_anyone(service: str) -> None:
    host, port = service.removeprefix("http://").split(":")
    stalled = []
    try:
        for i in range(16):
            s = socket.create_connection((host, int(port)), timeout=5)
            # half a request line, or a request line and half the headers, then nothing
            s.sendall(b"GET /api/v1/artic" if i % 2 else b"GET /healthz HTTP/1.1\r\nHost: x")
            stalled.append(s)
        time.sleep(0.2)
        for path in ("/healthz", "/api/v1/articles/slow-clients/comments?limit=20"):
            started = time.monotonic()
            status, _ = get(service + path, timeout=5)
            elapsed = time.monotonic() - started
            assert status == 200
            assert elapsed < 1.0, f"{path} took {elapsed:.2f} s beside 16 stalled clients"
    finally:
        for s in stalled:
            s.close()


def test_refusals_below_the_servers_limits_are_problem_json(service: str) -> None:
    long_target = b"GET /api/v1/articles/x/comments?cursor=" + b"a" * 20_000 + b" HTTP/1.1\r\n"
    answer = _raw(service, long_target + b"Host: x\r\nConnection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414"), head
    assert b"content-type: application/problem+json" in head.lower()
    assert b"x-content-type-options: nosniff" in head.lower()
    assert json.loads(body)["status"] == 414
    token = b"Authorization: Bearer " + b"a" * 9000 + b"\r\n"
    answer = _raw(
        service, b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n" + token + b"Connection: close\r\n\r\n"
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] in (b"401", b"404"), head
    assert b"application/problem+json" in head.lower()
    filler = b"".join(b"X-F%d: %s\r\n" % (i, b"v" * 8000) for i in range(6))
    answer = _raw(
        service, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + filler + b"Connection: close\r\n\r\n"
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431"), head
    assert json.loads(body)["status"] == 431


def test_a_request_that_is_not_http_gets_a_bare_400_and_a_closed_connection(service: str) -> None:
    answer = _raw(service, b"GARBAGE\x01\x02 / HTTP/9\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400")
    assert answer.endswith(b"\r\n\r\n")  # no body at all: nothing a browser could sniff


def test_sigterm_lets_in_flight_requests_finish(tmp_path: Path) -> None:
    process, base, log = _start(tmp_path, ["tests.production.slow_app:app"], WEB_CONCURRENCY="1")
    wait_until_ready(process, base + "/")
    answers: list[tuple[int, bytes]] = []
    slow = threading.Thread(target=lambda: answers.append(get(base + "/slow?s=2", timeout=10)))
    slow.start()
    time.sleep(0.5)
    code = stop(process)
    slow.join(timeout=10)
    assert answers and answers[0][0] == 200, log.read_text()[-2000:]
    assert code == 0, log.read_text()[-2000:]


def test_a_request_past_the_worker_timeout_ends_its_worker_and_a_new_one_serves(
    tmp_path: Path,
) -> None:
    process, base, log = _start(
        tmp_path, ["tests.production.slow_app:app"], WEB_CONCURRENCY="1", WORKER_TIMEOUT="1"
    )
    try:
        wait_until_ready(process, base + "/")
        first = int(get(base + "/")[1])
        started = time.monotonic()
        with pytest.raises(OSError):
            get(base + "/slow?s=20", timeout=15)
        assert time.monotonic() - started < 10
        wait_until_ready(process, base + "/", seconds=15)
        second = int(get(base + "/")[1])
        assert second != first
        lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
        stuck = [x for x in lines if "WORKER_TIMEOUT" in x["message"]]
        assert stuck and stuck[0]["path"] == "/slow" and stuck[0]["level"] == "error"
    finally:
        assert stop(process) == 0, log.read_text()[-2000:]


@pytest.mark.parametrize(
    ("name", "raw", "why"),
    [
        ("COMMENTS_SERVER", "nginx", "one of granian, uvicorn"),
        ("WEB_CONCURRENCY", "0", "1 or more"),
        ("WEB_THREADS", "many", "invalid literal"),
    ],
)
def test_a_server_setting_the_table_refuses_stops_the_start(
    tmp_path: Path, name: str, raw: str, why: str
) -> None:
    """The server reads its own settings before any app exists, with the configuration
    table's parser and check: a value the app would refuse stops the start with its reason
    (COMMENTS_SERVER=nginx is not quietly served by granian)."""
    env = base_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", COMMENTS_SECRET_KEY=STRONG, **{name: raw}
    )
    process, _base = start(env, tmp_path / "server.log")
    try:
        assert process.wait(timeout=30) != 0
    finally:
        stop(process)
    said = (tmp_path / "server.log").read_text()
    assert f"comments: {name} cannot be {raw!r}" in said and why in said, said
