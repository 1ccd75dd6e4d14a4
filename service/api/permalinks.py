"""Permalinks (issue #16): a comment shown in place, inside its thread."""

from __future__ import annotations

from typing import Any

from ..domain import threads
from ..domain.permalinks import comment_in_context
from ..extensions import db
from ..http import MAX_ID, read_limit, rules
from ..schemas import tree_out
from .blueprint import bp, viewer


@bp.get(f"/comments/<int(max={MAX_ID}):comment_id>/context")
@read_limit()
def comment_context(comment_id: int) -> dict[str, Any]:
    """{"root": Comment, "target_id": N}: the comment's top-level ancestor with the branch
    down to it nested (each ancestor's replies include the next one), for a page opened at
    #comment-{id} when the comment is not on the thread's first page. 404 for a comment the
    caller may not see, as for GET /comments/{id}."""
    context = comment_in_context(
        db.session(),
        comment_id=comment_id,
        viewer=viewer(),
        per_root=rules().replies_per_thread,
    )
    root = tree_out(context.root, context.reactions, context.mine)
    if context.own_shadowed:
        # A shadow-banned author sees numbers as if their comments counted (#14 item 7).
        _add_replies(root, threads.shadow_adjustments(context.own_shadowed))
    return {"root": root, "target_id": context.target_id}


def _add_replies(item: dict[str, Any], extra: dict[int, int]) -> None:
    item["reply_count"] += extra.get(item["id"], 0)
    for reply in item["replies"]:
        _add_replies(reply, extra)
