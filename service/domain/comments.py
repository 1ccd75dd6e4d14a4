"""Writing comments: posting, replying, editing, deleting, and keeping counters true.

Functions take the session and keyword-only arguments, flush, and leave the commit to the
caller (the view), so one request is one transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, cast

from sqlalchemy import Table, bindparam, delete, false, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from ..enums import TOMBSTONE_STATUSES, ArticleStatus, CommentStatus
from ..models import Article, Ban, Comment, IdempotencyKey, utcnow
from . import bodies, events, markets, revisions, surge, tickers
from .errors import RuleError
from .threads import Viewer, ancestor_ids, comment_visible, is_counted, place_reply
from .tokens import hash_secret, new_edit_token


@dataclass(frozen=True)
class Rules:
    max_depth: int = 5
    max_body: int = 10_000
    edit_window: dt.timedelta = dt.timedelta(seconds=900)
    premoderation: str = "off"
    duplicate_window: dt.timedelta = dt.timedelta(seconds=300)
    idempotency_ttl: dt.timedelta = dt.timedelta(hours=24)
    replies_per_thread: int = 50
    auto_close_days: int = 0
    # Market features (docs/markets.md): cashtag links, and whether naming one needs a
    # disclosure.
    ticker_url: str = ""
    require_disclosure: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: "RuleSettings") -> "Rules":
        return cls(
            max_depth=settings.max_depth,
            max_body=settings.max_body,
            edit_window=dt.timedelta(seconds=settings.edit_window_seconds),
            premoderation=settings.premoderation,
            duplicate_window=dt.timedelta(seconds=settings.duplicate_window_seconds),
            idempotency_ttl=dt.timedelta(seconds=settings.idempotency_ttl_seconds),
            replies_per_thread=settings.replies_per_thread,
            auto_close_days=settings.auto_close_days,
            ticker_url=settings.ticker_url_template or "",
            require_disclosure=settings.require_disclosure,
        )


class RuleSettings(Protocol):
    """The settings Rules are built from: service.config.Settings has them (the domain
    does not import the configuration; it names what it reads)."""

    @property
    def max_depth(self) -> int: ...
    @property
    def max_body(self) -> int: ...
    @property
    def edit_window_seconds(self) -> int: ...
    @property
    def premoderation(self) -> str: ...
    @property
    def duplicate_window_seconds(self) -> int: ...
    @property
    def idempotency_ttl_seconds(self) -> int: ...
    @property
    def replies_per_thread(self) -> int: ...
    @property
    def auto_close_days(self) -> int: ...
    @property
    def ticker_url_template(self) -> str | None: ...
    @property
    def require_disclosure(self) -> bool: ...


@dataclass(frozen=True)
class Author:
    """Who writes: a signed-in user (user_id set) or a guest (name only)."""

    user_id: str | None
    name: str
    is_moderator: bool = False
    guest_key: str | None = None  # a guest's keyed IP hash (never shown)

    @property
    def is_guest(self) -> bool:
        return self.user_id is None

    @property
    def viewer(self) -> Viewer:
        return Viewer(user_id=self.user_id, is_moderator=self.is_moderator)


@dataclass
class Created:
    comment: Comment
    edit_token: str | None = None
    replayed: bool = False


# --- counters -----------------------------------------------------------------------------

_ARTICLES = cast(Table, Article.__table__)
# Counters move in the database, never read-modify-write. Built once with bind parameters
# (every write runs one of these); being Core statements, they neither autoflush nor touch
# loaded objects, so _expire_counters() refreshes a loaded article afterwards.
_BUMP = (
    update(_ARTICLES)
    .where(_ARTICLES.c.id == bindparam("article_id"))
    .values(version=_ARTICLES.c.version + 1)
)
_SHIFT = (
    update(_ARTICLES)
    .where(_ARTICLES.c.id == bindparam("article_id"))
    .values(
        version=_ARTICLES.c.version + 1,
        comment_count=_ARTICLES.c.comment_count + bindparam("delta"),
    )
)
# A new comment: the same, and the thread's first comment time if it has none yet.
_POSTED = (
    update(_ARTICLES)
    .where(_ARTICLES.c.id == bindparam("article_id"))
    .values(
        version=_ARTICLES.c.version + 1,
        comment_count=_ARTICLES.c.comment_count + bindparam("delta"),
        first_comment_at=func.coalesce(
            _ARTICLES.c.first_comment_at, bindparam("now", type_=_ARTICLES.c.first_comment_at.type)
        ),
    )
)


def _expire_counters(session: Session, article_id: str) -> None:
    loaded = session.identity_map.get(identity_key(Article, article_id))
    if loaded is not None:
        session.expire(loaded, ["version", "comment_count", "first_comment_at"])


def bump_version(session: Session, article_id: str) -> None:
    session.execute(_BUMP, {"article_id": article_id})
    _expire_counters(session, article_id)


def lock_thread(session: Session, article_id: str) -> None:
    """Take the article row's lock first (by bumping its version), before any comment row.

    Writes that change a thread lock the article before comments, so two writers rarely
    hold one each and wait for the other (a deadlock PostgreSQL aborts; the app then runs
    the request again). Call it before changing any attribute of a loaded comment:
    autoflush would otherwise write the comment first."""
    bump_version(session, article_id)


def shift_counts(
    session: Session, comment: Comment, delta: int, posted_at: dt.datetime | None = None
) -> None:
    """Add ``delta`` to the article's comment_count and every ancestor's reply_count, in two
    atomic UPDATEs (never read-modify-write), and bump the article's version. ``posted_at``:
    ``comment`` is new, and the thread's first comment if it has none before it."""
    if posted_at is None:
        session.execute(_SHIFT, {"article_id": comment.article_id, "delta": delta})
    else:
        session.execute(
            _POSTED, {"article_id": comment.article_id, "delta": delta, "now": posted_at}
        )
    _expire_counters(session, comment.article_id)
    ancestors = ancestor_ids(comment.path)
    if delta and ancestors:
        session.execute(
            update(Comment)
            .where(Comment.id.in_(ancestors))
            .values(reply_count=Comment.reply_count + delta)
            .execution_options(synchronize_session=False)
        )
        for obj in session.identity_map.values():
            if isinstance(obj, Comment) and obj.id in ancestors:
                session.expire(obj, ["reply_count"])


