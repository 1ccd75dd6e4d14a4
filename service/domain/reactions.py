"""Reactions on comments and articles.

One row per (target, user, kind) under a unique constraint; counters are denormalised and
change in the same transaction with atomic statements (an upsert adding 1, an UPDATE
subtracting 1), never read-modify-write, so concurrent readers are each counted once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Sequence, cast

from sqlalchemy import Table, bindparam, delete, false, func, literal, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..enums import TOMBSTONE_STATUSES, ArticleStatus, CommentStatus
from ..models import (
    Article,
    ArticleReaction,
    ArticleReactionCount,
    Comment,
    CommentReaction,
    CommentReactionCount,
    utcnow,
)
from . import events, ranking
from .comments import active_ban, ensure_article, lock_thread
from .errors import RuleError
from .threads import Viewer, article_visible, comment_visible, reactions_for

SCORE_KINDS = {"like": "likes", "dislike": "dislikes"}
# Voting is one choice, not two: adding one vote withdraws the other.
OPPOSITE_VOTE = {"like": "dislike", "dislike": "like"}


def _insert(session: Session, model: Any) -> Any:
    """INSERT with ON CONFLICT support for the session's database."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise RuntimeError(f"unsupported database: {dialect}")


def check_kind(kind: str, kinds: Sequence[str]) -> None:
    if kind not in kinds:
        raise RuleError(
            422,
            f"Unknown reaction kind {kind!r}; use one of: {', '.join(kinds)}.",
            kind="unknown-reaction",
            field="kind",
        )


def _check_reactor(session: Session, user_id: str, now: dt.datetime) -> bool:
    """Raises for banned users; returns whether the reaction counts (not for shadow bans)."""
    ban = active_ban(session, user_id, now)
    if ban is not None and not ban.shadow:
        raise RuleError(403, "You are banned from commenting and reacting.", kind="banned")
    return ban is None


def _rescore(session: Session, comment_id: int, column: str, delta: int) -> None:
    """Move likes or dislikes by ``delta`` and recompute score, best and controversy.

    The first UPDATE locks the row (PostgreSQL) or the database (SQLite) until commit, so
    the likes and dislikes it returns are the ones the second UPDATE derives from.
    """
    counter = getattr(Comment, column)
    sign = 1 if column == "likes" else -1
    row = session.execute(
        update(Comment)
        .where(Comment.id == comment_id)
        .values({counter: counter + delta, Comment.score: Comment.score + sign * delta})
        .returning(Comment.likes, Comment.dislikes)
        .execution_options(synchronize_session=False)
    ).one()
    likes, dislikes = row
    session.execute(
        update(Comment)
        .where(Comment.id == comment_id)
        .values(
            best=ranking.wilson_lower_bound(likes, dislikes),
            controversy=ranking.controversy(likes, dislikes),
        )
        .execution_options(synchronize_session=False)
    )


def _toggle(
    session: Session,
    *,
    row: Any,
    counts: Any,
    target: str,
    target_id: Any,
    user_id: str,
    kind: str,
    counted: bool,
    add: bool,
    now: dt.datetime,
) -> bool:
    """Add or remove one (target, user, kind) row and move its kind's counter with it.

    ``row``/``counts`` are the reaction and count models, ``target`` their shared column.
    Returns whether a counted reaction appeared or disappeared.
    """
    target_col = getattr(row, target)
    if add:
        inserted = session.execute(
            _insert(session, row)
            .values(
                {
                    target: target_id,
                    "user_id": user_id,
                    "kind": kind,
                    "counted": counted,
                    "created_at": now,
                }
            )
            .on_conflict_do_nothing(index_elements=[target, "user_id", "kind"])
            .returning(row.id)
        ).scalar_one_or_none()
        changed = inserted is not None and counted
        if changed:
            session.execute(
                _insert(session, counts)
                .values({target: target_id, "kind": kind, "count": 1})
                .on_conflict_do_update(
                    index_elements=[target, "kind"], set_={"count": counts.count + 1}
                )
            )
        return changed
    removed = (
        session.execute(
            delete(row)
            .where(target_col == target_id, row.user_id == user_id, row.kind == kind)
            .returning(row.counted)
        )
        .scalars()
        .all()
    )
    changed = any(removed)
    if changed:
        session.execute(
            update(counts)
            .where(getattr(counts, target) == target_id, counts.kind == kind)
            .values(count=counts.count - 1)
        )
    return changed


