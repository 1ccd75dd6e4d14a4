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
    HOT = "hot"  # (score + 1) / (age_hours + 2) ** COMMENTS_HOT_GRAVITY (domain/ranking.py)


TOMBSTONE_STATUSES = (CommentStatus.DELETED, CommentStatus.REMOVED)


class HeldReason(enum.StrEnum):
    """Why a comment is pending or hidden (Comment.held_reason; a plain string column, and
    a StrEnum compares equal to the stored string)."""

    PREMODERATION = "premoderation"  # the article or the site holds new comments
    BLOCKED_TERM = "blocked_term"  # the body matched COMMENTS_BLOCKED_TERMS_FILE
    LINKS = "links"  # more links than COMMENTS_MAX_LINKS
    FLAGS = "flags"  # readers' weighted flags passed COMMENTS_FLAG_HIDE_THRESHOLD
    SPAM_SCORE = "spam_score"  # the spam model scored it above COMMENTS_SPAM_HOLD_SCORE


class ModerationAction(enum.StrEnum):
    """A moderator's decision on one comment (POST /admin/comments/{id}/actions)."""

    APPROVE = "approve"
    REMOVE = "remove"
    RESTORE = "restore"
    PIN = "pin"
    UNPIN = "unpin"
    DISMISS_FLAGS = "dismiss_flags"


class Position(enum.StrEnum):
    """What a comment's author discloses holding of a security they write about
    (docs/markets.md)."""

    LONG = "long"
    SHORT = "short"
    NONE = "none"


# --- notifications (#15) ------------------------------------------------------------------


class NotificationKind(str, enum.Enum):
    """Why a reader was notified (service/domain/notifications.py has the rules)."""

    REPLY = "reply"  # a direct reply to their comment
    MENTION = "mention"  # "@" + their display name in a thread they take part in
    THREAD = "thread"  # a new comment in a thread they follow
    MODERATION = "moderation"  # a moderator approved or removed their comment


class ModerationOutcome(str, enum.Enum):
    APPROVED = "approved"
    REMOVED = "removed"


class EmailMode(str, enum.Enum):
    """A reader's e-mail setting: no mail, or reply and mention mails as they happen
    (batched to at most one per COMMENTS_EMAIL_MIN_INTERVAL_SECONDS)."""

    OFF = "off"
    INSTANT = "instant"


class MailState(enum.StrEnum):
    """Notification.mail_state: NULL when no mail is meant for it."""

    DUE = "due"  # to be sent by the next pass of service/delivery/email.py
    SENT = "sent"
    DROPPED = "dropped"  # the reader turned mail off, or the server refused the address


# --- webhooks (issue #15) -----------------------------------------------------------------


class DeliveryStatus(str, enum.Enum):
    """A webhook delivery: waiting (or being retried), delivered, or given up."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
