"""Which comments name which securities, and how often: the ticker endpoints' data.

Each comment's cashtags are rows of comment_tickers (written with the comment, rewritten
when its body is edited, deleted with its text). Counts are *computed* by indexed queries
that join each mention to its comment and article, never kept as counters: a comment that
is held, hidden, removed, deleted or shadow-banned, or whose article is hidden, stops
counting the moment its row says so, with nothing else to keep in step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Sequence, cast

from sqlalchemy import ColumnElement, Table, and_, case, delete, false, func, insert, select
from sqlalchemy.orm import Session

from ..enums import TOMBSTONE_STATUSES, ArticleStatus, CommentStatus
from ..models import Article, Comment, CommentTicker
from .threads import Viewer, visible_to

WINDOWS: dict[str, dt.timedelta] = {
    "1h": dt.timedelta(hours=1),
    "24h": dt.timedelta(hours=24),
    "7d": dt.timedelta(days=7),
}
_TICKERS = cast(Table, CommentTicker.__table__)


def store(
    session: Session,
    *,
    comment_id: int,
    symbols: Sequence[str],
    created_at: dt.datetime,
    replace: bool = False,
) -> None:
    """Index a comment's cashtags (``replace``: its body changed, forget the old ones)."""
    if replace:
        forget(session, [comment_id])
    if symbols:
        session.execute(
            insert(_TICKERS),
            [{"comment_id": comment_id, "symbol": s, "created_at": created_at} for s in symbols],
        )


def forget(session: Session, comment_ids: Sequence[int]) -> None:
    if comment_ids:
        session.execute(delete(_TICKERS).where(_TICKERS.c.comment_id.in_(list(comment_ids))))


def _public() -> ColumnElement[bool]:
    """A mention anyone may count: a published, unshadowed comment in a visible article.
    The status is wrapped (coalesce) so that no planner drives the query from the status
    index, through every published comment, instead of from the mentions' indexes."""
    return and_(
        func.coalesce(Comment.status, "") == CommentStatus.PUBLISHED.value,
        Comment.shadowed == false(),
        Article.status != ArticleStatus.HIDDEN,
    )


def _counted(since: dt.datetime) -> Any:
    return func.coalesce(func.sum(case((CommentTicker.created_at >= since, 1), else_=0)), 0)


@dataclass(frozen=True)
class Trend:
    symbol: str
    comments: int  # public comments naming it in the window
    previous: int  # the same, in the window before


def trending(
    session: Session, *, window: dt.timedelta, now: dt.datetime, limit: int
) -> list[Trend]:
    """The most-mentioned symbols of the last ``window`` (most first, then by symbol), with
    their count in the window before it: one grouped query over the two windows' mentions
    (index ix_comment_tickers_created_at_symbol)."""
    start = now - window
    current = _counted(start)
    before = func.coalesce(func.sum(case((CommentTicker.created_at < start, 1), else_=0)), 0)
    query = (
        select(CommentTicker.symbol, current.label("comments"), before.label("previous"))
        .join(Comment, Comment.id == CommentTicker.comment_id)
        .join(Article, Article.id == Comment.article_id)
        .where(
            CommentTicker.created_at >= now - 2 * window,
            CommentTicker.created_at <= now,
            _public(),
        )
        .group_by(CommentTicker.symbol)
        .having(current > 0)
        .order_by(current.desc(), CommentTicker.symbol)
        .limit(limit)
    )
    return [Trend(row[0], int(row[1]), int(row[2])) for row in session.execute(query)]


@dataclass(frozen=True)
class Summary:
    symbol: str
    comments: dict[str, int]  # per window name ("1h", "24h", "7d")
    likes: int  # on every public comment naming it, whenever posted
    dislikes: int


def summary(session: Session, *, symbol: str, now: dt.datetime) -> Summary:
    """Public comments naming ``symbol`` in each window, and the likes and dislikes of all
    of them: one query over the symbol's mentions (unique index on symbol, comment_id)."""
    windows = [_counted(now - length).label(name) for name, length in WINDOWS.items()]
    row = session.execute(
        select(
            *windows,
            func.coalesce(func.sum(Comment.likes), 0),
            func.coalesce(func.sum(Comment.dislikes), 0),
        )
        .select_from(CommentTicker)
        .join(Comment, Comment.id == CommentTicker.comment_id)
        .join(Article, Article.id == Comment.article_id)
        .where(CommentTicker.symbol == symbol, CommentTicker.created_at <= now, _public())
    ).one()
    counts = {name: int(row[i]) for i, name in enumerate(WINDOWS)}
    return Summary(symbol, counts, int(row[len(WINDOWS)]), int(row[len(WINDOWS) + 1]))


def comments(
    session: Session, *, symbol: str, viewer: Viewer, limit: int, after_id: int | None
) -> list[Comment]:
    """Comments naming ``symbol``, newest first, ``limit + 1`` of them (the extra one says
    there is a next page): what the viewer may see in a thread (an author also sees their
    own held comments), never tombstones nor comments of hidden articles."""
    query = (
        select(Comment)
        .join(CommentTicker, CommentTicker.comment_id == Comment.id)
        .join(Article, Article.id == Comment.article_id)
        .where(
            CommentTicker.symbol == symbol,
            visible_to(viewer),
            Comment.status.not_in(TOMBSTONE_STATUSES),
            Article.status != ArticleStatus.HIDDEN,
        )
    )
    if after_id is not None:
        query = query.where(CommentTicker.comment_id < after_id)
    query = query.order_by(CommentTicker.comment_id.desc()).limit(limit + 1)
    return list(session.scalars(query))


__all__ = ["WINDOWS", "Summary", "Trend", "comments", "forget", "store", "summary", "trending"]
