"""An article's moderation settings: status (open, closed, hidden), premoderation, and
surge mode (slow mode, premoderation_until: domain/surge.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from ...enums import (
    ArticleStatus,
)
from ...models import (
    Article,
    utcnow,
)
from .. import events, surge
from ..audit import record
from ..comments import (
    bump_version,
    ensure_article,
)


def article_settings(article_id: str, article: Article | None) -> dict[str, Any]:
    return {
        "status": (article.status if article else ArticleStatus.OPEN).value,
        "premoderation": article.premoderation if article else None,
        **surge.settings_of(article),
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
    surge.apply_changes(article, changes)
    session.flush()
    after = article_settings(article_id, article)
    if after != before:
        bump_version(session, article_id)
        events.record(
            session,
            events.Event(
                events.ARTICLE_CHANGED,
                article_id=article_id,
                actor_id=actor_id,
                data={"before": before, "after": after},
            ),
        )
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
