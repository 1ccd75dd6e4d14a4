"""The stored data: SQLAlchemy 2.0 typed models.

The schema itself comes only from the Alembic migrations in ``migrations/``; a test checks
that these models and the migrations agree.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from .enums import (
    ArticleStatus,
    CommentStatus,
    DeliveryStatus,
    EmailMode,
    FlagReason,
    FlagState,
    ModerationOutcome,
    NotificationKind,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC on the way in and out, on PostgreSQL and SQLite alike
    (SQLite stores no zone, so naive values read back are UTC by construction)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use timezone-aware UTC")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Article(Base):
    """An article of the host site. Rows appear on the first write; a missing row reads as an
    empty, open thread."""

    __tablename__ = "articles"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    status: Mapped[ArticleStatus] = mapped_column(
        _enum(ArticleStatus, "article_status"),
        default=ArticleStatus.OPEN,
        server_default=ArticleStatus.OPEN.value,
    )
    # None: follow COMMENTS_PREMODERATION; True/False: this article's own switch.
    premoderation: Mapped[Optional[bool]] = mapped_column(Boolean, nullable=True)
    # Published comments that readers can see (not pending, hidden, shadowed or deleted).
    comment_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reaction_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Bumped in the same transaction as every write that changes what the thread shows:
    # the key of cached pages and ETags.
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_comment_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime, nullable=True)
    # --- surge mode (domain/surge.py) ---
    # A moderator's slow mode: one comment per user per this many seconds (0: off), until
    # slow_mode_until (None: until changed). The automatic surge keeps its own pair, so a
    # moderator's setting comes back when a surge ends.
    slow_mode_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    slow_mode_until: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime, nullable=True)
    surge_slow_mode_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    surge_until: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime, nullable=True)
    # New comments wait for a moderator until then, whatever the premoderation switch says.
    premoderation_until: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime, nullable=True)


# Comments that can be in the moderators' queue (flagged, pending or hidden).
QUEUE_PREDICATE = "flag_count > 0 OR status IN ('pending', 'hidden')"
# Comments only their author sees (awaiting a moderator, or written under a shadow ban):
# whether a signed-in reader has one in a thread decides whether their page is the public one.
PRIVATE_PREDICATE = "status = 'pending' OR (status = 'published' AND shadowed = true)"


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        # Keyset indexes, one per sort of top-level comments (see domain/threads.py).
        Index("ix_comments_thread_newest", "article_id", "depth", "pinned", "id"),
        Index("ix_comments_thread_top", "article_id", "depth", "pinned", "score", "id"),
        Index("ix_comments_thread_best", "article_id", "depth", "pinned", "best", "id"),
        Index(
            "ix_comments_thread_controversial", "article_id", "depth", "pinned", "controversy", "id"
        ),
        # sort=hot ranks at request time: every column its ranking reads, so SQLite scans
        # this index alone instead of fetching each comment row (3x faster, measured);
        # created_at right after pinned: its floor's newest comment time is one seek.
        Index(
            "ix_comments_thread_hot",
            "article_id",
            "depth",
            "pinned",
            "created_at",
            "status",
            "shadowed",
            "reply_count",
            "score",
            "author_id",  # a signed-in viewer also sees their own pending comments
        ),
        Index("ix_comments_root_id_id", "root_id", "id"),
        Index("ix_comments_author_id_created_at", "author_id", "created_at"),
        Index("ix_comments_status_flag_weight", "status", "flag_weight"),
        # The moderators' queue and its totals: only comments that can be in the queue are
        # indexed, so no state of it scans the whole table (domain/moderation.py repeats
        # QUEUE_PREDICATE in every queue query, which is how planners match the index).
        Index(
            "ix_comments_queue",
            "flag_weight",
            "flag_count",
            "id",
            sqlite_where=text(QUEUE_PREDICATE),
            postgresql_where=text(QUEUE_PREDICATE),
        ),
        # Does this reader author a comment of this article that only they can see? Asked on
        # every signed-in page; only such comments are indexed, so the answer is one seek
        # however long the thread (without it SQLite walked the article's whole thread).
        # domain/threads.py repeats PRIVATE_PREDICATE, which is how planners match it.
        Index(
            "ix_comments_private",
            "author_id",
            "article_id",
            sqlite_where=text(PRIVATE_PREDICATE),
            postgresql_where=text(PRIVATE_PREDICATE),
        ),
        # Ids order comments in time and key the cursors: SQLite must never reuse one.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    parent_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), nullable=True, index=True
    )
    # The top-level ancestor (None for a top-level comment) and the ancestors' ids as
    # "/1/5/": one statement updates every ancestor's reply_count.
    root_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    path: Mapped[str] = mapped_column(String(200), default="/", server_default="/")
    depth: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    author_id: Mapped[Optional[str]] = mapped_column(String(200), nullable=True)
    author_name: Mapped[Optional[str]] = mapped_column(String(200), nullable=True)
    author_is_guest: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    author_is_moderator: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    edit_token_hash: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    # A guest's keyed IP hash (see _caller_key in api/comments.py): duplicate detection for
    # guests goes by name and this. Never leaves the database.
    guest_key: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)

    body: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    body_html: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    # sha256 of the normalised body, to spot double submits; never leaves the database.
    body_fingerprint: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)

    status: Mapped[CommentStatus] = mapped_column(
        _enum(CommentStatus, "comment_status"),
        default=CommentStatus.PUBLISHED,
        server_default=CommentStatus.PUBLISHED.value,
    )
    # Why a comment is pending or hidden: "premoderation", "blocked_term", "links", "flags".
    held_reason: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    # A shadow-banned author's comment: shown to that author alone.
    shadowed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime, nullable=True)
    status_changed_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime, nullable=True)

    # Published, unshadowed descendants.
    reply_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    likes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    dislikes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    score: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    best: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    controversy: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    flag_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    flag_weight: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")

    # --- market features (docs/markets.md) ---
    # The cashtags of the body (["BABA", "9988.HK"]; None: none), kept on the row so a
    # listing shows them without another query; comment_tickers indexes them.
    tickers: Mapped[Optional[list[str]]] = mapped_column(JSON, nullable=True)
    # The author's positions ({"BABA": "long"}; None: no disclosure).
    disclosure: Mapped[Optional[dict[str, str]]] = mapped_column(JSON, nullable=True)
    # Earlier versions kept in comment_revisions (0 once an author's delete wiped them).
    revision_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class CommentTicker(Base):
    """One security a comment names: what the ticker endpoints count and list. Counts are
    computed by indexed queries joined to the comment (so a status change, a shadow ban or
    a hidden article applies at once, with nothing to keep in step)."""

    __tablename__ = "comment_tickers"
    __table_args__ = (
        # One symbol's comments, newest first (GET /tickers/{symbol}/comments) and its
        # counts per window.
        UniqueConstraint("symbol", "comment_id"),
        Index("ix_comment_tickers_symbol_created_at", "symbol", "created_at"),
        # The most-mentioned symbols of a window (GET /tickers).
        Index("ix_comment_tickers_created_at_symbol", "created_at", "symbol"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    symbol: Mapped[str] = mapped_column(String(16))
    # The comment's created_at: a mention counts in the window the comment was posted in.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CommentRevision(Base):
    """An earlier version of a comment, kept when its author edits it (visible edit
    history): the body and disclosure as they were, and when that version was written."""

    __tablename__ = "comment_revisions"
    __table_args__ = (
        Index("ix_comment_revisions_comment_id_id", "comment_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    disclosure: Mapped[Optional[dict[str, str]]] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CommentReaction(Base):
    __tablename__ = "comment_reactions"
    __table_args__ = (
        UniqueConstraint("comment_id", "user_id", "kind"),
        Index("ix_comment_reactions_user_id", "user_id", "comment_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    # A shadow-banned user's reaction is kept but counts for nothing.
    counted: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CommentReactionCount(Base):
    __tablename__ = "comment_reaction_counts"

    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ArticleReaction(Base):
    __tablename__ = "article_reactions"
    __table_args__ = (UniqueConstraint("article_id", "user_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    counted: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArticleReactionCount(Base):
    __tablename__ = "article_reaction_counts"

    article_id: Mapped[str] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Flag(Base):
    __tablename__ = "flags"
    __table_args__ = (
        UniqueConstraint("comment_id", "user_id"),
        Index("ix_flags_user_id_state", "user_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(200))
    reason: Mapped[FlagReason] = mapped_column(_enum(FlagReason, "flag_reason"))
    note: Mapped[Optional[str]] = mapped_column(String(500), nullable=True)
    weight: Mapped[float] = mapped_column(Float, default=1.0, server_default="1")
    state: Mapped[FlagState] = mapped_column(
        _enum(FlagState, "flag_state"), default=FlagState.OPEN, server_default=FlagState.OPEN.value
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime, nullable=True)


class Ban(Base):
    __tablename__ = "bans"

    user_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    reason: Mapped[Optional[str]] = mapped_column(String(500), nullable=True)
    shadow: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    expires_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(Base):
    """Append-only record of every moderator action and automatic decision."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_target", "target_type", "target_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor_id: Mapped[str] = mapped_column(String(200), index=True)  # "system" for automatic
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(16))  # comment | article | user
    target_id: Mapped[str] = mapped_column(String(200))
    reason: Mapped[Optional[str]] = mapped_column(String(500), nullable=True)
    before: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON, nullable=True)
    after: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime, nullable=True)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("caller", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    caller: Mapped[str] = mapped_column(String(220))
    key: Mapped[str] = mapped_column(String(200))
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ImportedComment(Base):
    """A comment that ``flask import`` brought from another system, by its id there: a second
    import of the same export skips it, and a newer export's replies find their parent."""

    __tablename__ = "imported_comments"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)  # disqus, wordpress, ...
    source_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )


