"""The webhook outbox: one row per (event, endpoint), written inside the transaction of the
change that caused the event (the ``in_transaction`` half of a sink, service/events.py), so
the row commits or rolls back with the change and a request never waits on the network.

The payload is built here, while the change is fresh, and stored as the exact JSON text
that will be signed and sent (a retry sends the same bytes):
``{"type": "comment.created", "timestamp": "...", "data": {...}}``. ``data`` holds ids and
public objects only (a Comment as an anonymous reader would see it, plus ``status``):
never an e-mail or IP address, never a guest's edit token or key.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any, Iterable, cast

import orjson
from sqlalchemy import Table, func, insert, select, true
from sqlalchemy.orm import Session

from ..domain import events, webhooks
from ..domain.reactions import article_reactions, comment_reactions
from ..enums import DeliveryStatus
from ..models import Comment, WebhookDelivery, WebhookEndpoint, utcnow
from ..schemas import comment_out

# Comment events about a shadow-banned author's comment are not sent: the comment is
# invisible to everyone but its author, and hosts drive public features from these events.
# Moderators' acts and flags are still sent (they are about moderation, not publication).
_SHADOW_SILENT = frozenset(
    {
        webhooks.COMMENT_CREATED,
        webhooks.COMMENT_EDITED,
        webhooks.COMMENT_DELETED,
        webhooks.COMMENT_HELD,
        webhooks.COMMENT_PUBLISHED,
    }
)
# What a notification.created event may pass on from the domain event's data.
_NOTIFICATION_FIELDS = ("kind", "outcome")


def iso(moment: dt.datetime) -> str:
    return (
        moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def new_message_id() -> str:
    """The ``webhook-id`` of one message: the same on every retry, so receivers can drop
    repeats (delivery is at least once)."""
    return "msg_" + secrets.token_urlsafe(18)


def body(event_type: str, data: dict[str, Any], now: dt.datetime) -> str:
    return orjson.dumps({"type": event_type, "timestamp": iso(now), "data": data}).decode()


def _public_comment(session: Session, comment: Comment) -> dict[str, Any]:
    counts, _ = comment_reactions(session, comment.id, None)
    return comment_out(comment, reactions={comment.id: counts}, mine={})


def event_data(session: Session, event: events.Event, event_type: str) -> dict[str, Any] | None:
    """The ``data`` of one catalogue event, or None when it must not be sent."""
    data = event.data
    if event_type.startswith("comment."):
        comment = session.get(Comment, event.comment_id) if event.comment_id else None
        if comment is not None and comment.shadowed and event_type in _SHADOW_SILENT:
            return None
        out: dict[str, Any] = {
            "comment_id": event.comment_id,
            "article_id": event.article_id,
            "parent_id": comment.parent_id if comment is not None else None,
            "status": comment.status.value if comment is not None else None,
            "comment": _public_comment(session, comment) if comment is not None else None,
        }
        if event_type == webhooks.COMMENT_HELD and comment is not None:
            out["held_reason"] = comment.held_reason
        if event.type == events.COMMENT_STATUS:
            out["previous_status"] = data.get("before")
        if event_type == webhooks.COMMENT_MODERATED:
            out.update(
                action=data.get("action"), reason=data.get("reason"), moderator_id=event.actor_id
            )
        if event_type == webhooks.COMMENT_FLAGGED:
            out["reason"] = data.get("reason")
        return out
    if event_type == webhooks.REACTION_CHANGED:
        if event.comment_id is not None:
            comment = session.get(Comment, event.comment_id)
            if comment is None or comment.shadowed:
                return None
            counts, _ = comment_reactions(session, comment.id, None)
            score: int | None = comment.score
        else:
            counts, _ = article_reactions(session, event.article_id or "", None)
            score = None
        return {
            "article_id": event.article_id,
            "comment_id": event.comment_id,
            "user_id": event.actor_id,
            "kind": data.get("kind"),
            "added": bool(data.get("added")),
            "reactions": counts,
            "score": score,
        }
    if event_type == webhooks.USER_BANNED:
        return {
            "user_id": event.user_id,
            "shadow": bool(data.get("shadow")),
            "reason": data.get("reason"),
            "moderator_id": event.actor_id,
        }
    if event_type == webhooks.USER_ERASED:
        return {"user_id": event.user_id}
    if event_type == webhooks.NOTIFICATION_CREATED:
        out = {
            "notification_id": data.get("id"),
            "user_id": event.user_id,
            "article_id": event.article_id,
            "comment_id": event.comment_id,
            "actor_id": event.actor_id,
        }
        out.update({k: data.get(k) for k in _NOTIFICATION_FIELDS if k in data})
        return out
    return None


# Asked on every write transaction that records an event: built once.
_ENDPOINTS = cast(Table, WebhookEndpoint.__table__)
# Table columns: ORM attributes would take the ORM's execution path for the same two columns.
_ENABLED = select(_ENDPOINTS.c.id, _ENDPOINTS.c.events).where(_ENDPOINTS.c.enabled == true())


_ENDPOINTS_KEY = "comments_webhook_endpoints"  # session.info: (transaction, endpoints)


def _enabled_endpoints(session: Session) -> list[tuple[int, list[str]]]:
    """The enabled endpoints, read once per transaction: a post's commit enqueues twice (its
    comment, then the notifications the first round of sinks recorded)."""
    transaction = session.get_transaction()
    known = session.info.get(_ENDPOINTS_KEY)
    if known is not None and transaction is not None and known[0] is transaction:
        endpoints: list[tuple[int, list[str]]] = known[1]
        return endpoints
    rows = session.execute(_ENABLED)
    endpoints = [(endpoint_id, list(subscribed or [])) for endpoint_id, subscribed in rows]
    session.info[_ENDPOINTS_KEY] = (transaction, endpoints)
    return endpoints


def enqueue(
    session: Session, batch: Iterable[events.Event], *, now: dt.datetime | None = None
) -> int:
    """Write the outbox rows for a transaction's events; returns how many."""
    wanted = [(event, t) for event in batch for t in webhooks.catalogue_types(event)]
    if not wanted:
        return 0
    endpoints = _enabled_endpoints(session)
    if not endpoints:
        return 0
    now = now or utcnow()
    rows: list[dict[str, Any]] = []
    for event, event_type in wanted:
        targets = [eid for eid, subs in endpoints if webhooks.subscribed(subs, event_type)]
        if not targets:
            continue
        data = event_data(session, event, event_type)
        if data is None:
            continue
        text = body(event_type, data, now)
        message_id = new_message_id()
        rows.extend(
            {
                "endpoint_id": endpoint_id,
                "message_id": message_id,
                "event_type": event_type,
                "payload": text,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for endpoint_id in targets
        )
    if rows:
        session.execute(insert(WebhookDelivery), rows)
    return len(rows)


def enqueue_test(
    session: Session, endpoint: WebhookEndpoint, *, actor_id: str, now: dt.datetime | None = None
) -> WebhookDelivery:
    """A ``webhook.test`` message for one endpoint, whatever it subscribed to."""
    now = now or utcnow()
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        message_id=new_message_id(),
        event_type=webhooks.TEST_EVENT,
        payload=body(
            webhooks.TEST_EVENT,
            {"endpoint_id": endpoint.id, "requested_by": actor_id},
            now,
        ),
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    return delivery


class WebhookSink:
    """The webhooks' sink for service/events.py."""

    def in_transaction(self, session: Session, batch: list[events.Event]) -> None:
        enqueue(session, batch)

    def after_commit(self, batch: list[events.Event]) -> None:
        """Nothing: the worker polls the outbox (COMMENTS_DELIVERY_IDLE_SECONDS)."""


def queue_depth(session: Session, *, now: dt.datetime | None = None) -> tuple[int, float]:
    """Webhook deliveries waiting (due or not) and the age in seconds of the oldest."""
    now = now or utcnow()
    count, oldest = session.execute(
        select(func.count(), func.min(WebhookDelivery.created_at)).where(
            WebhookDelivery.status == DeliveryStatus.PENDING
        )
    ).one()
    if oldest is not None and oldest.tzinfo is None:  # SQLite's min() loses the type
        oldest = oldest.replace(tzinfo=dt.timezone.utc)
    age = (now - oldest).total_seconds() if oldest is not None else 0.0
    return int(count), max(0.0, age)


__all__ = ["WebhookSink", "enqueue", "enqueue_test", "event_data", "queue_depth"]
