"""Surge mode: slow mode, timed premoderation and the automatic surge of a busy thread.

- A moderator sets an article's ``slow_mode_seconds`` (one comment per user per that many
  seconds in the thread; 0: off), optionally until ``slow_mode_until``, and
  ``premoderation_until`` (new comments wait for a moderator until then).
- The automatic surge: more than COMMENTS_SURGE_COMMENTS_PER_MINUTE comments on an article
  within one minute turns on a slow mode of COMMENTS_SURGE_SLOW_MODE_SECONDS for
  COMMENTS_SURGE_MINUTES, in a pair of columns of its own, so a moderator's setting is
  back when the surge ends. Posts are counted per article and minute with an upsert
  (``count = count + 1 ... RETURNING count``): concurrent posts each count, and exactly
  one of them sees the count pass the threshold and turns the surge on, audited as the
  ``system``'s action and recorded as an ``article.changed`` event.

Moderators are never slowed or held. This module imports nothing from domain/comments.py
(which calls it), so the import graph stays one-way.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from ..models import Article, ArticlePostCount, Comment
from . import events
from .audit import SYSTEM, record
from .errors import RuleError

MAX_SLOW_MODE_SECONDS = 86_400
KEEP_MINUTES = 60  # per-minute counts older than this are deleted as new minutes start


class SurgeFields(Protocol):
    """What these rules read of an article: the ORM row or domain/comments.ArticleForPost."""

    @property
    def slow_mode_seconds(self) -> int: ...
    @property
    def slow_mode_until(self) -> dt.datetime | None: ...
    @property
    def surge_slow_mode_seconds(self) -> int: ...
    @property
    def surge_until(self) -> dt.datetime | None: ...
    @property
    def premoderation_until(self) -> dt.datetime | None: ...


@dataclass(frozen=True)
class SurgeRules:
    comments_per_minute: int = 0  # 0: the automatic surge is off
    slow_mode_seconds: int = 30
    minutes: int = 15

    @classmethod
    def from_settings(cls, settings: Any) -> "SurgeRules":
        return cls(
            comments_per_minute=settings.surge_comments_per_minute,
            slow_mode_seconds=settings.surge_slow_mode_seconds,
            minutes=settings.surge_minutes,
        )


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def slow_mode(article: SurgeFields | None, now: dt.datetime) -> tuple[int, dt.datetime | None]:
    """(seconds, until) of the slow mode in force at ``now``: the stricter of the
    moderator's and an active surge's; ``until`` None means until a moderator changes it."""
    if article is None:
        return 0, None
    options: list[tuple[int, dt.datetime | None]] = []
    manual_until = article.slow_mode_until
    if article.slow_mode_seconds > 0 and (manual_until is None or now < manual_until):
        options.append((article.slow_mode_seconds, manual_until))
    if article.surge_until is not None and now < article.surge_until:
        options.append((article.surge_slow_mode_seconds, article.surge_until))
    options = [o for o in options if o[0] > 0]
    if not options:
        return 0, None
    seconds = max(o[0] for o in options)
    # Of equally strict settings, the one that lasts longest says when it ends.
    ends = [o[1] for o in options if o[0] == seconds]
    return seconds, None if None in ends else max(e for e in ends if e is not None)


def premoderation_active(article: SurgeFields | None, now: dt.datetime) -> bool:
    until = None if article is None else article.premoderation_until
    return until is not None and now < until


def public_fields(article: SurgeFields | None, now: dt.datetime) -> dict[str, Any]:
    """The article object's surge fields, as the widget shows them."""
    seconds, until = slow_mode(article, now)
    return {
        "slow_mode_seconds": seconds,
        "slow_mode_until": _iso(until) if seconds else None,
        "premoderation_until": (
            _iso(article.premoderation_until)
            if article is not None and premoderation_active(article, now)
            else None
        ),
    }


def settings_of(article: Article | None) -> dict[str, Any]:
    """The stored surge settings, for the moderators' article object and the audit log."""
    if article is None:
        return {
            "slow_mode_seconds": 0,
            "slow_mode_until": None,
            "surge_slow_mode_seconds": 0,
            "surge_until": None,
            "premoderation_until": None,
        }
    return {
        "slow_mode_seconds": article.slow_mode_seconds or 0,
        "slow_mode_until": _iso(article.slow_mode_until),
        "surge_slow_mode_seconds": article.surge_slow_mode_seconds or 0,
        "surge_until": _iso(article.surge_until),
        "premoderation_until": _iso(article.premoderation_until),
    }


def apply_changes(article: Article, changes: dict[str, Any]) -> None:
    """A moderator's PATCH: ``slow_mode_seconds`` (which also ends an automatic surge: the
    moderator has decided), ``slow_mode_until`` and ``premoderation_until``."""
    if "slow_mode_seconds" in changes:
        seconds = changes["slow_mode_seconds"]
        if not 0 <= seconds <= MAX_SLOW_MODE_SECONDS:
            raise RuleError(
                422,
                f"slow_mode_seconds must be 0 (off) to {MAX_SLOW_MODE_SECONDS}.",
                kind="validation-error",
                field="slow_mode_seconds",
            )
        article.slow_mode_seconds = seconds
        article.surge_until = None
        article.surge_slow_mode_seconds = 0
        if "slow_mode_until" not in changes:
            article.slow_mode_until = None
    if "slow_mode_until" in changes:
        article.slow_mode_until = changes["slow_mode_until"]
    if "premoderation_until" in changes:
        article.premoderation_until = changes["premoderation_until"]


