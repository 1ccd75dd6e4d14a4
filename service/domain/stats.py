"""Engagement and moderation figures for the moderators' dashboard."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

from sqlalchemy import Date, cast, func, select
from sqlalchemy.orm import Session

from ..enums import FlagReason
from ..models import ArticleReaction, AuditEntry, Comment, CommentReaction, Flag, utcnow
from .audit import SYSTEM
from .moderation import queue_sizes

DECISIONS = ("approve", "remove", "dismiss_flags")
ENTRIES = ("hold", "hide")


def _day(session: Session, column: Any) -> Any:
    """The UTC calendar day of a timestamp column, on each database."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def per_day(session: Session, column: Any, since: dt.datetime, *where: Any) -> dict[str, int]:
    day = _day(session, column).label("day")
    rows = session.execute(select(day, func.count()).where(column >= since, *where).group_by(day))
    return {str(d): int(n) for d, n in rows}


def _series(days: int, now: dt.datetime, *counts: dict[str, int]) -> list[dict[str, Any]]:
    out = []
    for i in range(days - 1, -1, -1):
        day = (now - dt.timedelta(days=i)).date().isoformat()
        out.append({"date": day, **{f"v{k}": c.get(day, 0) for k, c in enumerate(counts)}})
    return out


def decision_times(session: Session, since: dt.datetime, limit: int = 10_000) -> list[float]:
    """Seconds from a comment entering the queue (its latest automatic hold or hide, else
    its creation) to a moderator's decision, for decisions since ``since``."""
    decisions = session.execute(
        select(AuditEntry.target_id, AuditEntry.created_at)
        .where(
            AuditEntry.target_type == "comment",
            AuditEntry.action.in_(DECISIONS),
            AuditEntry.actor_id != SYSTEM,
            AuditEntry.created_at >= since,
        )
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    ).all()
    if not decisions:
        return []
    target_ids = sorted({t for t, _ in decisions})
    entries: dict[str, list[dt.datetime]] = {}
    for target, at in session.execute(
        select(AuditEntry.target_id, AuditEntry.created_at).where(
            AuditEntry.target_type == "comment",
            AuditEntry.target_id.in_(target_ids),
            AuditEntry.actor_id == SYSTEM,
            AuditEntry.action.in_(ENTRIES),
        )
    ):
        entries.setdefault(target, []).append(at)
    numeric = [int(t) for t in target_ids if t.isdigit()]
    created = {
        str(i): at
        for i, at in session.execute(
            select(Comment.id, Comment.created_at).where(Comment.id.in_(numeric))
        )
    }
    out = []
    for target, decided_at in decisions:
        earlier = [at for at in entries.get(target, []) if at <= decided_at]
        start = max(earlier) if earlier else created.get(target)
        if start is not None:
            out.append((decided_at - start).total_seconds())
    return out


def moderation_stats(
    session: Session, *, days: int = 30, now: dt.datetime | None = None, top: int = 10
) -> dict[str, Any]:
    now = now or utcnow()
    start_day = (now - dt.timedelta(days=days - 1)).date()
    since = dt.datetime.combine(start_day, dt.time(), tzinfo=dt.timezone.utc)
    comments = per_day(session, Comment.created_at, since)
    reactions = per_day(session, CommentReaction.created_at, since, CommentReaction.counted)
    for day, n in per_day(
        session, ArticleReaction.created_at, since, ArticleReaction.counted
    ).items():
        reactions[day] = reactions.get(day, 0) + n
    series = [
        {"date": row["date"], "comments": row["v0"], "reactions": row["v1"]}
        for row in _series(days, now, comments, reactions)
    ]
    count = func.count().label("n")
    discussed = session.execute(
        select(Comment.article_id, count)
        .where(Comment.created_at >= since)
        .group_by(Comment.article_id)
        .order_by(count.desc(), Comment.article_id)
        .limit(top)
    ).all()
    flags = {reason.value: 0 for reason in FlagReason}
    for reason, n in session.execute(
        select(Flag.reason, func.count()).where(Flag.created_at >= since).group_by(Flag.reason)
    ):
        flags[reason.value] = int(n)
    times = decision_times(session, since)
    return {
        "days": days,
        "since": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "per_day": series,
        "totals": {"comments": sum(comments.values()), "reactions": sum(reactions.values())},
        "most_discussed": [{"article_id": a, "comments": int(c)} for a, c in discussed],
        "flags_by_reason": flags,
        "queue": queue_sizes(session),
        "decisions": len(times),
        "median_seconds_to_decision": statistics.median(times) if times else None,
    }
