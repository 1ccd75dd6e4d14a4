"""The delivery worker: sends what the requests left in outbox tables, after they returned.

A *job* is ``job(app) -> int``: one pass over its own queue (claim due rows, send them,
record the outcome) that returns how many items it handled. Jobs are registered per app
with ``register_job(app, name, job)`` (``service/delivery/__init__.py`` registers the
service's own), and the worker calls each in turn, inside an app context of its own (the
session is removed after every pass). A round that handled nothing sleeps
``COMMENTS_DELIVERY_IDLE_SECONDS``; SIGTERM and SIGINT end the loop after the pass that is
running (jobs ask ``stop_requested()`` between items, so that is soon) and the process
exits 0.

How it runs: ``flask --app service worker`` (production: its own process or container);
``python -m service.serve`` (so ``make run``) starts one beside the server and stops it
with the server. Any number of workers may run at once on PostgreSQL (jobs claim rows with
``SELECT ... FOR UPDATE SKIP LOCKED`` and a lease); on SQLite run one.
"""

from __future__ import annotations

import contextvars
import logging
import os
import signal
import threading
import time
from types import FrameType
from typing import Callable

from flask import Flask

from .. import services
from ..extensions import db

log = logging.getLogger(__name__)

Job = Callable[[Flask], int]
EXTENSION = "comments_delivery_jobs"
DEFAULT_IDLE_SECONDS = 1.0
ERROR_PAUSE_SECONDS = 5.0  # after a pass that failed (the database is down, say)

_stopping: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar(
    "comments_worker_stopping", default=None
)


def register_job(app: Flask, name: str, job: Job) -> None:
    """Add ``job`` to the jobs every worker of ``app`` runs (a name registered again
    replaces the earlier job)."""
    app.extensions.setdefault(EXTENSION, {})[name] = job


def jobs(app: Flask) -> dict[str, Job]:
    registered: dict[str, Job] = app.extensions.get(EXTENSION, {})
    return dict(registered)


def stop_requested() -> bool:
    """True once the worker running this job was asked to stop: finish the item in hand,
    leave the rest for the next worker (leases make that safe)."""
    event = _stopping.get()
    return event is not None and event.is_set()


class Worker:
    """Runs ``app``'s jobs until stopped. ``stop`` may be shared (tests stop a worker that
    runs in a thread by setting it); signals set it too when ``run`` is on the main thread."""

    def __init__(
        self,
        app: Flask,
        *,
        idle_seconds: float | None = None,
        stop: threading.Event | None = None,
        exit_with_parent: bool = False,
    ) -> None:
        self.app = app
        settings = services.of(app).settings
        self.idle_seconds = settings.delivery_idle_seconds if idle_seconds is None else idle_seconds
        self.stop = stop or threading.Event()
        self.parent = os.getppid() if exit_with_parent else None
        self.rounds = 0
        self.handled = 0

    def request_stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        if signum is not None:
            log.info("delivery worker: %s received, stopping", signal.Signals(signum).name)
        self.stop.set()

    def run_once(self) -> tuple[int, int]:
        """One round: every job once. Returns (items handled, jobs that failed)."""
        handled = failed = 0
        token = _stopping.set(self.stop)
        try:
            for name, job in jobs(self.app).items():
                if self.stop.is_set():
                    break
                with self.app.app_context():
                    try:
                        handled += int(job(self.app))
                    except Exception:
                        failed += 1
                        log.exception("delivery job %s failed; trying again later", name)
                        db.session.rollback()
                    finally:
                        db.session.remove()
        finally:
            _stopping.reset(token)
        self.rounds += 1
        self.handled += handled
        return handled, failed

    def _orphaned(self) -> bool:
        return self.parent is not None and os.getppid() != self.parent

    def run(self, *, max_rounds: int | None = None) -> int:
        """Loop until stopped (or ``max_rounds`` rounds). Returns the items handled."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.request_stop)
            signal.signal(signal.SIGINT, self.request_stop)
        names = ", ".join(jobs(self.app)) or "none"
        log.info("delivery worker started (pid %d; jobs: %s)", os.getpid(), names)
        started = time.monotonic()
        while not self.stop.is_set():
            handled, failed = self.run_once()
            if max_rounds is not None and self.rounds >= max_rounds:
                break
            if self._orphaned():
                log.warning("delivery worker: the server that started it is gone; stopping")
                break
            if failed and not handled:
                self.stop.wait(max(self.idle_seconds, ERROR_PAUSE_SECONDS))
            elif not handled:
                self.stop.wait(self.idle_seconds)
        log.info(
            "delivery worker stopped after %d rounds, %d items, %.0f s",
            self.rounds,
            self.handled,
            time.monotonic() - started,
        )
        return self.handled


__all__ = ["Job", "Worker", "jobs", "register_job", "stop_requested"]
