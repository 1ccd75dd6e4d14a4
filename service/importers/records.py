"""The plain records every source parser yields and the writer consumes."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field


class SourceError(ValueError):
    """A source file that cannot be imported (malformed, truncated, wrong format); nothing
    was written."""


class State(str, enum.Enum):
    """A comment's state in the source, before it is mapped to ours."""

    PUBLISHED = "published"
    PENDING = "pending"  # waiting for the source's moderator: pending here too
    DELETED = "deleted"  # deleted (by its author or a moderator): a tombstone here
    SPAM = "spam"  # marked as spam: removed here


@dataclass(frozen=True)
class Thread:
    """A source thread (a page). ``key`` is how the source's posts refer to it."""

    key: str
    url: str | None
    title: str | None = None
    closed: bool = False
    deleted: bool = False
    created_at: dt.datetime | None = None


@dataclass(frozen=True)
class Vote:
    user_id: str  # the voter's id in the source (prefixed with --user-prefix on the way in)
    like: bool


@dataclass(frozen=True)
class Post:
    """A source comment. ``body`` is Markdown unless ``html`` (then it is converted first)."""

    source_id: str
    thread_key: str
    parent_id: str | None
    created_at: dt.datetime
    body: str
    html: bool
    state: State = State.PUBLISHED
    author_name: str | None = None
    # The author's account id in the source; None for an anonymous (guest) author.
    author_id: str | None = None
    # The source held these; they are counted for the report and never stored.
    had_email: bool = False
    had_ip: bool = False
    votes: tuple[Vote, ...] = ()
    # Likes/dislikes the source kept only as numbers (no voter): reported, not imported.
    anonymous_votes: int = 0
    line: int | None = None  # where in the file, for messages
    # (Markdown, sanitised HTML, fingerprint), when worked out ahead (writer.prepare)
    prepared: tuple[str, str | None, str | None] | None = None


@dataclass
class Note:
    """Something a parser wants in the report (e.g. a comment type it skips)."""

    reason: str
    count: int = 1
    extra: dict[str, str] = field(default_factory=dict)


Record = Thread | Post | Note