def set_status(
    session: Session,
    comment: Comment,
    status: CommentStatus,
    *,
    now: dt.datetime | None = None,
    shadowed: bool | None = None,
) -> None:
    """Move a comment to ``status`` and keep every counter in step."""
    before = is_counted(comment.status, comment.shadowed)
    previous = comment.status
    comment.status = status
    if shadowed is not None:
        comment.shadowed = shadowed
    comment.status_changed_at = now or utcnow()
    if status != CommentStatus.PUBLISHED:
        comment.pinned = False
    after = is_counted(comment.status, comment.shadowed)
    session.flush()
    shift_counts(session, comment, int(after) - int(before))
    if status != previous:
        events.record(
            session,
            events.Event(
                events.COMMENT_STATUS,
                article_id=comment.article_id,
                comment_id=comment.id,
                data={"before": CommentStatus(previous).value, "after": status.value},
            ),
        )


# --- bans and holds -----------------------------------------------------------------------


@dataclass(frozen=True)
class ActiveBan:
    shadow: bool
    expires_at: dt.datetime | None


# Every write asks these; built once with bind parameters and read as plain rows (an ORM
# entity costs more to build than the query takes: docs/performance.md).
_BANS, _COMMENTS = Ban.__table__, cast(Table, Comment.__table__)
_BAN = select(_BANS.c.shadow, _BANS.c.expires_at).where(_BANS.c.user_id == bindparam("user_id"))
_DUPLICATE = (
    select(_COMMENTS.c.id)
    .where(
        _COMMENTS.c.article_id == bindparam("article_id"),
        _COMMENTS.c.author_id == bindparam("author_id"),
        _COMMENTS.c.body_fingerprint == bindparam("fingerprint"),
        _COMMENTS.c.created_at >= bindparam("since", type_=_COMMENTS.c.created_at.type),
        _COMMENTS.c.status.not_in(TOMBSTONE_STATUSES),
    )
    .order_by(_COMMENTS.c.id.desc())
    .limit(1)
)
# Guests have no id: the same name from the same (hashed) IP is the same guest.
_GUEST_DUPLICATE = (
    select(_COMMENTS.c.id)
    .where(
        _COMMENTS.c.article_id == bindparam("article_id"),
        _COMMENTS.c.author_id.is_(None),
        _COMMENTS.c.guest_key == bindparam("guest_key"),
        _COMMENTS.c.author_name == bindparam("author_name"),
        _COMMENTS.c.body_fingerprint == bindparam("fingerprint"),
        _COMMENTS.c.created_at >= bindparam("since", type_=_COMMENTS.c.created_at.type),
        _COMMENTS.c.status.not_in(TOMBSTONE_STATUSES),
    )
    .order_by(_COMMENTS.c.id.desc())
    .limit(1)
)


