"""Who is notified of what (#15), and the event sink that writes it in the same transaction.

A published comment notifies, at most once per reader:

* **reply**: the author of the comment it is attached to (its ``parent_id``);
* **mention**: each participant of the thread named as ``@`` + the display name they show
  there (longest name wins; a name two people share goes to the one who wrote last);
* **thread**: each reader who follows the article's thread, unless an earlier ``thread``
  notification of that thread is still unread (a busy thread adds one, not hundreds; the
  unread one points at the first comment they have not seen).

One reader gets one notification per comment: reply beats mention beats thread. A moderator
who approves (pending, hidden or removed → published) or removes a comment notifies its
author (**moderation**, ``outcome`` approved or removed; no actor is shown).

Never: for your own comment or action; from an author you muted; from a shadow-banned
author; for a comment that is pending or hidden (it notifies once, when a moderator
publishes it); for a reply whose parent was deleted or removed, or whose author was erased
or a guest. A comment deleted or removed later takes its reply/mention/thread
notifications along (they told of words that are gone); the moderation notice stays with
its author.

``NotificationSink`` (registered in create_app) turns a transaction's domain events into
rows just before it commits, records one ``notification.created`` event per row (the
webhook engine hears of them), marks reply and mention notifications of readers with
instant e-mail as due for ``service/delivery/email.py``, and makes a poster follow the
thread unless their settings say otherwise.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Collection, Iterable, Sequence, cast

from sqlalchemy import Table, bindparam, delete, exists, false, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..enums import (
    TOMBSTONE_STATUSES,
    CommentStatus,
    EmailMode,
    MailState,
    ModerationOutcome,
    NotificationKind,
)
from ..models import (
    UNREAD_THREAD_PREDICATE,
    Comment,
    Follow,
    Mute,
    Notification,
    ReaderSettings,
    utcnow,
)
from . import events

MAX_NAME = 80  # display names are at most 80 characters (auth.py, schemas.py)
MAX_NAME_WORDS = 6
MAX_MENTIONS = 10  # distinct readers one comment may mention (more are not notified)
MAX_AT_SIGNS = 30  # "@"s looked at in one body

# An "@" that starts a mention: not inside a word or an e-mail address.
_AT = re.compile(r"(?<![\w@.])@(?=\w)")

_REPLY_LIKE = (NotificationKind.REPLY, NotificationKind.MENTION, NotificationKind.THREAD)
MAILED_KINDS = frozenset({NotificationKind.REPLY, NotificationKind.MENTION})


# --- the rules, as pure functions ---------------------------------------------------------


def fold_name(name: str) -> str:
    """The form names are compared in: case folded, inner spaces collapsed."""
    return " ".join(name.split()).casefold()


def _names_after(text: str, start: int) -> list[str]:
    """The texts after one "@" (at ``start``) that could be a display name, folded, longest
    first: for "@Mei Ling, thanks" that is ... "mei ling, thanks", "mei ling", "mei". Each
    ends before a space or punctuation (a name is matched whole, never a prefix of a longer
    word), within MAX_NAME characters, MAX_NAME_WORDS words and the line."""
    rest = text[start : start + MAX_NAME + 1]
    found: list[str] = []
    words = 1
    for i in range(1, len(rest) + 1):
        end = i == len(rest)
        if end or not (rest[i].isalnum() or rest[i] == "_"):
            if i <= MAX_NAME and not rest[i - 1].isspace():
                found.append(fold_name(rest[:i]))
        if end or rest[i] in "\r\n":
            break
        if rest[i].isspace() and not rest[i - 1].isspace():
            words += 1
            if words > MAX_NAME_WORDS:
                break
    return list(dict.fromkeys(reversed(found)))


def mention_candidates(text: str) -> set[str]:
    """Every folded text after an "@" that could be a display name (see _names_after)."""
    found: set[str] = set()
    for n, match in enumerate(_AT.finditer(text)):
        if n >= MAX_AT_SIGNS:
            break
        found.update(_names_after(text, match.end()))
    return found


def resolve_mentions(
    text: str, participants: Iterable[tuple[str, str, int]], *, limit: int = MAX_MENTIONS
) -> list[str]:
    """The user ids ``text`` mentions, in order of appearance, at most ``limit``.

    ``participants``: (user id, display name, id of their latest comment under that name)
    for everyone who may be mentioned. Each "@" names the longest display name that
    follows it (``@Mei Ling`` is Mei Ling, not Mei); a name that two people share resolves
    to the one who wrote last."""
    by_name: dict[str, tuple[int, str]] = {}
    for user_id, name, last_id in participants:
        key = fold_name(name)
        if key not in by_name or last_id > by_name[key][0]:
            by_name[key] = (last_id, user_id)
    out: list[str] = []
    for n, match in enumerate(_AT.finditer(text)):
        if n >= MAX_AT_SIGNS or len(out) >= limit:
            break
        for name in _names_after(text, match.end()):
            if name in by_name:
                if by_name[name][1] not in out:
                    out.append(by_name[name][1])
                break
    return out


@dataclass(frozen=True)
class Published:
    """What deciding who hears of a published comment needs."""

    author_id: str | None  # None: a guest
    shadowed: bool
    parent_author_id: str | None  # None: no parent, or it is gone, a guest's, or erased
    mentioned: Sequence[str] = ()
    followers: Sequence[str] = ()


def recipients(comment: Published, muted_by: Collection[str]) -> dict[str, NotificationKind]:
    """{reader: kind} for a published comment. ``muted_by``: readers who muted its author."""
    if comment.shadowed:
        return {}
    out: dict[str, NotificationKind] = {}
    candidates: list[tuple[str | None, NotificationKind]] = [
        (comment.parent_author_id, NotificationKind.REPLY)
    ]
    candidates += [(user, NotificationKind.MENTION) for user in comment.mentioned]
    candidates += [(user, NotificationKind.THREAD) for user in comment.followers]
    for user, kind in candidates:
        if user is None or user == comment.author_id or user in muted_by or user in out:
            continue
        out[user] = kind
    return out


def moderation_outcome(before: str, after: str) -> ModerationOutcome | None:
    """What a status change tells the author, when a moderator made it: published again
    from pending, hidden or removed is approved; removed is removed; nothing else."""
    if after == CommentStatus.PUBLISHED.value and before in (
        CommentStatus.PENDING.value,
        CommentStatus.HIDDEN.value,
        CommentStatus.REMOVED.value,
    ):
        return ModerationOutcome.APPROVED
    if after == CommentStatus.REMOVED.value and before != after:
        return ModerationOutcome.REMOVED
    return None


def moderation_recipient(author_id: str | None, actor_id: str | None) -> str | None:
    """The author, unless a guest (no inbox) or the moderator acted on their own comment."""
    if author_id is None or author_id == actor_id:
        return None
    return author_id


# --- reading what the rules need ----------------------------------------------------------

_NOTIFICATIONS = cast(Table, Notification.__table__)
_INSERT = insert(_NOTIFICATIONS).returning(
    _NOTIFICATIONS.c.id, _NOTIFICATIONS.c.user_id, sort_by_parameter_order=True
)


def _insert(session: Session, model: Any) -> Any:
    """INSERT with ON CONFLICT support for the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


