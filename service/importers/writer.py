"""The one writer every importer feeds: records in, rows out, a report at the end.

What every format gets here, whatever its shape:
- idempotency: each source comment's id is kept in ``imported_comments``; a second run skips
  what it has seen, and a newer export's replies find their parents in earlier runs;
- threading by our depth rule (``threads.place_reply``): a reply deeper than
  COMMENTS_MAX_DEPTH attaches to its parent's parent, exactly as a posted reply does;
- bodies through ``bodies.render``, the renderer and sanitiser of a posted comment (HTML
  sources are first turned into Markdown by markdownify, so what was a tag becomes Markdown
  or text and is then rendered like anything a reader types);
- e-mail and IP addresses are never stored, only counted;
- counters by ``data.recount`` and a version bump for every touched article, and one audit
  entry for the whole import.

Memory stays flat whatever the file's size: records are written in batches, and a reply's
parent is looked up in the database (with a bounded cache) rather than kept for the run. A
reply that arrives before its parent waits until the parent comes; one whose parent never
comes is an orphan and is attached at the top level (reported).

The writer flushes and never commits: the caller commits once, so a file that fails half
way (truncated, malformed) leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from ..domain import audit
from ..domain.data import recount
from ..domain.reactions import _insert
from ..domain.threads import ancestor_ids, place_reply
from ..enums import ArticleStatus, CommentStatus, HeldReason
from ..models import Article, Comment, CommentReaction, ImportedComment, utcnow
from .convert import html_to_markdown, prepare, prepare_many
from .mapping import Mapper
from .records import Note, Post, Record, State, Thread

_COMMENTS = cast(Table, Comment.__table__)
_ARTICLES = cast(Table, Article.__table__)
_IMPORTED = cast(Table, ImportedComment.__table__)
_INSERT_COMMENTS = insert(_COMMENTS).returning(_COMMENTS.c.id, sort_by_parameter_order=True)
_KNOWN = select(
    _IMPORTED.c.source_id,
    _COMMENTS.c.id,
    _COMMENTS.c.path,
    _COMMENTS.c.depth,
    _COMMENTS.c.parent_id,
    _COMMENTS.c.article_id,
).join(_COMMENTS, _COMMENTS.c.id == _IMPORTED.c.comment_id)

CACHE_LIMIT = 50_000  # placed comments remembered between batches (then asked again)
# PostgreSQL: the import is one transaction, so autovacuum never sees its rows and the planner
# keeps the statistics of the tables as they were (empty, on a first import). Past a few
# thousand rows the id lookups then scan every imported id of the source (86 ms per batch at
# 100,000, growing with the table, instead of 2 ms by the primary key). ANALYZE inside the
# transaction counts its own new rows; it runs when the rows written since the last one reach
# this many and as many as there were then (so about log2(N) times in all).
ANALYZE_FIRST = 5_000
UNMAPPED_SHOWN = 20  # unmapped thread URLs listed in the report; all are counted

STATUS = {
    State.PUBLISHED: CommentStatus.PUBLISHED,
    State.PENDING: CommentStatus.PENDING,
    State.DELETED: CommentStatus.DELETED,
    State.SPAM: CommentStatus.REMOVED,
}


@dataclass(frozen=True)
class Options:
    source: str  # the format: the namespace of source ids in imported_comments
    user_prefix: str = ""
    skip_removed: bool = False
    max_depth: int = 5
    batch: int = 1000
    # Processes that convert and render bodies (the bulk of the CPU) while this one parses
    # and writes; 1: all in this process. Only a file of more than two batches starts them.
    jobs: int = 1


@dataclass
class Report:
    threads: int = 0
    comments: int = 0  # posts read from the file
    added: Counter[str] = field(default_factory=Counter)  # by our status
    already_present: int = 0
    users: set[str] = field(default_factory=set)
    guest_comments: int = 0
    emails_dropped: int = 0
    ips_dropped: int = 0
    votes_added: int = 0
    anonymous_votes: int = 0
    orphans: int = 0
    flattened: int = 0
    closed_threads: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    unmapped_threads: int = 0
    unmapped: dict[str, str] = field(default_factory=dict)  # url -> why (first few)
    articles: set[str] = field(default_factory=set)
    drift: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Counts only (for the audit entry and --json)."""
        return {
            "threads": self.threads,
            "comments_read": self.comments,
            "comments_added": sum(self.added.values()),
            "added_by_status": dict(sorted(self.added.items())),
            "already_present": self.already_present,
            "articles": len(self.articles),
            "users": len(self.users),
            "guest_comments": self.guest_comments,
            "closed_threads": self.closed_threads,
            "votes_added": self.votes_added,
            "votes_without_voter_not_imported": self.anonymous_votes,
            "orphans_attached_at_top_level": self.orphans,
            "replies_flattened_by_depth_rule": self.flattened,
            "emails_not_stored": self.emails_dropped,
            "ips_not_stored": self.ips_dropped,
            "unmapped_threads": self.unmapped_threads,
            "skipped": dict(sorted(self.skipped.items())),
        }

    def lines(self) -> list[str]:
        s = self.summary()
        out = [
            f"threads: {s['threads']} read, {s['articles']} articles received comments, "
            f"{s['closed_threads']} closed, {s['unmapped_threads']} unmapped",
            f"comments: {s['comments_read']} read, {s['comments_added']} added "
            + "("
            + (", ".join(f"{n} {k}" for k, n in s["added_by_status"].items()) or "none")
            + f"), {s['already_present']} already imported",
            f"authors: {s['users']} users, {s['guest_comments']} comments by guests",
            f"votes: {s['votes_added']} added, {s['votes_without_voter_not_imported']} "
            "without a voter not imported",
            f"threading: {s['orphans_attached_at_top_level']} orphans attached at the top "
            f"level, {s['replies_flattened_by_depth_rule']} replies attached by the depth rule",
            f"privacy: {s['emails_not_stored']} e-mail addresses and {s['ips_not_stored']} "
            "IP addresses not stored",
        ]
        for reason, n in s["skipped"].items():
            out.append(f"skipped: {n} {reason}")
        for url, why in self.unmapped.items():
            out.append(f"unmapped thread: {url} ({why})")
        if self.unmapped_threads > len(self.unmapped):
            out.append(
                f"unmapped thread: ... and {self.unmapped_threads - len(self.unmapped)} more"
            )
        if self.drift:
            wrong = {k: v for k, v in self.drift.items() if v}
            out.append(f"counters after import: {'all right' if not wrong else wrong}")
        return out


