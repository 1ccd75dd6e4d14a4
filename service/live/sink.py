"""Domain events → what an anonymous reader of the thread would now see differently.

``in_transaction`` runs just before the commit, while the rows are fresh: it reads the
comments and articles the events touched (a fixed number of queries per transaction) and
builds each stream event's JSON with the listing's own output functions, as an anonymous
reader sees them. ``after_commit`` publishes what was built (one Redis call, or a hand-off
to the event loop); a rolled-back transaction publishes nothing.

Visibility is decided per comment from where it started and where it ended in the
transaction: not visible → visible is ``comment.created`` (a new published comment, an
approved pending one, a restored hidden one); visible → visible with a change of body,
status or pin is ``comment.updated`` (edits, tombstones, pins); visible → not visible is
``comment.removed``. Pending, hidden and shadow-banned comments, and everything in a hidden
article, never produce an event. The article's own object follows every change of its
count or settings; reactions that count publicly produce ``reactions``.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

import orjson
from sqlalchemy import bindparam, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..domain import events as ev
from ..domain.reactions import article_reactions
from ..domain.threads import Viewer, ancestor_ids, comment_visible, reactions_for
from ..enums import TOMBSTONE_STATUSES, ArticleStatus, CommentStatus
from ..models import Article, Comment
from ..schemas import article_out, comment_out
from .hub import Hub

log = logging.getLogger(__name__)

ANONYMOUS = Viewer()
# Stream event types (the contract's catalogue).
CREATED, UPDATED, REMOVED = "comment.created", "comment.updated", "comment.removed"
REACTIONS, ARTICLE, RESET = "reactions", "article", "reset"
PIN_ACTIONS = ("pin", "unpin")
KEEP_BUILT = 1024  # built batches awaiting their commit (a rolled-back one is never asked for)

Item = tuple[str, str, bytes]  # (article id, stream event, data JSON)


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def _was_visible(before: str, comment: Comment | None) -> bool:
    """Could an anonymous reader see the comment while it had status ``before``?"""
    if before == CommentStatus.PUBLISHED.value:
        return comment is None or not comment.shadowed
    if before in (s.value for s in TOMBSTONE_STATUSES):
        return comment is None or comment.reply_count > 0
    return False


def removed_out(comment_id: int, article_id: str, comment: Comment | None) -> dict[str, Any]:
    """What a stream says of a comment that left the public thread: where it was."""
    return {
        "id": comment_id,
        "article_id": article_id,
        "parent_id": comment.parent_id if comment is not None else None,
        "depth": comment.depth if comment is not None else None,
    }


# The rows as the transaction left them (counters move by SQL expressions). Built once:
# they run on every write.
_FRESH_COMMENTS = (
    select(Comment)
    .where(Comment.id.in_(bindparam("ids", expanding=True)))
    .execution_options(populate_existing=True)
)
_FRESH_ARTICLES = (
    select(Article)
    .where(Article.id.in_(bindparam("ids", expanding=True)))
    .execution_options(populate_existing=True)
)


# The domain events a stream can show. The rest (notification.created, which a post records
# in the commit's second round of sinks; flags; user events) would only re-read the rows the
# first round already built from, and say nothing.
STREAMED = frozenset(
    {
        ev.COMMENT_CREATED,
        ev.COMMENT_EDITED,
        ev.COMMENT_STATUS,
        ev.COMMENT_MODERATED,
        ev.REACTION_CHANGED,
        ev.ARTICLE_CHANGED,
    }
)


def build(session: Session, events: list[ev.Event]) -> list[Item]:
    """The stream events for one transaction's domain events, in order."""
    order: list[int] = []  # comments in the order they were first touched
    article_of: dict[int, str] = {}
    created: set[int] = set()
    changed: set[int] = set()  # body, status or pin moved
    status_before: dict[int, str] = {}  # the first recorded status of the transaction
    reacted: set[int] = set()
    article_reacted: list[str] = []
    article_changes: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for event in events:
        if event.article_id is None or event.type not in STREAMED:
            continue
        cid = event.comment_id
        if event.type == ev.ARTICLE_CHANGED:
            first = article_changes.get(event.article_id, (event.data["before"], {}))[0]
            article_changes[event.article_id] = (first, event.data["after"])
            continue
        if event.type == ev.REACTION_CHANGED:
            if not event.data.get("counted", True):
                continue  # a shadow-banned reader's reaction: public counts did not move
            if cid is None:
                if event.article_id not in article_reacted:
                    article_reacted.append(event.article_id)
                continue
            reacted.add(cid)
        if cid is None or event.type == ev.COMMENT_FLAGGED:
            continue
        if cid not in article_of:
            order.append(cid)
            article_of[cid] = event.article_id
        if event.type == ev.COMMENT_CREATED:
            created.add(cid)
        elif event.type == ev.COMMENT_STATUS:
            status_before.setdefault(cid, event.data["before"])
            changed.add(cid)
        elif event.type == ev.COMMENT_EDITED:
            changed.add(cid)
        elif event.type == ev.COMMENT_MODERATED and event.data.get("action") in PIN_ACTIONS:
            changed.add(cid)  # approve, remove, restore also move the status (recorded)
    articles = set(article_of.values()) | set(article_reacted) | set(article_changes)
    if not articles:
        return []

    comments: dict[int, Comment] = {}
    if order:
        for row in session.scalars(_FRESH_COMMENTS, {"ids": order}):
            comments[row.id] = row
    heads = {a.id: a for a in session.scalars(_FRESH_ARTICLES, {"ids": list(articles)})}

    def hidden(article_id: str) -> bool:
        head = heads.get(article_id)
        return head is not None and head.status == ArticleStatus.HIDDEN

    out: list[Item] = []
    shown: list[Comment] = []  # comments whose Comment JSON goes out (need their counts)
    plan: list[tuple[str, int]] = []
    count_moved: set[str] = set()
    for cid in order:
        article_id = article_of[cid]
        comment = comments.get(cid)
        now = comment is not None and comment_visible(comment, ANONYMOUS)
        if cid in created:
            was = False
        elif cid in status_before:
            was = _was_visible(status_before[cid], comment)
        else:
            was = now
        if now and not was:
            plan.append((CREATED, cid))
        elif now and was and cid in changed:
            plan.append((UPDATED, cid))
        elif was and not now:
            plan.append((REMOVED, cid))
        if now and cid in reacted and not (cid in created or not was):
            plan.append((REACTIONS, cid))
        if now != was or cid in status_before:
            count_moved.add(article_id)
        if now and comment is not None:
            shown.append(comment)

    # A tombstone whose last visible reply went leaves the listing with it.
    above = {
        ancestor
        for kind, cid in plan
        if kind == REMOVED and cid in comments
        for ancestor in ancestor_ids(comments[cid].path)
    } - set(comments)
    if above:
        for tombstone in session.scalars(
            select(Comment)
            .where(Comment.id.in_(above), Comment.status.in_(TOMBSTONE_STATUSES))
            .where(Comment.reply_count == 0)
            .order_by(Comment.depth.desc())
        ):
            comments[tombstone.id] = tombstone
            article_of[tombstone.id] = tombstone.article_id
            plan.append((REMOVED, tombstone.id))

    counts: dict[int, dict[str, int]] = {}
    older = [c.id for c in shown if c.id not in created]  # a new comment has no reactions
    if older:
        counts, _ = reactions_for(session, older, None)
    for kind, cid in plan:
        article_id = article_of[cid]
        if hidden(article_id):
            continue
        comment = comments.get(cid)
        if kind == REMOVED:
            data: dict[str, Any] = removed_out(cid, article_id, comment)
        elif kind == REACTIONS:
            assert comment is not None
            data = {"comment_id": cid, "reactions": counts.get(cid, {}), "score": comment.score}
        else:
            assert comment is not None
            data = comment_out(comment, reactions=counts, mine={})
        out.append((article_id, kind, _dumps(data)))

    for article_id in sorted(articles, key=lambda a: (a not in article_changes, a)):
        head = heads.get(article_id)
        if article_id in article_changes:
            before, after = article_changes[article_id]
            was_hidden = before.get("status") == ArticleStatus.HIDDEN.value
            if hidden(article_id) or was_hidden or after != before:
                out.append((article_id, ARTICLE, _dumps(_article(session, article_id, head))))
            if was_hidden and not hidden(article_id):
                # Everything that happened while it was hidden went unsaid: refetch.
                out.append((article_id, RESET, b"{}"))
            continue
        if hidden(article_id):
            continue
        if article_id in article_reacted:
            reactions, _ = article_reactions(session, article_id, None)
            data = {"comment_id": None, "reactions": reactions, "score": None}
            out.append((article_id, REACTIONS, _dumps(data)))
        if article_id in count_moved:
            out.append((article_id, ARTICLE, _dumps(_article(session, article_id, head))))
    return out


