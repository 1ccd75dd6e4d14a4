"""Shared fixtures: a database built by the migrations, a fresh app and client per test,
a database session for domain rules without HTTP (``db_session``) and the usual callers'
headers (``callers``). Helpers that are not fixtures live in tests/helpers.py; import them
from there (tests/unit/test_import_graph.py checks no test imports from here).

TEST_DATABASE_URL selects PostgreSQL (CI runs the suite on SQLite and on PostgreSQL);
without it every run gets its own SQLite file, a copy of one the Alembic migrations built
(tests.helpers.migrated_sqlite: once per content of migrations/); never create_all. Each
test starts from empty tables.
"""

from __future__ import annotations

import gc
import os
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy.orm import Session

from service import create_app
from service.extensions import db
from service.services import EXTENSION
from tests.helpers import JWT_SECRET, Callers, auth, callers, migrated_sqlite, reset_schema
from tests.helpers import empty_tables as _empty_tables


def _compile_url_builders_once() -> None:
    """create_app adds some 70 URL rules, and werkzeug compiles two URL-builder functions for
    each (ast, then compile()) every time: about 60 of create_app's 70 ms, paid by every API
    test. A builder's code depends only on the rule's text, its parsed parts and which of the
    two it is (it reads the rule's converters from the rule it is bound to), so the tests
    compile each one once. A rule with defaults folds them into the code: compiled as before."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    built: dict[tuple[Any, ...], Any] = {}

    def _once(self: Rule, append_unknown: bool = True) -> Any:
        if self.defaults:
            return compile_builder(self, append_unknown)
        key = (self.rule, tuple(self._trace), append_unknown)
        if key not in built:
            built[key] = compile_builder(self, append_unknown)
        return built[key]

    Rule._compile_builder = _once  # type: ignore[method-assign]


_compile_url_builders_once()


def pytest_configure(config: pytest.Config) -> None:
    """Under `make mutate`, mutmut forks each mutant's test session from a process that holds
    every module and collected test. At the end of a session pytest runs gc.collect() twice
    (its unraisableexception plugin), and walking that inherited heap took about 0.7 s a
    mutant, most of a cheap mutant's time. Frozen, the collector leaves it alone (about 0.1 s)."""
    if "MUTANT_UNDER_TEST" in os.environ:
        gc.freeze()


@pytest.fixture(autouse=True)
def _statements_built_in_this_test() -> None:
    """Two rules build their statement once and keep it (notifications' follow-on-post insert,
    threads' sort=hot query). Kept across tests, only the first test that needs one calls its
    builder: mutmut's test map then names that one test alone for the builder's mutants, and a
    run forked from a process that holds the statement never calls a mutated builder at all.
    Every test builds its own."""
    from service.domain import notifications, threads

    notifications._FOLLOW_ON_POST.clear()
    threads._HOT_STATEMENTS.clear()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        reset_schema(url)
        return url
    return migrated_sqlite(tmp_path_factory.mktemp("db") / "test.db")


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
    # /readyz keeps a pooled connection per app (#14): close it now, not when the app is
    # collected (a connection collected open is a ResourceWarning, an error here).
    application.extensions[EXTENSION].probe_engine.dispose()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def db_session(app: Any) -> Iterator[Session]:
    """The app's database session inside an app context, to call domain rules without
    HTTP (they flush; the test commits or not). Rolled back at the end."""
    with app.app_context():
        yield db.session
        db.session.rollback()


@pytest.fixture(name="callers")
def callers_fixture() -> Callers:
    """Headers for callers.reader, .other, .moderator and .guest."""
    return callers()


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
