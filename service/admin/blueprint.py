"""The moderators' blueprint and its guards: moderators only, nothing cached."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from ..auth import require_moderator
from ..enums import TOMBSTONE_STATUSES
from ..models import Comment
from ..problems import Problem
from ..schemas import comment_out, timestamp

bp = Blueprint("admin", __name__, url_prefix="/api/v1/admin")

# Any `sub` a token may carry, percent-encoded (service/user_paths.py).
USER_ID = "<user_id:user_id>"


@bp.before_request
def _moderators_only() -> None:
    if request.method == "OPTIONS":  # CORS preflights carry no credentials
        return
    require_moderator()
    user_id = (request.view_args or {}).get("user_id")
    # No token can carry a NUL (sign-in refuses it) and PostgreSQL text cannot hold one.
    if user_id is not None and "\x00" in user_id:
        raise Problem(
            422,
            "user_id must not contain NUL.",
            type_="validation-error",
            title="Invalid request",
            errors={"user_id": ["NUL is not allowed."]},
        )


@bp.after_request
def _no_store(response: Response) -> Response:
    # Moderation data is never cached by browsers or proxies.
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Authorization")
    return response


def admin_comment_out(
    comment: Comment,
    *,
    reactions: dict[int, dict[str, int]] | None = None,
    mine: dict[int, list[str]] | None = None,
) -> dict[str, Any]:
    """A Comment as moderators see it: the public shape (a tombstone's author and body are
    null there too), plus the moderation fields and, for deleted or removed comments,
    ``retained``: the author and text the service still keeps (an author's own deletion
    wipes the text for good)."""
    out = comment_out(comment, reactions=reactions or {}, mine=mine or {})
    retained = None
    if comment.status in TOMBSTONE_STATUSES and (
        comment.author_id or comment.author_name or comment.body is not None
    ):
        retained = {
            "author": {
                "id": comment.author_id,
                "name": comment.author_name,
                "is_guest": comment.author_is_guest,
                "is_moderator": comment.author_is_moderator,
            },
            "body": comment.body,
            "body_html": comment.body_html,
        }
    out["retained"] = retained
    out.update(
        {
            "held_reason": comment.held_reason,
            "shadowed": comment.shadowed,
            "flag_count": comment.flag_count,
            "flag_weight": round(comment.flag_weight, 4),
            "status_changed_at": timestamp(comment.status_changed_at),
        }
    )
    return out
