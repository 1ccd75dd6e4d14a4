"""SQLite writers take turns in the app's queue (service/sqlite_writers.py), not by polling.

Each test gives the waiting writer a SQLite busy timeout of 0: without the queue its INSERT
fails at once with "database is locked" while the other writer holds SQLite's lock. With the
queue it waits for its turn (the queue's own time limit is set apart, through ``for_path``)
and writes once the other has committed.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from service.sqlite_writers import QueuedConnection, WriterQueue, opens_a_write


@pytest.fixture
def database(tmp_path: Path) -> str:
    path = tmp_path / "writers.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (n INTEGER)")
    conn.close()
    return str(path)


def connect(database: str, timeout: float = 0.0) -> QueuedConnection:
    conn = sqlite3.connect(database, timeout=timeout, factory=QueuedConnection)
    assert isinstance(conn, QueuedConnection)
    return conn


def rows(database: str) -> list[int]:
    with sqlite3.connect(database) as conn:
        found = [n for (n,) in conn.execute("SELECT n FROM t ORDER BY n")]
    conn.close()
    return found


def test_the_statements_that_open_a_write_transaction() -> None:
    assert opens_a_write("INSERT INTO t VALUES (1)")
    assert opens_a_write("  update t SET n = 2")
    assert opens_a_write("\nDELETE FROM t")
    assert opens_a_write("REPLACE INTO t VALUES (3)")
    assert not opens_a_write("SELECT n FROM t")
    assert not opens_a_write("PRAGMA busy_timeout=10")


def test_without_the_queue_a_second_writer_meets_sqlites_lock(database: str) -> None:
    """The premise of the tests below: busy timeout 0 fails at once while a write is open."""
    first = sqlite3.connect(database, timeout=0)
    second = sqlite3.connect(database, timeout=0)
    first.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        second.execute("INSERT INTO t VALUES (2)")
    first.commit()
    first.close()
    second.close()


def test_a_second_thread_waits_for_its_turn_and_then_writes(database: str) -> None:
    WriterQueue.for_path(database, timeout=5.0)  # the queue's limit; SQLite's stays 0
    first = connect(database)
    first.execute("INSERT INTO t VALUES (1)")
    done = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        second = connect(database)
        try:
            second.execute("INSERT INTO t VALUES (2)")
            second.commit()
        except BaseException as exc:  # pragma: no cover - the failure the test reports
            errors.append(exc)
        second.close()
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    assert not done.wait(0.3), errors  # still waiting: its turn has not come
    first.commit()
    assert done.wait(5)
    thread.join()
    assert errors == []
    assert rows(database) == [1, 2]
    first.close()


def _write_after_holding(database: str, hold: float, value: int, ready: object) -> None:
    WriterQueue.for_path(database, timeout=5.0)
    conn = connect(database)
    conn.execute("INSERT INTO t VALUES (?)", (value,))
    ready.set()  # type: ignore[attr-defined]
    time.sleep(hold)
    conn.commit()
    conn.close()


def test_a_writer_in_another_process_waits_for_its_turn(database: str) -> None:
    WriterQueue.for_path(database, timeout=5.0)
    conn = connect(database)
    # Read once first: the holder's close is then not the last connection's, which would
    # checkpoint the WAL under an exclusive lock (a busy timeout of 0 would meet that too).
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    holder = context.Process(target=_write_after_holding, args=(database, 0.5, 1, ready))
    holder.start()
    try:
        assert ready.wait(30)
        conn.execute("INSERT INTO t VALUES (2)")  # SQLite alone: "database is locked"
        conn.commit()
        conn.close()
    finally:
        holder.join(30)
    assert holder.exitcode == 0
    assert rows(database) == [1, 2]
    assert Path(database + "-writer").exists()


def test_a_rolled_back_or_closed_writer_gives_its_turn_back(database: str) -> None:
    WriterQueue.for_path(database, timeout=5.0)
    conn = connect(database)
    conn.execute("INSERT INTO t VALUES (1)")
    conn.rollback()
    conn.execute("INSERT INTO t VALUES (2)")
    conn.close()  # the open transaction is rolled back by SQLite, the turn by us
    other = connect(database)
    started = time.monotonic()
    other.execute("INSERT INTO t VALUES (3)")
    other.commit()
    other.close()
    assert time.monotonic() - started < 4  # not the queue's 5 s limit
    assert rows(database) == [3]


def test_a_writer_the_garbage_collector_closes_gives_its_turn_back(database: str) -> None:
    WriterQueue.for_path(database, timeout=5.0)
    conn = connect(database)
    conn.execute("INSERT INTO t VALUES (1)")
    del conn  # never committed, rolled back or closed by hand
    gc.collect()  # sqlite3's statement cache refers back to its connection: a cycle
    other = connect(database)
    started = time.monotonic()
    other.execute("INSERT INTO t VALUES (2)")
    other.commit()
    other.close()
    assert time.monotonic() - started < 4  # not the queue's 5 s limit
    assert rows(database) == [2]


def test_a_turn_held_too_long_costs_a_wait_and_a_warning_not_a_hang(
    database: str, caplog: pytest.LogCaptureFixture
) -> None:
    queue = WriterQueue.for_path(database, timeout=0.2)
    assert queue.acquire()  # a turn taken and never given back (no SQLite lock behind it)
    conn = connect(database)
    with caplog.at_level(logging.WARNING, logger="service.sqlite_writers"):
        conn.execute("INSERT INTO t VALUES (1)")
        conn.commit()
    conn.close()
    queue.release()
    assert rows(database) == [1]
    assert "writing without it" in caplog.text


def test_readers_take_no_turn(database: str) -> None:
    WriterQueue.for_path(database, timeout=5.0)
    writer, reader = connect(database), connect(database)
    writer.execute("INSERT INTO t VALUES (1)")
    assert reader.execute("SELECT count(*) FROM t").fetchone() == (0,)  # WAL: no wait
    writer.commit()
    writer.close()
    reader.close()


def test_the_apps_sqlite_connections_take_turns(tmp_path: Path) -> None:
    from service import create_app
    from service.extensions import db

    app = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "COMMENTS_ENV": "development"}
    )
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            assert isinstance(raw.driver_connection, QueuedConnection)
        finally:
            raw.close()
