"""Webhook endpoints (admins only): register, list, change, remove, rotate the secret, send a
test event, and see recent deliveries. The secret is shown when made and when rotated,
never again. Every change is audited (target type ``webhook``)."""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy import select

from ..auth import require_admin
from ..delivery import outbox, ssrf
from ..domain import webhooks
from ..enums import DeliveryStatus
from ..extensions import db
from ..http import MAX_ID, cursors, decode_cursor, json_body, settings, write_limit
from ..models import WebhookDelivery, WebhookEndpoint
from ..problems import Problem
from ..schemas import load_query, timestamp
from .blueprint import bp
from .schemas import DeliveriesQuerySchema, WebhookCreateSchema, WebhookPatchSchema

ENDPOINT_ID = f"<int(max={MAX_ID}):endpoint_id>"


def endpoint_out(endpoint: WebhookEndpoint, *, secret: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "enabled": endpoint.enabled,
        "created_at": timestamp(endpoint.created_at),
        "updated_at": timestamp(endpoint.updated_at),
        "disabled_reason": endpoint.disabled_reason,
        "failing_since": timestamp(endpoint.failing_since),
    }
    if secret:
        out["secret"] = endpoint.secret
    return out


def delivery_out(delivery: WebhookDelivery) -> dict[str, Any]:
    pending = delivery.status == DeliveryStatus.PENDING
    return {
        "id": delivery.id,
        "endpoint_id": delivery.endpoint_id,
        "message_id": delivery.message_id,
        "type": delivery.event_type,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "response_code": delivery.response_code,
        "last_error": delivery.last_error,
        "duration_ms": delivery.duration_ms,
        "created_at": timestamp(delivery.created_at),
        "last_attempt_at": timestamp(delivery.last_attempt_at),
        "next_attempt_at": timestamp(delivery.next_attempt_at) if pending else None,
        "delivered_at": timestamp(delivery.delivered_at),
    }


def _checked_url(url: str) -> str:
    """A URL the worker may send to (422 otherwise): http(s), public addresses only."""
    try:
        ssrf.check(url, allow_private=settings().webhook_allow_private)
    except ssrf.Refused as exc:
        raise Problem(
            422,
            f"The webhook URL is refused: {exc}.",
            type_="validation-error",
            title="Invalid request",
            errors={"url": [str(exc)]},
        ) from None
    return url


def _actor() -> str:
    return require_admin().user_id or ""


@bp.get("/webhooks")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def list_webhooks() -> dict[str, Any]:
    """Every registered endpoint, oldest first (secrets are never listed)."""
    require_admin()
    return {"items": [endpoint_out(e) for e in webhooks.list_endpoints(db.session())]}


@bp.post("/webhooks")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def create_webhook() -> Any:
    """Register an endpoint: 201 with its signing secret, shown this once."""
    actor = _actor()
    data = json_body(WebhookCreateSchema())
    endpoint = webhooks.create_endpoint(
        db.session(), url=_checked_url(data["url"].strip()), events=data["events"], actor_id=actor
    )
    db.session.commit()
    headers = {"Location": f"/api/v1/admin/webhooks/{endpoint.id}"}
    return endpoint_out(endpoint, secret=True), 201, headers


@bp.get(f"/webhooks/{ENDPOINT_ID}")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def get_webhook(endpoint_id: int) -> dict[str, Any]:
    """One endpoint (without its secret)."""
    require_admin()
    return endpoint_out(webhooks.get_endpoint(db.session(), endpoint_id))


@bp.patch(f"/webhooks/{ENDPOINT_ID}")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def patch_webhook(endpoint_id: int) -> dict[str, Any]:
    """Change url, events or enabled. Enabling an endpoint the worker disabled clears
    disabled_reason; its waiting deliveries are tried again."""
    actor = _actor()
    data = json_body(WebhookPatchSchema())
    if "url" in data:
        data["url"] = _checked_url(data["url"].strip())
    endpoint = webhooks.update_endpoint(
        db.session(), endpoint_id=endpoint_id, changes=data, actor_id=actor
    )
    db.session.commit()
    return endpoint_out(endpoint)


@bp.delete(f"/webhooks/{ENDPOINT_ID}")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def delete_webhook(endpoint_id: int) -> Any:
    """Remove an endpoint and its deliveries: 204."""
    actor = _actor()
    webhooks.delete_endpoint(db.session(), endpoint_id=endpoint_id, actor_id=actor)
    db.session.commit()
    return "", 204


@bp.post(f"/webhooks/{ENDPOINT_ID}/rotate-secret")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def rotate_webhook_secret(endpoint_id: int) -> dict[str, Any]:
    """A new signing secret, in force at once (shown this once); the old one signs nothing
    more."""
    actor = _actor()
    endpoint = webhooks.rotate_secret(db.session(), endpoint_id=endpoint_id, actor_id=actor)
    db.session.commit()
    return endpoint_out(endpoint, secret=True)


@bp.post(f"/webhooks/{ENDPOINT_ID}/test")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def test_webhook(endpoint_id: int) -> Any:
    """Queue a ``webhook.test`` event for this endpoint: 202 with the delivery, which the
    worker sends like any other (see its status under /deliveries)."""
    actor = _actor()
    endpoint = webhooks.get_endpoint(db.session(), endpoint_id)
    if not endpoint.enabled:
        raise Problem(
            409,
            "This endpoint is disabled; enable it (PATCH enabled: true) to send it events.",
            type_="webhook-disabled",
        )
    delivery = outbox.enqueue_test(db.session(), endpoint, actor_id=actor)
    db.session.commit()
    return delivery_out(delivery), 202


@bp.get(f"/webhooks/{ENDPOINT_ID}/deliveries")
@write_limit(lambda s: s.limit_admin, per_ip=False)
def list_deliveries(endpoint_id: int) -> dict[str, Any]:
    """Recent deliveries to this endpoint, newest first: status, attempts, the last
    response code or error, and when the next attempt is due."""
    require_admin()
    args = load_query(DeliveriesQuerySchema(), request.args)
    webhooks.get_endpoint(db.session(), endpoint_id)
    scope = f"deliveries:{endpoint_id}:{args['status'] or ''}"
    after = decode_cursor(args["cursor"], scope, (int,))
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if args["status"] is not None:
        query = query.where(WebhookDelivery.status == DeliveryStatus(args["status"]))
    if after is not None:
        query = query.where(WebhookDelivery.id < after[0])
    rows = list(
        db.session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(args["limit"] + 1))
    )
    next_cursor = None
    if len(rows) > args["limit"]:
        rows = rows[: args["limit"]]
        next_cursor = cursors().encode(scope, [rows[-1].id])
    return {"items": [delivery_out(d) for d in rows], "next_cursor": next_cursor}


__all__ = ["delivery_out", "endpoint_out"]
