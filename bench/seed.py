"""Benchmark data, bulk-inserted (executemany on SQLite, COPY on PostgreSQL), never through
the API: a million comments through the API would take longer than the benchmark itself.

Rows carry exactly what the domain code would have written for the same history (each
comment posted in id order, then the reactions): materialised ``path``/``root_id``/``depth``
as ``domain/threads.place_reply`` places a reply, ``reply_count`` of every ancestor,
likes/dislikes/score/best/controversy as ``domain/reactions`` keeps them, one
``comment_reaction_counts`` row per (comment, kind) with reactions, and the article's
``comment_count`` and ``version`` (one bump per comment and per reaction).
``tests/bench/test_seed.py`` checks these invariants against the database.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from sqlalchemy import Engine, text

from service.domain import bodies, ranking
from service.domain.threads import ancestor_ids, place_reply

KINDS = ("like", "dislike", "insightful", "funny", "agree", "disagree")
MAX_DEPTH = 5

COMMENT_COLUMNS = (
    "id",
    "article_id",
    "parent_id",
    "root_id",
    "path",
    "depth",
    "author_id",
    "author_name",
    "author_is_guest",
    "author_is_moderator",
    "edit_token_hash",
    "body",
    "body_html",
    "body_fingerprint",
    "status",
    "held_reason",
    "shadowed",
    "pinned",
    "created_at",
    "edited_at",
    "status_changed_at",
    "reply_count",
    "likes",
    "dislikes",
    "score",
    "best",
    "controversy",
    "flag_count",
    "flag_weight",
)
REACTION_COLUMNS = ("comment_id", "user_id", "kind", "counted", "created_at")
COUNT_COLUMNS = ("comment_id", "kind", "count")
ARTICLE_COLUMNS = (
    "id",
    "status",
    "premoderation",
    "comment_count",
    "reaction_count",
    "version",
    "created_at",
    "first_comment_at",
)

SENTENCES = (
    "Cloud revenue grew faster than the market expected, but margins tell another story.",
    "The **guidance** matters more than the quarter; management sounded cautious.",
    "I'd wait for the *next* filing before reading too much into one number.",
    "Interesting that nobody on the call asked about capital expenditure.",
    "Source for the 26% figure? The [release](https://example.com/ir) says otherwise.",
    "Buybacks at these prices look like a poor use of cash to me.",
    "Compared with last year this is a clear improvement, whatever the headline says.",
    "The currency effect alone explains half of the beat.",
)


@dataclass
class Plan:
    """Rows for one batch of articles, ready for bulk insertion."""

    articles: list[tuple[Any, ...]] = field(default_factory=list)
    comments: list[tuple[Any, ...]] = field(default_factory=list)
    reactions: list[tuple[Any, ...]] = field(default_factory=list)
    counts: list[tuple[Any, ...]] = field(default_factory=list)


class BodyPool:
    """Rendering a million bodies with markdown-it would dominate the seeding: unique short
    bodies are rendered for real; ``reuse`` draws from a pool rendered once."""

    def __init__(self, rng: random.Random, size: int = 500) -> None:
        self.rng = rng
        self.pool = [self._make(i) for i in range(size)]

    def _make(self, i: int) -> tuple[str, str, str]:
        text_ = " ".join(self.rng.sample(SENTENCES, k=1 + i % 3)) + f" ({i})"
        return text_, bodies.render(text_), bodies.fingerprint(text_)

    def unique(self, i: int) -> tuple[str, str, str]:
        return self._make(i)

    def reuse(self) -> tuple[str, str, str]:
        return self.rng.choice(self.pool)


def plan_articles(
    *,
    article_ids: Sequence[str],
    comments: int,
    first_id: int,
    rng: random.Random,
    reply_share: float = 1 / 3,
    reactors: int = 0,
    reactions_per_comment: float = 0.0,
    unique_bodies: bool = True,
    now: dt.datetime | None = None,
) -> Plan:
    """``comments`` comments spread at random over ``article_ids`` (one article: all of them),
    a ``reply_share`` of them replies to an earlier comment of the same article, and on
    average ``reactions_per_comment`` reactions from ``reactors`` distinct users."""
    now = now or dt.datetime.now(dt.timezone.utc)
    start = now - dt.timedelta(days=2)
    pool = BodyPool(rng)
    per_article: dict[str, list[int]] = {a: [] for a in article_ids}
    version = dict.fromkeys(article_ids, 0)
    first_at: dict[str, dt.datetime] = {}
    # id -> [article_id, parent_id, root_id, path, depth, author, created, reply_count]
    rows: dict[int, list[Any]] = {}
    step = dt.timedelta(days=1) / max(comments, 1)
    for n in range(comments):
        cid = first_id + n
        article = article_ids[0] if len(article_ids) == 1 else rng.choice(article_ids)
        created = start + step * n
        siblings = per_article[article]
        parent_id = root_id = None
        path, depth = "/", 0
        if siblings and rng.random() < reply_share:
            parent = rows[rng.choice(siblings)]
            pid = parent[8]
            parent_id, depth = place_reply(
                parent_id=pid, parent_depth=parent[4], grandparent_id=parent[1], max_depth=MAX_DEPTH
            )
            if parent_id == pid:
                path = f"{parent[3]}{pid}/"
            elif parent_id is not None:
                path = parent[3]
            root_id = ancestor_ids(path)[0] if path != "/" else None
            for ancestor in ancestor_ids(path):
                rows[ancestor][7] += 1
        author = rng.randrange(5000)
        rows[cid] = [article, parent_id, root_id, path, depth, author, created, 0, cid]
        siblings.append(cid)
        version[article] += 1
        first_at.setdefault(article, created)

    likes: dict[int, int] = {}
    dislikes: dict[int, int] = {}
    plan = Plan()
    if reactors and reactions_per_comment:
        per_kind: dict[tuple[int, str], int] = {}
        for cid, row in rows.items():
            k = int(reactions_per_comment) + (rng.random() < reactions_per_comment % 1)
            users = rng.sample(range(reactors), k=min(k, reactors))
            for user in users:
                kind = rng.choice(KINDS)
                plan.reactions.append(
                    (cid, f"reader-{user}", kind, True, row[6] + dt.timedelta(seconds=30))
                )
                per_kind[(cid, kind)] = per_kind.get((cid, kind), 0) + 1
                version[row[0]] += 1
                if kind == "like":
                    likes[cid] = likes.get(cid, 0) + 1
                elif kind == "dislike":
                    dislikes[cid] = dislikes.get(cid, 0) + 1
        plan.counts = [(cid, kind, n) for (cid, kind), n in sorted(per_kind.items())]

    for cid, (
        article,
        parent_id,
        root_id,
        path,
        depth,
        author,
        created,
        replies,
        _,
    ) in rows.items():
        body, html, fingerprint = pool.unique(cid) if unique_bodies else pool.reuse()
        up, down = likes.get(cid, 0), dislikes.get(cid, 0)
        plan.comments.append(
            (
                cid,
                article,
                parent_id,
                root_id,
                path,
                depth,
                f"user-{author}",
                f"Reader {author}",
                False,
                False,
                None,
                body,
                html,
                fingerprint,
                "published",
                None,
                False,
                False,
                created,
                None,
                None,
                replies,
                up,
                down,
                ranking.net_score(up, down),
                ranking.wilson_lower_bound(up, down),
                ranking.controversy(up, down),
                0,
                0.0,
            )
        )
    for article in article_ids:
        plan.articles.append(
            (
                article,
                "open",
                None,
                len(per_article[article]),
                0,
                version[article],
                start,
                first_at.get(article),
            )
        )
    return plan


# --- bulk insertion ---------------------------------------------------------------------------


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


def _insert(
    engine: Engine,
    table: str,
    columns: Sequence[str],
    rows: Iterable[tuple[Any, ...]],
    chunk: int = 50_000,
) -> None:
    rows = list(rows)
    if not rows:
        return
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                buffer = io.StringIO()
                for i, row in enumerate(rows, 1):
                    buffer.write("\t".join(_copy_value(v) for v in row) + "\n")
                    if i % chunk == 0:
                        copy.write(buffer.getvalue())
                        buffer = io.StringIO()
                copy.write(buffer.getvalue())
        else:
            sqlite_rows = [
                tuple(
                    v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, dt.datetime) else v
                    for v in row
                )
                for row in rows
            ]
            marks = ", ".join("?" for _ in columns)
            for i in range(0, len(sqlite_rows), chunk):
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    sqlite_rows[i : i + chunk],
                )
        raw.commit()
    finally:
        raw.close()


def insert_plan(engine: Engine, plan: Plan) -> None:
    _insert(engine, "articles", ARTICLE_COLUMNS, plan.articles)
    _insert(engine, "comments", COMMENT_COLUMNS, plan.comments)
    _insert(engine, "comment_reactions", REACTION_COLUMNS, plan.reactions)
    _insert(engine, "comment_reaction_counts", COUNT_COLUMNS, plan.counts)


def next_comment_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM comments")).scalar_one()) + 1


def finish(engine: Engine) -> None:
    """After explicit ids: move PostgreSQL's sequences past them (SQLite's AUTOINCREMENT
    follows by itself), and give both planners fresh statistics, as autovacuum or
    ``PRAGMA optimize`` would on a live database."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("comments", "comment_reactions"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
                    )
                )
        conn.execute(text("ANALYZE"))