# --- surge mode and the spam model (domain/surge.py, domain/spam.py) ----------------------


class ArticlePostCount(Base):
    """Comments an article received per minute (``minute``: Unix time // 60), bumped by an
    upsert so concurrent posts each count: the automatic surge's trigger."""

    __tablename__ = "article_post_counts"

    article_id: Mapped[str] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    minute: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SpamModel(Base):
    """This deployment's spam model once moderators' decisions have taught it something (no
    row: the seed model trained from service/spam/corpus.jsonl). The weights are a raw
    little-endian float64 array, never a pickle."""

    __tablename__ = "spam_model"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    seed: Mapped[str] = mapped_column(String(64))  # the seed it started from (corpus hash)
    n_features: Mapped[int] = mapped_column(Integer)
    coef: Mapped[bytes] = mapped_column(LargeBinary)
    intercept: Mapped[float] = mapped_column(Float)
    steps: Mapped[float] = mapped_column(Float)  # SGDClassifier.t_: its learning-rate clock
    decisions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CommentSpam(Base):
    """A new comment's spam score and the signals it was scored with (the account's age and
    record as they were then), which learning uses when a moderator decides."""

    __tablename__ = "comment_spam"

    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    score: Mapped[float] = mapped_column(Float)
    signals: Mapped[list[str]] = mapped_column(JSON)
    # " BABA 9988.HK " (space-delimited, for LIKE): the burst check's cashtags.
    cashtags: Mapped[Optional[str]] = mapped_column(String(200), nullable=True)
    new_account: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


