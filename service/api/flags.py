"""Flags: a signed-in reader reports a comment to the moderators."""

from __future__ import annotations

import datetime as dt

from typing import Any

from flask import current_app

from ..auth import require_user
from ..domain.moderation import add_flag
from ..errors import Problem
from ..extensions import db
from ..models import Comment
from ..schemas import FlagSchema, timestamp
from . import bp, json_body, write_limit
from .comments import COMMENT


@bp.post(f"{COMMENT}/flags")
@write_limit("COMMENTS_LIMIT_FLAG")
def flag_comment(comment_id: int) -> Any:
    """Flag a comment: 201 the first time, 200 (with the first flag) when the caller had
    already flagged it. Enough weighted flags hide the comment until a moderator decides."""
    caller = require_user()
    data = json_body(FlagSchema())
    comment = db.session.get(Comment, comment_id)
    if comment is None:
        raise Problem(404, "There is no such comment.", type_="not-found")
    note = data["note"].strip() if data["note"] else None
    result = add_flag(
        db.session,
        comment=comment,
        user_id=caller.user_id or "",
        reason=data["reason"],
        note=note or None,
        threshold=current_app.config["COMMENTS_FLAG_HIDE_THRESHOLD"],
        trust_after=dt.timedelta(hours=current_app.config["COMMENTS_FLAG_TRUST_HOURS"]),
    )
    db.session.commit()
    flag = result.flag
    body = {
        "comment_id": comment_id,
        "reason": flag.reason.value,
        "note": flag.note,
        "created_at": timestamp(flag.created_at),
    }
    return body, 201 if result.created else 200
