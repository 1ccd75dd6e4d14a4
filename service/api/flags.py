"""Flags: a signed-in reader reports a comment to the moderators."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..auth import require_user
from ..domain.moderation import add_flag
from ..extensions import db
from ..http import json_body, settings, write_limit
from ..models import Comment
from ..observability import metrics
from ..problems import Problem
from ..schemas import FlagSchema, timestamp
from .blueprint import bp
from .comments import COMMENT


@bp.post(f"{COMMENT}/flags")
@write_limit(lambda s: s.limit_flag)
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
        db.session(),
        comment=comment,
        user_id=caller.user_id or "",
        reason=data["reason"],
        note=note or None,
        threshold=settings().flag_hide_threshold,
        trust_after=dt.timedelta(hours=settings().flag_trust_hours),
    )
    db.session.commit()
    if result.created:
        metrics.flag_added()
    flag = result.flag
    body = {
        "comment_id": comment_id,
        "reason": flag.reason.value,
        "note": flag.note,
        "created_at": timestamp(flag.created_at),
    }
    return body, 201 if result.created else 200