# --- notifications, follows, mutes and readers' settings (#15) -----------------------------

# Notifications a reader has not read yet: the unread count and ?unread=true use only these.
UNREAD_PREDICATE = "read_at IS NULL"
# Notifications waiting for service/delivery/email.py.
MAIL_DUE_PREDICATE = "mail_state = 'due'"
# Unread "new comment in a thread you follow": while one is unread, the thread adds no more.
UNREAD_THREAD_PREDICATE = "read_at IS NULL AND kind = 'thread'"


class Notification(Base):
    """One reader told of one thing. The excerpt and the actor's name are read from the
    comment when listed (never copied: an edit shows, a deletion takes them along, and the
    row goes with the comment through the foreign key)."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_id_id", "user_id", "id"),
        Index(
            "ix_notifications_unread",
            "user_id",
            "id",
            sqlite_where=text(UNREAD_PREDICATE),
            postgresql_where=text(UNREAD_PREDICATE),
        ),
        Index(
            "ix_notifications_mail_due",
            "user_id",
            sqlite_where=text(MAIL_DUE_PREDICATE),
            postgresql_where=text(MAIL_DUE_PREDICATE),
        ),
        Index(
            "ix_notifications_unread_thread",
            "article_id",
            "user_id",
            sqlite_where=text(UNREAD_THREAD_PREDICATE),
            postgresql_where=text(UNREAD_THREAD_PREDICATE),
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(200))  # the recipient
    kind: Mapped[NotificationKind] = mapped_column(_enum(NotificationKind, "notification_kind"))
    article_id: Mapped[str] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    outcome: Mapped[Optional[ModerationOutcome]] = mapped_column(
        _enum(ModerationOutcome, "moderation_outcome"), nullable=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime, nullable=True)
    # enums.MailState, or NULL when no e-mail is meant for this notification.
    mail_state: Mapped[Optional[str]] = mapped_column(String(16), nullable=True)


class Follow(Base):
    """A reader follows an article's thread: its new comments notify them."""

    __tablename__ = "follows"

    article_id: Mapped[str] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Mute(Base):
    """A reader muted another: that person's comments arrive collapsed and never notify."""

    __tablename__ = "mutes"

    user_id: Mapped[str] = mapped_column(String(200), primary_key=True)  # who muted
    muted_id: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReaderSettings(Base):
    """A reader's notification settings; no row reads as the defaults."""

    __tablename__ = "reader_settings"

    user_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    email_mode: Mapped[EmailMode] = mapped_column(
        _enum(EmailMode, "email_mode"), default=EmailMode.OFF, server_default=EmailMode.OFF.value
    )
    follow_on_post: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # From the token's `email` claim, kept only while email_mode is instant (to send);
    # never in a response or a log line.
    email_address: Mapped[Optional[str]] = mapped_column(String(320), nullable=True)
    last_emailed_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- webhooks (issue #15; migration 0006) -------------------------------------------------


class WebhookEndpoint(Base):
    """A URL of the host site's that hears about events (admins register it). ``secret`` is
    the Standard Webhooks signing key ("whsec_..."): kept so deliveries can be signed,
    shown only when made, never logged or listed."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    disabled_reason: Mapped[Optional[str]] = mapped_column(String(500), nullable=True)
    # Set by a failed attempt when it starts a run of failures, to the time of the oldest
    # event it failed to take; None again after a success. An endpoint failing this long
    # (COMMENTS_WEBHOOK_RETRY_HOURS) is disabled.
    failing_since: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


DUE_PREDICATE = "status = 'pending'"


class WebhookDelivery(Base):
    """The outbox: one event for one endpoint, written in the transaction of the change,
    sent (and retried) by the delivery worker. ``next_attempt_at`` is also the lease: a
    worker that claims a row moves it past the attempt's time limit, so a worker that dies
    mid-delivery leaves the row due again."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            sqlite_where=text(DUE_PREDICATE),
            postgresql_where=text(DUE_PREDICATE),
        ),
        Index("ix_webhook_deliveries_endpoint_id_id", "endpoint_id", "id"),
        Index("ix_webhook_deliveries_created_at", "created_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(64))  # the webhook-id header
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # the exact JSON body that is signed
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "delivery_status"),
        default=DeliveryStatus.PENDING,
        server_default=DeliveryStatus.PENDING.value,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_attempt_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime, nullable=True)
    delivered_at: Mapped[Optional[dt.datetime]] = mapped_column(UTCDateTime, nullable=True)
    response_code: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    duration_ms: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    last_error: Mapped[Optional[str]] = mapped_column(String(500), nullable=True)


__all__ = [
    "ArticlePostCount",
    "SpamModel",
    "CommentSpam",
    "Base",
    "Article",
    "Comment",
    "CommentReaction",
    "CommentReactionCount",
    "ArticleReaction",
    "ArticleReactionCount",
    "Flag",
    "Ban",
    "AuditEntry",
    "ApiKey",
    "IdempotencyKey",
    "ImportedComment",
    "CommentTicker",
    "CommentRevision",
    "Notification",
    "Follow",
    "Mute",
    "ReaderSettings",
    "WebhookEndpoint",
    "WebhookDelivery",
    "utcnow",
]