# Followers, less those with an unread thread notification of it already (one query; the
# partial index ix_notifications_unread_thread holds those). NOT IN an uncorrelated
# subquery, not a correlated NOT EXISTS: each table is read once (PostgreSQL hashes the
# subquery, SQLite builds a list from it) whatever the planner believes about their sizes.
# The correlated form left that choice to the statistics, and a thread whose followers grew
# faster than ANALYZE ran got a nested loop that read every unread notification of the
# article once per follower: 48 ms a post at 500 followers on PostgreSQL, growing with the
# square of them (docs/performance.md). user_id is NOT NULL, so NOT IN means what it says.
# On the tables' columns, not the models' attributes: a statement of ORM attributes takes the
# ORM's execution path, ~35 us more a statement for the same SQL and rows. Built once.
_FOLLOWS, _NOTIFICATIONS = cast(Table, Follow.__table__), cast(Table, Notification.__table__)
_FOLLOWERS_TO_TELL = select(_FOLLOWS.c.user_id).where(
    _FOLLOWS.c.article_id == bindparam("article_id"),
    _FOLLOWS.c.user_id.not_in(
        select(_NOTIFICATIONS.c.user_id).where(
            _NOTIFICATIONS.c.article_id == bindparam("article_id"),
            text(UNREAD_THREAD_PREDICATE),
        )
    ),
)


