"""Idempotency-Key rules of service/domain/comments.py at a fixed clock: what a retry gets
back, the exact boundary of the TTL, what is stored, and how the lazy purge bounds its work.
Mutation testing (#22) found the boundary, the stored time and the purge batch unchecked."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from service.domain import comments as rules
from service.models import IdempotencyKey
from tests.helpers import utc

TTL = dt.timedelta(hours=24)
NOW = utc(2026, 11, 30, 12, 0)


def test_a_key_reused_with_another_request_is_an_exact_422(post):
    headers = {"Idempotency-Key": "k-1"}
    assert post("a1", "first", headers=headers).status_code == 201
    r = post("a1", "something else", headers=headers)
    detail = "This Idempotency-Key was already used with a different request."
    problem = r.get_json()
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert problem["type"].rsplit("/", 1)[-1] == "idempotency-key-reused"
    assert problem["detail"] == detail
    assert problem["errors"] == {"Idempotency-Key": [detail]}


def _remember(session, key, comment_id, created_at, ttl=None):
    rules.remember(
        session,
        caller_key="user:u-1",
        key=key,
        request_fingerprint="fp",
        comment_id=comment_id,
        now=created_at,
        ttl=ttl,
    )


def _replay(session, key, now):
    return rules.replay(
        session, caller_key="user:u-1", key=key, request_fingerprint="fp", now=now, ttl=TTL
    )


def test_a_key_is_stored_at_the_request_time_and_replays_until_its_ttl_ends(post, db_session):
    comment_id = post("a1", "once").get_json()["id"]
    _remember(db_session, "k", comment_id, NOW)
    stored = db_session.scalars(select(IdempotencyKey).filter_by(key="k")).one()
    assert stored.created_at == NOW
    assert _replay(db_session, "k", NOW + TTL - dt.timedelta(microseconds=1)).id == comment_id
    # exactly one TTL later the key is spent: the retry posts anew, and the row is gone
    assert _replay(db_session, "k", NOW + TTL) is None
    assert db_session.scalars(select(IdempotencyKey).filter_by(key="k")).all() == []


def test_purge_forgets_at_most_a_batch_of_the_oldest_expired_keys(post, db_session):
    comment_id = post("a1", "once").get_json()["id"]
    expired = rules.PURGE_BATCH + 1
    # stored newest first, so the table's own order is not the age order
    for minutes in range(1, expired + 1):
        _remember(
            db_session, f"old-{minutes}", comment_id, NOW - TTL - dt.timedelta(minutes=minutes)
        )
    _remember(db_session, "fresh", comment_id, NOW - dt.timedelta(hours=1))
    assert rules.purge_idempotency_keys(db_session, now=NOW, ttl=TTL) == rules.PURGE_BATCH
    left = db_session.scalars(select(IdempotencyKey.key).order_by(IdempotencyKey.key)).all()
    assert left == ["fresh", "old-1"]  # the newest of the expired waits for the next post
    # remember() with a ttl runs the purge: the last expired key goes
    _remember(db_session, "new", comment_id, NOW, ttl=TTL)
    left = db_session.scalars(select(IdempotencyKey.key).order_by(IdempotencyKey.key)).all()
    assert left == ["fresh", "new"]


def test_purge_and_replay_agree_that_a_key_is_spent_at_exactly_its_ttl(post, db_session):
    """The purge once kept a key exactly one TTL old (``<``) that replay() already treated
    as spent (``<=``): harmless, but two rules for one boundary. Now both say spent."""
    comment_id = post("a1", "once").get_json()["id"]
    _remember(db_session, "exactly-ttl", comment_id, NOW - TTL)
    _remember(db_session, "just-inside", comment_id, NOW - TTL + dt.timedelta(microseconds=1))
    assert rules.purge_idempotency_keys(db_session, now=NOW, ttl=TTL) == 1
    left = db_session.scalars(select(IdempotencyKey.key)).all()
    assert left == ["just-inside"]
    assert _replay(db_session, "just-inside", NOW).id == comment_id
