"""Readers' flags and their weights: a flagger whose flags were upheld counts more."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import false, func, select, update
from sqlalchemy.orm import Session

from ...enums import (
    TOMBSTONE_STATUSES,
    CommentStatus,
    FlagReason,
    FlagState,
    HeldReason,
)
from ...models import (
    Article,
    Comment,
    Flag,
    utcnow,
)
from .. import events
from ..audit import SYSTEM, record
from ..comments import (
    active_ban,
    set_status,
)
from ..errors import RuleError
from ..reactions import _insert
from ..threads import Viewer, article_visible, comment_visible
from .holds import snapshot

MIN_FLAG_WEIGHT = 0.25
MAX_FLAG_WEIGHT = 2.0


NEW_ACCOUNT_FLAG_WEIGHT = 0.25


def flag_weight(upheld: int, dismissed: int, established: bool = True) -> float:
    """How much one flag from this flagger counts.

    An account that has not yet earned a say (``established``: it has a published
    comment at least COMMENTS_FLAG_TRUST_HOURS old) weighs 0.25 whatever its record, so a
    handful of brand-new accounts cannot hide a comment (#14 item 9). Otherwise:

        weight = clamp((1 + upheld) / (1 + dismissed), 0.25, 2.0)

    A new flagger weighs 1.0. Each flag a moderator upheld raises the weight, each one
    dismissed lowers it; the +1s keep one decision from swinging it to an extreme. The cap of
    2.0 means no single flagger can hide a comment alone at the default threshold of 3; the
    floor of 0.25 means a careless flagger is still heard, just four times more quietly.
    """
    if not established:
        return NEW_ACCOUNT_FLAG_WEIGHT
    raw = (1 + max(upheld, 0)) / (1 + max(dismissed, 0))
    return max(MIN_FLAG_WEIGHT, min(MAX_FLAG_WEIGHT, raw))


def is_established(
    session: Session, user_id: str, now: dt.datetime, trust_after: dt.timedelta
) -> bool:
    """Has this account earned full flag weight: a published, unshadowed comment at least
    ``trust_after`` old? (Accounts live at the host site; their first comment here is the
    oldest fact we hold about them.) ``trust_after`` of zero trusts every account."""
    if trust_after <= dt.timedelta(0):
        return True
    return (
        session.execute(
            select(Comment.id)
            .where(
                Comment.author_id == user_id,
                Comment.status == CommentStatus.PUBLISHED,
                Comment.shadowed == false(),
                Comment.created_at <= now - trust_after,
            )
            .limit(1)
        ).first()
        is not None
    )


def flagger_record(session: Session, user_id: str) -> dict[str, int]:
    """{"upheld": n, "dismissed": m, "open": k} for one flagger."""
    out = {state.value: 0 for state in FlagState}
    for state, count in session.execute(
        select(Flag.state, func.count()).where(Flag.user_id == user_id).group_by(Flag.state)
    ):
        out[state.value] = count
    return out


@dataclass
class FlagResult:
    flag: Flag
    created: bool


def add_flag(
    session: Session,
    *,
    comment: Comment,
    user_id: str,
    reason: FlagReason,
    note: str | None,
    threshold: float,
    now: dt.datetime | None = None,
    trust_after: dt.timedelta = dt.timedelta(0),
) -> FlagResult:
    """A reader flags a comment: one flag per reader per comment (the unique constraint
    decides races). When the open flags' weight reaches ``threshold`` a published comment is
    hidden until a moderator decides, with a ``system`` audit entry."""
    now = now or utcnow()
    viewer = Viewer(user_id=user_id)
    if not article_visible(session.get(Article, comment.article_id), viewer):
        raise RuleError(404, "There is no such comment.", kind="not-found")
    if comment.status in TOMBSTONE_STATUSES:
        raise RuleError(
            409, "This comment was deleted; there is nothing left to flag.", kind="comment-deleted"
        )
    if not comment_visible(comment, viewer):
        raise RuleError(404, "There is no such comment.", kind="not-found")
    if comment.author_id is not None and comment.author_id == user_id:
        raise RuleError(
            409, "You cannot flag your own comment; edit or delete it instead.", kind="own-comment"
        )
    ban = active_ban(session, user_id, now)
    if ban is not None and not ban.shadow:
        raise RuleError(403, "You are banned and cannot flag comments.", kind="banned")
    if ban is not None:  # shadow-banned: stored, weighs nothing, and the user cannot tell
        weight = 0.0
    else:
        record_ = flagger_record(session, user_id)
        weight = flag_weight(
            record_["upheld"],
            record_["dismissed"],
            established=is_established(session, user_id, now, trust_after),
        )
    inserted = session.execute(
        _insert(session, Flag)
        .values(
            comment_id=comment.id,
            user_id=user_id,
            reason=reason,
            note=note,
            weight=weight,
            state=FlagState.OPEN,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["comment_id", "user_id"])
        .returning(Flag.id)  # rowcount is unreliable for ORM inserts on PostgreSQL
    ).scalar_one_or_none()
    flag = session.execute(
        select(Flag).where(Flag.comment_id == comment.id, Flag.user_id == user_id)
    ).scalar_one()
    if inserted is None:
        return FlagResult(flag, created=False)
    events.record(
        session,
        events.Event(
            events.COMMENT_FLAGGED,
            article_id=comment.article_id,
            comment_id=comment.id,
            actor_id=user_id,
            data={"reason": FlagReason(reason).value, "weight": weight},
        ),
    )
    if weight <= 0:
        return FlagResult(flag, created=True)
    # Atomic: concurrent flags each add their own weight; the row lock orders them, so
    # exactly one of them sees the threshold crossed while the comment is still published.
    total, status = session.execute(
        update(Comment)
        .where(Comment.id == comment.id)
        .values(flag_count=Comment.flag_count + 1, flag_weight=Comment.flag_weight + weight)
        .returning(Comment.flag_weight, Comment.status)
        .execution_options(synchronize_session=False)
    ).one()
    session.expire(comment)
    if total >= threshold - 1e-9 and status == CommentStatus.PUBLISHED:
        before = snapshot(comment)
        comment.held_reason = HeldReason.FLAGS
        set_status(session, comment, CommentStatus.HIDDEN, now=now)
        record(
            session,
            actor_id=SYSTEM,
            action="hide",
            target_type="comment",
            target_id=str(comment.id),
            reason=f"flag weight {total:g} reached the threshold {threshold:g}",
            before=before,
            after=snapshot(comment),
            now=now,
        )
    return FlagResult(flag, created=True)