def _name_taken(session: Session, article_id: str, name: str) -> bool:
    """Does a signed-in author (a reader or a moderator) of this article go by ``name``
    (case aside)? A guest may not take it: that is impersonation (#14 item 16)."""
    return (
        session.execute(
            select(_COMMENTS.c.id)
            .where(
                _COMMENTS.c.article_id == article_id,
                _COMMENTS.c.author_is_guest == false(),
                # A shadow-banned author's comments are seen by no one else: their names
                # must not refuse a guest either (that would show the comments exist).
                _COMMENTS.c.shadowed == false(),
                func.lower(_COMMENTS.c.author_name) == name.lower(),
            )
            .limit(1)
        ).first()
        is not None
    )


def active_ban(session: Session, user_id: str | None, now: dt.datetime) -> ActiveBan | None:
    if user_id is None:
        return None
    row = session.execute(_BAN, {"user_id": user_id}).first()
    if row is None or (row.expires_at is not None and row.expires_at <= now):
        return None
    return ActiveBan(bool(row.shadow), row.expires_at)


def premoderation_applies(
    session: Session,
    *,
    mode: str,
    article: Article | ArticleForPost,
    author: Author,
    now: dt.datetime | None = None,
) -> bool:
    """Does this new comment wait for a moderator, by configuration or the article's switch
    (or its premoderation_until, surge mode)?"""
    if author.is_moderator:
        return False
    if now is not None and surge.premoderation_active(article, now):
        return True
    if article.premoderation is not None:
        return article.premoderation
    if mode == "all":
        return True
    if mode == "guests":
        return author.is_guest
    if mode == "first_comment":
        if author.is_guest:
            return True
        earlier = session.execute(
            select(Comment.id)
            .where(Comment.author_id == author.user_id, Comment.status == CommentStatus.PUBLISHED)
            .limit(1)
        ).first()
        return earlier is None
    return False


# --- posting ------------------------------------------------------------------------------


def auto_closed(article: Article | ArticleForPost | None, *, days: int, now: dt.datetime) -> bool:
    """COMMENTS_AUTO_CLOSE_DAYS: a thread whose first comment is older takes no new ones."""
    return bool(
        days > 0
        and article is not None
        and article.first_comment_at is not None
        and now - article.first_comment_at > dt.timedelta(days=days)
    )


def ensure_article(session: Session, article_id: str, now: dt.datetime) -> Article:
    """The article row, created on first write; concurrent first writers both succeed."""
    article = session.get(Article, article_id)
    if article is not None:
        return article
    try:
        with session.begin_nested():
            article = Article(
                id=article_id,
                created_at=now,
                status=ArticleStatus.OPEN,
                comment_count=0,
                reaction_count=0,
                version=0,
            )
            session.add(article)
    except IntegrityError:
        article = session.get(Article, article_id)
        assert article is not None
    return article