def _article(session: Session, article_id: str, head: Article | None) -> dict[str, Any]:
    visible = head is None or head.status != ArticleStatus.HIDDEN
    reactions = article_reactions(session, article_id, None)[0] if visible else {}
    return article_out(article_id, head, reactions=reactions, mine=[], visible=visible)


class LiveSink:
    """The domain-event sink of the live stream (service/events.py calls it)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._built: OrderedDict[int, tuple[ev.Event, list[Item]]] = OrderedDict()
        self._lock = threading.Lock()

    def in_transaction(self, session: Session, events: list[ev.Event]) -> None:
        if not events:
            return
        try:
            items = build(session, events)
        except SQLAlchemyError:
            # The database failed under the write too (its connection is gone): swallowed
            # here, the commit met a dead transaction and answered 500, not the outage's 503.
            raise
        except Exception:  # the stream must never cost the write itself
            log.exception("live events: could not build the stream events")
            return
        if not items:
            return
        with self._lock:
            # Keyed by the batch's first event, kept alive here so its id is not reused.
            self._built[id(events[0])] = (events[0], items)
            while len(self._built) > KEEP_BUILT:
                self._built.popitem(last=False)

    def after_commit(self, events: list[ev.Event]) -> None:
        items: list[Item] = []
        with self._lock:
            for event in events:
                entry = self._built.get(id(event))
                if entry is not None and entry[0] is event:
                    del self._built[id(event)]
                    items.extend(entry[1])
        self.hub.publish(items)


__all__ = ["ARTICLE", "CREATED", "REACTIONS", "REMOVED", "RESET", "UPDATED", "LiveSink", "build"]
