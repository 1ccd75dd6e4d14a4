"""Webhooks: the event catalogue, who subscribed to what, the retry schedule, and the
admin's endpoints (made, changed, disabled, removed: each audited).

Domain events (``events.py``) are the service's own vocabulary; the catalogue here is what
the host site sees, following the Standard Webhooks specification. Sending happens in
``service/delivery/`` (outside a request); nothing here touches the network.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from typing import Any, Iterable, Sequence

from sqlalchemy import select, true, update
from sqlalchemy.orm import Session

from ..models import WebhookEndpoint, utcnow
from . import events
from .audit import SYSTEM, record
from .errors import RuleError

COMMENT_CREATED = "comment.created"
COMMENT_EDITED = "comment.edited"
COMMENT_DELETED = "comment.deleted"
COMMENT_HELD = "comment.held"
COMMENT_PUBLISHED = "comment.published"
COMMENT_MODERATED = "comment.moderated"
COMMENT_FLAGGED = "comment.flagged"
REACTION_CHANGED = "reaction.changed"
USER_BANNED = "user.banned"
USER_ERASED = "user.erased"
NOTIFICATION_CREATED = "notification.created"
CATALOGUE: tuple[str, ...] = (
    COMMENT_CREATED,
    COMMENT_EDITED,
    COMMENT_DELETED,
    COMMENT_HELD,
    COMMENT_PUBLISHED,
    COMMENT_MODERATED,
    COMMENT_FLAGGED,
    REACTION_CHANGED,
    USER_BANNED,
    USER_ERASED,
    NOTIFICATION_CREATED,
)
ALL = "*"  # every event of the catalogue except the opt-in ones
OPT_IN = frozenset({REACTION_CHANGED})  # chatty: only when named
TEST_EVENT = "webhook.test"  # POST /admin/webhooks/{id}/test; sent whatever is subscribed
MAX_URL = 2000
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32

# Retries: 5 s, 20 s, 80 s, ~5 min, ~21 min, ~85 min, ~5.7 h, then every 6 h, each +-25 %,
# until COMMENTS_WEBHOOK_RETRY_HOURS after the event (one last try at that moment).
FIRST_RETRY_SECONDS = 5.0
RETRY_FACTOR = 4.0
LONGEST_RETRY_SECONDS = 6 * 3600.0
JITTER = 0.25

DISABLE_ACTION = "disable_webhook"


# --- which events, for whom ---------------------------------------------------------------


def catalogue_types(event: events.Event) -> list[str]:
    """The catalogue's event types that one domain event is (none, one or two)."""
    data = event.data
    if event.type == events.COMMENT_CREATED:
        held = data.get("status") == "pending"
        return [COMMENT_CREATED, COMMENT_HELD] if held else [COMMENT_CREATED]
    if event.type == events.COMMENT_STATUS:
        after = data.get("after")
        if after == "published":
            return [COMMENT_PUBLISHED]
        if after in ("pending", "hidden"):
            return [COMMENT_HELD]
        if after in ("deleted", "removed"):
            return [COMMENT_DELETED]
        return []
    if event.type == events.REACTION_CHANGED:
        # A shadow-banned reader's reaction changes nothing anyone else can see.
        return [REACTION_CHANGED] if data.get("counted", True) else []
    direct = {
        events.COMMENT_EDITED: COMMENT_EDITED,
        events.COMMENT_MODERATED: COMMENT_MODERATED,
        events.COMMENT_FLAGGED: COMMENT_FLAGGED,
        events.USER_BANNED: USER_BANNED,
        events.USER_ERASED: USER_ERASED,
        events.NOTIFICATION_CREATED: NOTIFICATION_CREATED,
    }
    return [direct[event.type]] if event.type in direct else []


