"""SQLite writers take turns in the app's queue (service/sqlite_writers.py), not by polling.

Each test gives the waiting writer a SQLite busy timeout of 0: without the queue its INSERT
fails at once with "database is locked" while the other writer holds SQLite's lock. With the
queue it waits for its turn (the queue's own time limit is set apart, through ``for_path``)
and writes once the other has committed.
"""

from __future__ import annotations

import fcntl
import gc
import logging
import multiprocessing
import os
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


def writes_at_once(database: str, value: int) -> None:
    """A new connection writes ``value`` without waiting out the queue's 5 s limit: the
    turn before it was given back."""
    other = connect(database)
    started = time.monotonic()
    other.execute("INSERT INTO t VALUES (?)", (value,))
    other.commit()
    other.close()
    assert time.monotonic() - started < 4


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
    writes_at_once(database, 3)
    assert rows(database) == [3]


def test_a_writer_the_garbage_collector_closes_gives_its_turn_back(database: str) -> None:
    WriterQueue.for_path(database, timeout=5.0)
    conn = connect(database)
    conn.execute("INSERT INTO t VALUES (1)")
    del conn  # never committed, rolled back or closed by hand
    gc.collect()  # sqlite3's statement cache refers back to its connection: a cycle
    writes_at_once(database, 2)
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


def test_another_process_keeping_its_turn_too_long_costs_a_wait_and_a_warning(
    database: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The file lock taken through another open file (as another process holds it) and never
    given back: the writer waits out the queue's limit, warns, and writes (SQLite's own lock
    is free)."""
    WriterQueue.for_path(database, timeout=0.2)
    elsewhere = os.open(database + "-writer", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(elsewhere, fcntl.LOCK_EX)
    try:
        conn = connect(database)
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="service.sqlite_writers"):
            conn.execute("INSERT INTO t VALUES (1)")
            conn.commit()
        conn.close()
        assert time.monotonic() - started >= 0.2  # it did wait for the turn
    finally:
        os.close(elsewhere)
    assert rows(database) == [1]
    assert "writing without it" in caplog.text


def test_a_lock_file_that_cannot_be_opened_leaves_threads_taking_turns(
    database: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A read-only directory (here: a directory where the file would be) loses the queue
    between processes, with a warning, and nothing else: writes go on, threads still wait
    for each other."""
    os.mkdir(database + "-writer")
    queue = WriterQueue.for_path(database, timeout=5.0)
    conn = connect(database)
    with caplog.at_level(logging.WARNING, logger="service.sqlite_writers"):
        conn.execute("INSERT INTO t VALUES (1)")
        assert not queue._threads.acquire(blocking=False)  # this thread's turn is held
        conn.commit()
    conn.close()
    assert queue._threads.acquire(blocking=False)  # and given back
    queue._threads.release()
    assert queue.lock_path is None
    assert "cannot open" in caplog.text and "-writer" in caplog.text
    assert rows(database) == [1]


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
