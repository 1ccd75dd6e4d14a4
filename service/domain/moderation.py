"""Moderation rules, free of Flask: automatic holds, flags and their weights, moderator
actions, bans, erasure.

Functions take the session and keyword-only arguments, flush, and leave the commit to the
view. Every decision that changes what readers see writes an audit entry in the same
transaction (``audit.record``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import Select, and_, case, delete, false, func, or_, select, text, update
from sqlalchemy.orm import Session

from ..enums import TOMBSTONE_STATUSES, ArticleStatus, CommentStatus, FlagReason, FlagState
from ..models import (
    Article,
    AuditEntry,
    Ban,
    Comment,
    Flag,
    IdempotencyKey,
    QUEUE_PREDICATE,
    utcnow,
)
from . import bodies
from .audit import SYSTEM, record
from .comments import (  # noqa: F401  (auto_closed is part of this module's API)
    RuleError,
    active_ban,
    auto_closed,
    bump_version,
    ensure_article,
    set_status,
)
from .reactions import _insert, withdraw_all
from .threads import Viewer, article_visible, comment_visible

log = logging.getLogger(__name__)

# Why a comment waits (Comment.held_reason).
HELD_PREMODERATION = "premoderation"
HELD_BLOCKED_TERM = "blocked_term"
HELD_LINKS = "links"
HELD_FLAGS = "flags"


# --- automatic rules ------------------------------------------------------------------------


def normalise(text: str) -> str:
    """The form blocked terms are matched in: ``bodies.fold`` (compatibility forms, combining
    marks, invisible characters, lookalikes from other scripts, case)."""
    return bodies.fold(text)


def compile_terms(terms: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern matching any term as a whole word (a term may be a phrase: its spaces
    match any run of whitespace). None when there are no terms."""
    parts = []
    for raw in terms:
        term = normalise(raw).strip()
        if not term or term.startswith("#"):
            continue
        words = [re.escape(w) for w in term.split()]
        parts.append(r"\s+".join(words))
    if not parts:
        return None
    # Longest first, so "buy now" is reported rather than "buy" when both are listed.
    parts.sort(key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")


def read_terms_file(path: str) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


_URL = re.compile(r"(?:https?://|ftp://|www\.)[^\s<>\"']+", re.IGNORECASE)
_ANCHOR = re.compile(r"<a\s[^>]*>.*?</a>", re.IGNORECASE | re.DOTALL)


def count_links(body: str) -> int:
    """Links a reader would see: rendered Markdown links plus bare URLs in the text
    (linkify is off, but a bare URL is still an invitation to copy and paste)."""
    html = bodies.render(body)
    anchors = bodies.count_links(html)
    rest = _ANCHOR.sub(" ", html)
    return anchors + len(_URL.findall(normalise(rest)))


@dataclass(frozen=True)
class AutoRules:
    """What holds a new or edited comment for a moderator."""

    blocked: re.Pattern[str] | None = None
    max_links: int = 3

    def hold_reason(self, body: str) -> str | None:
        """``blocked_term`` or ``links`` when a rule holds this body, else None."""
        # The text a reader sees (`cas**ino**`, `cas&#105;no`), and the source as well, so a
        # term inside a link's address still holds the comment.
        if self.blocked is not None and (
            self.blocked.search(normalise(bodies.plain_text(body)))
            or self.blocked.search(normalise(body))
        ):
            return HELD_BLOCKED_TERM
        if self.max_links >= 0 and count_links(body) > self.max_links:
            return HELD_LINKS
        return None


class TermsCache:
    """Blocked terms read from a file, re-read when the file changes, so moderators can edit
    the list without a restart. If the file disappears the last good list stays in force."""

    def __init__(self) -> None:
        self._key: tuple[str, float] | None = None
        self._pattern: re.Pattern[str] | None = None

    def pattern(self, path: str | None) -> re.Pattern[str] | None:
        if not path:
            return None
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            log.warning("blocked terms file %s is unreadable; keeping the last list", path)
            return self._pattern
        if self._key != (path, mtime):
            self._pattern = compile_terms(read_terms_file(path))
            self._key = (path, mtime)
        return self._pattern


# --- flag weights ---------------------------------------------------------------------------

MIN_FLAG_WEIGHT = 0.25
MAX_FLAG_WEIGHT = 2.0


NEW_ACCOUNT_FLAG_WEIGHT = 0.25


def flag_weight(upheld: int, dismissed: int, established: bool = True) -> float:
    """How much one flag from this flagger counts.

    An account that has not yet earned a say (``established``: it has a published
    comment at least COMMENTS_FLAG_TRUST_HOURS old) weighs 0.25 whatever its record, so a
    handful of brand-new accounts cannot hide a comment (#14 item 9). Otherwise:

        weight = clamp((1 + upheld) / (1 + dismissed), 0.25, 2.0)

    A new flagger weighs 1.0. Each flag a moderator upheld raises the weight, each one
    dismissed lowers it; the +1s keep one decision from swinging it to an extreme. The cap of
    2.0 means no single flagger can hide a comment alone at the default threshold of 3; the
    floor of 0.25 means a careless flagger is still heard, just four times more quietly.
    """
    if not established:
        return NEW_ACCOUNT_FLAG_WEIGHT
    raw = (1 + max(upheld, 0)) / (1 + max(dismissed, 0))
    return max(MIN_FLAG_WEIGHT, min(MAX_FLAG_WEIGHT, raw))


def is_established(
    session: Session, user_id: str, now: dt.datetime, trust_after: dt.timedelta
) -> bool:
    """Has this account earned full flag weight: a published, unshadowed comment at least
    ``trust_after`` old? (Accounts live at the host site; their first comment here is the
    oldest fact we hold about them.) ``trust_after`` of zero trusts every account."""
    if trust_after <= dt.timedelta(0):
        return True
    return (
        session.execute(
            select(Comment.id)
            .where(
                Comment.author_id == user_id,
                Comment.status == CommentStatus.PUBLISHED,
                Comment.shadowed == false(),
                Comment.created_at <= now - trust_after,
            )
            .limit(1)
        ).first()
        is not None
    )


def flagger_record(session: Session, user_id: str) -> dict[str, int]:
    """{"upheld": n, "dismissed": m, "open": k} for one flagger."""
    out = {state.value: 0 for state in FlagState}
    for state, count in session.execute(
        select(Flag.state, func.count()).where(Flag.user_id == user_id).group_by(Flag.state)
    ):
        out[state.value] = count
    return out


@dataclass
class FlagResult:
    flag: Flag
    created: bool
    hidden: bool = False


def add_flag(
    session: Session,
    *,
    comment: Comment,
    user_id: str,
    reason: FlagReason,
    note: str | None,
    threshold: float,
    now: dt.datetime | None = None,
    trust_after: dt.timedelta = dt.timedelta(0),
) -> FlagResult:
    """A reader flags a comment: one flag per reader per comment (the unique constraint
    decides races). When the open flags' weight reaches ``threshold`` a published comment is
    hidden until a moderator decides, with a ``system`` audit entry."""
    now = now or utcnow()
    viewer = Viewer(user_id=user_id)
    if not article_visible(session.get(Article, comment.article_id), viewer):
        raise RuleError(404, "There is no such comment.", kind="not-found")
    if comment.status in TOMBSTONE_STATUSES:
        raise RuleError(
            409, "This comment was deleted; there is nothing left to flag.", kind="comment-deleted"
        )
    if not comment_visible(comment, viewer):
        raise RuleError(404, "There is no such comment.", kind="not-found")
    if comment.author_id is not None and comment.author_id == user_id:
        raise RuleError(
            409, "You cannot flag your own comment; edit or delete it instead.", kind="own-comment"
        )
    ban = active_ban(session, user_id, now)
    if ban is not None and not ban.shadow:
        raise RuleError(403, "You are banned and cannot flag comments.", kind="banned")
    if ban is not None:  # shadow-banned: stored, weighs nothing, and the user cannot tell
        weight = 0.0
    else:
        record_ = flagger_record(session, user_id)
        weight = flag_weight(
            record_["upheld"],
            record_["dismissed"],
            established=is_established(session, user_id, now, trust_after),
        )
    inserted = session.execute(
        _insert(session, Flag)
        .values(
            comment_id=comment.id,
            user_id=user_id,
            reason=reason,
            note=note,
            weight=weight,
            state=FlagState.OPEN,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["comment_id", "user_id"])
        .returning(Flag.id)  # rowcount is unreliable for ORM inserts on PostgreSQL
    ).scalar_one_or_none()
    flag = session.execute(
        select(Flag).where(Flag.comment_id == comment.id, Flag.user_id == user_id)
    ).scalar_one()
    if inserted is None:
        return FlagResult(flag, created=False)
    if weight <= 0:
        return FlagResult(flag, created=True)
    # Atomic: concurrent flags each add their own weight; the row lock orders them, so
    # exactly one of them sees the threshold crossed while the comment is still published.
    total, status = session.execute(
        update(Comment)
        .where(Comment.id == comment.id)
        .values(flag_count=Comment.flag_count + 1, flag_weight=Comment.flag_weight + weight)
        .returning(Comment.flag_weight, Comment.status)
        .execution_options(synchronize_session=False)
    ).one()
    session.expire(comment)
    hidden = False
    if total >= threshold - 1e-9 and status == CommentStatus.PUBLISHED:
        before = snapshot(comment)
        comment.held_reason = HELD_FLAGS
        set_status(session, comment, CommentStatus.HIDDEN, now=now)
        record(
            session,
            actor_id=SYSTEM,
            action="hide",
            target_type="comment",
            target_id=str(comment.id),
            reason=f"flag weight {total:g} reached the threshold {threshold:g}",
            before=before,
            after=snapshot(comment),
            now=now,
        )
        hidden = True
    return FlagResult(flag, created=True, hidden=hidden)


# --- holds ----------------------------------------------------------------------------------


def snapshot(comment: Comment) -> dict[str, Any]:
    """What the audit log keeps of a comment's state (never its text)."""
    return {
        "status": comment.status.value,
        "pinned": comment.pinned,
        "held_reason": comment.held_reason,
        "flag_count": comment.flag_count,
    }


def audit_hold(session: Session, *, comment: Comment, now: dt.datetime | None = None) -> None:
    """Record that a new comment was held for a moderator (premoderation or a rule)."""
    record(
        session,
        actor_id=SYSTEM,
        action="hold",
        target_type="comment",
        target_id=str(comment.id),
        reason=comment.held_reason,
        before=None,
        after=snapshot(comment),
        now=now,
    )


def hold_edited(
    session: Session, *, comment: Comment, reason: str, now: dt.datetime | None = None
) -> bool:
    """An edit that trips an automatic rule sends a published comment back to the queue."""
    if comment.status != CommentStatus.PUBLISHED:
        return False
    before = snapshot(comment)
    comment.held_reason = reason
    set_status(session, comment, CommentStatus.PENDING, now=now)
    record(
        session,
        actor_id=SYSTEM,
        action="hold",
        target_type="comment",
        target_id=str(comment.id),
        reason=f"{reason} (after an edit)",
        before=before,
        after=snapshot(comment),
        now=now,
    )
    return True


# --- moderator actions ----------------------------------------------------------------------

ACTIONS = ("approve", "remove", "restore", "pin", "unpin", "dismiss_flags")


def _resolve_flags(session: Session, comment: Comment, state: FlagState, now: dt.datetime) -> int:
    """Close the comment's open flags as upheld or dismissed (the flaggers' record) and
    reset its flag counters: later flags start a new round."""
    result = session.execute(
        update(Flag)
        .where(Flag.comment_id == comment.id, Flag.state == FlagState.OPEN)
        .values(state=state, resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    comment.flag_count = 0
    comment.flag_weight = 0.0
    return int(result.rowcount or 0)


def _conflict(detail: str) -> RuleError:
    return RuleError(409, detail, kind="invalid-action")


def apply_action(
    session: Session,
    *,
    comment: Comment,
    action: str,
    actor_id: str,
    reason: str | None,
    max_pinned: int,
    now: dt.datetime | None = None,
) -> AuditEntry:
    """A moderator's decision on one comment; 409 when it makes no sense in this state."""
    now = now or utcnow()
    if action not in ACTIONS:
        raise RuleError(
            422,
            f"Unknown action {action!r}; use one of: {', '.join(ACTIONS)}.",
            kind="validation-error",
            field="action",
        )
    before = snapshot(comment)
    status = comment.status
    if action == "approve":
        if status not in (CommentStatus.PENDING, CommentStatus.HIDDEN) and not (
            status == CommentStatus.PUBLISHED and comment.flag_count > 0
        ):
            raise _conflict(
                f"Only pending, hidden or flagged comments can be approved "
                f"(this one is {status.value})."
            )
        _resolve_flags(session, comment, FlagState.DISMISSED, now)
        comment.held_reason = None
        if status != CommentStatus.PUBLISHED:
            set_status(session, comment, CommentStatus.PUBLISHED, now=now)
    elif action == "remove":
        if status in TOMBSTONE_STATUSES:
            raise _conflict(f"This comment is already {status.value}.")
        _resolve_flags(session, comment, FlagState.UPHELD, now)
        set_status(session, comment, CommentStatus.REMOVED, now=now)
    elif action == "restore":
        if status != CommentStatus.REMOVED:
            raise _conflict(f"Only removed comments can be restored (this one is {status.value}).")
        # The removal was wrong: the flags that led to it did not hold up after all.
        session.execute(
            update(Flag)
            .where(Flag.comment_id == comment.id, Flag.state == FlagState.UPHELD)
            .values(state=FlagState.DISMISSED, resolved_at=now)
            .execution_options(synchronize_session=False)
        )
        comment.held_reason = None
        set_status(session, comment, CommentStatus.PUBLISHED, now=now)
    elif action == "pin":
        if status != CommentStatus.PUBLISHED or comment.shadowed:
            raise _conflict("Only published comments can be pinned.")
        if comment.depth != 0:
            raise _conflict("Only top-level comments can be pinned.")
        if comment.pinned:
            raise _conflict("This comment is already pinned.")
        # Bumping the version first takes the article's row lock: two moderators pinning at
        # once count one after the other.
        bump_version(session, comment.article_id)
        pinned = (
            session.scalar(
                select(func.count())
                .select_from(Comment)
                .where(Comment.article_id == comment.article_id, Comment.pinned.is_(True))
            )
            or 0
        )
        if pinned >= max_pinned:
            raise _conflict(
                f"This article already has {pinned} pinned comments (at most "
                f"{max_pinned}); unpin one first."
            )
        comment.pinned = True
    elif action == "unpin":
        if not comment.pinned:
            raise _conflict("This comment is not pinned.")
        comment.pinned = False
        bump_version(session, comment.article_id)
    elif action == "dismiss_flags":
        if comment.flag_count <= 0:
            raise _conflict("This comment has no open flags.")
        _resolve_flags(session, comment, FlagState.DISMISSED, now)
        if status == CommentStatus.HIDDEN and comment.held_reason == HELD_FLAGS:
            comment.held_reason = None
            set_status(session, comment, CommentStatus.PUBLISHED, now=now)
    session.flush()
    return record(
        session,
        actor_id=actor_id,
        action=action,
        target_type="comment",
        target_id=str(comment.id),
        reason=reason,
        before=before,
        after=snapshot(comment),
        now=now,
    )


# --- articles -------------------------------------------------------------------------------


def article_settings(article_id: str, article: Article | None) -> dict[str, Any]:
    return {
        "status": (article.status if article else ArticleStatus.OPEN).value,
        "premoderation": article.premoderation if article else None,
    }


def update_article(
    session: Session,
    *,
    article_id: str,
    changes: dict[str, Any],
    actor_id: str,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> Article:
    now = now or utcnow()
    article = ensure_article(session, article_id, now)
    before = article_settings(article_id, article)
    if "status" in changes:
        article.status = changes["status"]
    if "premoderation" in changes:
        article.premoderation = changes["premoderation"]
    session.flush()
    after = article_settings(article_id, article)
    if after != before:
        bump_version(session, article_id)
        record(
            session,
            actor_id=actor_id,
            action="update_article",
            target_type="article",
            target_id=article_id,
            reason=reason,
            before=before,
            after=after,
            now=now,
        )
    return article


# --- bans -----------------------------------------------------------------------------------


def ban_out(ban: Ban) -> dict[str, Any]:
    return {
        "reason": ban.reason,
        "shadow": ban.shadow,
        "expires_at": ban.expires_at.isoformat() if ban.expires_at else None,
    }


def put_ban(
    session: Session,
    *,
    user_id: str,
    reason: str,
    shadow: bool,
    expires_at: dt.datetime | None,
    actor_id: str,
    now: dt.datetime | None = None,
) -> tuple[Ban, bool]:
    """Ban (or change the ban of) a user; (ban, created)."""
    now = now or utcnow()
    if expires_at is not None and expires_at <= now:
        raise RuleError(
            422, "expires_at must be in the future.", kind="validation-error", field="expires_at"
        )
    ban = session.get(Ban, user_id)
    created = ban is None
    before = None if ban is None else ban_out(ban)
    if ban is None:
        ban = Ban(user_id=user_id, created_by=actor_id, created_at=now)
        session.add(ban)
    ban.reason, ban.shadow, ban.expires_at = reason, shadow, expires_at
    session.flush()
    record(
        session,
        actor_id=actor_id,
        action="ban",
        target_type="user",
        target_id=user_id,
        reason=reason,
        before=before,
        after=ban_out(ban),
        now=now,
    )
    return ban, created


def lift_ban(
    session: Session,
    *,
    user_id: str,
    actor_id: str,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> None:
    ban = session.get(Ban, user_id)
    if ban is None:
        raise RuleError(404, "This user is not banned.", kind="not-found")
    before = ban_out(ban)
    session.delete(ban)
    session.flush()
    record(
        session,
        actor_id=actor_id,
        action="unban",
        target_type="user",
        target_id=user_id,
        reason=reason,
        before=before,
        after=None,
        now=now,
    )


# --- erasure --------------------------------------------------------------------------------


def erase_user(
    session: Session,
    *,
    user_id: str,
    actor_id: str,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, int]:
    """Erase a person: their reactions and flags go (counters corrected), their comments
    become anonymous tombstones when others replied to them and disappear otherwise, their
    ban goes. The audit log keeps that it happened, with counts only."""
    now = now or utcnow()
    touched_articles: set[str] = set()

    withdrawn, comment_reactions, article_reactions = withdraw_all(session, user_id=user_id)
    touched_articles.update(withdrawn)

    # Flags they raised: open ones stop weighing on the comment.
    flags = session.execute(
        select(Flag.comment_id, Flag.weight, Flag.state).where(Flag.user_id == user_id)
    ).all()
    for comment_id, weight, state in flags:
        if state == FlagState.OPEN and weight > 0:
            session.execute(
                update(Comment)
                .where(Comment.id == comment_id)
                .values(flag_count=Comment.flag_count - 1, flag_weight=Comment.flag_weight - weight)
                .execution_options(synchronize_session=False)
            )
    session.execute(delete(Flag).where(Flag.user_id == user_id))
    session.expire_all()

    # Their comments, deepest and newest first, so a chain of their own replies can go whole.
    comments = list(
        session.scalars(
            select(Comment)
            .where(Comment.author_id == user_id)
            .order_by(Comment.depth.desc(), Comment.id.desc())
        )
    )
    removed_rows = tombstones = 0
    for comment in comments:
        touched_articles.add(comment.article_id)
        if comment.status not in TOMBSTONE_STATUSES:
            set_status(session, comment, CommentStatus.DELETED, now=now)
        has_children = session.scalar(
            select(func.count()).select_from(Comment).where(Comment.parent_id == comment.id)
        )
        if has_children:
            comment.body = comment.body_html = comment.body_fingerprint = None
            comment.author_id = comment.author_name = comment.edit_token_hash = None
            comment.held_reason = None
            tombstones += 1
        else:
            session.delete(comment)
            removed_rows += 1
        session.flush()

    # Their Idempotency-Keys name them (caller "user:<id>") and point at their comments.
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.caller == f"user:{user_id}"))
    had_ban = session.get(Ban, user_id)
    if had_ban is not None:
        session.delete(had_ban)
    for article_id in touched_articles:
        bump_version(session, article_id)
    summary = {
        "comments_deleted": removed_rows,
        "comments_tombstoned": tombstones,
        "comment_reactions": comment_reactions,
        "article_reactions": article_reactions,
        "flags": len(flags),
        "bans": int(had_ban is not None),
    }
    session.flush()
    record(
        session,
        actor_id=actor_id,
        action="erase_user",
        target_type="user",
        target_id=user_id,
        reason=reason,
        before=None,
        after=summary,
        now=now,
    )
    return summary


# --- queue ----------------------------------------------------------------------------------


def flags_by_reason(session: Session, comment_ids: list[int]) -> dict[int, dict[str, int]]:
    """Open, counted flags per reason for many comments, in one query."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    if not comment_ids:
        return out
    for comment_id, reason, count in session.execute(
        select(Flag.comment_id, Flag.reason, func.count())
        .where(Flag.comment_id.in_(comment_ids), Flag.state == FlagState.OPEN, Flag.weight > 0)
        .group_by(Flag.comment_id, Flag.reason)
    ):
        out[comment_id][reason.value] = count
    return out


NOTES_PER_COMMENT = 3


def recent_notes(
    session: Session, comment_ids: list[int], *, per_comment: int = NOTES_PER_COMMENT
) -> dict[int, list[dict[str, Any]]]:
    """The newest reporters' notes on many comments' open, counted flags (a shadow-banned
    flagger's note counts no more than their flag), newest first, at most ``per_comment``
    each, in one query."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not comment_ids:
        return out
    rank = (
        func.row_number()
        .over(partition_by=Flag.comment_id, order_by=(Flag.created_at.desc(), Flag.id.desc()))
        .label("rank")
    )
    noted = (
        select(Flag.comment_id, Flag.reason, Flag.note, Flag.created_at, rank)
        .where(
            Flag.comment_id.in_(comment_ids),
            Flag.state == FlagState.OPEN,
            Flag.weight > 0,
            Flag.note.is_not(None),
            Flag.note != "",
        )
        .subquery()
    )
    rows = session.execute(
        select(noted.c.comment_id, noted.c.reason, noted.c.note, noted.c.created_at)
        .where(noted.c.rank <= per_comment)
        .order_by(noted.c.comment_id, noted.c.rank)
    )
    for comment_id, reason, note, created_at in rows:
        out[comment_id].append({"reason": reason.value, "note": note, "created_at": created_at})
    return out


def author_records(session: Session, user_ids: list[str]) -> dict[str, dict[str, int]]:
    """{"comments": n, "removed": m} per author, in one query."""
    out: dict[str, dict[str, int]] = {}
    if not user_ids:
        return out
    removed = func.sum(case((Comment.status == CommentStatus.REMOVED, 1), else_=0))
    for author_id, total, removed_n in session.execute(
        select(Comment.author_id, func.count(), removed)
        .where(Comment.author_id.in_(user_ids))
        .group_by(Comment.author_id)
    ):
        out[author_id] = {"comments": int(total), "removed": int(removed_n or 0)}
    return out


QUEUE_STATES = ("flagged", "pending", "hidden", "all")
# Most-flagged first (by weight, then by count), then the longest waiting.
QUEUE_KEYS = ((Comment.flag_weight, True), (Comment.flag_count, True), (Comment.id, False))


def queue_condition(state: str) -> Any:
    """The comments of one queue state. Every state starts with the partial index's own
    predicate, as literal SQL: planners use ix_comments_queue only when the query visibly
    implies it (a bound ``flag_count > ?`` does not)."""
    flagged = and_(Comment.flag_count > 0, Comment.status.not_in(TOMBSTONE_STATUSES))
    pending = Comment.status == CommentStatus.PENDING
    hidden = Comment.status == CommentStatus.HIDDEN
    state_condition = {
        "flagged": flagged,
        "pending": pending,
        "hidden": hidden,
        "all": or_(flagged, pending, hidden),
    }[state]
    return and_(text(f"({QUEUE_PREDICATE})"), state_condition)


def queue_page(
    session: Session,
    *,
    state: str,
    article_id: str | None,
    limit: int,
    after: list[Any] | None,
) -> list[Comment]:
    """One page of comments needing a decision (``limit + 1`` rows: the extra one says there
    is a next page)."""
    return list(
        session.scalars(queue_query(state=state, article_id=article_id, limit=limit, after=after))
    )


def queue_query(
    *, state: str, article_id: str | None, limit: int, after: list[Any] | None
) -> Select[Any]:
    """The SELECT behind ``queue_page`` (every state reads ix_comments_queue)."""
    from .threads import after_key, order_by

    query = select(Comment).where(queue_condition(state))
    if article_id is not None:
        query = query.where(Comment.article_id == article_id)
    if after is not None:
        query = query.where(after_key(QUEUE_KEYS, after))
    return query.order_by(*order_by(QUEUE_KEYS)).limit(limit + 1)


def queue_key(comment: Comment) -> list[Any]:
    return [float(comment.flag_weight), int(comment.flag_count), int(comment.id)]


def queue_sizes(session: Session) -> dict[str, int]:
    return {
        state: int(
            session.scalar(select(func.count()).select_from(Comment).where(queue_condition(state)))
            or 0
        )
        for state in QUEUE_STATES
    }
