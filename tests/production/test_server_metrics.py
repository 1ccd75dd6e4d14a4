"""The server with two workers: /metrics adds up what every worker counted."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from service.migrate import upgrade
from tests.servers import STRONG, base_env, get, start, stop, wait_until_ready


def _request_lines(log: Path) -> list[dict]:
    lines = []
    for line in log.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("message") == "request":
            lines.append(entry)
    return lines


def _healthz_pids(log: Path) -> set[int]:
    return {entry["pid"] for entry in _request_lines(log) if entry.get("route") == "/healthz"}


def _counter(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


@pytest.mark.slow
def test_metrics_sum_counters_across_two_workers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'metrics.db'}"
    upgrade(url)
    metrics_dir = tmp_path / "prom"
    env = base_env(
        DATABASE_URL=url,
        WEB_CONCURRENCY="2",
        COMMENTS_SECRET_KEY=STRONG,
        COMMENTS_JWT_SECRET=STRONG,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    log_path = tmp_path / "server.log"
    process, base = start(env, log_path)
    try:
        wait_until_ready(process, base + "/readyz")
        sent = 0
        # Concurrent requests until both workers have answered some (each logs its pid).
        # /readyz answers as soon as one worker is up; the other may still be importing
        # the app on a loaded machine (CI once saw all 400 requests of 25 quick rounds go to the
        # first), so the wait is a deadline, not a number of rounds.
        deadline = time.monotonic() + 30.0
        with ThreadPoolExecutor(max_workers=8) as pool:
            while time.monotonic() < deadline:
                statuses = list(pool.map(lambda _: get(base + "/healthz")[0], range(16)))
                assert statuses == [200] * 16
                sent += 16
                if len(_healthz_pids(log_path)) == 2:
                    break
                time.sleep(0.1)
        assert len(_healthz_pids(log_path)) == 2, (
            f"one worker answered all {sent} requests in 30 s; the server's log ends:\n"
            + log_path.read_text()[-3000:]
        )
        status, body = get(base + "/metrics")
        assert status == 200
        text = body.decode()
        assert (
            _counter(
                text, "comments_http_requests_total", method="GET", route="/healthz", status="200"
            )
            == sent
        )
        assert (
            _counter(
                text,
                "comments_http_request_duration_seconds_count",
                method="GET",
                route="/healthz",
                status="200",
            )
            == sent
        )
        # Each worker keeps its own file; the scrape read both.
        assert len(list(metrics_dir.glob("counter_*.db"))) >= 2
        # Request ids are unique across workers (each forked worker reseeds its generator)
        ids = [entry["request_id"] for entry in _request_lines(log_path)]
        assert len(ids) >= sent and len(set(ids)) == len(ids)
    finally:
        assert stop(process) == 0, log_path.read_text()[-3000:]
