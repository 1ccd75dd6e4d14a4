"""Bans: a banned user's writes are 403; a shadow-banned user's comments are shown to that
user alone and their reactions and flags count for nothing."""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy import or_, select

from ..auth import current_caller
from ..domain import moderation
from ..extensions import db
from ..http import cursors, decode_cursor, json_body, write_limit
from ..models import Ban, utcnow
from ..schemas import load_query, timestamp
from .blueprint import USER_ID, bp
from .schemas import BanSchema, PageQuerySchema


def ban_admin_out(ban: Ban) -> dict[str, Any]:
    return {
        "user_id": ban.user_id,
        "reason": ban.reason,
        "shadow": ban.shadow,
        "expires_at": timestamp(ban.expires_at),
        "created_by": ban.created_by,
        "created_at": timestamp(ban.created_at),
    }


@bp.get("/bans")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def list_bans() -> dict[str, Any]:
    """Bans in force (expired ones are left out), by user id."""
    args = load_query(PageQuerySchema(), request.args)
    after = decode_cursor(args["cursor"], "bans", (str,))
    now = utcnow()
    query = select(Ban).where(or_(Ban.expires_at.is_(None), Ban.expires_at > now))
    if after is not None:
        query = query.where(Ban.user_id > after[0])
    rows = list(db.session.scalars(query.order_by(Ban.user_id).limit(args["limit"] + 1)))
    next_cursor = None
    if len(rows) > args["limit"]:
        rows = rows[: args["limit"]]
        next_cursor = cursors().encode("bans", [rows[-1].user_id])
    return {"items": [ban_admin_out(b) for b in rows], "next_cursor": next_cursor}


@bp.put(f"/bans/{USER_ID}")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def put_ban(user_id: str) -> Any:
    """Ban a user, or change their ban: 201 when new, 200 when replaced. Audited."""
    data = json_body(BanSchema())
    ban, created = moderation.put_ban(
        db.session(),
        user_id=user_id,
        reason=data["reason"].strip(),
        shadow=data["shadow"],
        expires_at=data["expires_at"],
        actor_id=current_caller().user_id or "",
    )
    db.session.commit()
    return ban_admin_out(ban), 201 if created else 200


@bp.delete(f"/bans/{USER_ID}")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def delete_ban(user_id: str) -> Any:
    """Lift a ban: 204; 404 when the user is not banned. Audited."""
    moderation.lift_ban(db.session(), user_id=user_id, actor_id=current_caller().user_id or "")
    db.session.commit()
    return "", 204
