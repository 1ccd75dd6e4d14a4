"""The moderation queue and moderators' actions on comments."""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy import bindparam, func, select

from ..auth import current_caller
from ..domain import moderation, spam
from ..domain.threads import reactions_for
from ..enums import TOMBSTONE_STATUSES
from ..extensions import db
from ..http import MAX_ID, cursors, decode_cursor, json_body, settings, write_limit
from ..models import Comment
from ..problems import Problem
from ..schemas import load_query, timestamp
from .blueprint import admin_comment_out, bp
from .schemas import ActionSchema, QueueQuerySchema

EXCERPT = 160


def excerpt(comment: Any) -> dict[str, Any] | None:
    """A parent's id, status and the start of its text (a Comment, or a row of those)."""
    if comment is None:
        return None
    text = None if comment.status in TOMBSTONE_STATUSES else comment.body
    if text is not None and len(text) > EXCERPT:
        text = text[: EXCERPT - 1].rstrip() + "…"
    return {"id": comment.id, "status": comment.status.value, "excerpt": text}


# A parent's excerpt needs three columns, read as rows (not entities), with a statement
# built once (the queue's speed: docs/performance.md).
_PARENTS = select(Comment.id, Comment.status, Comment.body).where(
    Comment.id.in_(bindparam("ids", expanding=True))
)
QUEUE_QUERY = QueueQuerySchema()  # no per-request state: one instance


def queue_items(comments: list[Comment]) -> list[dict[str, Any]]:
    """Queue entries for a page of comments, in a fixed number of queries."""
    ids = [c.id for c in comments]
    flags, notes = moderation.flag_context(db.session(), ids)
    records = moderation.author_records(
        db.session(), sorted({c.author_id for c in comments if c.author_id})
    )
    parent_ids = sorted({c.parent_id for c in comments if c.parent_id})
    parents = (
        {p.id: p for p in db.session.execute(_PARENTS, {"ids": parent_ids})} if parent_ids else {}
    )
    counts, _ = reactions_for(db.session(), ids, None)
    spam_scores = spam.scores_for(db.session(), ids)
    items = []
    for comment in comments:
        item = admin_comment_out(comment, reactions=counts)
        item["flags"] = flags.get(comment.id, {})
        score = spam_scores.get(comment.id)
        item["spam_score"] = None if score is None else round(score, 3)
        item["notes"] = [
            {**n, "created_at": timestamp(n["created_at"])} for n in notes.get(comment.id, [])
        ]
        item["parent"] = excerpt(parents.get(comment.parent_id)) if comment.parent_id else None
        item["author_record"] = records.get(comment.author_id) if comment.author_id else None
        items.append(item)
    return items


@bp.get("/queue")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def queue() -> dict[str, Any]:
    """Comments needing a decision, most-flagged first: flagged (open flags), pending (held
    by premoderation or a rule), hidden (by flags), or all of them."""
    args = load_query(QUEUE_QUERY, request.args)
    scope = f"queue:{args['state']}:{args['article_id'] or ''}"
    after = decode_cursor(args["cursor"], scope, ((int, float), int, int))
    rows = moderation.queue_page(
        db.session(),
        state=args["state"],
        article_id=args["article_id"],
        limit=args["limit"],
        after=after,
    )
    next_cursor = None
    if len(rows) > args["limit"]:
        rows = rows[: args["limit"]]
        next_cursor = cursors().encode(scope, moderation.queue_key(rows[-1]))
    total_query = (
        select(func.count()).select_from(Comment).where(moderation.queue_condition(args["state"]))
    )
    if args["article_id"]:
        total_query = total_query.where(Comment.article_id == args["article_id"])
    return {
        "items": queue_items(rows),
        "next_cursor": next_cursor,
        "total": db.session.scalar(total_query) or 0,
    }


@bp.get(f"/comments/<int(max={MAX_ID}):comment_id>")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def get_comment(comment_id: int) -> dict[str, Any]:
    """One comment in any status, as moderators see it (the queue's shape): what an audit
    entry or a link names, even when readers no longer see it."""
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise Problem(404, "There is no such comment.", type_="not-found")
    return queue_items([comment])[0]


@bp.post(f"/comments/<int(max={MAX_ID}):comment_id>/actions")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def act(comment_id: int) -> dict[str, Any]:
    """approve | remove | restore | pin | unpin | dismiss_flags, audited with before → after;
    answers with the comment after the action."""
    data = json_body(ActionSchema())
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise Problem(404, "There is no such comment.", type_="not-found")
    caller = current_caller()
    moderation.apply_action(
        db.session(),
        comment=comment,
        action=data["action"],
        actor_id=caller.user_id or "",
        reason=data["reason"],
        max_pinned=settings().max_pinned,
    )
    db.session.commit()
    db.session.refresh(comment)
    return queue_items([comment])[0]
