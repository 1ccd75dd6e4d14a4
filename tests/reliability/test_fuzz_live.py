"""`make fuzz` inside the suite: schemathesis with every check on, from outside, against the
service served by granian on the suite's database (SQLite; PostgreSQL + Redis in CI's second
run), with the fixed seed and example count of tests/reliability/fuzz_live.py. About two
minutes; a finding fails the test with schemathesis' report in the output."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.fuzz_live import run, summarise

pytestmark = pytest.mark.slow


def test_schemathesis_with_every_check_finds_nothing(
    app: Any, database_url: str, tmp_path: Path
) -> None:
    redis_url = os.environ.get("TEST_REDIS_URL") if database_url.startswith("postgresql") else None
    report = tmp_path / "events.ndjson"
    status = run(database_url, redis_url, report, migrated=True)
    numbers = summarise(report)
    assert status == 0, numbers
    assert numbers["failed"] == 0
    assert numbers["operations"] >= 69  # every operation of openapi.yaml was exercised
    assert "positive_data_acceptance" in numbers["checks"]
    assert len(numbers["checks"]) >= 13, numbers["checks"]