def _participants(session: Session, comment: Comment) -> list[tuple[str, str, int]]:
    """(user id, name, latest comment id) of the thread's visible signed-in authors."""
    rows = session.execute(
        select(Comment.author_id, Comment.author_name, func.max(Comment.id))
        .where(
            Comment.article_id == comment.article_id,
            Comment.id != comment.id,
            Comment.author_is_guest == false(),
            Comment.author_id.is_not(None),
            Comment.status == CommentStatus.PUBLISHED,
            Comment.shadowed == false(),
        )
        .group_by(Comment.author_id, Comment.author_name)
    )
    return [(str(a), str(n), int(m)) for a, n, m in rows if a is not None and n]


def _published(session: Session, comment: Comment) -> Published:
    parent_author = None
    if comment.parent_id is not None:
        parent = session.get(Comment, comment.parent_id)
        if (
            parent is not None
            and parent.status not in TOMBSTONE_STATUSES
            and not parent.author_is_guest
        ):
            parent_author = parent.author_id
    body = comment.body or ""
    mentioned: list[str] = []
    if "@" in body and mention_candidates(body):
        mentioned = resolve_mentions(body, _participants(session, comment))
    followers = list(session.scalars(_FOLLOWERS_TO_TELL, {"article_id": comment.article_id}))
    return Published(
        author_id=comment.author_id,
        shadowed=comment.shadowed,
        parent_author_id=parent_author,
        mentioned=mentioned,
        followers=followers,
    )


def _muted_by(session: Session, author_id: str | None) -> set[str]:
    if author_id is None:
        return set()
    return set(session.scalars(select(Mute.user_id).where(Mute.muted_id == author_id)))


def _mailable(session: Session, users: Collection[str]) -> set[str]:
    """Of ``users``, those with instant e-mail on and an address to send to."""
    if not users:
        return set()
    return set(
        session.scalars(
            select(ReaderSettings.user_id).where(
                ReaderSettings.user_id.in_(list(users)),
                ReaderSettings.email_mode == EmailMode.INSTANT,
                ReaderSettings.email_address.is_not(None),
            )
        )
    )


def _already_notified(session: Session, comment_id: int) -> set[str]:
    return set(
        session.scalars(
            select(Notification.user_id).where(
                Notification.comment_id == comment_id, Notification.kind.in_(_REPLY_LIKE)
            )
        )
    )


# --- writing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    user_id: str
    kind: NotificationKind
    comment: Comment
    outcome: ModerationOutcome | None = None
    mail: bool = False


def _plan_published(session: Session, comment: Comment, *, republished: bool) -> list[Planned]:
    if comment.status != CommentStatus.PUBLISHED or comment.shadowed:
        return []
    facts = _published(session, comment)
    others = {facts.parent_author_id, *facts.mentioned, *facts.followers}
    if not others - {None, comment.author_id}:  # e.g. the poster is the only follower
        return []
    targets = recipients(facts, _muted_by(session, comment.author_id))
    if republished and targets:  # published before (edited back into the queue): once only
        for user in _already_notified(session, comment.id):
            targets.pop(user, None)
    mailable = _mailable(session, [u for u, k in targets.items() if k in MAILED_KINDS])
    return [
        Planned(user, kind, comment, mail=kind in MAILED_KINDS and user in mailable)
        for user, kind in targets.items()
    ]


def write(session: Session, planned: Sequence[Planned], now: dt.datetime) -> list[events.Event]:
    """Insert the planned notifications (one statement) and record notification.created
    for each."""
    if not planned:
        return []
    rows = [
        {
            "user_id": p.user_id,
            "kind": p.kind,
            "article_id": p.comment.article_id,
            "comment_id": p.comment.id,
            "outcome": p.outcome,
            "created_at": now,
            "read_at": None,
            "mail_state": MailState.DUE.value if p.mail else None,
        }
        for p in planned
    ]
    ids = [row.id for row in session.execute(_INSERT, rows)]
    recorded = []
    for notification_id, p in zip(ids, planned, strict=True):
        recorded.append(
            events.record(
                session,
                events.Event(
                    events.NOTIFICATION_CREATED,
                    article_id=p.comment.article_id,
                    comment_id=p.comment.id,
                    user_id=p.user_id,
                    actor_id=None if p.kind == NotificationKind.MODERATION else p.comment.author_id,
                    data={
                        "id": notification_id,
                        "kind": p.kind.value,
                        "outcome": p.outcome.value if p.outcome else None,
                    },
                ),
            )
        )
    return recorded