@dataclass(frozen=True, slots=True)  # up to CACHE_LIMIT of them: no __dict__ each
class Placed:
    """An imported comment as a reply to it needs it."""

    id: int
    path: str
    depth: int
    parent_id: int | None
    article_id: str


@dataclass
class _ThreadInfo:
    article_id: str | None
    closed: bool
    deleted: bool
    created_at: dt.datetime | None
    url: str | None
    why: str
    created: bool = False
    reported: bool = False


class Writer:
    def __init__(
        self,
        session: Session,
        options: Options,
        mapper: Mapper,
        *,
        now: dt.datetime | None = None,
        progress: Callable[[Report], None] | None = None,
    ) -> None:
        self.session = session
        self.options = options
        self.mapper = mapper
        self.now = now or utcnow()
        self.progress = progress
        self.report = Report()
        self.threads: dict[str, _ThreadInfo] = {}
        self.batch: list[Post] = []
        self.known: dict[str, Placed] = {}
        self.waiting: dict[str, list[Post]] = {}
        self.waiting_count = 0
        self.written = 0  # rows inserted into comments by this run
        self.analyzed_at = 0  # ... when the statistics were last refreshed (PostgreSQL)
        self.postgres = session.get_bind().dialect.name == "postgresql"

    # --- input ------------------------------------------------------------------------------

    def run(self, records: Iterable[Record]) -> Report:
        for record in _prepared(records, jobs=self.options.jobs, window=2 * self.options.batch):
            if isinstance(record, Post):
                self._post(record)
            elif isinstance(record, Thread):
                self._thread(record)
            elif isinstance(record, Note):
                self.report.skipped[record.reason] += record.count
        self._flush()
        self._adopt_orphans()
        self._finish()
        return self.report

    def _thread(self, thread: Thread) -> None:
        if thread.key in self.threads:
            return  # formats keyed by URL announce a thread once per comment
        self.report.threads += 1
        article_id, why = self.mapper.article_id(thread)
        self.threads[thread.key] = _ThreadInfo(
            article_id, thread.closed, thread.deleted, thread.created_at, thread.url, why
        )

    def _post(self, post: Post) -> None:
        self.report.comments += 1
        self.report.emails_dropped += post.had_email
        self.report.ips_dropped += post.had_ip
        self.report.anonymous_votes += post.anonymous_votes
        self.batch.append(post)
        if len(self.batch) >= self.options.batch:
            self._flush()

    # --- batches ----------------------------------------------------------------------------

    def _flush(self) -> None:
        posts, self.batch = self.batch, []
        while posts:
            released = self._write(posts)
            posts = released
        if self.progress is not None:
            self.progress(self.report)

    def _accept(self, post: Post) -> _ThreadInfo | None:
        thread = self.threads.get(post.thread_key)
        if thread is None:
            self.report.skipped["comments whose thread is not in the file"] += 1
            return None
        if thread.article_id is None:
            self.report.skipped["comments in unmapped threads"] += 1
            if not thread.reported:
                thread.reported = True
                self.report.unmapped_threads += 1
                if len(self.report.unmapped) < UNMAPPED_SHOWN:
                    self.report.unmapped[thread.url or f"(thread {post.thread_key})"] = thread.why
            return None
        if thread.deleted:
            self.report.skipped["comments in threads deleted in the source"] += 1
            return None
        if self.options.skip_removed and post.state in (State.DELETED, State.SPAM):
            self.report.skipped[f"{post.state.value} comments (--skip-removed)"] += 1
            return None
        return thread

    def _analyze(self) -> None:
        """Fresh planner statistics for the tables the lookups join (see ANALYZE_FIRST)."""
        if not self.postgres or self.written - self.analyzed_at < max(
            ANALYZE_FIRST, self.analyzed_at
        ):
            return
        self.session.execute(sql("ANALYZE imported_comments, comments"))
        self.analyzed_at = self.written

    def _lookup(self, source_ids: Iterable[str]) -> dict[str, Placed]:
        self._analyze()
        wanted = [sid for sid in set(source_ids) if sid not in self.known]
        found: dict[str, Placed] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for sid, cid, path, depth, parent_id, article_id in self.session.execute(
                _KNOWN.where(
                    _IMPORTED.c.source == self.options.source, _IMPORTED.c.source_id.in_(chunk)
                )
            ):
                found[sid] = Placed(cid, path, depth, parent_id, article_id)
        return found

    def _remember(self, sid: str, placed: Placed) -> None:
        if len(self.known) >= CACHE_LIMIT:
            self.known.clear()
        self.known[sid] = placed

    def _write(self, posts: list[Post]) -> list[Post]:
        """Write one batch; returns the waiting replies whose parents it wrote."""
        accepted: dict[str, tuple[Post, _ThreadInfo]] = {}
        for post in posts:
            if post.source_id in accepted:
                self.report.skipped["duplicate comment ids in the file"] += 1
                continue
            thread = self._accept(post)
            if thread is not None:
                accepted[post.source_id] = (post, thread)
        if not accepted:
            return []
        # Already imported (by an earlier run, or earlier in this file): known or stored.
        for sid in [sid for sid in accepted if sid in self.known]:
            self.report.already_present += 1
            del accepted[sid]
        for sid, placed in self._lookup(accepted).items():
            self.report.already_present += 1
            self._remember(sid, placed)
            del accepted[sid]
        parents = {p.parent_id for p, _t in accepted.values() if p.parent_id}
        for sid, placed in self._lookup(parents - set(accepted)).items():
            self._remember(sid, placed)

        remaining = list(accepted.values())
        released: list[Post] = []
        while remaining:
            ready, later = [], []
            for post, thread in remaining:
                if post.parent_id is None or post.parent_id in self.known:
                    ready.append((post, thread))
                elif post.parent_id in accepted:
                    later.append((post, thread))
                else:  # the parent has not come (yet): wait for it
                    self.waiting.setdefault(post.parent_id, []).append(post)
                    self.waiting_count += 1
            if not ready:  # a cycle of parents inside the batch: orphans
                ready, later = [(later[0][0], later[0][1])], later[1:]
                ready[0] = (_orphaned(ready[0][0]), ready[0][1])
                self.report.orphans += 1
            self._insert(ready)
            for post, _thread in ready:
                children = self.waiting.pop(post.source_id, None)
                if children:
                    self.waiting_count -= len(children)
                    released.extend(children)
            remaining = later
        return released

    def _insert(self, ready: list[tuple[Post, _ThreadInfo]]) -> None:
        rows: list[dict[str, Any]] = []
        placed: list[tuple[str, Placed]] = []
        votes: list[tuple[int, Post]] = []
        kept: list[Post] = []
        for post, thread in ready:
            article_id = cast(str, thread.article_id)
            self._ensure_article(thread)
            status = STATUS[post.state]
            if status == CommentStatus.DELETED:
                body, body_html, fingerprint = None, None, None
            else:
                body, body_html, fingerprint = post.prepared or prepare(post.body, post.html)
                if not body:
                    self.report.skipped["comments with an empty body"] += 1
                    continue
            depth, path, root_id, parent_id = 0, "/", None, None
            if post.parent_id is not None:
                parent = self.known.get(post.parent_id)
                if parent is None or parent.article_id != article_id:
                    self.report.orphans += 1
                else:
                    parent_id, depth = place_reply(
                        parent_id=parent.id,
                        parent_depth=parent.depth,
                        grandparent_id=parent.parent_id,
                        max_depth=self.options.max_depth,
                    )
                    if parent_id == parent.id:
                        path = f"{parent.path}{parent.id}/"
                    else:
                        self.report.flattened += 1
                        if parent_id is not None:
                            path = parent.path
                    root_id = ancestor_ids(path)[0] if path != "/" else None
            if post.author_id:
                user_id = (self.options.user_prefix + post.author_id)[:200]
                self.report.users.add(user_id)
                author_id: str | None = user_id
            else:
                author_id = None
                self.report.guest_comments += 1
            rows.append(
                {
                    "article_id": article_id,
                    "parent_id": parent_id,
                    "root_id": root_id,
                    "path": path,
                    "depth": depth,
                    "author_id": author_id,
                    "author_name": (post.author_name or "").strip()[:200] or "Anonymous",
                    "author_is_guest": author_id is None,
                    "author_is_moderator": False,
                    "body": body,
                    "body_html": body_html,
                    "body_fingerprint": fingerprint,
                    "status": status,
                    "held_reason": HeldReason.PREMODERATION.value
                    if status == CommentStatus.PENDING
                    else None,
                    "shadowed": False,
                    "pinned": False,
                    "created_at": post.created_at,
                    "status_changed_at": None
                    if status == CommentStatus.PUBLISHED
                    else post.created_at,
                }
            )
            placed.append((post.source_id, Placed(0, path, depth, parent_id, article_id)))
            kept.append(post)
        if not rows:
            return
        ids = list(self.session.execute(_INSERT_COMMENTS, rows).scalars())
        self.written += len(ids)
        self.session.execute(
            insert(_IMPORTED),
            [
                {"source": self.options.source, "source_id": sid, "comment_id": cid}
                for (sid, _p), cid in zip(placed, ids, strict=True)
            ],
        )
        for (sid, p), cid, row, post in zip(placed, ids, rows, kept, strict=True):
            self._remember(sid, Placed(cid, p.path, p.depth, p.parent_id, p.article_id))
            self.report.added[row["status"].value] += 1
            self.report.articles.add(p.article_id)
            if post.votes:
                votes.append((cid, post))
        if votes:
            self._insert_votes(votes)

    def _insert_votes(self, votes: list[tuple[int, Post]]) -> None:
        rows = [
            {
                "comment_id": cid,
                "user_id": (self.options.user_prefix + vote.user_id)[:200],
                "kind": "like" if vote.like else "dislike",
                "counted": True,
                "created_at": post.created_at,
            }
            for cid, post in votes
            for vote in post.votes
        ]
        # The comments are new, so only a vote repeated in the source can conflict.
        self.session.execute(_insert(self.session, CommentReaction).on_conflict_do_nothing(), rows)
        self.report.votes_added += len(rows)

    def _ensure_article(self, thread: _ThreadInfo) -> None:
        if thread.created:
            return
        thread.created = True
        article_id = cast(str, thread.article_id)
        self.session.execute(
            _insert(self.session, Article)
            .values(
                id=article_id,
                status=ArticleStatus.OPEN,
                comment_count=0,
                reaction_count=0,
                version=0,
                created_at=thread.created_at or self.now,
            )
            .on_conflict_do_nothing()
        )
        if thread.closed:
            closed = self.session.execute(
                update(_ARTICLES)
                .where(_ARTICLES.c.id == article_id, _ARTICLES.c.status == ArticleStatus.OPEN)
                .values(status=ArticleStatus.CLOSED)
            )
            self.report.closed_threads += closed.rowcount  # type: ignore[attr-defined]

    # --- the end ----------------------------------------------------------------------------

    def _adopt_orphans(self) -> None:
        """Replies whose parent never came: attached at the top level, with their subtrees."""
        while self.waiting:
            waiting_ids = {p.source_id for posts in self.waiting.values() for p in posts}
            roots = [pid for pid in self.waiting if pid not in waiting_ids] or [
                next(iter(self.waiting))  # a cycle: break it anywhere
            ]
            orphans: list[Post] = []
            for pid in roots:
                children = self.waiting.pop(pid)
                self.waiting_count -= len(children)
                orphans.extend(_orphaned(p) for p in children)
            self.report.orphans += len(orphans)
            posts = orphans
            while posts:
                posts = self._write(posts)

    def _finish(self) -> None:
        touched = sorted(self.report.articles)
        first = (
            select(func.min(_COMMENTS.c.created_at))
            .where(_COMMENTS.c.article_id == _ARTICLES.c.id)
            .scalar_subquery()
        )
        for start in range(0, len(touched), 500):
            chunk = touched[start : start + 500]
            # Pages of these threads changed: cached pages and ETags must not be served.
            self.session.execute(
                update(_ARTICLES)
                .where(_ARTICLES.c.id.in_(chunk))
                .values(version=_ARTICLES.c.version + 1, first_comment_at=first)
                .execution_options(synchronize_session=False)
            )
        if touched:
            recount(self.session, article_ids=touched, fix=True)
        if sum(self.report.added.values()) or self.report.closed_threads:
            audit.record(
                self.session,
                actor_id=audit.SYSTEM,
                action="import",
                target_type="article",
                target_id=f"import:{self.options.source}",
                reason=f"flask import {self.options.source}",
                after=self.report.summary(),
                now=self.now,
            )
        self.session.flush()


