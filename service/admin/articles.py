"""Moderators' view and switches of one article: open, closed or hidden; premoderation."""

from __future__ import annotations

from typing import Any

from ..auth import current_caller
from ..domain import moderation, surge
from ..extensions import db
from ..http import checked_article_id, json_body, settings, write_limit
from ..models import Article, utcnow
from ..schemas import timestamp
from .blueprint import bp
from .schemas import ArticlePatchSchema


def article_admin_out(article_id: str, article: Article | None) -> dict[str, Any]:
    auto = moderation.auto_closed(article, days=settings().auto_close_days, now=utcnow())
    current = moderation.article_settings(article_id, article)
    return {
        "id": article_id,
        **current,
        # What readers get: "closed" also when COMMENTS_AUTO_CLOSE_DAYS has run out.
        "effective_status": "closed" if auto and current["status"] == "open" else current["status"],
        "auto_closed": auto,
        "comment_count": article.comment_count if article else 0,
        "reaction_count": article.reaction_count if article else 0,
        "first_comment_at": timestamp(article.first_comment_at) if article else None,
        "created_at": timestamp(article.created_at) if article else None,
        # surge mode: the slow mode readers are under now (the stricter of the moderator's
        # and an automatic surge's)
        **{f"effective_{k}": v for k, v in surge.public_fields(article, utcnow()).items()},
    }


@bp.get("/articles/<article_id>")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def get_article(article_id: str) -> dict[str, Any]:
    """An article's moderation settings (an unknown article reads as open, default switch)."""
    checked_article_id(article_id)
    return article_admin_out(article_id, db.session.get(Article, article_id))


@bp.patch("/articles/<article_id>")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def patch_article(article_id: str) -> dict[str, Any]:
    """Open, close or hide a thread; set its premoderation switch (null: follow the site
    setting). Creates the article row if needed; audited."""
    checked_article_id(article_id)
    data = json_body(ArticlePatchSchema())
    reason = data.pop("reason", None)
    article = moderation.update_article(
        db.session(),
        article_id=article_id,
        changes=data,
        actor_id=current_caller().user_id or "",
        reason=reason,
    )
    db.session.commit()
    return article_admin_out(article_id, article)
