"""Reactions on comments."""

from __future__ import annotations

from typing import Any

from ..auth import require_user
from ..domain.reactions import comment_reactions, react_to_comment
from ..extensions import db
from ..http import settings, write_limit
from ..models import Comment
from ..observability import metrics
from ..problems import Problem
from .articles import KIND
from .blueprint import bp
from .comments import COMMENT


def _react(comment_id: int, kind: str, add: bool) -> dict[str, Any]:
    caller = require_user()
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise Problem(404, "There is no such comment.", type_="not-found")
    react_to_comment(
        db.session(),
        comment=comment,
        user_id=caller.user_id or "",
        kind=kind,
        kinds=settings().reaction_kinds,
        add=add,
    )
    db.session.commit()
    metrics.reaction("comment", added=add)
    counts, mine = comment_reactions(db.session(), comment_id, caller.user_id)
    return {"reactions": counts, "my_reactions": mine}


@bp.put(f"{COMMENT}/reactions/{KIND}")
@write_limit(lambda s: s.limit_reaction)
def add_comment_reaction(comment_id: int, kind: str) -> dict[str, Any]:
    """Add the caller's reaction (idempotent): 200 with the comment's counts and own kinds."""
    return _react(comment_id, kind, add=True)


@bp.delete(f"{COMMENT}/reactions/{KIND}")
@write_limit(lambda s: s.limit_reaction)
def remove_comment_reaction(comment_id: int, kind: str) -> dict[str, Any]:
    """Remove the caller's reaction (idempotent)."""
    return _react(comment_id, kind, add=False)
