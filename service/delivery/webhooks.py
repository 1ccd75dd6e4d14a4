"""The webhooks job of the delivery worker: claim due deliveries, send them signed, record
what happened (retry later, delivered, or given up), disable endpoints that keep failing.

One pass (``deliver_due``):

1. *claim* up to ``4 x COMMENTS_DELIVERY_CONCURRENCY`` due rows of enabled endpoints in one
   short transaction: on PostgreSQL ``SELECT ... FOR UPDATE SKIP LOCKED`` (so concurrent
   workers take different rows), and each claimed row's ``next_attempt_at`` moves to the end
   of a lease long enough for its attempt, and ``attempts`` goes up. A worker killed
   mid-delivery therefore leaves its rows due again once the lease ends: nothing is lost,
   and the receiver may see a message twice (same ``webhook-id``);
2. *send* them, up to COMMENTS_DELIVERY_CONCURRENCY at once, outside any transaction;
3. *record* the outcomes in one transaction; a row is updated only if no other worker
   claimed it again meanwhile (its ``attempts`` is still the one this worker set).

``now`` may be passed (tests move the clock instead of waiting); otherwise the wall clock.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

from flask import Flask
from sqlalchemy import Boolean, Table, and_, bindparam, case, delete, literal, select, true, update
from sqlalchemy.orm import Session, aliased

from .. import services
from ..domain import webhooks
from ..enums import DeliveryStatus
from ..extensions import db
from ..models import WebhookDelivery, WebhookEndpoint, utcnow
from . import metrics
from .sender import Outcome, Sender, signed_headers
from .worker import stop_requested

log = logging.getLogger(__name__)

STATE = "comments_webhook_sender"
BATCH_PER_THREAD = 4
LEASE_MARGIN_SECONDS = 30
PRUNE_EVERY_SECONDS = 600

D = WebhookDelivery
E = WebhookEndpoint


@dataclass(frozen=True)
class Claimed:
    id: int
    attempts: int  # after this claim: the attempt being made
    created_at: dt.datetime
    endpoint_id: int
    url: str
    secret: str
    message_id: str
    payload: str


class _State:
    """What one app's worker keeps between passes: the sender (connection pools), the
    thread pool, and when it last pruned old deliveries."""

    def __init__(self, key: tuple[Any, ...], sender: Sender, threads: int) -> None:
        self.key = key
        self.sender = sender
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhook")
        self.pruned_at = 0.0

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.sender.close()


def _state(app: Flask) -> _State:
    s = services.of(app).settings
    key = (
        s.webhook_connect_timeout_seconds,
        s.webhook_timeout_seconds,
        s.webhook_allow_private,
        s.delivery_concurrency,
    )
    state: _State | None = app.extensions.get(STATE)
    if state is None or state.key != key:
        if state is not None:
            state.close()
        sender = Sender(
            connect_timeout=s.webhook_connect_timeout_seconds,
            read_timeout=s.webhook_timeout_seconds,
            allow_private=s.webhook_allow_private,
            pool_size=s.delivery_concurrency,
        )
        state = app.extensions[STATE] = _State(key, sender, s.delivery_concurrency)
    return state


def lease_seconds(app: Flask) -> float:
    """How long a claim holds its rows: every wave of attempts in a batch at its time limit,
    plus a margin. A worker killed mid-delivery holds its rows this long."""
    s = services.of(app).settings
    per_attempt = s.webhook_connect_timeout_seconds + s.webhook_timeout_seconds
    return per_attempt * BATCH_PER_THREAD + LEASE_MARGIN_SECONDS


def _due(rows: Any, now: dt.datetime) -> Any:
    return and_(rows.status == DeliveryStatus.PENDING, rows.next_attempt_at <= now)


def claim(session: Session, *, now: dt.datetime, limit: int, lease: float) -> list[Claimed]:
    """Take up to ``limit`` due deliveries of enabled endpoints (committed)."""
    if session.execute(select(D.id).where(_due(D, now)).limit(1)).first() is None:
        session.rollback()
        return []  # nothing due: no write, no lock (SQLite's one writer stays free)
    # An alias, so the subquery is not correlated with the UPDATE's own table.
    candidate = aliased(D)
    pick = (
        select(candidate.id)
        .join(E, E.id == candidate.endpoint_id)
        .where(_due(candidate, now), E.enabled == true())
        .order_by(candidate.next_attempt_at, candidate.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=candidate)
    )
    claimed = (
        session.execute(
            update(D)
            .where(D.id.in_(pick.scalar_subquery()))
            .values(
                next_attempt_at=now + dt.timedelta(seconds=lease),
                attempts=D.attempts + 1,
                last_attempt_at=now,
            )
            .returning(D.id)
            .execution_options(synchronize_session=False)
        )
        .scalars()
        .all()
    )
    if not claimed:
        session.commit()
        return []
    rows = session.execute(
        select(D.id, D.attempts, D.created_at, E.id, E.url, E.secret, D.message_id, D.payload)
        .join(E, E.id == D.endpoint_id)
        .where(D.id.in_(claimed))
        .order_by(D.id)
    ).all()
    session.commit()
    return [Claimed(*row) for row in rows]


def _send(sender: Sender, item: Claimed) -> Outcome:
    try:
        headers = signed_headers(item.secret, item.message_id, item.payload)
        return sender.send(item.url, item.payload, headers)
    except Exception as exc:  # a bug or a bad secret must not take the batch down
        log.exception("webhook delivery %d could not be sent", item.id)
        return Outcome("connection_error", error=f"{exc.__class__.__name__}: {exc}"[:500])


_T = cast(Table, WebhookDelivery.__table__)
# A row is updated only while it is still this worker's claim: pending, and no other worker
# claimed it again since (which would have raised ``attempts``).
_RECORD = (
    update(_T)
    .where(
        _T.c.id == bindparam("b_id"),
        _T.c.attempts == bindparam("b_attempts"),
        _T.c.status == DeliveryStatus.PENDING,
    )
    .values(
        status=bindparam("b_status"),
        next_attempt_at=bindparam("b_next"),
        delivered_at=bindparam("b_delivered"),
        last_error=bindparam("b_error"),
        response_code=bindparam("b_code"),
        duration_ms=bindparam("b_ms"),
        # Once delivered or given up, the body is no longer kept: only the outcome is (the
        # deliveries list), so comment text does not linger for the retention period.
        payload=case((bindparam("b_done", type_=Boolean()), literal("")), else_=_T.c.payload),
    )
)


def record(
    session: Session,
    results: list[tuple[Claimed, Outcome]],
    *,
    now: dt.datetime,
    retry_for: dt.timedelta,
) -> None:
    """Store the outcomes (one transaction) and judge the endpoints."""
    healthy: set[int] = set()
    failing: dict[int, str] = {}
    # An endpoint fails "since" the oldest event it failed to take: the delivery that is
    # given up after the whole retry window then finds its endpoint failing that long.
    failing_from: dict[int, dt.datetime] = {}
    outcomes: list[dict[str, Any]] = []
    for item, outcome in results:
        metrics.attempt(outcome.result, outcome.seconds)
        row: dict[str, Any] = {
            "b_id": item.id,
            "b_attempts": item.attempts,
            "b_code": outcome.status,
            "b_ms": int(outcome.seconds * 1000),
            "b_status": DeliveryStatus.PENDING,
            "b_next": None,
            "b_delivered": None,
            "b_error": None,
            "b_done": False,
        }
        if outcome.ok:
            healthy.add(item.endpoint_id)
            metrics.delivered((now - item.created_at).total_seconds())
            row.update(b_status=DeliveryStatus.DELIVERED, b_delivered=now, b_done=True)
        else:
            failing[item.endpoint_id] = outcome.error or outcome.result
            earliest = failing_from.get(item.endpoint_id, item.created_at)
            failing_from[item.endpoint_id] = min(earliest, item.created_at)
            retry_at = webhooks.next_attempt(
                created_at=item.created_at,
                now=now,
                attempt=item.attempts,
                retry_for=retry_for,
                jitter=random.random(),
            )
            row.update(b_error=outcome.error, b_next=retry_at)
            if retry_at is None:
                row.update(b_status=DeliveryStatus.FAILED, b_done=True)
                metrics.gave_up()
                log.warning(
                    "webhook delivery %d to endpoint %d failed for good after %d attempts: %s",
                    item.id,
                    item.endpoint_id,
                    item.attempts,
                    outcome.error,
                )
        outcomes.append(row)
    if outcomes:  # one statement, executed for every row (executemany)
        session.execute(_RECORD, outcomes)
    for endpoint_id in healthy:
        session.execute(
            update(E)
            .where(E.id == endpoint_id, E.failing_since.is_not(None))
            .values(failing_since=None)
            .execution_options(synchronize_session=False)
        )
    for endpoint_id, error in failing.items():
        if endpoint_id in healthy:
            continue
        session.execute(
            update(E)
            .where(E.id == endpoint_id, E.failing_since.is_(None))
            .values(failing_since=failing_from[endpoint_id])
            .execution_options(synchronize_session=False)
        )
        if webhooks.disable_failing(
            session, endpoint_id=endpoint_id, last_error=error, now=now, retry_for=retry_for
        ):
            metrics.endpoint_disabled()
            log.warning("webhook endpoint %d disabled: failing for %s", endpoint_id, retry_for)
    session.commit()


def prune(session: Session, *, now: dt.datetime, keep: dt.timedelta) -> int:
    """Remove delivered and failed deliveries older than ``keep``."""
    result = session.execute(
        delete(D)
        .where(
            D.status.in_((DeliveryStatus.DELIVERED, DeliveryStatus.FAILED)),
            D.created_at < now - keep,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def deliver_due(app: Flask, *, now: dt.datetime | None = None) -> int:
    """One pass of the webhooks job; returns how many deliveries it attempted."""
    settings = services.of(app).settings
    state = _state(app)
    session = db.session()
    if stop_requested():
        return 0
    if time.monotonic() - state.pruned_at > PRUNE_EVERY_SECONDS:
        state.pruned_at = time.monotonic()
        prune(
            session,
            now=now or utcnow(),
            keep=dt.timedelta(days=settings.webhook_retention_days),
        )
    limit = settings.delivery_concurrency * BATCH_PER_THREAD
    items = claim(session, now=now or utcnow(), limit=limit, lease=lease_seconds(app))
    if not items:
        return 0
    outcomes = list(state.pool.map(lambda item: _send(state.sender, item), items))
    record(
        session,
        list(zip(items, outcomes, strict=True)),
        now=now or utcnow(),  # after the sending: outcomes are dated when they came
        retry_for=dt.timedelta(hours=settings.webhook_retry_hours),
    )
    return len(items)


__all__ = ["claim", "deliver_due", "lease_seconds", "prune", "record"]
