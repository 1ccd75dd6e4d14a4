"""Hands each transaction's domain events (service/domain/events.py) to the app's sinks.

A sink is anything with ``in_transaction(session, events)`` and ``after_commit(events)``
(see ``Sink``); the app keeps its list in ``app.extensions[EXTENSION]``, and
``add_sink(app, sink)`` appends one. The session listeners are registered once per process
on flask-sqlalchemy's Session class and look the sinks up in the current app, so several
apps in one process (the tests) each keep their own. Outside an app context (domain unit
tests, scripts with a bare session) events are recorded and dropped with the transaction.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from flask import Flask, current_app, has_app_context
from flask_sqlalchemy.session import Session as AppSession
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from .domain.events import Event, pending, take

log = logging.getLogger(__name__)

EXTENSION = "comments_event_sinks"
MAX_ROUNDS = 10  # a sink may record events of its own (notification.created); bounded


class Sink(Protocol):
    def in_transaction(self, session: Session, events: list[Event]) -> None:
        """Inside the transaction, before it commits: write rows that must commit with it."""

    def after_commit(self, events: list[Event]) -> None:
        """After a successful commit: tell the outside world (must not raise)."""


def sinks() -> list[Sink]:
    if not has_app_context():
        return []
    found: list[Sink] = current_app.extensions.get(EXTENSION, [])
    return found


def _before_commit(session: Session) -> None:
    targets = sinks()
    if not targets:
        return
    events = pending(session)
    seen = 0
    for _ in range(MAX_ROUNDS):
        if seen == len(events):
            return
        batch, seen = events[seen:], len(events)
        for sink in targets:
            sink.in_transaction(session, batch)
    log.error("event sinks kept recording events after %d rounds; stopped", MAX_ROUNDS)


def _after_commit(session: Session) -> None:
    events = take(session)
    if not events:
        return
    for sink in sinks():
        try:
            sink.after_commit(events)
        except Exception:  # the commit happened; a sink's failure must not undo the response
            log.exception("event sink %s failed after commit", type(sink).__name__)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # A rolled-back transaction's events never happened (a savepoint's end is not the end).
    if transaction.parent is None:
        take(session)


def _listen_once() -> None:
    for name, fn in (
        ("before_commit", _before_commit),
        ("after_commit", _after_commit),
        ("after_transaction_end", _after_transaction_end),
    ):
        if not event.contains(AppSession, name, fn):
            event.listen(AppSession, name, fn)


def init_app(app: Flask) -> None:
    app.extensions.setdefault(EXTENSION, [])
    _listen_once()


def add_sink(app: Flask, sink: Any) -> None:
    app.extensions.setdefault(EXTENSION, []).append(sink)


__all__ = ["EXTENSION", "Sink", "add_sink", "init_app", "sinks"]
