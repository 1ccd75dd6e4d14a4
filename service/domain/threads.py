"""Threads: where a reply goes, who sees what, and how a thread is paged.

A listing costs a fixed number of queries whatever the thread's size:
  1. the article row,
  2. one page of top-level comments (keyset, one index per sort),
  3. the first replies of every comment on that page (one windowed query),
  4. reaction counts and the caller's own reactions for all of them (one UNION).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Sequence

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Connection,
    Float,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    union,
    union_all,
)
from sqlalchemy.orm import Session

from ..enums import TOMBSTONE_STATUSES, ArticleStatus, CommentStatus, Sort
from ..models import (
    PRIVATE_PREDICATE,
    Article,
    Comment,
    CommentReaction,
    CommentReactionCount,
    Mute,
)
from . import ranking


class CursorError(ValueError):
    """A cursor that was not issued by us for this listing."""


@dataclass(frozen=True)
class Viewer:
    """Who is looking, as far as visibility goes."""

    user_id: str | None = None
    is_moderator: bool = False


# --- where a reply goes -------------------------------------------------------------------


def place_reply(
    *, parent_id: int, parent_depth: int, grandparent_id: int | None, max_depth: int
) -> tuple[int | None, int]:
    """(effective parent id, depth) for a reply to ``parent_id``.

    A reply to a comment at the deepest level attaches to that comment's parent, so no
    reply is refused and a thread never grows narrower than the page.
    """
    if parent_depth < max_depth:
        return parent_id, parent_depth + 1
    if max_depth == 0:
        return None, 0
    return grandparent_id, parent_depth


def ancestor_ids(path: str) -> list[int]:
    """'/1/5/' → [1, 5]."""
    return [int(part) for part in path.strip("/").split("/") if part]


# --- who sees what ------------------------------------------------------------------------


def is_counted(status: CommentStatus, shadowed: bool) -> bool:
    """Does this comment count in the public comment_count and reply_count?"""
    return status == CommentStatus.PUBLISHED and not shadowed


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """SQL condition: the comments ``viewer`` may see in a thread.

    Everyone sees published comments and tombstones that still have visible replies; an
    author also sees their own pending and shadowed comments.
    """
    public = and_(Comment.status == CommentStatus.PUBLISHED, Comment.shadowed == false())
    tombstone = and_(Comment.status.in_(TOMBSTONE_STATUSES), Comment.reply_count > 0)
    conditions = [public, tombstone]
    if viewer.user_id is not None:
        conditions.append(
            and_(
                Comment.author_id == viewer.user_id,
                Comment.status.in_((CommentStatus.PUBLISHED, CommentStatus.PENDING)),
            )
        )
    return or_(*conditions)


def comment_visible(comment: Comment, viewer: Viewer) -> bool:
    """The same rule as ``visible_to``, for one loaded comment."""
    if comment.status == CommentStatus.PUBLISHED and not comment.shadowed:
        return True
    if comment.status in TOMBSTONE_STATUSES:
        return comment.reply_count > 0
    return (
        viewer.user_id is not None
        and comment.author_id == viewer.user_id
        and comment.status in (CommentStatus.PUBLISHED, CommentStatus.PENDING)
    )


@dataclass(frozen=True)
class ArticleHead:
    """What a listing needs of the article row, read without the ORM (the hot path of a
    cached page: building an ORM entity costs more than the query)."""

    id: str
    status: ArticleStatus
    version: int
    created_at: Any
    comment_count: int


def article_visible(article: Article | ArticleHead | None, viewer: Viewer) -> bool:
    return article is None or article.status != ArticleStatus.HIDDEN or viewer.is_moderator


# --- cursors ------------------------------------------------------------------------------


class Cursors:
    """Opaque, signed keyset cursors: a client can pass them back, not forge or edit them."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="comments-cursor-v1")

    def encode(self, scope: str, key: Sequence[Any]) -> str:
        return self._serializer.dumps([scope, list(key)])

    def decode(self, token: str, scope: str, width: int) -> list[Any]:
        try:
            payload = self._serializer.loads(token)
        except BadSignature:
            raise CursorError("The cursor is not one this service issued.") from None
        if (
            not isinstance(payload, list)
            or len(payload) != 2
            or payload[0] != scope
            or not isinstance(payload[1], list)
            or len(payload[1]) != width
        ):
            raise CursorError("The cursor belongs to another listing or sort.")
        return payload[1]


