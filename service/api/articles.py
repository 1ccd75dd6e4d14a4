"""Article engagement and reactions on the article itself."""

from __future__ import annotations

from typing import Any

from ..auth import require_user
from ..domain.reactions import article_reactions, own_uncounted_counts, react_to_article
from ..domain.readers import follows
from ..domain.threads import article_visible
from ..extensions import db
from ..http import checked_article_id, read_limit, settings, write_limit
from ..models import Article
from ..observability import metrics
from ..schemas import article_out
from .blueprint import bp, viewer

KIND = "<string(maxlength=32):kind>"


def _engagement(article_id: str) -> dict[str, Any]:
    v = viewer()
    article = db.session.get(Article, article_id)
    visible = article_visible(article, v)
    counts, mine = article_reactions(db.session(), article_id, v.user_id) if visible else ({}, [])
    out = article_out(article_id, article, reactions=counts, mine=mine, visible=visible)
    if visible and article is not None and v.user_id:
        # A shadow-banned author sees their own comments counted (#14 item 7); everyone
        # else, the public count. (Their article reactions: article_reactions.)
        own = own_uncounted_counts(db.session(), [article_id], v.user_id).get(article_id)
        if own:
            out["comment_count"] += own["comments"]
    if v.user_id is not None:  # notifications (#15): does the caller follow the thread?
        out["subscribed"] = follows(db.session(), user_id=v.user_id, article_id=article_id)
    return out


@bp.get("/articles/<article_id>")
@read_limit()
def get_article(article_id: str) -> dict[str, Any]:
    """Status, visible comment count and reactions; an unknown article reads as open and empty."""
    checked_article_id(article_id)
    return _engagement(article_id)


def _react(article_id: str, kind: str, add: bool) -> dict[str, Any]:
    checked_article_id(article_id)
    caller = require_user()
    react_to_article(
        db.session(),
        article_id=article_id,
        user_id=caller.user_id or "",
        kind=kind,
        kinds=settings().reaction_kinds,
        add=add,
    )
    db.session.commit()
    metrics.reaction("article", added=add)
    counts, mine = article_reactions(db.session(), article_id, caller.user_id)
    return {"reactions": counts, "my_reactions": mine}


@bp.put(f"/articles/<article_id>/reactions/{KIND}")
@write_limit(lambda s: s.limit_reaction)
def add_article_reaction(article_id: str, kind: str) -> dict[str, Any]:
    """Add the caller's reaction to the article (idempotent)."""
    return _react(article_id, kind, add=True)


@bp.delete(f"/articles/<article_id>/reactions/{KIND}")
@write_limit(lambda s: s.limit_reaction)
def remove_article_reaction(article_id: str, kind: str) -> dict[str, Any]:
    """Remove the caller's reaction from the article (idempotent)."""
    return _react(article_id, kind, add=False)
