"""A request that loses a deadlock is run again, not answered with a 500."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import OperationalError

from service import is_retryable


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _error(sqlstate: str) -> OperationalError:
    return OperationalError("UPDATE articles ...", {}, _PgError(sqlstate))


def test_deadlocks_and_serialisation_failures_are_retryable():
    assert is_retryable(_error("40P01")) and is_retryable(_error("40001"))
    assert not is_retryable(_error("08006")) and not is_retryable(ValueError("x"))


def test_a_deadlocked_request_is_run_again(app: Any, client: Any) -> None:
    calls = {"n": 0}

    @app.get("/flaky")
    def flaky() -> dict[str, int]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise _error("40P01")
        return {"attempts": calls["n"]}

    assert client.get("/flaky").get_json() == {"attempts": 2}


def test_a_request_that_keeps_deadlocking_gives_up(app: Any, client: Any) -> None:
    calls = {"n": 0}

    @app.get("/stuck")
    def stuck() -> None:
        calls["n"] += 1
        raise _error("40P01")

    assert client.get("/stuck").status_code == 500
    assert calls["n"] == 3


def test_a_connection_lost_at_teardown_is_not_an_escaped_500(
    app: Any, client: Any, monkeypatch: Any
) -> None:
    """The rollback that ends a request can fail when the database vanished mid-request;
    that must not escape Flask (gunicorn would answer with an HTML 500)."""
    from service.extensions import db

    with app.app_context():
        session_class = type(db.session())

    real_close = session_class.close

    def broken_close(self: Any) -> None:
        real_close(self)  # release the connection, then fail as a dead socket would
        raise _error("08006")

    monkeypatch.setattr(session_class, "close", broken_close)
    r = client.get("/api/v1/articles/a1/comments")
    monkeypatch.undo()
    assert r.status_code == 200
    assert client.get("/api/v1/articles/a1/comments").status_code == 200