# Each sort of top-level comments: (column, descending?) from first to last key.
SORT_KEYS: dict[Sort, tuple[tuple[Any, bool], ...]] = {
    Sort.NEWEST: ((Comment.pinned, True), (Comment.id, True)),
    Sort.OLDEST: ((Comment.pinned, True), (Comment.id, False)),
    Sort.TOP: ((Comment.pinned, True), (Comment.score, True), (Comment.id, True)),
    Sort.BEST: ((Comment.pinned, True), (Comment.best, True), (Comment.id, True)),
    Sort.CONTROVERSIAL: ((Comment.pinned, True), (Comment.controversy, True), (Comment.id, True)),
}


def key_of(comment: Comment, sort: Sort) -> list[Any]:
    return [getattr(comment, col.key) for col, _ in SORT_KEYS[sort]]


def after_key(keys: Sequence[tuple[Any, bool]], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order ``keys``: the keyset condition, spelled out
    so that mixed directions work on every database."""
    clauses = []
    for i, (column, descending) in enumerate(keys):
        equal = [keys[j][0] == _value(values[j], keys[j][0].type) for j in range(i)]
        bound = _value(values[i], column.type)
        step = column < bound if descending else column > bound
        clauses.append(and_(*equal, step))
    return or_(*clauses)


def _value(value: Any, type_: Any) -> ColumnElement[Any]:
    """A key value as SQL: a literal, or already SQL (a bind parameter of a prebuilt one)."""
    return value if isinstance(value, ColumnElement) else literal(value, type_)


def order_by(keys: Sequence[tuple[Any, bool]]) -> list[Any]:
    return [column.desc() if descending else column.asc() for column, descending in keys]


def _check_key(values: list[Any], sort: Sort) -> list[Any]:
    """A signed cursor is ours, but check its types anyway before they reach SQL."""
    ok = isinstance(values[0], bool) and isinstance(values[-1], int)
    if len(values) == 3:
        ok = ok and isinstance(values[1], (int, float)) and not isinstance(values[1], bool)
    if not ok:
        raise CursorError("The cursor is malformed.")
    return values


# --- listing ------------------------------------------------------------------------------


@dataclass
class Node:
    comment: Comment
    replies: list["Node"] = field(default_factory=list)


@dataclass
class ThreadPage:
    article: Article | ArticleHead | None
    nodes: list[Node]
    next_cursor: str | None
    reactions: dict[int, dict[str, int]]
    mine: dict[int, list[str]]
    # Paths of the viewer's own shadowed comments in the article (see reactions_for).
    own_shadowed: list[str] = field(default_factory=list)
    # The viewer's own uncounted reactions (comment id, kind): counts stay public here.
    own_uncounted: list[tuple[int, str]] = field(default_factory=list)
    # Ids of the people whose comments the viewer (or ``reactions_of``) muted (#15).
    muted: set[str] = field(default_factory=set)


def top_level_page(
    session: Session,
    *,
    article_id: str,
    viewer: Viewer,
    sort: Sort,
    limit: int,
    after: list[Any] | None,
) -> list[Comment]:
    keys = SORT_KEYS[sort]
    query = select(Comment).where(
        Comment.article_id == article_id, Comment.depth == 0, visible_to(viewer)
    )
    if after is not None:
        query = query.where(after_key(keys, _check_key(after, sort)))
    query = query.order_by(*order_by(keys)).limit(limit + 1)
    return list(session.scalars(query))


def first_replies(
    session: Session, *, root_ids: Sequence[int], viewer: Viewer, per_root: int
) -> list[Comment]:
    """The first ``per_root`` visible replies (any depth, oldest first) under each root.

    Ids grow with time, so a prefix in id order contains every reply's parent: the tree
    built from it has no holes.
    """
    if not root_ids:
        return []
    rank = func.row_number().over(partition_by=Comment.root_id, order_by=Comment.id).label("rank")
    inner = (
        select(Comment.id.label("cid"), rank)
        .where(Comment.root_id.in_(root_ids), visible_to(viewer))
        .subquery()
    )
    query = (
        select(Comment)
        .join(inner, inner.c.cid == Comment.id)
        .where(inner.c.rank <= per_root)
        .order_by(Comment.id)
    )
    return list(session.scalars(query))


def replies_after(
    session: Session, *, comment: Comment, viewer: Viewer, limit: int, after_id: int | None
) -> list[Comment]:
    """The descendants of ``comment`` in creation order, after ``after_id``: what a client
    appends when a branch shows "more replies"."""
    prefix = f"{comment.path}{comment.id}/"
    query = select(Comment).where(
        Comment.article_id == comment.article_id,
        Comment.path.startswith(prefix, autoescape=True),
        visible_to(viewer),
    )
    if after_id is not None:
        query = query.where(Comment.id > after_id)
    return list(session.scalars(query.order_by(Comment.id).limit(limit + 1)))


def reactions_for(
    session: Session,
    comment_ids: Sequence[int],
    user_id: str | None,
    *,
    shadowed_in: str | None = None,
    own_shadowed: list[str] | None = None,
    own_uncounted: list[tuple[int, str]] | None = None,
    muted: set[str] | None = None,
) -> tuple[dict[int, dict[str, int]], dict[int, list[str]]]:
    """Counts per kind and the viewer's own kinds for many comments, in one query.

    A shadow-banned viewer's own reactions are stored uncounted; to them the counts read
    as if they counted (#14 item 7), unless ``own_uncounted`` is given: then the counts
    stay public and those (comment id, kind) pairs are appended to it instead. With
    ``shadowed_in`` (an article id) the same query also collects into ``own_shadowed`` the
    paths of the viewer's own shadowed, published comments in that article, which the
    caller adds to ``total`` and ``reply_count``. With ``muted`` the same query also adds
    to it the ids of the people the viewer muted (#15: their comments arrive collapsed)."""
    counts: dict[int, dict[str, int]] = {}
    mine: dict[int, list[str]] = {}
    if not comment_ids:
        return counts, mine
    count_rows = select(
        CommentReactionCount.comment_id,
        CommentReactionCount.kind,
        CommentReactionCount.count,
        literal(_COUNT).label("row"),
    ).where(CommentReactionCount.comment_id.in_(comment_ids), CommentReactionCount.count > 0)
    query: Any = count_rows
    if user_id is not None:
        own_rows = select(
            CommentReaction.comment_id,
            CommentReaction.kind,
            literal(0),
            case((CommentReaction.counted == false(), _OWN_UNCOUNTED), else_=_OWN).label("row"),
        ).where(CommentReaction.comment_id.in_(comment_ids), CommentReaction.user_id == user_id)
        parts: list[Any] = [count_rows, own_rows]
        if shadowed_in is not None:
            parts.append(
                select(Comment.id, Comment.path, literal(0), literal(_OWN_SHADOWED_COMMENT)).where(
                    Comment.article_id == shadowed_in,
                    Comment.author_id == user_id,
                    Comment.status == CommentStatus.PUBLISHED,
                    Comment.shadowed == true(),
                )
            )
        if muted is not None:  # the viewer's mutes, as rows (0, muted id, 0, _MUTED)
            parts.append(
                select(literal(0), Mute.muted_id, literal(0), literal(_MUTED)).where(
                    Mute.user_id == user_id
                )
            )
        query = union_all(*parts)
    uncounted: list[tuple[int, str]] = [] if own_uncounted is None else own_uncounted
    for comment_id, kind, count, row in session.execute(query):
        if row == _COUNT:
            counts.setdefault(comment_id, {})[kind] = count
        elif row == _OWN_SHADOWED_COMMENT:
            if own_shadowed is not None:
                own_shadowed.append(kind)  # the comment's path
        elif row == _MUTED:
            if muted is not None:
                muted.add(kind)  # the muted person's id
        else:
            mine.setdefault(comment_id, []).append(kind)
            if row == _OWN_UNCOUNTED:
                uncounted.append((comment_id, kind))
    if own_uncounted is None:
        add_own_uncounted(counts, uncounted)
    for kinds in mine.values():
        kinds.sort()
    return counts, mine


def add_own_uncounted(
    counts: dict[int, dict[str, int]], uncounted: Sequence[tuple[int, str]]
) -> None:
    """Counts as a shadow-banned viewer expects them: their own reactions included."""
    for comment_id, kind in uncounted:
        kinds = counts.setdefault(comment_id, {})
        kinds[kind] = kinds.get(kind, 0) + 1


# What each row of reactions_for's query is.
_COUNT, _OWN, _OWN_UNCOUNTED, _OWN_SHADOWED_COMMENT, _MUTED = 0, 1, 2, 3, 4


def shadow_adjustments(paths: Sequence[str]) -> dict[int, int]:
    """{comment id: how many of the viewer's own shadowed comments it has below it}, from
    those comments' paths ("/1/5/": under 1 and 5): what their ``reply_count`` lacks."""
    out: dict[int, int] = {}
    for path in paths:
        for ancestor in ancestor_ids(path):
            out[ancestor] = out.get(ancestor, 0) + 1
    return out


# Hot-path statements, built once with bind parameters: SQLAlchemy then reuses their
# compiled form, and a request pays only for executing them (building the expressions per
# request showed up in profiles of the cached page). Core tables, not ORM entities: rows
# come back as tuples.
_A, _C, _R = Article.__table__, Comment.__table__, CommentReaction.__table__
_HEAD_COLUMNS = (_A.c.id, _A.c.status, _A.c.version, _A.c.created_at, _A.c.comment_count)
# Does the user author a comment of the article that only they can see (pending, or
# shadowed)? Without one, ``visible_to`` gives them exactly the public set of comments.
# The predicate as literal SQL, as the partial index ix_comments_private has it: bound values
# would hide from both planners that the index holds every row the question can find.
_PRIVATE_VIEW = (
    exists()
    .where(
        _C.c.author_id == bindparam("user_id"),
        _C.c.article_id == _A.c.id,
        text(f"({PRIVATE_PREDICATE})"),  # parenthesised: it is an OR
    )
    .correlate(_A)
)
_HEAD = select(*_HEAD_COLUMNS).where(_A.c.id == bindparam("article_id"))
_HEAD_AND_PRIVATE = select(*_HEAD_COLUMNS, _PRIVATE_VIEW).where(_A.c.id == bindparam("article_id"))
_OWN_REACTIONS = select(_R.c.comment_id, _R.c.kind, _R.c.counted).where(
    _R.c.comment_id.in_(bindparam("ids", expanding=True)), _R.c.user_id == bindparam("user_id")
)
# The same, and the viewer's mutes as rows (0, muted id, true): comment ids start at 1 (#15).
_M = Mute.__table__
_OWN_REACTIONS_AND_MUTES = union_all(
    _OWN_REACTIONS,
    select(literal(0), _M.c.muted_id, true()).where(_M.c.user_id == bindparam("user_id")),
)


def own_reactions(
    session: Session | Connection,
    comment_ids: Sequence[int],
    user_id: str,
    uncounted: list[tuple[int, str]] | None = None,
    muted: set[str] | None = None,
) -> dict[int, list[str]]:
    """The viewer's own reaction kinds on many comments, in one query (sorted per comment);
    those stored uncounted (a shadow ban) are also appended to ``uncounted``, and with
    ``muted`` the same query adds the ids of the people the viewer muted to it."""
    mine: dict[int, list[str]] = {}
    if not comment_ids:
        return mine
    statement = _OWN_REACTIONS if muted is None else _OWN_REACTIONS_AND_MUTES
    for comment_id, kind, counted in session.execute(
        statement, {"ids": list(comment_ids), "user_id": user_id}
    ):
        if comment_id == 0 and muted is not None:
            muted.add(kind)
            continue
        mine.setdefault(comment_id, []).append(kind)
        if not counted and uncounted is not None:
            uncounted.append((comment_id, kind))
    for kinds in mine.values():
        kinds.sort()
    return mine


def article_for_listing(
    session: Session | Connection, article_id: str, viewer: Viewer
) -> tuple[ArticleHead | None, bool]:
    """The article row (query 1 of a listing; pass it on to ``list_thread``) and whether
    ``viewer`` sees more of its thread than the public does (``_PRIVATE_VIEW``)."""
    row: Any
    if viewer.user_id is None:
        row = session.execute(_HEAD, {"article_id": article_id}).first()
        private = False
    else:
        row = session.execute(
            _HEAD_AND_PRIVATE, {"article_id": article_id, "user_id": viewer.user_id}
        ).first()
        private = bool(row is not None and row[5])
    if row is None:
        return None, False
    return ArticleHead(row[0], row[1], row[2], row[3], row[4]), private


_LOAD = object()


def build_tree(roots: Sequence[Comment], replies: Sequence[Comment]) -> list[Node]:
    nodes = {c.id: Node(c) for c in roots}
    out = [nodes[c.id] for c in roots]
    for reply in replies:  # in id order: a parent is always placed before its children
        node = Node(reply)
        nodes[reply.id] = node
        parent = nodes.get(reply.parent_id) if reply.parent_id is not None else None
        if parent is not None:
            parent.replies.append(node)
    return out


def list_thread(
    session: Session,
    *,
    article_id: str,
    viewer: Viewer,
    sort: Sort,
    limit: int,
    cursor: str | None,
    cursors: Cursors,
    replies_per_thread: int,
    reactions_of: str | None = None,
    article: Any = _LOAD,
    now: dt.datetime | None = None,
    gravity: float = ranking.DEFAULT_GRAVITY,
) -> ThreadPage:
    """One page. ``reactions_of``: whose own reactions to fetch, when not the viewer's (a
    signed-in reader served the public page, see api/comments.py); ``article``: the row
    from ``article_for_listing``, when the caller already has it (None: there is none);
    ``now`` and ``gravity``: sort=hot's clock (the first page's) and exponent."""
    scope = f"thread:{article_id}:{sort.value}"
    width = HOT_CURSOR_WIDTH if sort == Sort.HOT else len(SORT_KEYS[sort])
    after = cursors.decode(cursor, scope, width) if cursor else None
    if article is _LOAD:
        article = session.get(Article, article_id)
    if not article_visible(article, viewer) or article is None:
        return ThreadPage(article, [], None, {}, {})
    next_cursor = None
    if sort == Sort.HOT:
        roots, next_cursor = _hot_roots(
            session,
            article_id=article_id,
            viewer=viewer,
            limit=limit,
            after=after,
            now=now,
            gravity=gravity,
            cursors=cursors,
            scope=scope,
        )
    else:
        roots = top_level_page(
            session, article_id=article_id, viewer=viewer, sort=sort, limit=limit, after=after
        )
    if sort != Sort.HOT and len(roots) > limit:
        roots = roots[:limit]
        next_cursor = cursors.encode(scope, key_of(roots[-1], sort))
    replies = first_replies(
        session, root_ids=[c.id for c in roots], viewer=viewer, per_root=replies_per_thread
    )
    ids = [c.id for c in roots] + [c.id for c in replies]
    own_shadowed: list[str] = []
    own_uncounted: list[tuple[int, str]] = []
    muted: set[str] = set()
    counts, mine = reactions_for(
        session,
        ids,
        reactions_of or viewer.user_id,
        shadowed_in=article_id if reactions_of is None and viewer.user_id else None,
        own_shadowed=own_shadowed,
        own_uncounted=own_uncounted,
        muted=muted,
    )
    return ThreadPage(
        article,
        build_tree(roots, replies),
        next_cursor,
        counts,
        mine,
        own_shadowed,
        own_uncounted,
        muted,
    )


# --- sort=hot -----------------------------------------------------------------------------
# Its key depends on the time, so no index can hold it: each page ranks the article's
# top-level comments in SQL (the same formula as ranking.hot) against a reference time that
# the first page takes from the clock (to the minute) and its cursor carries on, so later
# pages rank exactly as the first did: no duplicates, no gaps. The ranking selects ids and
# the key only; the full rows of the one page are joined afterwards (still one statement).
#
# A floor bounds what is ranked (_hot_floor): the page's worst comment ranks at least as
# high as the (limit+1)-th best of a few candidates read through the keyset indexes (the
# highest scores and the newest), and no comment is younger than the article's newest, so
# a comment whose score cannot reach that rank at that youngest age is not ranked at all.
# The test is on the score alone, which ix_comments_thread_hot holds: on a long thread most
# comments never get a power() computed. Exact, not a heuristic: the result is the same.

HOT_CURSOR_WIDTH = 4  # [pinned, hot, id, reference time (Unix seconds)]
_JULIAN_UNIX_EPOCH = 2440587.5  # julianday('1970-01-01')
# Rounding slack for the floor (relative): a comment exactly at it is still ranked.
_FLOOR_SLACK = 1.0 - 1e-9
_NO_FLOOR = -(2**62)  # below any score


def _age_hours(dialect: str, reference: Any, created: Any) -> ColumnElement[Any]:
    """Hours between ``created`` and ``reference``, 0 for a later one, on SQLite (julianday)
    or PostgreSQL (date_part); a double on both. max()/greatest(): the date is read once."""
    epoch: ColumnElement[float]
    if dialect == "sqlite":
        epoch = (func.julianday(created, type_=Float) - _JULIAN_UNIX_EPOCH) * 86400.0
    else:
        epoch = func.date_part(literal_column("'epoch'"), created, type_=Float)
    hours = (_float(reference) - epoch) / 3600.0
    if dialect == "sqlite":
        return func.max(hours, literal(0.0, Float), type_=Float)
    return func.greatest(hours, literal(0.0, Float), type_=Float)


def _float(value: Any) -> ColumnElement[Any]:
    return value if isinstance(value, ColumnElement) else literal(float(value), Float)


def hot_rank(dialect: str, reference: Any, gravity: Any) -> ColumnElement[Any]:
    """SQL for ranking.hot(score, hours between created_at and ``reference``, gravity);
    both numbers or bind parameters."""
    age = _age_hours(dialect, reference, Comment.created_at)
    return (Comment.score + 1) / func.power(age + 2.0, _float(gravity), type_=Float)


def _hot_floor(
    dialect: str,
    *,
    article_id: Any,
    admits: list[ColumnElement[bool]],
    rank: ColumnElement[Any],
    reference: Any,
    gravity: Any,
    take: Any,
    skip: Any,
) -> ColumnElement[Any]:
    """SQL: the least score an unpinned comment needs to be on the page.

    H0, the (limit+1)-th best rank (``take`` = limit + 1, ``skip`` = limit) among the
    ``limit + 1`` highest-scored and ``limit + 1`` newest unpinned comments that ``admits``
    (visibility, the cursor) lets through, is at most the (limit+1)-th best rank of them
    all, so every unpinned comment on the page ranks at least H0:
    (score + 1) / (age + 2) ** gravity >= H0. Its age is at least that of the article's
    newest unpinned top-level comment (a_min), so score + 1 >= H0 * (a_min + 2) ** gravity.
    Only when H0 > 0 (with H0 <= 0 the inequality turns round); otherwise, and with fewer
    than limit + 1 candidates, no floor."""
    # The candidates' ids come from the keyset indexes alone (ix_comments_thread_top and
    # _newest cover these two selects), then the page's own conditions keep the admissible
    # ones; with fewer than limit + 1 left (a deep page) there is no floor.
    thread = [
        Comment.article_id == article_id,
        Comment.depth == 0,
        Comment.pinned == false(),
    ]
    by_score = (
        select(Comment.id)
        .where(*thread)
        .order_by(Comment.score.desc(), Comment.id.desc())
        .limit(take)
        .subquery()
    )
    newest = select(Comment.id).where(*thread).order_by(Comment.id.desc()).limit(take).subquery()
    # Each side its own subquery: SQLite takes no ORDER BY/LIMIT inside a compound select.
    ids = union(select(by_score.c.id), select(newest.c.id))
    # By primary key only: no other indexable term to tempt the planner into a scan.
    candidates = select(rank.label("h")).where(Comment.id.in_(ids), *admits).subquery()
    h0 = select(candidates.c.h).order_by(candidates.c.h.desc()).offset(skip).limit(1).subquery()
    youngest = (  # one seek in ix_comments_thread_hot
        select(func.max(Comment.created_at))
        .where(Comment.article_id == article_id, Comment.depth == 0, Comment.pinned == false())
        .scalar_subquery()
    )
    a_min = _age_hours(dialect, reference, youngest)
    power = func.power(a_min + 2.0, _float(gravity), type_=Float)
    # A scalar subquery of its own, so that the database computes it once per statement,
    # not once per row (SQLite does not fold an expression over subqueries).
    # As the least score, an integer (score + 1 >= f: score >= ceil(f - 1)), so that the
    # comparison is an index range on both databases. It cannot overflow: H0 is the rank of a
    # candidate no younger than a_min, so H0 * (a_min + 2) ** gravity <= its score + 1.
    least = cast(func.ceil(h0.c.h * power * _FLOOR_SLACK - 1.0), BigInteger)
    floor = func.coalesce(
        select(least).where(h0.c.h > 0.0).scalar_subquery(), literal(_NO_FLOOR, BigInteger)
    )
    return select(floor).scalar_subquery()


def _check_hot_key(values: list[Any]) -> list[Any]:
    pinned, key, comment_id, reference = values
    number = isinstance(key, (int, float)) and not isinstance(key, bool)
    integers = all(isinstance(v, int) and not isinstance(v, bool) for v in (comment_id, reference))
    if not (isinstance(pinned, bool) and number and integers):
        raise CursorError("The cursor is malformed.")
    return values


_HOT_STATEMENTS: dict[tuple[str, bool, bool], Any] = {}


def _hot_statement(dialect: str, signed_in: bool, paged: bool) -> Any:
    """sort=hot's one statement, built once per (dialect, signed in, after a cursor) with
    bind parameters: building it costs more than running it on SQLite (docs/markets.md)."""
    key = (dialect, signed_in, paged)
    found = _HOT_STATEMENTS.get(key)
    if found is not None:
        return found
    reference = bindparam("reference", type_=Float)
    gravity = bindparam("gravity", type_=Float)
    article_id = bindparam("article_id", type_=String)
    take, skip = bindparam("take", type_=Integer), bindparam("skip", type_=Integer)
    rank = hot_rank(dialect, reference, gravity).label("hot")
    keys = ((Comment.pinned, True), (rank, True), (Comment.id, True))
    viewer = Viewer(user_id=_as_user_id(bindparam("user_id", type_=String)) if signed_in else None)
    admits = [visible_to(viewer)]
    if paged:
        after = [
            bindparam("after_pinned", type_=Boolean),
            bindparam("after_hot", type_=Float),
            bindparam("after_id", type_=Integer),
        ]
        admits.append(after_key(keys, after))
    floor = _hot_floor(
        dialect,
        article_id=article_id,
        admits=admits,
        rank=hot_rank(dialect, reference, gravity),
        reference=reference,
        gravity=gravity,
        take=take,
        skip=skip,
    )
    thread = (Comment.article_id == article_id, Comment.depth == 0)
    # Pinned comments (a few) all, the others from the score floor up: a range on
    # ix_comments_thread_top, or on ix_comments_thread_hot's entries, rather than all rows.
    ranked = union_all(
        select(Comment.id.label("cid"), Comment.pinned.label("pin"), rank).where(
            *thread, Comment.pinned == true(), *admits
        ),
        select(Comment.id.label("cid"), Comment.pinned.label("pin"), rank).where(
            *thread, Comment.pinned == false(), Comment.score >= floor, *admits
        ),
    ).subquery()
    inner = (
        select(ranked)
        .order_by(ranked.c.pin.desc(), ranked.c.hot.desc(), ranked.c.cid.desc())
        .limit(take)
        .subquery()
    )
    statement = (
        select(Comment, inner.c.hot)
        .join(inner, inner.c.cid == Comment.id)
        .order_by(Comment.pinned.desc(), inner.c.hot.desc(), Comment.id.desc())
    )
    _HOT_STATEMENTS[key] = statement
    return statement


def _as_user_id(value: Any) -> str:
    """A bind parameter where Viewer expects the user's id (visible_to compares with it)."""
    return value  # type: ignore[no-any-return]


def _hot_roots(
    session: Session,
    *,
    article_id: str,
    viewer: Viewer,
    limit: int,
    after: list[Any] | None,
    now: dt.datetime | None,
    gravity: float,
    cursors: Cursors,
    scope: str,
) -> tuple[list[Comment], str | None]:
    if after is not None:
        reference = _check_hot_key(after)[3]
    else:
        clock = now or dt.datetime.now(dt.timezone.utc)
        reference = ranking.hot_reference(clock.timestamp())
    dialect = session.get_bind().dialect.name
    statement = _hot_statement(dialect, viewer.user_id is not None, after is not None)
    params: dict[str, Any] = {
        "article_id": article_id,
        "reference": float(reference),
        "gravity": float(gravity),
        "take": limit + 1,
        "skip": limit,
    }
    if viewer.user_id is not None:
        params["user_id"] = viewer.user_id
    if after is not None:
        params.update(after_pinned=after[0], after_hot=float(after[1]), after_id=after[2])
    rows = session.execute(statement, params).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last, key = rows[-1]
        next_cursor = cursors.encode(scope, [bool(last.pinned), float(key), last.id, reference])
    return [row[0] for row in rows], next_cursor


def subtree(
    session: Session,
    *,
    comment: Comment,
    viewer: Viewer,
    per_root: int,
    own_shadowed: list[str] | None = None,
) -> tuple[Node, dict[int, dict[str, int]], dict[int, list[str]]]:
    """One comment with its first replies nested, for GET /comments/{id}. ``own_shadowed``
    collects the paths of a signed-in viewer's own shadowed comments in the article (the
    same query as the reactions), for their own ``reply_count``s (see reactions_for)."""
    replies = replies_after(session, comment=comment, viewer=viewer, limit=per_root, after_id=None)
    replies = replies[:per_root]
    ids = [comment.id] + [c.id for c in replies]
    counts, mine = reactions_for(
        session,
        ids,
        viewer.user_id,
        shadowed_in=comment.article_id if viewer.user_id and own_shadowed is not None else None,
        own_shadowed=own_shadowed,
    )
    return build_tree([comment], replies)[0], counts, mine


__all__ = [
    "Cursors",
    "CursorError",
    "Viewer",
    "Node",
    "ThreadPage",
    "place_reply",
    "ancestor_ids",
    "is_counted",
    "visible_to",
    "comment_visible",
    "list_thread",
    "subtree",
    "replies_after",
    "reactions_for",
    "shadow_adjustments",
    "add_own_uncounted",
    "build_tree",
    "own_reactions",
    "article_for_listing",
    "ArticleHead",
]