def _parent_for(session: Session, *, article_id: str, parent_id: int, author: Author) -> Comment:
    parent = session.get(Comment, parent_id)
    if (
        parent is None
        or parent.article_id != article_id
        or not comment_visible(parent, author.viewer)
    ):
        raise RuleError(
            422,
            "parent_id: no such comment in this article.",
            kind="invalid-parent",
            field="parent_id",
        )
    if parent.status in TOMBSTONE_STATUSES:
        raise RuleError(
            409, "That comment was deleted; reply to another one.", kind="parent-deleted"
        )
    return parent


def find_duplicate(
    session: Session,
    *,
    article_id: str,
    author: Author,
    fingerprint: str,
    now: dt.datetime,
    window: dt.timedelta,
) -> int | None:
    """The id of the author's live comment with the same text posted within ``window``."""
    if window.total_seconds() <= 0:
        return None
    if author.user_id is None:
        if not author.guest_key:
            return None
        return session.execute(
            _GUEST_DUPLICATE,
            {
                "article_id": article_id,
                "guest_key": author.guest_key,
                "author_name": author.name,
                "fingerprint": fingerprint,
                "since": now - window,
            },
        ).scalar()
    return session.execute(
        _DUPLICATE,
        {
            "article_id": article_id,
            "author_id": author.user_id,
            "fingerprint": fingerprint,
            "since": now - window,
        },
    ).scalar()


@dataclass(frozen=True)
class ArticleForPost:
    """What posting needs of the article row."""

    status: ArticleStatus
    premoderation: bool | None
    first_comment_at: dt.datetime | None
    # surge mode (domain/surge.py)
    slow_mode_seconds: int = 0
    slow_mode_until: dt.datetime | None = None
    surge_slow_mode_seconds: int = 0
    surge_until: dt.datetime | None = None
    premoderation_until: dt.datetime | None = None


_ARTICLE_FOR_POST = select(
    _ARTICLES.c.status,
    _ARTICLES.c.premoderation,
    _ARTICLES.c.first_comment_at,
    # surge mode (domain/surge.py)
    _ARTICLES.c.slow_mode_seconds,
    _ARTICLES.c.slow_mode_until,
    _ARTICLES.c.surge_slow_mode_seconds,
    _ARTICLES.c.surge_until,
    _ARTICLES.c.premoderation_until,
).where(_ARTICLES.c.id == bindparam("article_id"))
_INSERT_COMMENT = insert(_COMMENTS).returning(_COMMENTS.c.id)


def article_for_post(session: Session, article_id: str, now: dt.datetime) -> ArticleForPost:
    """The article's status, moderation switch and first comment time, creating the row on
    the first write (``ensure_article``) and otherwise read as a plain row."""
    row = session.execute(_ARTICLE_FOR_POST, {"article_id": article_id}).first()
    if row is None:
        article = ensure_article(session, article_id, now)
        return ArticleForPost(article.status, article.premoderation, article.first_comment_at)
    return ArticleForPost(*row)