def flag_comments(engine: Engine, comment_ids: Sequence[int], rng: random.Random) -> int:
    """Open flags on ``comment_ids`` (one or two each, from distinct readers, below the
    auto-hide threshold of 3), with each comment's ``flag_count`` and ``flag_weight`` as
    ``domain/moderation`` keeps them for first-time flaggers (weight 1). The moderators'
    queue then has something to show. Returns the number of flags."""
    from service.enums import FlagReason, FlagState
    from service.models import Flag

    now = dt.datetime(2026, 11, 28, 12, tzinfo=dt.timezone.utc)
    flags: list[dict[str, Any]] = []
    counters: list[dict[str, Any]] = []
    for comment_id in comment_ids:
        n = rng.randint(1, 2)
        flags += [
            {
                "comment_id": comment_id,
                "user_id": f"flagger-{k}",
                "reason": rng.choice(list(FlagReason)),
                "weight": 1.0,
                "state": FlagState.OPEN,
                "created_at": now,
            }
            for k in range(n)
        ]
        counters.append({"cid": comment_id, "n": n})
    with engine.begin() as conn:
        conn.execute(Flag.__table__.insert(), flags)
        conn.execute(
            text("UPDATE comments SET flag_count = :n, flag_weight = :n WHERE id = :cid"), counters
        )
    return len(flags)