def react_to_comment(
    session: Session,
    *,
    comment: Comment,
    user_id: str,
    kind: str,
    kinds: Sequence[str],
    add: bool,
    now: dt.datetime | None = None,
) -> None:
    now = now or utcnow()
    check_kind(kind, kinds)
    viewer = Viewer(user_id=user_id)
    if not comment_visible(comment, viewer) or not article_visible(
        session.get(Article, comment.article_id), viewer
    ):
        raise RuleError(404, "There is no such comment.", kind="not-found")
    if comment.status in TOMBSTONE_STATUSES:
        raise RuleError(
            409, "This comment was deleted; it takes no reactions.", kind="comment-deleted"
        )
    if (
        add
        and kind in SCORE_KINDS
        and comment.author_id is not None
        and (comment.author_id == user_id)
    ):
        # A self-vote would lift one's own comment under "top" and "best".
        raise RuleError(403, "You cannot vote on your own comment.", kind="own-comment")
    counted = _check_reactor(session, user_id, now)
    lock_thread(session, comment.article_id)
    # (kind, add) steps: adding a vote first withdraws the opposite one, in this transaction.
    steps = [(kind, add)]
    if add and kind in OPPOSITE_VOTE:
        steps.insert(0, (OPPOSITE_VOTE[kind], False))
    changed = False
    for step_kind, step_add in steps:
        toggled = _toggle(
            session,
            row=CommentReaction,
            counts=CommentReactionCount,
            target="comment_id",
            target_id=comment.id,
            user_id=user_id,
            kind=step_kind,
            counted=counted,
            add=step_add,
            now=now,
        )
        changed = changed or toggled
        if toggled and step_kind in SCORE_KINDS:
            _rescore(session, comment.id, SCORE_KINDS[step_kind], 1 if step_add else -1)
            session.expire(comment)
    if changed:
        events.record(
            session,
            events.Event(
                events.REACTION_CHANGED,
                article_id=comment.article_id,
                comment_id=comment.id,
                actor_id=user_id,
                data={"kind": kind, "added": add, "counted": counted},
            ),
        )


def react_to_article(
    session: Session,
    *,
    article_id: str,
    user_id: str,
    kind: str,
    kinds: Sequence[str],
    add: bool,
    now: dt.datetime | None = None,
) -> None:
    now = now or utcnow()
    check_kind(kind, kinds)
    counted = _check_reactor(session, user_id, now)
    article = session.get(Article, article_id)
    if article is not None and article.status == ArticleStatus.HIDDEN:
        raise RuleError(409, "This article's conversation is not available.", kind="article-hidden")
    if add:
        ensure_article(session, article_id, now)
    if _toggle(
        session,
        row=ArticleReaction,
        counts=ArticleReactionCount,
        target="article_id",
        target_id=article_id,
        user_id=user_id,
        kind=kind,
        counted=counted,
        add=add,
        now=now,
    ):
        session.execute(
            update(Article)
            .where(Article.id == article_id)
            .values(
                reaction_count=Article.reaction_count + (1 if add else -1),
                version=Article.version + 1,
            )
        )
        events.record(
            session,
            events.Event(
                events.REACTION_CHANGED,
                article_id=article_id,
                actor_id=user_id,
                data={"kind": kind, "added": add, "counted": counted},
            ),
        )


def withdraw_all(session: Session, *, user_id: str) -> tuple[set[str], int, int]:
    """Remove every reaction of one person (erasure), each exactly as un-reacting would:
    rows deleted, counters, scores and article totals moved back. Returns the articles
    touched and how many reactions on comments and on articles went."""
    touched: set[str] = set()
    on_comments = session.execute(
        select(CommentReaction.comment_id, CommentReaction.kind, Comment.article_id)
        .join(Comment, Comment.id == CommentReaction.comment_id)
        .where(CommentReaction.user_id == user_id)
    ).all()
    now = utcnow()
    for comment_id, kind, article_id in on_comments:
        if (
            _toggle(
                session,
                row=CommentReaction,
                counts=CommentReactionCount,
                target="comment_id",
                target_id=comment_id,
                user_id=user_id,
                kind=kind,
                counted=True,
                add=False,
                now=now,
            )
            and kind in SCORE_KINDS
        ):
            _rescore(session, comment_id, SCORE_KINDS[kind], -1)
        touched.add(article_id)
    on_articles = session.execute(
        select(ArticleReaction.article_id, ArticleReaction.kind).where(
            ArticleReaction.user_id == user_id
        )
    ).all()
    for article_id, kind in on_articles:
        if _toggle(
            session,
            row=ArticleReaction,
            counts=ArticleReactionCount,
            target="article_id",
            target_id=article_id,
            user_id=user_id,
            kind=kind,
            counted=True,
            add=False,
            now=now,
        ):
            session.execute(
                update(Article)
                .where(Article.id == article_id)
                .values(reaction_count=Article.reaction_count - 1)
            )
        touched.add(article_id)
    return touched, len(on_comments), len(on_articles)