# --- posting under slow mode --------------------------------------------------------------

_ARTICLES, _COMMENTS = cast(Table, Article.__table__), cast(Table, Comment.__table__)
_LOCK = (
    update(_ARTICLES)
    .where(_ARTICLES.c.id == bindparam("article_id"))
    .values(version=_ARTICLES.c.version + 1)
)


def check_slow_mode(
    session: Session,
    *,
    article_id: str,
    article: SurgeFields | None,
    author_id: str | None,
    guest_key: str | None,
    is_moderator: bool,
    now: dt.datetime,
) -> None:
    """429 (with ``retry_after``) when the author posted in this thread less than the slow
    mode's seconds ago. The article row is locked first, so two posts of one author racing
    each other are checked one after the other."""
    seconds, _ = slow_mode(article, now)
    if seconds <= 0 or is_moderator or (author_id is None and not guest_key):
        return
    session.execute(_LOCK, {"article_id": article_id})
    loaded = session.identity_map.get(identity_key(Article, article_id))
    if loaded is not None:
        session.expire(loaded, ["version"])
    mine = (
        _COMMENTS.c.author_id == author_id
        if author_id is not None
        else (_COMMENTS.c.author_id.is_(None)) & (_COMMENTS.c.guest_key == guest_key)
    )
    last = session.execute(
        select(func.max(_COMMENTS.c.created_at)).where(
            _COMMENTS.c.article_id == article_id,
            mine,
            _COMMENTS.c.created_at > now - dt.timedelta(seconds=seconds),
        )
    ).scalar()
    if last is None:
        return
    # Aware UTC on both databases: max() keeps the column's type, UTCDateTime.
    allowed = last + dt.timedelta(seconds=seconds)
    wait = max(1, math.ceil((allowed - now).total_seconds()))
    raise RuleError(
        429,
        f"Slow mode is on in this thread: one comment every {seconds} seconds per reader. "
        f"You can post again in {wait} s (at {allowed:%H:%M:%S} UTC).",
        kind="slow-mode",
        retry_after=wait,
        slow_mode_seconds=seconds,
    )


# --- the automatic surge ------------------------------------------------------------------


def _upsert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(ArticlePostCount)


def count_post(session: Session, *, article_id: str, now: dt.datetime, rules: SurgeRules) -> bool:
    """Count a new comment in its article's current minute; turn the surge on when this
    post is the one that passes COMMENTS_SURGE_COMMENTS_PER_MINUTE. True when it did."""
    if rules.comments_per_minute <= 0:
        return False
    minute = int(now.timestamp() // 60)
    insert = _upsert(session).values(article_id=article_id, minute=minute, count=1)
    count = session.execute(
        insert.on_conflict_do_update(
            index_elements=["article_id", "minute"],
            set_={"count": ArticlePostCount.count + 1},
        ).returning(ArticlePostCount.count)
    ).scalar_one()
    if count == 1:  # a new minute: forget the old ones (bounded work, once a minute)
        session.execute(
            delete(ArticlePostCount).where(
                ArticlePostCount.article_id == article_id,
                ArticlePostCount.minute < minute - KEEP_MINUTES,
            )
        )
    if count != rules.comments_per_minute + 1:
        return False
    turn_on(session, article_id=article_id, now=now, rules=rules, count=count)
    return True


def turn_on(
    session: Session, *, article_id: str, now: dt.datetime, rules: SurgeRules, count: int
) -> Article:
    """Slow mode of ``rules.slow_mode_seconds`` until ``rules.minutes`` from now (extending
    a surge still running), audited as the system's action."""
    article = session.get(Article, article_id, populate_existing=True)
    if article is None:  # the post created it in this transaction; never missing
        raise RuntimeError(f"article {article_id!r} vanished during a post")
    before = settings_of(article)
    article.surge_slow_mode_seconds = rules.slow_mode_seconds
    article.surge_until = now + dt.timedelta(minutes=rules.minutes)
    session.flush()  # the post's own UPDATE of the article has bumped its version
    after = settings_of(article)
    reason = (
        f"{count} comments within a minute (more than {rules.comments_per_minute}): slow "
        f"mode of {rules.slow_mode_seconds} s for {rules.minutes} min"
    )
    events.record(
        session,
        events.Event(
            events.ARTICLE_CHANGED,
            article_id=article_id,
            actor_id=SYSTEM,
            data={"before": before, "after": after, "reason": "surge"},
        ),
    )
    record(
        session,
        actor_id=SYSTEM,
        action="surge",
        target_type="article",
        target_id=article_id,
        reason=reason,
        before=before,
        after=after,
        now=now,
    )
    return article
