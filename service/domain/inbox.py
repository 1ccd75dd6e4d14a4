"""A reader's notifications: the unread count, the newest-first listing, marking read.

A listing is one keyset query on (user_id, id) joined to the comments for the excerpt and
the actor's name, read there rather than copied into the notification: an edit shows, and
what its author deleted is gone from every inbox too.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from typing import Any, Sequence
from urllib.parse import quote

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..enums import TOMBSTONE_STATUSES, CommentStatus, ModerationOutcome, NotificationKind
from ..models import Comment, Notification, utcnow

EXCERPT_LENGTH = 200
MAX_IDS = 100  # ids one POST /me/notifications/read may name

_BLOCK_TAG = re.compile(
    r"</?(?:p|br|hr|li|ul|ol|blockquote|pre|table|thead|tbody|tr|th|td)\b[^>]*>", re.IGNORECASE
)
_TAG = re.compile(r"<[^>]*>")


def permalink(template: str | None, article_id: str, comment_id: int) -> str | None:
    """COMMENTS_PERMALINK_TEMPLATE filled in (None when it is not set)."""
    if not template:
        return None
    return template.replace("{article_id}", quote(article_id, safe="")).replace(
        "{comment_id}", str(comment_id)
    )


def excerpt(body_html: str | None, length: int = EXCERPT_LENGTH) -> str | None:
    """The first ``length`` characters of a comment's text (from its sanitised HTML: no
    Markdown syntax, entities decoded, whitespace collapsed); an ellipsis ends a cut."""
    if body_html is None:
        return None
    text = " ".join(html.unescape(_TAG.sub("", _BLOCK_TAG.sub(" ", body_html))).split())
    if len(text) > length:
        text = text[: length - 1].rstrip() + "\u2026"
    return text


@dataclass(frozen=True)
class Actor:
    id: str | None  # None for a guest
    name: str


@dataclass(frozen=True)
class Item:
    id: int
    kind: NotificationKind
    created_at: dt.datetime
    read: bool
    article_id: str
    comment_id: int
    actor: Actor | None
    excerpt: str | None
    outcome: ModerationOutcome | None


def _item(r: Any) -> Item:
    """An Item from a row of _COLUMNS."""
    kind = NotificationKind(r.kind)
    status = CommentStatus(r.status)
    own = kind == NotificationKind.MODERATION
    # The author sees their own words whatever became of them; others see a comment's
    # text and author only while it is published.
    shown = own or (status == CommentStatus.PUBLISHED and not r.shadowed)
    actor = None
    if not own and shown and status not in TOMBSTONE_STATUSES and r.author_name:
        actor = Actor(r.author_id, r.author_name)
    return Item(
        id=r.id,
        kind=kind,
        created_at=r.created_at,
        read=r.read_at is not None,
        article_id=r.article_id,
        comment_id=r.comment_id,
        actor=actor,
        excerpt=excerpt(r.body_html) if shown else None,
        outcome=ModerationOutcome(r.outcome) if r.outcome else None,
    )


_COLUMNS = (
    Notification.id,
    Notification.kind,
    Notification.created_at,
    Notification.read_at,
    Notification.article_id,
    Notification.comment_id,
    Notification.outcome,
    Comment.author_id,
    Comment.author_name,
    Comment.status,
    Comment.shadowed,
    Comment.body_html,
)


def list_notifications(
    session: Session,
    *,
    user_id: str,
    limit: int,
    before_id: int | None = None,
    unread_only: bool = False,
) -> list[Item]:
    """Up to ``limit + 1`` notifications, newest first, older than ``before_id`` when
    given (the caller pages with the extra one)."""
    query = (
        select(*_COLUMNS)
        .join(Comment, Comment.id == Notification.comment_id)
        .where(Notification.user_id == user_id)
    )
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    rows = session.execute(query.order_by(Notification.id.desc()).limit(limit + 1))
    return [_item(row) for row in rows]


def unread_count(session: Session, user_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(
    session: Session,
    *,
    user_id: str,
    up_to: int | None = None,
    ids: Sequence[int] | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Mark the reader's notifications up to and including ``up_to``, or those in ``ids``,
    read (others' ids are ignored); returns how many are still unread."""
    if (up_to is None) == (ids is None):
        raise ValueError("give up_to or ids")
    condition = Notification.id <= up_to if up_to is not None else Notification.id.in_(ids or [])
    session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None), condition)
        .values(read_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return unread_count(session, user_id)


__all__ = [
    "EXCERPT_LENGTH",
    "MAX_IDS",
    "Actor",
    "Item",
    "excerpt",
    "list_notifications",
    "mark_read",
    "permalink",
    "unread_count",
]
