"""Erasing a user: their comments, reactions and flags, and what notifications keep of them
(the right to erasure)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ...enums import (
    TOMBSTONE_STATUSES,
    CommentStatus,
    FlagState,
)
from ...models import (
    Ban,
    Comment,
    Flag,
    IdempotencyKey,
    utcnow,
)
from .. import events, revisions
from ..audit import record
from ..comments import (
    bump_version,
    set_status,
)
from ..reactions import withdraw_all
from ..readers import erase_reader


def erase_user(
    session: Session,
    *,
    user_id: str,
    actor_id: str,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, int]:
    """Erase a person: their reactions and flags go (counters corrected), their comments
    become anonymous tombstones when others replied to them and disappear otherwise, their
    ban goes. The audit log keeps that it happened, with counts only."""
    now = now or utcnow()
    touched_articles: set[str] = set()

    withdrawn, comment_reactions, article_reactions = withdraw_all(session, user_id=user_id)
    touched_articles.update(withdrawn)

    # Flags they raised: open ones stop weighing on the comment.
    flags = session.execute(
        select(Flag.comment_id, Flag.weight, Flag.state).where(Flag.user_id == user_id)
    ).all()
    for comment_id, weight, state in flags:
        if state == FlagState.OPEN and weight > 0:
            session.execute(
                update(Comment)
                .where(Comment.id == comment_id)
                .values(flag_count=Comment.flag_count - 1, flag_weight=Comment.flag_weight - weight)
                .execution_options(synchronize_session=False)
            )
    session.execute(delete(Flag).where(Flag.user_id == user_id))
    session.expire_all()

    # Their comments, deepest and newest first, so a chain of their own replies can go whole.
    comments = list(
        session.scalars(
            select(Comment)
            .where(Comment.author_id == user_id)
            .order_by(Comment.depth.desc(), Comment.id.desc())
        )
    )
    # Their edit history, cashtags and disclosures go with their words.
    revisions.forget(session, comments)
    removed_rows = tombstones = 0
    for comment in comments:
        touched_articles.add(comment.article_id)
        if comment.status not in TOMBSTONE_STATUSES:
            set_status(session, comment, CommentStatus.DELETED, now=now)
        has_children = session.scalar(
            select(func.count()).select_from(Comment).where(Comment.parent_id == comment.id)
        )
        if has_children:
            comment.body = comment.body_html = comment.body_fingerprint = None
            comment.author_id = comment.author_name = comment.edit_token_hash = None
            comment.held_reason = None
            tombstones += 1
        else:
            session.delete(comment)
            removed_rows += 1
        session.flush()

    # Their Idempotency-Keys name them (caller "user:<id>") and point at their comments.
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.caller == f"user:{user_id}"))
    # Notifications (theirs; others' about their comments went with those comments), the
    # threads they follow, mutes by and of them, their settings and any stored address.
    reader = erase_reader(session, user_id=user_id)
    had_ban = session.get(Ban, user_id)
    if had_ban is not None:
        session.delete(had_ban)
    for article_id in touched_articles:
        bump_version(session, article_id)
    summary = {
        "comments_deleted": removed_rows,
        "comments_tombstoned": tombstones,
        "comment_reactions": comment_reactions,
        "article_reactions": article_reactions,
        "flags": len(flags),
        "bans": int(had_ban is not None),
        **reader,
    }
    session.flush()
    events.record(session, events.Event(events.USER_ERASED, user_id=user_id, actor_id=actor_id))
    record(
        session,
        actor_id=actor_id,
        action="erase_user",
        target_type="user",
        target_id=user_id,
        reason=reason,
        before=None,
        after=summary,
        now=now,
    )
    return summary
