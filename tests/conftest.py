"""Shared fixtures: a database built by the migrations, a fresh app and client per test.

TEST_DATABASE_URL selects PostgreSQL (CI runs the suite on SQLite and on PostgreSQL);
without it every run gets its own SQLite file. The schema is built once per run by the
Alembic migrations, never create_all, and each test starts from empty tables.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any, Callable, Iterator

import jwt
import pytest
from sqlalchemy import create_engine, text

from service import create_app
from service.extensions import db
from service.migrate import upgrade
from service.models import Base

JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _reset_postgres(url)
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
    upgrade(url)
    return url


def _empty_tables(url: str) -> None:
    engine = create_engine(url)
    names = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        else:
            for name in names:
                conn.execute(text(f"DELETE FROM {name}"))
            if conn.execute(
                text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")
            ).first():
                conn.execute(text("DELETE FROM sqlite_sequence"))
    engine.dispose()


@pytest.fixture
def settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The app's settings: test defaults, then ``@pytest.mark.settings(NAME=value)``."""
    values: dict[str, Any] = {
        "COMMENTS_JWT_SECRET": JWT_SECRET,
        "COMMENTS_SECRET_KEY": "cursor-secret-for-tests",
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "COMMENTS_ALLOW_GUESTS": True,
        # /counts answers are kept 1 s by default; tests read them right after writes.
        # tests/api/test_page_cache.py covers the default behaviour.
        "COMMENTS_COUNTS_CACHE_SECONDS": 0,
        # Flag tests use fresh accounts at full weight; tests/security/test_write_abuse.py
        # covers the default (new accounts' flags weigh 0.25).
        "COMMENTS_FLAG_TRUST_HOURS": 0,
    }
    for marker in reversed(list(request.node.iter_markers("settings"))):
        values.update(marker.kwargs)
    return values


@pytest.fixture
def app(database_url: str, settings: dict[str, Any], tmp_path: Any) -> Iterator[Any]:
    _empty_tables(database_url)
    application = create_app({"DATABASE_URL": database_url, **settings})
    application.config["TESTING"] = True
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


def make_token(
    sub: str = "u-1",
    *,
    name: str | None = None,
    roles: list[str] | None = None,
    expires_in: int = 3600,
    secret: str = JWT_SECRET,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload = {"sub": sub, "exp": now + expires_in, "iat": now, **claims}
    if name is not None:
        payload["name"] = name
    if roles is not None:
        payload["roles"] = roles
    return jwt.encode(payload, secret, algorithm="HS256")


def auth(sub: str = "u-1", **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(sub, **kwargs)}"}


MODERATOR = {"roles": ["moderator"], "name": "Mod"}


@pytest.fixture
def post(client: Any) -> Callable[..., Any]:
    """post(article, body, user="u-1", parent_id=None) → response; user=None posts as a guest."""

    def _post(
        article: str,
        body: str = "hello",
        user: str | None = "u-1",
        parent_id: int | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> Any:
        payload: dict[str, Any] = {"body": body, **extra}
        if parent_id is not None:
            payload["parent_id"] = parent_id
        all_headers = dict(headers or {})
        if user is not None:
            all_headers.update(auth(user, name=f"Name {user}"))
        elif "author_name" not in payload:
            payload["author_name"] = "Guest"
        return client.post(
            f"/api/v1/articles/{article}/comments", json=payload, headers=all_headers
        )

    return _post


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.timezone.utc)


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Any) -> Callable[[], Any]:
    """with count_queries() as q: ...; q.count is the SQL statements the block ran."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def _counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        with app.app_context():
            engine = db.engine

        def _before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            counter.statements.append(statement)

        event.listen(engine, "before_cursor_execute", _before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", _before)

    return _counting


def at_once(app: Any, calls: list[Callable[[Any], int]]) -> list[int]:
    """Run the calls on real threads released together, each with its own test client;
    returns their results (HTTP statuses) in completion order."""
    import threading

    barrier = threading.Barrier(len(calls))
    results: list[int] = []
    lock = threading.Lock()

    def run(call: Callable[[Any], int]) -> None:
        local = app.test_client()
        barrier.wait()
        status = call(local)
        with lock:
            results.append(status)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results