def _orphaned(post: Post) -> Post:
    return replace(post, parent_id=None)


def _prepared(records: Iterable[Record], *, jobs: int, window: int) -> Iterator[Record]:
    """The records, with the bodies of posts worked out by ``jobs`` processes while the
    caller writes the previous window: a two-window pipeline, so memory stays bounded."""
    it = iter(records)
    first = list(islice(it, window))
    if jobs <= 1 or len(first) < window:
        yield from first
        yield from it
        return
    # spawn: the workers inherit no database connection (and none of Flask).
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        pending: tuple[list[Record], Any] | None = None
        chunk = first
        while chunk:
            items = [
                (r.body, r.html) for r in chunk if isinstance(r, Post) and r.state != State.DELETED
            ]
            size = max(1, len(items) // (jobs * 4))
            job = pool.map_async(
                prepare_many, [items[i : i + size] for i in range(0, len(items), size)]
            )
            if pending is not None:
                yield from _attach(*pending)
            pending = (chunk, job)
            chunk = list(islice(it, window))
        if pending is not None:
            yield from _attach(*pending)


def _attach(chunk: list[Record], job: Any) -> Iterator[Record]:
    results = iter([r for part in job.get() for r in part])
    for record in chunk:
        if isinstance(record, Post) and record.state != State.DELETED:
            yield replace(record, prepared=next(results))
        else:
            yield record


__all__ = ["Options", "Report", "Writer", "html_to_markdown", "prepare"]
