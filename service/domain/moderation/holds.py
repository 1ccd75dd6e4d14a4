"""Holding a comment for a moderator, and what the audit log records of a comment."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from ...enums import (
    CommentStatus,
)
from ...models import (
    Comment,
)
from ..audit import SYSTEM, record
from ..comments import (
    set_status,
)


def snapshot(comment: Comment) -> dict[str, Any]:
    """What the audit log keeps of a comment's state (never its text)."""
    return {
        "status": comment.status.value,
        "pinned": comment.pinned,
        "held_reason": comment.held_reason,
        "flag_count": comment.flag_count,
    }


def audit_hold(session: Session, *, comment: Comment, now: dt.datetime | None = None) -> None:
    """Record that a new comment was held for a moderator (premoderation or a rule)."""
    record(
        session,
        actor_id=SYSTEM,
        action="hold",
        target_type="comment",
        target_id=str(comment.id),
        reason=comment.held_reason,
        before=None,
        after=snapshot(comment),
        now=now,
    )


def hold_edited(
    session: Session, *, comment: Comment, reason: str, now: dt.datetime | None = None
) -> bool:
    """An edit that trips an automatic rule sends a published comment back to the queue."""
    if comment.status != CommentStatus.PUBLISHED:
        return False
    before = snapshot(comment)
    comment.held_reason = reason
    set_status(session, comment, CommentStatus.PENDING, now=now)
    record(
        session,
        actor_id=SYSTEM,
        action="hold",
        target_type="comment",
        target_id=str(comment.id),
        reason=f"{reason} (after an edit)",
        before=before,
        after=snapshot(comment),
        now=now,
    )
    return True
