"""Backups and repairs: export, import and recount, free of Flask.

Export format (JSON Lines, one object per line, in this order so that every row's parent
comes before it):
    {"type": "meta", "format": "comments-service-export", "version": 1}
    {"type": "article", "data": {...every column...}}
    {"type": "comment", "data": {...}}            parents before replies (id order)
    {"type": "comment_reaction", "data": {...}}
    {"type": "article_reaction", "data": {...}}
    {"type": "flag", "data": {...}}
    {"type": "comment_ticker", "data": {...}}     a comment's cashtags (docs/markets.md)
    {"type": "comment_revision", "data": {...}}   a comment's earlier versions
Datetimes are ISO 8601 in UTC, statuses their enum values. The reaction count tables are
not exported: they follow from the reactions, and import rebuilds them with ``recount``.

Import keeps ids (so replies stay attached and cursors stay valid) and skips rows that are
already there, so running it twice changes nothing. A row whose id is taken by a
*different* row (another installation's data) stops the import before anything is saved.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Sequence, cast

from sqlalchemy import Table, bindparam, delete, func, select, text, update
from sqlalchemy.orm import Session

from ..enums import FlagState
from ..models import (
    Article,
    ArticleReaction,
    ArticleReactionCount,
    Comment,
    CommentReaction,
    CommentReactionCount,
    CommentRevision,
    CommentTicker,
    Flag,
    UTCDateTime,
)
from . import ranking
from .reactions import SCORE_KINDS, _insert
from .threads import ancestor_ids, is_counted

EXPORT_FORMAT = "comments-service-export"
EXPORT_VERSION = 1
BATCH = 500

# (record type, model, columns that identify the same row across installations)
RECORDS: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("article", Article, ()),
    ("comment", Comment, ("article_id", "created_at")),
    ("comment_reaction", CommentReaction, ("comment_id", "user_id", "kind")),
    ("article_reaction", ArticleReaction, ("article_id", "user_id", "kind")),
    ("flag", Flag, ("comment_id", "user_id")),
    ("comment_ticker", CommentTicker, ("comment_id", "symbol")),
    ("comment_revision", CommentRevision, ("comment_id", "created_at")),
)
_BY_TYPE = {name: (model, identity) for name, model, identity in RECORDS}


class DataError(ValueError):
    """An export file that cannot be imported as it is; nothing was saved."""


# --- export -------------------------------------------------------------------------------


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _scoped(model: Any, article_id: str | None) -> Any:
    query = select(model.__table__).order_by(*model.__table__.primary_key.columns)
    if article_id is None:
        return query
    if model in (Article,):
        return query.where(Article.id == article_id)
    if model in (Comment, ArticleReaction):
        return query.where(model.article_id == article_id)
    comment_ids = select(Comment.id).where(Comment.article_id == article_id)
    return query.where(model.comment_id.in_(comment_ids))


def export_records(session: Session, *, article_id: str | None = None) -> Iterator[dict[str, Any]]:
    """Every stored article, comment, reaction and flag (or one article's), streamed."""
    yield {"type": "meta", "format": EXPORT_FORMAT, "version": EXPORT_VERSION}
    for name, model, _identity in RECORDS:
        result = session.execute(_scoped(model, article_id).execution_options(yield_per=BATCH))
        for row in result.mappings():
            yield {"type": name, "data": {k: _json_value(v) for k, v in row.items()}}


# --- import -------------------------------------------------------------------------------


@dataclass
class ImportReport:
    added: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    articles: set[str] = field(default_factory=set)


def _parse_row(name: str, table: Table, data: Any, line: int) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise DataError(f"line {line}: {name} record without a data object")
    unknown = sorted(set(data) - set(table.columns.keys()))
    if unknown:
        raise DataError(f"line {line}: {name} has unknown fields: {', '.join(unknown)}")
    row: dict[str, Any] = {}
    for column in table.columns:
        if column.key not in data:
            if (
                not column.nullable
                and column.server_default is None
                and not (column.primary_key and column.autoincrement is True)
            ):
                raise DataError(f"line {line}: {name} lacks {column.key}")
            continue
        value = data[column.key]
        if value is not None and isinstance(column.type, UTCDateTime):
            try:
                value = dt.datetime.fromisoformat(value)
            except (TypeError, ValueError):
                raise DataError(f"line {line}: {name}.{column.key} is not a datetime") from None
            if value.tzinfo is None:
                raise DataError(f"line {line}: {name}.{column.key} has no time zone")
        row[column.key] = value
    if "id" in table.columns and row.get("id") is None:
        raise DataError(f"line {line}: {name} lacks its id")
    return row


def _flush_batch(
    session: Session, name: str, rows: list[dict[str, Any]], report: ImportReport
) -> None:
    model, identity = _BY_TYPE[name]
    table: Table = model.__table__
    key = next(iter(table.primary_key.columns))  # articles.id or the integer id
    ids = [row[key.key] for row in rows]
    existing = {
        row[0]: row[1:]
        for row in session.execute(select(key, *(table.c[c] for c in identity)).where(key.in_(ids)))
    }
    fresh = []
    for row in rows:
        stored = existing.get(row[key.key])
        if stored is None:
            fresh.append(row)
            continue
        if tuple(stored) != tuple(row.get(c) for c in identity):
            raise DataError(
                f"{name} {row[key.key]} exists here as a different {name}; "
                "this export comes from another installation"
            )
        report.skipped[name] += 1
    if fresh:
        # ON CONFLICT DO NOTHING: a reaction or flag may exist under another id (the same
        # user's same reaction); that one is kept.
        session.execute(_insert(session, model).on_conflict_do_nothing(), fresh)
        report.added[name] += len(fresh)
    for row in rows:
        if name == "article":
            report.articles.add(row["id"])
        elif "article_id" in row:
            report.articles.add(row["article_id"])


def import_records(session: Session, records: Iterable[tuple[int, dict[str, Any]]]) -> ImportReport:
    """Insert (line number, record) pairs from an export; flushes, never commits."""
    report = ImportReport()
    order = [name for name, _m, _i in RECORDS]
    batch: list[dict[str, Any]] = []
    current: str | None = None
    seen_meta = False
    for line, record in records:
        if not isinstance(record, dict) or "type" not in record:
            raise DataError(f"line {line}: not an export record")
        kind = record["type"]
        if kind == "meta":
            if record.get("format") != EXPORT_FORMAT or record.get("version") != EXPORT_VERSION:
                raise DataError(f"line {line}: not a {EXPORT_FORMAT} v{EXPORT_VERSION} file")
            seen_meta = True
            continue
        if not seen_meta:
            raise DataError(f"line {line}: the file must start with the meta record")
        if kind not in _BY_TYPE:
            raise DataError(f"line {line}: unknown record type {kind!r}")
        if current is not None and order.index(kind) < order.index(current):
            raise DataError(f"line {line}: {kind} after {current}; keep the export's order")
        if kind != current or len(batch) >= BATCH:
            if batch and current is not None:
                _flush_batch(session, current, batch, report)
            batch, current = [], kind
        batch.append(_parse_row(kind, _BY_TYPE[kind][0].__table__, record.get("data"), line))
    if batch and current is not None:
        _flush_batch(session, current, batch, report)
    if not seen_meta:
        raise DataError("empty file: no meta record")
    fix_sequences(session)
    session.flush()
    return report


def fix_sequences(session: Session) -> None:
    """After inserting explicit ids, move PostgreSQL's sequences past them (SQLite's
    AUTOINCREMENT follows the largest id by itself)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for _name, model, _identity in RECORDS:
        table = model.__table__.name
        if model is Article:
            continue
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )
        )


# --- recount ------------------------------------------------------------------------------

COUNTERS = (
    "articles.comment_count",
    "articles.reaction_count",
    "article_reaction_counts.count",
    "comments.reply_count",
    "comments.likes",
    "comments.dislikes",
    "comments.score",
    "comments.best",
    "comments.controversy",
    "comments.flag_count",
    "comments.flag_weight",
    "comment_reaction_counts.count",
)
COMMENT_COUNTERS = (
    "reply_count",
    "likes",
    "dislikes",
    "score",
    "best",
    "controversy",
    "flag_count",
    "flag_weight",
)
# Flags that still weigh on a comment: those no moderator has decided on.
PENDING_FLAG_STATES = (FlagState.OPEN,)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def _fix_count_table(
    session: Session,
    model: Any,
    owner: str,
    expected: dict[tuple[Any, str], int],
    stored: dict[tuple[Any, str], int],
    fix: bool,
) -> int:
    drifted = {k for k in set(expected) | set(stored) if expected.get(k, 0) != stored.get(k, 0)}
    if fix and drifted:
        owner_col = getattr(model, owner)
        for key in drifted:
            owner_id, kind = key
            if expected.get(key, 0) == 0:
                session.execute(delete(model).where(owner_col == owner_id, model.kind == kind))
            else:
                stmt = _insert(session, model).values(
                    {owner: owner_id, "kind": kind, "count": expected[key]}
                )
                session.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[owner, "kind"], set_={"count": expected[key]}
                    )
                )
    return len(drifted)


def _recount_kind_table(
    session: Session,
    rows: Any,
    table: Any,
    owner: str,
    owners: Any,
    fix: bool,
) -> tuple[dict[tuple[Any, str], int], int]:
    """Counted reaction ``rows`` per (owner, kind) against the per-kind count ``table``:
    (the true counts, how many entries drifted), fixing the table when ``fix``."""
    expected: dict[tuple[Any, str], int] = {
        (oid, kind): n
        for oid, kind, n in session.execute(
            select(getattr(rows, owner), rows.kind, func.count())
            .where(getattr(rows, owner).in_(owners), rows.counted.is_(True))
            .group_by(getattr(rows, owner), rows.kind)
        )
    }
    stored = {
        (oid, kind): n
        for oid, kind, n in session.execute(
            select(getattr(table, owner), table.kind, table.count).where(
                getattr(table, owner).in_(owners)
            )
        )
    }
    return expected, _fix_count_table(session, table, owner, expected, stored, fix)


def _recount_chunk(
    session: Session, article_ids: Sequence[str], fix: bool, drift: Counter[str]
) -> None:
    comments = session.execute(
        select(
            Comment.id,
            Comment.article_id,
            Comment.path,
            Comment.status,
            Comment.shadowed,
            *(getattr(Comment, c) for c in COMMENT_COUNTERS),
        ).where(Comment.article_id.in_(article_ids))
    ).all()
    comment_ids = select(Comment.id).where(Comment.article_id.in_(article_ids))

    # Comment reactions: the count table and likes/dislikes follow from counted rows.
    reaction_counts: dict[tuple[Any, str], int] = {
        (cid, kind): n
        for cid, kind, n in session.execute(
            select(CommentReaction.comment_id, CommentReaction.kind, func.count())
            .where(CommentReaction.comment_id.in_(comment_ids), CommentReaction.counted.is_(True))
            .group_by(CommentReaction.comment_id, CommentReaction.kind)
        )
    }
    stored_counts = {
        (cid, kind): n
        for cid, kind, n in session.execute(
            select(
                CommentReactionCount.comment_id,
                CommentReactionCount.kind,
                CommentReactionCount.count,
            ).where(CommentReactionCount.comment_id.in_(comment_ids))
        )
    }
    drift["comment_reaction_counts.count"] += _fix_count_table(
        session, CommentReactionCount, "comment_id", reaction_counts, stored_counts, fix
    )

    flags = {
        cid: (n, float(w or 0.0))
        for cid, n, w in session.execute(
            select(Flag.comment_id, func.count(), func.sum(Flag.weight))
            # A shadow-banned user's flag is stored with weight 0 and counts for nothing.
            .where(
                Flag.comment_id.in_(comment_ids),
                Flag.state.in_(PENDING_FLAG_STATES),
                Flag.weight > 0,
            )
            .group_by(Flag.comment_id)
        )
    }

    replies: Counter[int] = Counter()
    published: Counter[str] = Counter()
    for c in comments:
        if is_counted(c.status, c.shadowed):
            published[c.article_id] += 1
            replies.update(ancestor_ids(c.path))

    fixes: list[dict[str, Any]] = []
    touched_articles: set[str] = set()
    for c in comments:
        likes = reaction_counts.get((c.id, "like"), 0) if "like" in SCORE_KINDS else 0
        dislikes = reaction_counts.get((c.id, "dislike"), 0) if "dislike" in SCORE_KINDS else 0
        flag_count, flag_weight = flags.get(c.id, (0, 0.0))
        expected = {
            "reply_count": replies.get(c.id, 0),
            "likes": likes,
            "dislikes": dislikes,
            "score": ranking.net_score(likes, dislikes),
            "best": ranking.wilson_lower_bound(likes, dislikes),
            "controversy": ranking.controversy(likes, dislikes),
            "flag_count": flag_count,
            "flag_weight": flag_weight,
        }
        wrong = [name for name in COMMENT_COUNTERS if not _same(getattr(c, name), expected[name])]
        for name in wrong:
            drift[f"comments.{name}"] += 1
        if wrong:
            fixes.append({"_id": c.id, **expected})
            touched_articles.add(c.article_id)
    if fix and fixes:
        table = cast(Table, Comment.__table__)
        session.execute(
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({name: bindparam(name) for name in COMMENT_COUNTERS})
            .execution_options(synchronize_session=False),
            fixes,
        )

    # Articles: visible comments, counted reactions and the per-kind table.
    article_reactions, drifted = _recount_kind_table(
        session, ArticleReaction, ArticleReactionCount, "article_id", article_ids, fix
    )
    drift["article_reaction_counts.count"] += drifted
    reactions_per_article: Counter[str] = Counter()
    for (aid, _kind), n in article_reactions.items():
        reactions_per_article[aid] += n
    article_fixes = []
    for aid, comment_count, reaction_count in session.execute(
        select(Article.id, Article.comment_count, Article.reaction_count).where(
            Article.id.in_(article_ids)
        )
    ):
        expected_article = {
            "comment_count": published.get(aid, 0),
            "reaction_count": reactions_per_article.get(aid, 0),
        }
        if comment_count != expected_article["comment_count"]:
            drift["articles.comment_count"] += 1
        if reaction_count != expected_article["reaction_count"]:
            drift["articles.reaction_count"] += 1
        if (comment_count, reaction_count) != tuple(expected_article.values()):
            article_fixes.append({"_id": aid, **expected_article})
            touched_articles.discard(aid)
    if fix:
        table = cast(Table, Article.__table__)
        if article_fixes:
            session.execute(
                update(table)
                .where(table.c.id == bindparam("_id"))
                .values(
                    comment_count=bindparam("comment_count"),
                    reaction_count=bindparam("reaction_count"),
                    version=table.c.version + 1,
                )
                .execution_options(synchronize_session=False),
                article_fixes,
            )
        if touched_articles:  # pages showing repaired comments must not be served from cache
            session.execute(
                update(table)
                .where(table.c.id.in_(touched_articles))
                .values(version=table.c.version + 1)
                .execution_options(synchronize_session=False)
            )


def recount(
    session: Session,
    *,
    article_ids: Iterable[str] | None = None,
    fix: bool = True,
    chunk: int = 200,
) -> dict[str, int]:
    """Rebuild every denormalised counter from the rows it summarises (all articles, or
    ``article_ids``). Returns, per counter, how many rows were wrong; with ``fix`` they are
    corrected (flushed, not committed)."""
    ids = (
        sorted(set(article_ids))
        if article_ids is not None
        else list(session.scalars(select(Article.id).order_by(Article.id)))
    )
    drift: Counter[str] = Counter({name: 0 for name in COUNTERS})
    for start in range(0, len(ids), chunk):
        _recount_chunk(session, ids[start : start + chunk], fix, drift)
    session.flush()
    return {name: drift[name] for name in COUNTERS}


__all__ = [
    "export_records",
    "import_records",
    "recount",
    "ImportReport",
    "DataError",
    "COUNTERS",
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
]