def normalise_events(requested: Iterable[str]) -> list[str]:
    """An endpoint's subscription as given, checked and without repeats (422 otherwise)."""
    out: list[str] = []
    for name in requested:
        if name != ALL and name not in CATALOGUE:
            raise RuleError(
                422,
                f"Unknown event {name!r}: use '*' or any of {', '.join(CATALOGUE)}.",
                kind="validation-error",
                field="events",
            )
        if name not in out:
            out.append(name)
    if not out:
        raise RuleError(
            422,
            "Subscribe to at least one event ('*' is every event except reaction.changed).",
            kind="validation-error",
            field="events",
        )
    return out


def subscribed(endpoint_events: Sequence[str], event_type: str) -> bool:
    """Does an endpoint with this subscription get ``event_type``? ``*`` covers the whole
    catalogue except the opt-in events, which must be named."""
    if event_type in endpoint_events:
        return True
    return ALL in endpoint_events and event_type in CATALOGUE and event_type not in OPT_IN


# --- retries ------------------------------------------------------------------------------


def retry_delay(attempt: int, *, jitter: float) -> dt.timedelta:
    """The wait after failed attempt number ``attempt`` (1 = the first). ``jitter`` in
    [0, 1) spreads endpoints that failed together so they do not all come back at once."""
    base = min(LONGEST_RETRY_SECONDS, FIRST_RETRY_SECONDS * RETRY_FACTOR ** max(0, attempt - 1))
    return dt.timedelta(seconds=base * (1 - JITTER + 2 * JITTER * jitter))


def next_attempt(
    *,
    created_at: dt.datetime,
    now: dt.datetime,
    attempt: int,
    retry_for: dt.timedelta,
    jitter: float,
) -> dt.datetime | None:
    """When to try a failed delivery again, or None: give up (it was retried for
    ``retry_for`` since the event). The last try falls at the end of that window."""
    deadline = created_at + retry_for
    if now >= deadline:
        return None
    return min(now + retry_delay(attempt, jitter=jitter), deadline)


def failing_too_long(
    failing_since: dt.datetime | None, *, now: dt.datetime, retry_for: dt.timedelta
) -> bool:
    """An endpoint whose every attempt failed for ``retry_for`` is disabled."""
    return failing_since is not None and now - failing_since >= retry_for


# --- the admins' endpoints ----------------------------------------------------------------


