"""The audit log: read-only here (it is append-only: no route changes or deletes it)."""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy import select

from ..extensions import db
from ..http import cursors, decode_cursor, write_limit
from ..models import AuditEntry
from ..schemas import load_query, timestamp
from .blueprint import bp
from .schemas import AuditQuerySchema


def entry_out(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "actor": entry.actor_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "reason": entry.reason,
        "before": entry.before,
        "after": entry.after,
        "created_at": timestamp(entry.created_at),
    }


@bp.get("/audit-log")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def audit_log() -> dict[str, Any]:
    """Every moderator action and automatic decision, newest first; filter by actor, action
    and target."""
    args = load_query(AuditQuerySchema(), request.args)
    filters = {name: args[name] for name in ("actor", "action", "target_type", "target_id")}
    scope = "audit:" + "|".join(f"{k}={v or ''}" for k, v in filters.items())
    after = decode_cursor(args["cursor"], scope, (int,))
    query = select(AuditEntry)
    columns = {
        "actor": AuditEntry.actor_id,
        "action": AuditEntry.action,
        "target_type": AuditEntry.target_type,
        "target_id": AuditEntry.target_id,
    }
    for name, value in filters.items():
        if value is not None:
            query = query.where(columns[name] == value)
    if after is not None:
        query = query.where(AuditEntry.id < after[0])
    rows = list(db.session.scalars(query.order_by(AuditEntry.id.desc()).limit(args["limit"] + 1)))
    next_cursor = None
    if len(rows) > args["limit"]:
        rows = rows[: args["limit"]]
        next_cursor = cursors().encode(scope, [rows[-1].id])
    return {"items": [entry_out(e) for e in rows], "next_cursor": next_cursor}
