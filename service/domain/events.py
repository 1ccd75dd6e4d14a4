"""What happened in a transaction, said once, for whoever must hear of it.

Domain functions call ``record(session, Event(...))`` next to the change itself. Nothing
here knows about notifications, webhooks or live streams: those are *sinks*
(``service/events.py`` wires them) that see the transaction's events twice:

* ``in_transaction(session, events)`` just before the commit, inside the same
  transaction: rows written there (notifications, outbox rows) commit or roll back with
  the change that caused them, so a crash can neither lose nor invent one;
* ``after_commit(events)`` once the commit succeeded: a live stream publishes only what
  really happened (a rolled-back request publishes nothing).

Event types (``Event.type``), and what ``data`` holds besides the ids:

=====================  ==================================================================
``comment.created``    a comment was posted (``status``: published or pending)
``comment.edited``     its body changed (``before``: the previous body)
``comment.status``     its status moved (``before``, ``after``; from ``set_status``)
``comment.moderated``  a moderator acted on it (``action``, ``reason``)
``comment.flagged``    a reader flagged it (``reason``)
``reaction.changed``   a comment's (``comment_id``) or article's reactions changed
``article.changed``    a moderator changed the article's settings (``before``, ``after``),
                       or an automatic surge turned slow mode on (actor ``system``)
``user.banned``        a ban was put or changed (``shadow``); ``user.unbanned`` lifted
``user.erased``        a person was erased (``user_id``)
``notification.created`` a reader was notified (``user_id``: the recipient; ``data.id``)
=====================  ==================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from sqlalchemy.orm import Session

SESSION_KEY = "comments_events"  # session.info[...]: this transaction's events, in order

COMMENT_CREATED = "comment.created"
COMMENT_EDITED = "comment.edited"
COMMENT_STATUS = "comment.status"
COMMENT_MODERATED = "comment.moderated"
COMMENT_FLAGGED = "comment.flagged"
REACTION_CHANGED = "reaction.changed"
ARTICLE_CHANGED = "article.changed"
USER_BANNED = "user.banned"
USER_UNBANNED = "user.unbanned"
USER_ERASED = "user.erased"
NOTIFICATION_CREATED = "notification.created"
TYPES = (
    COMMENT_CREATED,
    COMMENT_EDITED,
    COMMENT_STATUS,
    COMMENT_MODERATED,
    COMMENT_FLAGGED,
    REACTION_CHANGED,
    ARTICLE_CHANGED,
    USER_BANNED,
    USER_UNBANNED,
    USER_ERASED,
    NOTIFICATION_CREATED,
)


@dataclass(frozen=True)
class Event:
    type: str
    article_id: str | None = None
    comment_id: int | None = None
    user_id: str | None = None  # the person the event is about (ban, erasure)
    actor_id: str | None = None  # who did it; None for a guest, "system" for automatic rules
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"unknown event type {self.type!r}")


def record(session: Session, event: Event) -> Event:
    """Remember ``event`` for this session's current transaction."""
    session.info.setdefault(SESSION_KEY, []).append(event)
    return event


def pending(session: Session) -> list[Event]:
    """This transaction's events so far (the list itself: sinks may see it grow)."""
    events: list[Event] = session.info.setdefault(SESSION_KEY, [])
    return events


def take(session: Session) -> list[Event]:
    """Remove and return this transaction's events (after a commit or a rollback)."""
    events: list[Event] = session.info.pop(SESSION_KEY, [])
    return events