def follow_on_post(session: Session, *, user_id: str, article_id: str, now: dt.datetime) -> None:
    """A poster follows the thread, unless their settings say ``follow_on_post: false``;
    one statement, a no-op when they already follow it."""
    dialect = session.get_bind().dialect.name
    statement = _FOLLOW_ON_POST.get(dialect)
    if statement is None:
        statement = _FOLLOW_ON_POST[dialect] = _follow_on_post_statement(session)
    session.execute(statement, {"article_id": article_id, "user_id": user_id, "now": now})


# Built once (per dialect): these run on every post, and building a statement and its cache
# key cost about as much as SQLite answering it.
_FOLLOW_ON_POST: dict[str, Any] = {}


def _follow_on_post_statement(session: Session) -> Any:
    settings = cast(Table, ReaderSettings.__table__)
    declined = exists().where(
        settings.c.user_id == bindparam("user_id", type_=_FOLLOWS.c.user_id.type),
        settings.c.follow_on_post == false(),
    )
    source = select(
        bindparam("article_id", type_=_FOLLOWS.c.article_id.type),
        bindparam("user_id", type_=_FOLLOWS.c.user_id.type),
        bindparam("now", type_=_FOLLOWS.c.created_at.type),
    ).where(~declined)
    # Core columns and table throughout: an ORM insert given parameters would take the
    # bulk-insert path, and ORM attributes anywhere in it the ORM's execution path.
    return (
        _insert(session, _FOLLOWS)
        .from_select(["article_id", "user_id", "created_at"], source)
        .on_conflict_do_nothing(index_elements=["article_id", "user_id"])
    )


def forget_comment(session: Session, comment_ids: Collection[int]) -> None:
    """A deleted or removed comment's reply/mention/thread notifications go with it."""
    if comment_ids:
        session.execute(
            delete(Notification)
            .where(
                Notification.comment_id.in_(list(comment_ids)),
                Notification.kind.in_(_REPLY_LIKE),
            )
            .execution_options(synchronize_session=False)
        )


def notify(
    session: Session, batch: Sequence[events.Event], now: dt.datetime | None = None
) -> list[events.Event]:
    """Apply the rules to one batch of a transaction's events; returns the
    notification.created events it recorded."""
    now = now or utcnow()
    moderators = {e.comment_id: e.actor_id for e in batch if e.type == events.COMMENT_MODERATED}
    planned: list[Planned] = []
    gone: list[int] = []
    for event in batch:
        if event.type == events.COMMENT_CREATED:
            if event.actor_id is not None and event.article_id is not None:
                follow_on_post(
                    session, user_id=event.actor_id, article_id=event.article_id, now=now
                )
            if event.data.get("status") == CommentStatus.PUBLISHED.value:
                comment = session.get(Comment, event.comment_id)
                if comment is not None:
                    planned += _plan_published(session, comment, republished=False)
        elif event.type == events.COMMENT_STATUS and event.comment_id is not None:
            before, after = str(event.data.get("before")), str(event.data.get("after"))
            if after in (CommentStatus.DELETED.value, CommentStatus.REMOVED.value):
                gone.append(event.comment_id)
            comment = session.get(Comment, event.comment_id)
            if comment is None:
                continue
            if before == CommentStatus.PENDING.value and after == CommentStatus.PUBLISHED.value:
                planned += _plan_published(session, comment, republished=True)
            outcome = moderation_outcome(before, after)
            actor = moderators.get(event.comment_id)
            user = moderation_recipient(comment.author_id, actor)
            # A moderator's decision: an action (comment.moderated in this transaction) or
            # a removal through DELETE /comments/{id} (only a moderator's delete removes).
            by_moderator = event.comment_id in moderators or after == CommentStatus.REMOVED.value
            if outcome is not None and user is not None and by_moderator:
                planned.append(Planned(user, NotificationKind.MODERATION, comment, outcome=outcome))
    forget_comment(session, gone)
    return write(session, planned, now)


class NotificationSink:
    """The domain-events sink (service/events.py) that writes notifications."""

    def in_transaction(self, session: Session, batch: list[events.Event]) -> None:
        notify(session, batch)

    def after_commit(self, batch: list[events.Event]) -> None:
        """Nothing to tell after the commit: e-mail is sent by its own job."""


__all__ = [
    "MAILED_KINDS",
    "NotificationSink",
    "Planned",
    "Published",
    "fold_name",
    "follow_on_post",
    "forget_comment",
    "mention_candidates",
    "moderation_outcome",
    "moderation_recipient",
    "notify",
    "recipients",
    "resolve_mentions",
    "write",
]