def new_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def endpoint_settings(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """What the audit log keeps of an endpoint (never its secret)."""
    return {
        "url": endpoint.url,
        "events": list(endpoint.events),
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
    }


def _audit(
    session: Session,
    endpoint: WebhookEndpoint,
    *,
    actor_id: str,
    action: str,
    now: dt.datetime,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None = None,
) -> None:
    record(
        session,
        actor_id=actor_id,
        action=action,
        target_type="webhook",
        target_id=str(endpoint.id),
        reason=reason,
        before=before,
        after=after,
        now=now,
    )


def get_endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise RuleError(404, f"No webhook endpoint {endpoint_id}.", kind="not-found")
    return endpoint


def list_endpoints(session: Session) -> list[WebhookEndpoint]:
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def create_endpoint(
    session: Session,
    *,
    url: str,
    events: Iterable[str],
    actor_id: str,
    now: dt.datetime | None = None,
) -> WebhookEndpoint:
    """Register an endpoint (the caller has checked the URL). Its secret is on the returned
    object, to be shown this once."""
    now = now or utcnow()
    endpoint = WebhookEndpoint(
        url=url,
        events=normalise_events(events),
        secret=new_secret(),
        enabled=True,
        created_by=actor_id,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    session.flush()
    _audit(
        session,
        endpoint,
        actor_id=actor_id,
        action="create_webhook",
        now=now,
        before=None,
        after=endpoint_settings(endpoint),
    )
    return endpoint


def update_endpoint(
    session: Session,
    *,
    endpoint_id: int,
    changes: dict[str, Any],
    actor_id: str,
    now: dt.datetime | None = None,
) -> WebhookEndpoint:
    """Change url, events or enabled. Enabling clears the reason it was disabled and its
    run of failures (pending deliveries are tried again); disabling stops deliveries
    without dropping them."""
    now = now or utcnow()
    endpoint = get_endpoint(session, endpoint_id)
    before = endpoint_settings(endpoint)
    if "url" in changes:
        endpoint.url = changes["url"]
    if "events" in changes:
        endpoint.events = normalise_events(changes["events"])
    if "enabled" in changes and changes["enabled"] != endpoint.enabled:
        endpoint.enabled = bool(changes["enabled"])
        endpoint.failing_since = None
        endpoint.disabled_reason = None if endpoint.enabled else f"disabled by {actor_id}"
    after = endpoint_settings(endpoint)
    if after != before:
        endpoint.updated_at = now
        session.flush()
        _audit(
            session,
            endpoint,
            actor_id=actor_id,
            action="update_webhook",
            now=now,
            before=before,
            after=after,
        )
    return endpoint


def rotate_secret(
    session: Session, *, endpoint_id: int, actor_id: str, now: dt.datetime | None = None
) -> WebhookEndpoint:
    """A new secret, in force at once: every delivery from now on (retries of older events
    included) is signed with it alone."""
    now = now or utcnow()
    endpoint = get_endpoint(session, endpoint_id)
    endpoint.secret = new_secret()
    endpoint.updated_at = now
    session.flush()
    _audit(
        session,
        endpoint,
        actor_id=actor_id,
        action="rotate_webhook_secret",
        now=now,
        before=None,
        after=None,
    )
    return endpoint


def delete_endpoint(
    session: Session, *, endpoint_id: int, actor_id: str, now: dt.datetime | None = None
) -> None:
    """Remove an endpoint and its deliveries (sent or not)."""
    now = now or utcnow()
    endpoint = get_endpoint(session, endpoint_id)
    _audit(
        session,
        endpoint,
        actor_id=actor_id,
        action="delete_webhook",
        now=now,
        before=endpoint_settings(endpoint),
        after=None,
    )
    session.delete(endpoint)
    session.flush()


def disable_failing(
    session: Session,
    *,
    endpoint_id: int,
    last_error: str,
    now: dt.datetime,
    retry_for: dt.timedelta,
) -> bool:
    """Disable an endpoint that failed continuously for ``retry_for`` (the worker's decision:
    actor ``system``, audited). True if this call disabled it: the guarded UPDATE lets one of
    several workers that saw the same failure do it, once."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        return False
    before = endpoint_settings(endpoint)
    since = endpoint.failing_since
    reason = (
        f"failing since {since.strftime('%Y-%m-%dT%H:%M:%SZ') if since else '?'}"
        f"; last error: {last_error}"
    )[:500]
    result = session.execute(
        update(WebhookEndpoint)
        .where(
            WebhookEndpoint.id == endpoint_id,
            WebhookEndpoint.enabled == true(),
            WebhookEndpoint.failing_since <= now - retry_for,
        )
        .values(enabled=False, disabled_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:  # a CursorResult: UPDATE counts rows
        return False
    session.refresh(endpoint)
    _audit(
        session,
        endpoint,
        actor_id=SYSTEM,
        action=DISABLE_ACTION,
        now=now,
        before=before,
        after=endpoint_settings(endpoint),
        reason="failing continuously for the retry window (COMMENTS_WEBHOOK_RETRY_HOURS)",
    )
    return True


__all__ = [
    "ALL",
    "CATALOGUE",
    "OPT_IN",
    "TEST_EVENT",
    "catalogue_types",
    "create_endpoint",
    "delete_endpoint",
    "disable_failing",
    "failing_too_long",
    "get_endpoint",
    "list_endpoints",
    "new_secret",
    "next_attempt",
    "normalise_events",
    "retry_delay",
    "rotate_secret",
    "subscribed",
    "update_endpoint",
]