def create_comment(
    session: Session,
    *,
    article_id: str,
    author: Author,
    body: str,
    parent_id: int | None,
    rules: Rules,
    now: dt.datetime | None = None,
    hold_reason: str | None = None,
    edit_token: str | None = None,
    disclosure: Mapping[str, Any] | None = None,
) -> Created:
    """Post a comment or a reply. ``hold_reason`` is an automatic rule that held it;
    ``edit_token``: a guest's token when the caller chose it (else a random one);
    ``disclosure``: the author's positions in securities ({"BABA": "long"})."""
    now = now or utcnow()
    body = _checked_body(body, rules)
    positions = markets.parse_disclosure(disclosure)
    body_html, symbols = bodies.render_with_tickers(body, rules.ticker_url)
    markets.check_required(symbols, positions, required=rules.require_disclosure)
    ban = active_ban(session, author.user_id, now)
    if ban is not None and not ban.shadow:
        raise RuleError(
            403,
            "You are banned from commenting"
            + (f" until {ban.expires_at:%Y-%m-%d %H:%M} UTC." if ban.expires_at else "."),
            kind="banned",
        )
    article = article_for_post(session, article_id, now)
    if article.status == ArticleStatus.CLOSED:
        raise RuleError(409, "Comments on this article are closed.", kind="article-closed")
    if auto_closed(article, days=rules.auto_close_days, now=now):
        raise RuleError(
            409,
            f"Comments on this article closed {rules.auto_close_days} days after the first one.",
            kind="article-closed",
        )
    if article.status == ArticleStatus.HIDDEN and not author.is_moderator:
        raise RuleError(409, "Comments on this article are not available.", kind="article-hidden")
    surge.check_slow_mode(
        session,
        article_id=article_id,
        article=article,
        author_id=author.user_id,
        guest_key=author.guest_key,
        is_moderator=author.is_moderator,
        now=now,
    )

    if author.is_guest and _name_taken(session, article_id, author.name):
        raise RuleError(
            422,
            "That name belongs to a signed-in reader or moderator in this thread; choose another.",
            kind="validation-error",
            field="author_name",
        )
    fingerprint = bodies.fingerprint(body)
    duplicate = find_duplicate(
        session,
        article_id=article_id,
        author=author,
        fingerprint=fingerprint,
        now=now,
        window=rules.duplicate_window,
    )
    if duplicate is not None:
        raise RuleError(
            409,
            "You already posted this comment here.",
            kind="duplicate-comment",
            comment_id=duplicate,
        )

    depth, path, root_id, effective_parent = 0, "/", None, None
    # Shadowed: written under a shadow ban, or below a shadowed comment (its author's own
    # reply after the ban was lifted would otherwise count where nobody sees its parent).
    shadowed = bool(ban and ban.shadow)
    if parent_id is not None:
        parent = _parent_for(session, article_id=article_id, parent_id=parent_id, author=author)
        effective_parent, depth = place_reply(
            parent_id=parent.id,
            parent_depth=parent.depth,
            grandparent_id=parent.parent_id,
            max_depth=rules.max_depth,
        )
        shadowed = shadowed or parent.shadowed
        if effective_parent == parent.id:
            path = f"{parent.path}{parent.id}/"
        elif effective_parent is not None:
            path = parent.path  # a sibling of the parent: same ancestors
        root_id = ancestor_ids(path)[0] if path != "/" else None

    status = CommentStatus.PUBLISHED
    held = None
    if hold_reason is not None:
        status, held = CommentStatus.PENDING, hold_reason
    elif premoderation_applies(
        session, mode=rules.premoderation, article=article, author=author, now=now
    ):
        status, held = CommentStatus.PENDING, "premoderation"

    edit_token = (edit_token or new_edit_token()) if author.is_guest else None
    values: dict[str, Any] = dict(
        article_id=article_id,
        parent_id=effective_parent,
        root_id=root_id,
        path=path,
        depth=depth,
        author_id=author.user_id,
        author_name=author.name,
        author_is_guest=author.is_guest,
        author_is_moderator=author.is_moderator,
        edit_token_hash=hash_secret(edit_token) if edit_token else None,
        guest_key=author.guest_key if author.is_guest else None,
        body=body,
        body_html=body_html,
        body_fingerprint=fingerprint,
        status=status,
        held_reason=held,
        shadowed=shadowed,
        created_at=now,
        edited_at=None,
        status_changed_at=None,
        reply_count=0,
        likes=0,
        dislikes=0,
        score=0,
        best=0.0,
        controversy=0.0,
        flag_count=0,
        flag_weight=0.0,
        pinned=False,
        tickers=list(symbols) or None,
        disclosure=positions,
        revision_count=0,
    )
    # One INSERT ... RETURNING id, then the object joins the session as loaded from it:
    # the unit of work's flush cost more than the rest of posting (docs/performance.md).
    comment = Comment(id=session.execute(_INSERT_COMMENT, values).scalar_one(), **values)
    make_transient_to_detached(comment)
    session.add(comment)
    # A shadowed comment does not start the thread's auto-close clock (first_comment_at):
    # nothing a shadow-banned author writes may change what others see (#14).
    shift_counts(
        session,
        comment,
        int(is_counted(comment.status, comment.shadowed)),
        posted_at=None if comment.shadowed else now,
    )
    tickers.store(session, comment_id=comment.id, symbols=symbols, created_at=now)
    events.record(
        session,
        events.Event(
            events.COMMENT_CREATED,
            article_id=article_id,
            comment_id=comment.id,
            actor_id=author.user_id,
            data={"status": status.value, "parent_id": effective_parent},
        ),
    )
    return Created(comment, edit_token)


