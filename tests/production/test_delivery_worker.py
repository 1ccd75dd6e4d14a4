"""The delivery worker as a real process: `flask --app service worker` stops cleanly on
SIGTERM, loses nothing when killed with SIGKILL mid-delivery (the lease ends, the delivery
is retried and arrives), and `python -m service.serve` (so `make run`) starts one beside the
server, with no extra command, and stops it with the server."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import select

from service.delivery.webhooks import STATE, deliver_due
from service.enums import DeliveryStatus
from service.extensions import db
from service.migrate import upgrade
from service.models import WebhookDelivery
from tests.helpers import auth, make_token
from tests.servers import ROOT, STRONG, base_env, start, stop, wait_until_ready
from tests.webhook_receiver import STALL, Receiver

pytestmark = pytest.mark.slow
ADMIN = auth("root", roles=["admin"], name="Root")


def _worker(database_url: str, log: Path, **env: str) -> subprocess.Popen[Any]:
    settings = {
        "DATABASE_URL": database_url,
        "COMMENTS_SECRET_KEY": STRONG,
        "COMMENTS_WEBHOOK_ALLOW_PRIVATE": "true",
        "COMMENTS_DELIVERY_IDLE_SECONDS": "0.1",
        **env,
    }
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "service", "worker"],
            cwd=ROOT,
            env=base_env(**settings),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_for_line(log: Path, text: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while text not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.1)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def test_sigterm_stops_an_idle_worker_at_once(app: Any, database_url: str, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    worker = _worker(database_url, log)
    try:
        _wait_for_line(log, "delivery worker started")
        started = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0, log.read_text()
        assert time.monotonic() - started < 10
        assert "SIGTERM received, stopping" in log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


@pytest.mark.settings(COMMENTS_WEBHOOK_ALLOW_PRIVATE=True, COMMENTS_WEBHOOK_TIMEOUT_SECONDS=2.0)
def test_a_worker_killed_mid_delivery_loses_nothing(
    app: Any, client: Any, database_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    made = client.post("/api/v1/admin/webhooks", json={"url": receiver.url}, headers=ADMIN)
    secret = made.json["secret"]
    receiver.plan.append(STALL)  # the first request hangs: the worker is mid-delivery
    r = client.post("/api/v1/articles/k-1/comments", json={"body": "x"}, headers=auth("u-1"))
    assert r.status_code == 201
    log = tmp_path / "worker.log"
    worker = _worker(database_url, log, COMMENTS_WEBHOOK_TIMEOUT_SECONDS="60")
    try:
        receiver.wait_for(1, seconds=60)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    receiver.release()
    with app.app_context():
        (row,) = db.session.scalars(select(WebhookDelivery)).all()
        db.session.remove()
    assert row.status == DeliveryStatus.PENDING and row.attempts == 1
    assert row.next_attempt_at > row.last_attempt_at  # leased by the dead worker
    # Before the lease ends nobody takes it again; after it, the next worker does.
    with app.app_context():
        assert deliver_due(app, now=row.next_attempt_at - dt.timedelta(seconds=1)) == 0
        assert deliver_due(app, now=row.next_attempt_at + dt.timedelta(seconds=1)) == 1
        (row,) = db.session.scalars(select(WebhookDelivery)).all()
        db.session.remove()
    state = app.extensions.pop(STATE, None)
    if state is not None:
        state.close()
    assert row.status == DeliveryStatus.DELIVERED and row.attempts == 2
    first, second = receiver.wait_for(2)
    assert first.message_id == second.message_id  # at least once: the receiver can dedupe
    assert second.verify(secret)["type"] == "comment.created"


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _request(url: str, body: dict[str, Any], token: str) -> dict[str, Any]:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def test_the_server_starts_a_worker_beside_it_and_stops_it(
    tmp_path: Path, receiver: Receiver
) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    upgrade(url)
    log_path = tmp_path / "serve.log"
    server, base = start(
        base_env(
            WEB_CONCURRENCY="1",
            DATABASE_URL=url,
            COMMENTS_SECRET_KEY=STRONG,
            COMMENTS_JWT_SECRET=STRONG,
            COMMENTS_WEBHOOK_ALLOW_PRIVATE="true",
            COMMENTS_DELIVERY_IDLE_SECONDS="0.2",
            PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"),
        ),
        log_path,
    )
    worker_pid = None
    try:
        wait_until_ready(server, base + "/readyz")
        workers = [p for p in _children(server.pid) if " worker " in _cmdline(p) + " "]
        assert len(workers) == 1, [_cmdline(p) for p in _children(server.pid)]
        worker_pid = workers[0]
        admin = make_token("root", roles=["admin"], secret=STRONG)
        made = _request(base + "/api/v1/admin/webhooks", {"url": receiver.url}, admin)
        _request(
            base + "/api/v1/articles/s-1/comments", {"body": "hi"}, make_token("u-1", secret=STRONG)
        )
        (got,) = receiver.wait_for(1, seconds=90)  # a loaded machine starts the worker late
        assert got.verify(made["secret"])["type"] == "comment.created"
        # The worker counts the attempt, then commits its outcome, just after the receiver
        # answered: both show in the server's /metrics.
        wanted = (
            'comments_webhook_attempts_total{result="delivered"} 1.0',
            'comments_delivery_queue_depth{queue="webhooks"} 0.0',
        )
        deadline = time.monotonic() + 30
        while True:
            with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
                text = response.read().decode()
            if all(line in text for line in wanted):
                break
            assert time.monotonic() < deadline, text[-3000:]
            time.sleep(0.2)
    finally:
        code = stop(server)
    assert code == 0, log_path.read_text()[-3000:]
    assert worker_pid is not None and not os.path.exists(f"/proc/{worker_pid}")