def comment_reactions(
    session: Session, comment_id: int, user_id: str | None
) -> tuple[dict[str, int], list[str]]:
    counts, mine = reactions_for(session, [comment_id], user_id)
    return counts.get(comment_id, {}), mine.get(comment_id, [])


# Built once, on the tables' columns: every post's stream event and webhook carry the article's
# reactions, and building the statement (then taking the ORM's path for it) cost several
# times what SQLite takes to answer it.
_ARTICLE_COUNTS_T = cast(Table, ArticleReactionCount.__table__)
_ARTICLE_REACTIONS_T = cast(Table, ArticleReaction.__table__)
_ARTICLE_COUNTS = select(_ARTICLE_COUNTS_T.c.kind, _ARTICLE_COUNTS_T.c.count).where(
    _ARTICLE_COUNTS_T.c.article_id == bindparam("article_id"), _ARTICLE_COUNTS_T.c.count > 0
)
_ARTICLE_MINE = select(_ARTICLE_REACTIONS_T.c.kind, _ARTICLE_REACTIONS_T.c.counted).where(
    _ARTICLE_REACTIONS_T.c.article_id == bindparam("article_id"),
    _ARTICLE_REACTIONS_T.c.user_id == bindparam("user_id"),
)


def article_reactions(
    session: Session, article_id: str, user_id: str | None
) -> tuple[dict[str, int], list[str]]:
    counts = {
        kind: count for kind, count in session.execute(_ARTICLE_COUNTS, {"article_id": article_id})
    }
    mine: list[str] = []
    if user_id is not None:
        for kind, counted in session.execute(
            _ARTICLE_MINE, {"article_id": article_id, "user_id": user_id}
        ):
            mine.append(kind)
            if not counted:  # a shadow ban kept it out: to its author it counts (#14 item 7)
                counts[kind] = counts.get(kind, 0) + 1
        mine.sort()
    return counts, mine


_ARTICLES = Article.__table__
# Built once (bind parameters), executed per request: a listing page calls this constantly.
# Hidden articles are left out by the query (they read as zero, like unknown ones).
_COUNTS = select(
    _ARTICLES.c.id,
    _ARTICLES.c.comment_count,
    _ARTICLES.c.reaction_count,
).where(
    _ARTICLES.c.id.in_(bindparam("ids", expanding=True)), _ARTICLES.c.status != ArticleStatus.HIDDEN
)


def counts_for(session: Session, article_ids: list[str]) -> dict[str, dict[str, int]]:
    """{"comments", "reactions"} for many articles in one query; unknown articles are zero.
    A hidden article reads as zero: its thread is invisible."""
    out = {article_id: {"comments": 0, "reactions": 0} for article_id in article_ids}
    for article_id, comments, reactions in session.execute(_COUNTS, {"ids": article_ids}):
        out[article_id] = {"comments": comments, "reactions": reactions}
    return out


def own_uncounted_counts(
    session: Session, article_ids: list[str], user_id: str
) -> dict[str, dict[str, int]]:
    """What a shadow-banned user's own writes would add to ``counts_for`` had they counted:
    their shadowed published comments and uncounted article reactions, per article, in one
    query. Added to their own /counts so nothing there gives the ban away (#14 item 7)."""
    comments = (
        select(Comment.article_id, literal("comments"), func.count())
        .join(Article, Article.id == Comment.article_id)
        .where(
            Article.status != ArticleStatus.HIDDEN,
            Comment.article_id.in_(article_ids),
            Comment.author_id == user_id,
            Comment.status == CommentStatus.PUBLISHED,
            Comment.shadowed == true(),
        )
        .group_by(Comment.article_id)
    )
    reactions = (
        select(ArticleReaction.article_id, literal("reactions"), func.count())
        .join(Article, Article.id == ArticleReaction.article_id)
        .where(
            Article.status != ArticleStatus.HIDDEN,
            ArticleReaction.article_id.in_(article_ids),
            ArticleReaction.user_id == user_id,
            ArticleReaction.counted == false(),
        )
        .group_by(ArticleReaction.article_id)
    )
    out: dict[str, dict[str, int]] = {}
    for article_id, what, n in session.execute(comments.union_all(reactions)):
        out.setdefault(article_id, {"comments": 0, "reactions": 0})[what] = n
    return out
