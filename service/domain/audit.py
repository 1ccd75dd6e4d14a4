"""The audit log: every moderator action and automatic decision, written in the same
transaction as the change it records. Rows are only ever added."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from ..models import AuditEntry, utcnow

SYSTEM = "system"


def record(
    session: Session,
    *,
    actor_id: str,
    action: str,
    target_type: str,
    target_id: str,
    reason: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        before=before,
        after=after,
        created_at=now or utcnow(),
    )
    session.add(entry)
    session.flush()
    return entry
