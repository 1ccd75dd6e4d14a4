"""Banning and shadow-banning users, and lifting bans."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from ...models import (
    Ban,
    utcnow,
)
from .. import events
from ..audit import record
from ..errors import RuleError


def ban_out(ban: Ban) -> dict[str, Any]:
    return {
        "reason": ban.reason,
        "shadow": ban.shadow,
        "expires_at": ban.expires_at.isoformat() if ban.expires_at else None,
    }


def put_ban(
    session: Session,
    *,
    user_id: str,
    reason: str,
    shadow: bool,
    expires_at: dt.datetime | None,
    actor_id: str,
    now: dt.datetime | None = None,
) -> tuple[Ban, bool]:
    """Ban (or change the ban of) a user; (ban, created)."""
    now = now or utcnow()
    if expires_at is not None and expires_at <= now:
        raise RuleError(
            422, "expires_at must be in the future.", kind="validation-error", field="expires_at"
        )
    ban = session.get(Ban, user_id)
    created = ban is None
    before = None if ban is None else ban_out(ban)
    if ban is None:
        ban = Ban(user_id=user_id, created_by=actor_id, created_at=now)
        session.add(ban)
    ban.reason, ban.shadow, ban.expires_at = reason, shadow, expires_at
    session.flush()
    events.record(
        session,
        events.Event(
            events.USER_BANNED,
            user_id=user_id,
            actor_id=actor_id,
            data={"shadow": shadow, "reason": reason},
        ),
    )
    record(
        session,
        actor_id=actor_id,
        action="ban",
        target_type="user",
        target_id=user_id,
        reason=reason,
        before=before,
        after=ban_out(ban),
        now=now,
    )
    return ban, created


def lift_ban(
    session: Session,
    *,
    user_id: str,
    actor_id: str,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> None:
    ban = session.get(Ban, user_id)
    if ban is None:
        raise RuleError(404, "This user is not banned.", kind="not-found")
    before = ban_out(ban)
    session.delete(ban)
    session.flush()
    events.record(session, events.Event(events.USER_UNBANNED, user_id=user_id, actor_id=actor_id))
    record(
        session,
        actor_id=actor_id,
        action="unban",
        target_type="user",
        target_id=user_id,
        reason=reason,
        before=before,
        after=None,
        now=now,
    )
