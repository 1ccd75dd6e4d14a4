"""A moderator's decision on one comment, as a table of small handlers, one per action;
409 when the action makes no sense in the comment's state."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ...enums import (
    TOMBSTONE_STATUSES,
    CommentStatus,
    FlagState,
    HeldReason,
    ModerationAction,
)
from ...models import (
    AuditEntry,
    Comment,
    Flag,
    utcnow,
)
from .. import events
from ..audit import record
from ..comments import (
    bump_version,
    set_status,
)
from ..errors import RuleError
from .holds import snapshot


def _resolve_flags(session: Session, comment: Comment, state: FlagState, now: dt.datetime) -> None:
    """Close the comment's open flags as upheld or dismissed (the flaggers' record) and
    reset its flag counters: later flags start a new round."""
    session.execute(
        update(Flag)
        .where(Flag.comment_id == comment.id, Flag.state == FlagState.OPEN)
        .values(state=state, resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    comment.flag_count = 0
    comment.flag_weight = 0.0


def _conflict(detail: str) -> RuleError:
    return RuleError(409, detail, kind="invalid-action")


@dataclass(frozen=True)
class _Action:
    session: Session
    comment: Comment
    status: CommentStatus  # before the action
    max_pinned: int
    now: dt.datetime


def _approve(a: _Action) -> None:
    if a.status not in (CommentStatus.PENDING, CommentStatus.HIDDEN) and not (
        a.status == CommentStatus.PUBLISHED and a.comment.flag_count > 0
    ):
        raise _conflict(
            f"Only pending, hidden or flagged comments can be approved "
            f"(this one is {a.status.value})."
        )
    _resolve_flags(a.session, a.comment, FlagState.DISMISSED, a.now)
    a.comment.held_reason = None
    if a.status != CommentStatus.PUBLISHED:
        set_status(a.session, a.comment, CommentStatus.PUBLISHED, now=a.now)


def _remove(a: _Action) -> None:
    if a.status in TOMBSTONE_STATUSES:
        raise _conflict(f"This comment is already {a.status.value}.")
    _resolve_flags(a.session, a.comment, FlagState.UPHELD, a.now)
    set_status(a.session, a.comment, CommentStatus.REMOVED, now=a.now)


def _restore(a: _Action) -> None:
    if a.status != CommentStatus.REMOVED:
        raise _conflict(f"Only removed comments can be restored (this one is {a.status.value}).")
    # The removal was wrong: the flags that led to it did not hold up after all.
    a.session.execute(
        update(Flag)
        .where(Flag.comment_id == a.comment.id, Flag.state == FlagState.UPHELD)
        .values(state=FlagState.DISMISSED, resolved_at=a.now)
        .execution_options(synchronize_session=False)
    )
    a.comment.held_reason = None
    set_status(a.session, a.comment, CommentStatus.PUBLISHED, now=a.now)


def _pin(a: _Action) -> None:
    comment = a.comment
    if a.status != CommentStatus.PUBLISHED or comment.shadowed:
        raise _conflict("Only published comments can be pinned.")
    if comment.depth != 0:
        raise _conflict("Only top-level comments can be pinned.")
    if comment.pinned:
        raise _conflict("This comment is already pinned.")
    # Bumping the version first takes the article's row lock: two moderators pinning at
    # once count one after the other.
    bump_version(a.session, comment.article_id)
    pinned = (
        a.session.scalar(
            select(func.count())
            .select_from(Comment)
            .where(Comment.article_id == comment.article_id, Comment.pinned.is_(True))
        )
        or 0
    )
    if pinned >= a.max_pinned:
        raise _conflict(
            f"This article already has {pinned} pinned comments (at most "
            f"{a.max_pinned}); unpin one first."
        )
    comment.pinned = True


def _unpin(a: _Action) -> None:
    if not a.comment.pinned:
        raise _conflict("This comment is not pinned.")
    a.comment.pinned = False
    bump_version(a.session, a.comment.article_id)


def _dismiss_flags(a: _Action) -> None:
    if a.comment.flag_count <= 0:
        raise _conflict("This comment has no open flags.")
    _resolve_flags(a.session, a.comment, FlagState.DISMISSED, a.now)
    if a.status == CommentStatus.HIDDEN and a.comment.held_reason == HeldReason.FLAGS:
        a.comment.held_reason = None
        set_status(a.session, a.comment, CommentStatus.PUBLISHED, now=a.now)


HANDLERS: dict[ModerationAction, Callable[[_Action], None]] = {
    ModerationAction.APPROVE: _approve,
    ModerationAction.REMOVE: _remove,
    ModerationAction.RESTORE: _restore,
    ModerationAction.PIN: _pin,
    ModerationAction.UNPIN: _unpin,
    ModerationAction.DISMISS_FLAGS: _dismiss_flags,
}
ACTIONS = tuple(action.value for action in ModerationAction)


def apply_action(
    session: Session,
    *,
    comment: Comment,
    action: str,
    actor_id: str,
    reason: str | None,
    max_pinned: int,
    now: dt.datetime | None = None,
) -> AuditEntry:
    """A moderator's decision on one comment; 409 when it makes no sense in this state."""
    now = now or utcnow()
    if action not in ACTIONS:
        raise RuleError(
            422,
            f"Unknown action {action!r}; use one of: {', '.join(ACTIONS)}.",
            kind="validation-error",
            field="action",
        )
    before = snapshot(comment)
    HANDLERS[ModerationAction(action)](
        _Action(
            session=session, comment=comment, status=comment.status, max_pinned=max_pinned, now=now
        )
    )
    session.flush()
    events.record(
        session,
        events.Event(
            events.COMMENT_MODERATED,
            article_id=comment.article_id,
            comment_id=comment.id,
            actor_id=actor_id,
            data={"action": action, "reason": reason},
        ),
    )
    return record(
        session,
        actor_id=actor_id,
        action=action,
        target_type="comment",
        target_id=str(comment.id),
        reason=reason,
        before=before,
        after=snapshot(comment),
        now=now,
    )
