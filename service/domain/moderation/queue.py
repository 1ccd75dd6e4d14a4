"""The moderation queue: which comments wait, in which order, with their context."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, func, literal, null, or_, select, text
from sqlalchemy.orm import Session

from ...enums import (
    TOMBSTONE_STATUSES,
    CommentStatus,
    FlagReason,
    FlagState,
)
from ...models import (
    QUEUE_PREDICATE,
    Comment,
    Flag,
)
from ..threads import after_key, order_by

NOTES_PER_COMMENT = 3

# The moderators' queue page asks for the same context of every page (issue #14 item 4):
# statements built once with expanding bind parameters, as the thread's hot path does, since
# building and keying a windowed statement per request cost more than running it.
_OPEN_COUNTED = (
    Flag.comment_id.in_(bindparam("ids", expanding=True)),
    Flag.state == FlagState.OPEN,
    Flag.weight > 0,
)
_NOTE_RANK = (
    func.row_number()
    .over(partition_by=Flag.comment_id, order_by=(Flag.created_at.desc(), Flag.id.desc()))
    .label("rank")
)
_NOTED = (
    select(Flag.comment_id, Flag.reason, Flag.note, Flag.created_at, _NOTE_RANK)
    .where(*_OPEN_COUNTED, Flag.note.is_not(None), Flag.note != "")
    .subquery()
)
# One statement for both: (comment, reason, count, None, None) rows per reason, then
# (comment, reason, None, note, created_at) rows for the newest notes.
_FLAG_CONTEXT = (
    select(
        Flag.comment_id,
        Flag.reason,
        func.count().label("n"),
        literal(None, Flag.note.type).label("note"),
        literal(None, Flag.created_at.type).label("created_at"),
        literal(0).label("rank"),
    )
    .where(*_OPEN_COUNTED)
    .group_by(Flag.comment_id, Flag.reason)
    .union_all(
        select(
            _NOTED.c.comment_id,
            _NOTED.c.reason,
            null(),
            _NOTED.c.note,
            _NOTED.c.created_at,
            _NOTED.c.rank,
        ).where(_NOTED.c.rank <= bindparam("per_comment"))
    )
)
_FLAG_CONTEXT_ORDERED = select(_FLAG_CONTEXT.subquery()).order_by(text("comment_id"), text("rank"))


def flag_context(
    session: Session, comment_ids: list[int], *, per_comment: int = NOTES_PER_COMMENT
) -> tuple[dict[int, dict[str, int]], dict[int, list[dict[str, Any]]]]:
    """For many comments, in one query: their open, counted flags per reason, and the
    newest reporters' notes on them (a shadow-banned flagger's note counts no more than
    their flag), newest first, at most ``per_comment`` each."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    notes: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not comment_ids:
        return counts, notes
    rows = session.execute(
        _FLAG_CONTEXT_ORDERED, {"ids": list(comment_ids), "per_comment": per_comment}
    )
    for comment_id, reason, n, note, created_at, _rank in rows:
        reason = FlagReason(reason)
        if n is not None:
            counts[comment_id][reason.value] = int(n)
        else:
            notes[comment_id].append(
                {"reason": reason.value, "note": note, "created_at": created_at}
            )
    return counts, notes


_AUTHOR_RECORDS = (
    select(
        Comment.author_id,
        func.count(),
        func.sum(case((Comment.status == CommentStatus.REMOVED, 1), else_=0)),
    )
    .where(Comment.author_id.in_(bindparam("user_ids", expanding=True)))
    .group_by(Comment.author_id)
)


def author_records(session: Session, user_ids: list[str]) -> dict[str, dict[str, int]]:
    """{"comments": n, "removed": m} per author, in one query."""
    out: dict[str, dict[str, int]] = {}
    if not user_ids:
        return out
    for author_id, total, removed_n in session.execute(
        _AUTHOR_RECORDS, {"user_ids": list(user_ids)}
    ):
        out[author_id] = {"comments": int(total), "removed": int(removed_n or 0)}
    return out


QUEUE_STATES = ("flagged", "pending", "hidden", "all")
# Most-flagged first (by weight, then by count), then the longest waiting.
QUEUE_KEYS = ((Comment.flag_weight, True), (Comment.flag_count, True), (Comment.id, False))


def queue_condition(state: str) -> Any:
    """The comments of one queue state. Every state starts with the partial index's own
    predicate, as literal SQL: planners use ix_comments_queue only when the query visibly
    implies it (a bound ``flag_count > ?`` does not)."""
    flagged = and_(Comment.flag_count > 0, Comment.status.not_in(TOMBSTONE_STATUSES))
    pending = Comment.status == CommentStatus.PENDING
    hidden = Comment.status == CommentStatus.HIDDEN
    state_condition = {
        "flagged": flagged,
        "pending": pending,
        "hidden": hidden,
        "all": or_(flagged, pending, hidden),
    }[state]
    return and_(text(f"({QUEUE_PREDICATE})"), state_condition)


def queue_page(
    session: Session,
    *,
    state: str,
    article_id: str | None,
    limit: int,
    after: list[Any] | None,
) -> list[Comment]:
    """One page of comments needing a decision (``limit + 1`` rows: the extra one says there
    is a next page)."""
    return list(
        session.scalars(queue_query(state=state, article_id=article_id, limit=limit, after=after))
    )


def queue_query(
    *, state: str, article_id: str | None, limit: int, after: list[Any] | None
) -> Select[Any]:
    """The SELECT behind ``queue_page`` (every state reads ix_comments_queue)."""
    query = select(Comment).where(queue_condition(state))
    if article_id is not None:
        query = query.where(Comment.article_id == article_id)
    if after is not None:
        query = query.where(after_key(QUEUE_KEYS, after))
    return query.order_by(*order_by(QUEUE_KEYS)).limit(limit + 1)


def queue_key(comment: Comment) -> list[Any]:
    return [float(comment.flag_weight), int(comment.flag_count), int(comment.id)]


def queue_sizes(session: Session) -> dict[str, int]:
    return {
        state: int(
            session.scalar(select(func.count()).select_from(Comment).where(queue_condition(state)))
            or 0
        )
        for state in QUEUE_STATES
    }
