"""Visible edit history: every edit keeps the version it replaces.

A price target edited after the move should show that it was edited, and from what. The
history follows the comment: public while the comment is, the author's alone while only
they can see it; a moderator's removal hides it from everyone but moderators (a restore
brings it back), and an author's delete or an erasure deletes it with the text.
"""

from __future__ import annotations

from typing import Sequence, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from ..enums import CommentStatus
from ..models import Article, Comment, CommentRevision
from . import tickers
from .errors import RuleError
from .threads import Viewer, article_visible, comment_visible

_REVISIONS = cast(Table, CommentRevision.__table__)


def keep(session: Session, *, comment: Comment) -> None:
    """Keep the comment's current version before an edit replaces it, and count it
    (``UPDATE ... SET revision_count = revision_count + 1``)."""
    session.execute(
        insert(_REVISIONS).values(
            comment_id=comment.id,
            body=comment.body,
            body_html=comment.body_html,
            disclosure=comment.disclosure,
            created_at=comment.edited_at or comment.created_at,
        )
    )
    session.execute(
        update(Comment)
        .where(Comment.id == comment.id)
        .values(revision_count=Comment.revision_count + 1)
        .execution_options(synchronize_session=False)
    )
    session.expire(comment, ["revision_count"])


def forget(session: Session, comments: Sequence[Comment]) -> None:
    """The text is gone (an author's delete, an erasure): so are its earlier versions, its
    cashtags and its disclosure."""
    ids = [c.id for c in comments]
    if not ids:
        return
    session.execute(delete(_REVISIONS).where(_REVISIONS.c.comment_id.in_(ids)))
    tickers.forget(session, ids)
    for comment in comments:
        comment.tickers = None
        comment.disclosure = None
        comment.revision_count = 0


def history(
    session: Session, *, comment: Comment, viewer: Viewer, article: Article | None
) -> list[CommentRevision]:
    """The versions before the current one, oldest first, as ``viewer`` may see them:
    404 (RuleError) when they may not see the comment; nothing for a tombstone, except
    to moderators (a removed comment's history stays for them)."""
    if not viewer.is_moderator and (
        not comment_visible(comment, viewer) or not article_visible(article, viewer)
    ):
        raise RuleError(404, "There is no such comment.", kind="not-found")
    if comment.status == CommentStatus.REMOVED and not viewer.is_moderator:
        return []
    if comment.status == CommentStatus.DELETED:
        return []
    return list(
        session.scalars(
            select(CommentRevision)
            .where(CommentRevision.comment_id == comment.id)
            .order_by(CommentRevision.id)
        )
    )


__all__ = ["forget", "history", "keep"]
