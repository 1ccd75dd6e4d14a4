"""One SQLite writer at a time, queued by the kernel instead of SQLite's busy handler.

SQLite lets one transaction write at a time. A writer that finds the lock taken waits in
SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25... ms between tries, however
soon the lock comes free. Under a burst of posts the writers of one instance then spend
most of their time asleep beside a free lock (measured in docs/performance.md: posting with
4 threads per worker was slower than with 1, and its p99 was 1.6 s).

``WriterQueue`` makes the writers of every process that opens the database through the app
take a turn before their first write statement and give it back when the transaction ends:
a ``threading.Lock`` between the threads of a process (the next writer wakes the moment it
is given back) and ``fcntl.flock`` on a file beside the database (``<database>-writer``)
between processes, polled at most 1 ms apart. SQLite's own lock is then free whenever a
writer's turn comes. Readers take nothing (WAL lets them read beside the writer).

It is a ``sqlite3.Connection`` factory (``connect_args={"factory": ...}``), so it sees
exactly what the driver does: the statement that opens a write transaction (Python's
sqlite3 opens one before INSERT, UPDATE, DELETE and REPLACE) and the commit, rollback or
close that ends it, after SQLite has ended it; a connection the garbage collector closes
gives its turn back too. A writer waits at most ``timeout`` seconds (SQLite's busy timeout)
for its turn and then goes on without it: SQLite's own lock still keeps the database safe,
so a turn held too long costs a wait and a warning, never a hang or a lost write.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
from typing import Any, Iterable

log = logging.getLogger(__name__)

_OPENS_A_WRITE = ("INSERT", "UPDATE", "DELETE", "REPLACE")
# Between processes the wait polls the file lock (flock cannot wait with a time limit): from
# 0.1 ms, doubling, at most 1 ms between tries; SQLite's own handler sleeps up to 100 ms.
FIRST_PAUSE, LAST_PAUSE = 0.0001, 0.001


def opens_a_write(statement: str) -> bool:
    """Does Python's sqlite3 open a write transaction before running ``statement``?"""
    return statement.lstrip()[:7].upper().startswith(_OPENS_A_WRITE)


class WriterQueue:
    """The lock of one database file in this process (one per path: see ``for_path``)."""

    _by_path: dict[str, WriterQueue] = {}
    _by_path_lock = threading.Lock()

    def __init__(self, lock_path: str | None, timeout: float) -> None:
        self.lock_path = lock_path
        self.timeout = timeout
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid: int | None = None
        self._holding_file = False

    @classmethod
    def for_path(cls, database: str, timeout: float) -> WriterQueue:
        """The queue of the database at ``database`` (``:memory:`` and URIs: threads only)."""
        key = os.path.abspath(database) if _is_file(database) else database
        with cls._by_path_lock:
            queue = cls._by_path.get(key)
            if queue is None:
                lock_path = key + "-writer" if _is_file(database) else None
                queue = cls._by_path[key] = cls(lock_path, timeout)
            return queue

    def _file(self) -> int | None:
        # A forked worker must not share its parent's open file: flock locks belong to the
        # open file, so parent and child would count as one holder.
        if self.lock_path is None:
            return None
        if self._fd is None or self._pid != os.getpid():
            try:
                self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                log.warning("SQLite writer queue: cannot open %s (%s)", self.lock_path, exc)
                self.lock_path = None
                return None
            self._pid = os.getpid()
        return self._fd

    def acquire(self) -> bool:
        """Wait for our turn to write; False when the wait ran out (go on without it)."""
        deadline = time.monotonic() + self.timeout
        if not self._threads.acquire(timeout=self.timeout):
            log.warning("SQLite writer queue: waited %.0f s; writing without it", self.timeout)
            return False
        fd = self._file()
        if fd is None:
            return True
        pause = FIRST_PAUSE
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._holding_file = True
                return True
            except BlockingIOError:
                pass
            except OSError as exc:  # a file system without flock: threads only
                log.warning("SQLite writer queue: flock failed (%s)", exc)
                return True
            if time.monotonic() >= deadline:
                # Another process kept its turn too long: SQLite's busy handler takes over.
                log.warning("SQLite writer queue: waited %.0f s; writing without it", self.timeout)
                return True
            time.sleep(pause)
            pause = min(pause * 2, LAST_PAUSE)

    def release(self) -> None:
        if self._holding_file and self._fd is not None:
            self._holding_file = False
            try:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            except OSError:
                pass
        self._threads.release()


def _is_file(database: str) -> bool:
    return database not in ("", ":memory:") and not database.startswith("file:")


class QueuedConnection(sqlite3.Connection):
    """A sqlite3 connection whose write transactions take their turn in a ``WriterQueue``."""

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        timeout = kwargs.get("timeout", args[0] if args else 5.0)
        self._queue = WriterQueue.for_path(os.fsdecode(database), float(timeout))
        self._holding = False

    def _before(self, statement: str) -> None:
        if not self._holding and not self.in_transaction and opens_a_write(statement):
            self._holding = self._queue.acquire()

    def _after(self) -> None:
        if self._holding and not self.in_transaction:
            self._holding = False  # an autocommit write, or one that failed to begin
            self._queue.release()

    def cursor(self, factory: Any = None) -> sqlite3.Cursor:  # type: ignore[override]
        return super().cursor(factory or QueuedCursor)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        return self.cursor().executemany(sql, parameters)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._after()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._after()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._give_back()

    def __del__(self) -> None:  # collected without close(): SQLite's lock goes first
        if getattr(self, "_holding", False):
            try:
                self.close()
            except Exception:  # the turn is given back all the same (close's finally)
                pass

    def _give_back(self) -> None:
        if getattr(self, "_holding", False):
            self._holding = False
            self._queue.release()


class QueuedCursor(sqlite3.Cursor):
    connection: QueuedConnection

    def execute(self, sql: str, parameters: Any = (), /) -> QueuedCursor:
        self.connection._before(sql)
        try:
            super().execute(sql, parameters)
        finally:
            self.connection._after()
        return self

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> QueuedCursor:
        self.connection._before(sql)
        try:
            super().executemany(sql, parameters)
        finally:
            self.connection._after()
        return self


__all__ = ["QueuedConnection", "WriterQueue", "opens_a_write"]