def _checked_body(body: str, rules: Rules) -> str:
    try:
        return bodies.clean_body(body, max_length=rules.max_body)
    except bodies.BodyError as exc:
        raise RuleError(422, str(exc), kind="invalid-body", field="body") from None


# --- idempotency --------------------------------------------------------------------------


def replay(
    session: Session,
    *,
    caller_key: str,
    key: str,
    request_fingerprint: str,
    now: dt.datetime,
    ttl: dt.timedelta,
) -> Comment | None:
    """The comment a previous request with this Idempotency-Key created, if any."""
    row = session.execute(
        select(IdempotencyKey).where(IdempotencyKey.caller == caller_key, IdempotencyKey.key == key)
    ).scalar_one_or_none()
    if row is None:
        return None
    if row.created_at <= now - ttl:
        session.delete(row)
        session.flush()
        return None
    if row.request_fingerprint != request_fingerprint:
        raise RuleError(
            422,
            "This Idempotency-Key was already used with a different request.",
            kind="idempotency-key-reused",
            field="Idempotency-Key",
        )
    return session.get(Comment, row.comment_id)


PURGE_BATCH = 100  # expired keys removed per remembered one: bounded work per request


def purge_idempotency_keys(session: Session, *, now: dt.datetime, ttl: dt.timedelta) -> int:
    """Forget up to PURGE_BATCH keys at least ``ttl`` old: those no longer replay anything
    (replay() treats a key as spent at exactly its TTL, and so does this).
    Run lazily by each post that remembers a key, so the table stays near one TTL's worth
    of keys without a scheduler (#14 item 11). Returns how many went."""
    expired = (
        select(IdempotencyKey.id)
        .where(IdempotencyKey.created_at <= now - ttl)
        .order_by(IdempotencyKey.created_at)
        .limit(PURGE_BATCH)
    )
    ids = list(session.scalars(expired))
    if ids:
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.id.in_(ids)))
    return len(ids)


def remember(
    session: Session,
    *,
    caller_key: str,
    key: str,
    request_fingerprint: str,
    comment_id: int,
    now: dt.datetime,
    ttl: dt.timedelta | None = None,
) -> None:
    if ttl is not None:
        purge_idempotency_keys(session, now=now, ttl=ttl)
    session.add(
        IdempotencyKey(
            caller=caller_key,
            key=key,
            request_fingerprint=request_fingerprint,
            comment_id=comment_id,
            created_at=now,
        )
    )
    session.flush()


# --- editing and deleting -----------------------------------------------------------------


def may_change(comment: Comment, *, user_id: str | None, guest_token_ok: bool) -> bool:
    if comment.author_is_guest:
        return guest_token_ok
    return user_id is not None and comment.author_id == user_id


