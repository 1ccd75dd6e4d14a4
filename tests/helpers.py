"""Helpers the tests share (tokens, callers, timestamps, running calls at once, emptying the
database, changing an app's settings). Fixtures live in conftest.py; import helpers from
here, never from conftest (tests/unit/test_import_graph.py checks)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import jwt
from sqlalchemy import create_engine, text

from service.config import load_settings
from service.domain.comments import Rules
from service.migrate import upgrade
from service.models import Base
from service.services import EXTENSION

JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
MODERATOR = {"roles": ["moderator"], "name": "Mod"}


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


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.timezone.utc)


def at_once(app: Any, calls: list[Callable[[Any], int]]) -> list[int]:
    """Run the calls on real threads released together, each with its own test client;
    returns their results (HTTP statuses) in completion order."""
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


def reset_schema(url: str) -> None:
    """The database at ``url`` migrated from nothing: PostgreSQL's public schema dropped
    first (a SQLite file is the caller's to start empty)."""
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)


MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def migrated_sqlite(path: Path) -> str:
    """The URL of a new SQLite file at ``path`` holding the schema the migrations build.
    They run once per content of migrations/ (into a template in the temporary directory,
    named by a hash of that content) and each caller gets a copy: a test session, of which
    `make mutate` starts one per mutant, does not run them again."""
    digest = hashlib.sha256()
    for source in sorted(MIGRATIONS.rglob("*.py")):
        digest.update(source.relative_to(MIGRATIONS).as_posix().encode())
        digest.update(source.read_bytes())
    template = Path(tempfile.gettempdir()) / f"comments-schema-{digest.hexdigest()[:16]}.db"
    if not template.exists():
        building = template.with_name(f"{template.name}.{os.getpid()}.building")
        building.unlink(missing_ok=True)
        upgrade(f"sqlite:///{building}")
        os.replace(building, template)  # whole or not at all, whoever builds it at once
    with sqlite3.connect(template) as source, sqlite3.connect(path) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    return f"sqlite:///{path}"


def empty_tables(url: str) -> None:
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


@dataclasses.dataclass(frozen=True)
class Callers:
    """Request headers for the usual callers: a reader, another reader, a moderator and
    a guest (no token)."""

    reader: dict[str, str]
    other: dict[str, str]
    moderator: dict[str, str]
    guest: dict[str, str]


def callers() -> Callers:
    return Callers(
        reader=auth("u-1", name="Name u-1"),
        other=auth("u-2", name="Name u-2"),
        moderator=auth("mod-1", **MODERATOR),
        guest={},
    )


def reconfigure(app: Any, **values: Any) -> None:
    """Change settings of an app already built (by environment name, as the ``settings``
    marker takes them): the typed settings and what is built from them are rebuilt, and
    app.config follows. Prefer ``@pytest.mark.settings(...)`` when the whole test runs
    with the same values."""
    services = app.extensions[EXTENSION]
    current = services.settings.as_config()
    settings = load_settings({**current, **values}, environ={}, instance_path=app.instance_path)
    app.config.update(settings.as_config())
    app.extensions[EXTENSION] = dataclasses.replace(
        services, settings=settings, rules=Rules.from_settings(settings)
    )
