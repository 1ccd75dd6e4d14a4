"""One person: their history (for judging a report), an export of everything stored about
them, and erasure."""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy import or_, select

from ..auth import current_caller, require_admin
from ..domain import moderation
from ..extensions import db
from ..http import cursors, decode_cursor, write_limit
from ..models import (
    ArticleReaction,
    AuditEntry,
    Ban,
    Comment,
    CommentReaction,
    CommentRevision,
    Flag,
    utcnow,
)
from ..schemas import load_query, revision_out, timestamp
from .audit import entry_out
from .blueprint import USER_ID, admin_comment_out, bp
from .comments import queue_items
from .schemas import EraseQuerySchema, PageQuerySchema


@bp.get(f"/users/{USER_ID}/comments")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def user_comments(user_id: str) -> dict[str, Any]:
    """Everything this user wrote, in every status, newest first, with the author's record."""
    args = load_query(PageQuerySchema(), request.args)
    scope = f"user-comments:{user_id}"
    after = decode_cursor(args["cursor"], scope, (int,))
    query = select(Comment).where(Comment.author_id == user_id)
    if after is not None:
        query = query.where(Comment.id < after[0])
    rows = list(db.session.scalars(query.order_by(Comment.id.desc()).limit(args["limit"] + 1)))
    next_cursor = None
    if len(rows) > args["limit"]:
        rows = rows[: args["limit"]]
        next_cursor = cursors().encode(scope, [rows[-1].id])
    record = moderation.author_records(db.session(), [user_id]).get(
        user_id, {"comments": 0, "removed": 0}
    )
    ban = db.session.get(Ban, user_id)
    return {
        "user_id": user_id,
        "record": record,
        "ban": moderation.ban_out(ban) if ban else None,
        "items": queue_items(rows),
        "next_cursor": next_cursor,
    }


def _comment_export(c: Comment) -> dict[str, Any]:
    out = admin_comment_out(c)
    out.pop("replies", None)
    out.pop("my_reactions", None)
    out.update({"likes": c.likes, "dislikes": c.dislikes})
    return out


@bp.get(f"/users/{USER_ID}/export")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def export_user(user_id: str) -> dict[str, Any]:
    """Everything stored about this person, as JSON (a data-subject access request)."""
    comments = db.session.scalars(
        select(Comment).where(Comment.author_id == user_id).order_by(Comment.id)
    )
    reactions = db.session.scalars(
        select(CommentReaction)
        .where(CommentReaction.user_id == user_id)
        .order_by(CommentReaction.id)
    )
    article_reactions = db.session.scalars(
        select(ArticleReaction)
        .where(ArticleReaction.user_id == user_id)
        .order_by(ArticleReaction.id)
    )
    flags = db.session.scalars(select(Flag).where(Flag.user_id == user_id).order_by(Flag.id))
    ban = db.session.get(Ban, user_id)
    audit = db.session.scalars(
        select(AuditEntry)
        .where(
            or_(
                (AuditEntry.target_type == "user") & (AuditEntry.target_id == user_id),
                AuditEntry.actor_id == user_id,
            )
        )
        .order_by(AuditEntry.id)
    )
    # the earlier versions of their comments (#18): theirs as much as the comments
    revisions = db.session.scalars(
        select(CommentRevision)
        .join(Comment, Comment.id == CommentRevision.comment_id)
        .where(Comment.author_id == user_id)
        .order_by(CommentRevision.id)
    )
    return {
        "user_id": user_id,
        "exported_at": timestamp(utcnow()),
        "comments": [_comment_export(c) for c in comments],
        "comment_revisions": [{"comment_id": r.comment_id, **revision_out(r)} for r in revisions],
        "comment_reactions": [
            {"comment_id": r.comment_id, "kind": r.kind, "created_at": timestamp(r.created_at)}
            for r in reactions
        ],
        "article_reactions": [
            {"article_id": r.article_id, "kind": r.kind, "created_at": timestamp(r.created_at)}
            for r in article_reactions
        ],
        "flags": [
            {
                "comment_id": f.comment_id,
                "reason": f.reason.value,
                "note": f.note,
                "state": f.state.value,
                "created_at": timestamp(f.created_at),
                "resolved_at": timestamp(f.resolved_at),
            }
            for f in flags
        ],
        "bans": [
            {
                "user_id": ban.user_id,
                "reason": ban.reason,
                "shadow": ban.shadow,
                "expires_at": timestamp(ban.expires_at),
                "created_by": ban.created_by,
                "created_at": timestamp(ban.created_at),
            }
        ]
        if ban
        else [],
        "audit_log": [entry_out(e) for e in audit],
    }


@bp.delete(f"/users/{USER_ID}")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def erase_user(user_id: str) -> dict[str, Any]:
    """Erase this person: comments become anonymous tombstones (when others replied) or
    disappear, reactions and flags go with every counter corrected. Audited; 200 with what
    was erased. Admins only: it cannot be undone."""
    require_admin()
    reason = load_query(EraseQuerySchema(), request.args)["reason"]
    summary = moderation.erase_user(
        db.session(),
        user_id=user_id,
        actor_id=current_caller().user_id or "",
        reason=reason or None,
    )
    db.session.commit()
    return {"user_id": user_id, "erased": summary}