def edit_window_closed(window: dt.timedelta) -> str:
    """Why an edit is refused, in the window's own unit (COMMENTS_EDIT_WINDOW_SECONDS=0
    turns editing off; 90 is not "1 minutes")."""
    seconds = int(window.total_seconds())
    if seconds <= 0:
        return "Editing comments is turned off on this site."
    minutes, rest = divmod(seconds, 60)
    count, unit = (seconds, "second") if rest else (minutes, "minute")
    return (
        f"Comments can only be edited within {count} {unit}{'s' if count != 1 else ''} of posting."
    )


UNCHANGED: Any = object()  # edit_comment(disclosure=...) when the request left it out


def edit_comment(
    session: Session,
    *,
    comment: Comment,
    body: str | None,
    user_id: str | None,
    guest_token_ok: bool,
    rules: Rules,
    now: dt.datetime | None = None,
    disclosure: Mapping[str, Any] | None = UNCHANGED,
) -> Comment:
    """The author changes the body, the disclosure or both (None / UNCHANGED: keep it)
    within the edit window. The version replaced is kept (revisions.py)."""
    now = now or utcnow()
    if comment.status in TOMBSTONE_STATUSES:
        raise RuleError(404, "There is no such comment.", kind="not-found")
    if not may_change(comment, user_id=user_id, guest_token_ok=guest_token_ok):
        raise RuleError(403, "Only the author can edit this comment.", kind="forbidden")
    ban = active_ban(session, user_id, now)
    if ban is not None and not ban.shadow:
        raise RuleError(403, "You are banned from commenting.", kind="banned")
    if not rules.edit_window or now - comment.created_at > rules.edit_window:
        raise RuleError(403, edit_window_closed(rules.edit_window), kind="edit-window-closed")
    new_body = comment.body if body is None else _checked_body(body, rules)
    positions = (
        comment.disclosure if disclosure is UNCHANGED else markets.parse_disclosure(disclosure)
    )
    body_changed = new_body != comment.body and new_body is not None
    if not body_changed and positions == comment.disclosure:
        return comment
    symbols = tuple(comment.tickers or ())
    html = comment.body_html
    if body_changed and new_body is not None:
        html, symbols = bodies.render_with_tickers(new_body, rules.ticker_url)
    markets.check_required(symbols, positions, required=rules.require_disclosure)
    lock_thread(session, comment.article_id)
    revisions.keep(session, comment=comment)
    if body_changed and new_body is not None:
        if list(symbols) != list(comment.tickers or ()):
            tickers.store(
                session,
                comment_id=comment.id,
                symbols=symbols,
                created_at=comment.created_at,
                replace=True,
            )
        comment.body = new_body
        comment.body_html = html
        comment.body_fingerprint = bodies.fingerprint(new_body)
        comment.tickers = list(symbols) or None
    comment.disclosure = positions
    comment.edited_at = now
    session.flush()
    events.record(
        session,
        events.Event(
            events.COMMENT_EDITED,
            article_id=comment.article_id,
            comment_id=comment.id,
            actor_id=user_id,
        ),
    )
    return comment


def delete_comment(
    session: Session,
    *,
    comment: Comment,
    user_id: str | None,
    guest_token_ok: bool,
    is_moderator: bool,
    now: dt.datetime | None = None,
) -> CommentStatus:
    """The author deletes (status deleted), a moderator removes (status removed). The row
    stays as a tombstone while it has visible replies; listings drop it otherwise."""
    now = now or utcnow()
    if comment.status in TOMBSTONE_STATUSES:
        raise RuleError(404, "There is no such comment.", kind="not-found")
    is_author = may_change(comment, user_id=user_id, guest_token_ok=guest_token_ok)
    if not is_author and not is_moderator:
        raise RuleError(
            403, "Only the author or a moderator can delete this comment.", kind="forbidden"
        )
    lock_thread(session, comment.article_id)
    if is_author:
        status = CommentStatus.DELETED
        # The author's words go with the author's decision.
        comment.body = None
        comment.body_html = None
        comment.body_fingerprint = None
        revisions.forget(session, [comment])
    else:
        status = CommentStatus.REMOVED
    set_status(session, comment, status, now=now)
    return status
