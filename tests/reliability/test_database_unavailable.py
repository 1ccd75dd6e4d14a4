"""A database that cannot be reached is a 503 problem with Retry-After, not a 500."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from sqlalchemy.exc import OperationalError, ProgrammingError

from service.extensions import db


def _fail_with(monkeypatch: pytest.MonkeyPatch, exc: Exception) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise exc

    monkeypatch.setattr(db.session, "get", broken)


def test_a_lost_connection_is_503_with_retry_after(
    client: Any, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        _fail_with(
            monkeypatch,
            OperationalError("SELECT", {}, psycopg.OperationalError("connection refused")),
        )
        r = client.get("/api/v1/comments/1")
    assert r.status_code == 503
    assert r.content_type == "application/problem+json"
    assert r.headers["Retry-After"] == "5"
    assert r.json["type"].endswith("/database-unavailable") and r.json["retry_after"] == 5


def test_other_database_errors_stay_500(
    client: Any, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        _fail_with(monkeypatch, ProgrammingError("SELECT", {}, Exception("syntax error")))
        r = client.get("/api/v1/comments/1")
    assert r.status_code == 500
    assert r.content_type == "application/problem+json"
