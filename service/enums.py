"""Statuses and reasons shared by models, schemas, domain rules and openapi.yaml."""

from __future__ import annotations

import enum


class CommentStatus(str, enum.Enum):
    PUBLISHED = "published"
    PENDING = "pending"  # held for a moderator (premoderation or an automatic rule)
    HIDDEN = "hidden"  # hidden by readers' flags until a moderator decides
    REMOVED = "removed"  # removed by a moderator
    DELETED = "deleted"  # deleted by its author


class ArticleStatus(str, enum.Enum):
    OPEN = "open"
    CLOSED = "closed"  # readable, no new comments
    HIDDEN = "hidden"  # the whole thread is invisible to readers


class FlagReason(str, enum.Enum):
    SPAM = "spam"
    ABUSE = "abuse"
    HARASSMENT = "harassment"
    HATE = "hate"
    MISINFORMATION = "misinformation"
    OFF_TOPIC = "off_topic"
    OTHER = "other"


class FlagState(str, enum.Enum):
    OPEN = "open"
    UPHELD = "upheld"  # a moderator removed the comment
    DISMISSED = "dismissed"  # a moderator kept it


class Sort(str, enum.Enum):
    NEWEST = "newest"
    OLDEST = "oldest"
    TOP = "top"
    BEST = "best"
    CONTROVERSIAL = "controversial"


TOMBSTONE_STATUSES = (CommentStatus.DELETED, CommentStatus.REMOVED)
