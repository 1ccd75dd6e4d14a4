"""Webhooks from the change to the receiver: outbox rows written in the transaction, a real
HTTP receiver, signatures checked with the standardwebhooks verifier, retries after 500s and
timeouts with a clock the test moves, giving up after the retry window and disabling the
endpoint (audited), the SSRF rule again at delivery time, opt-in reactions, no private data,
/readyz unaffected by a stalled endpoint, and two workers at once on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from typing import Any, Iterator

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import WebhookVerificationError

from service import create_app
from service.delivery import ssrf
from service.delivery.webhooks import STATE, deliver_due
from service.delivery.worker import Worker
from service.domain import webhooks
from service.enums import DeliveryStatus
from service.extensions import db
from service.models import AuditEntry, WebhookDelivery, WebhookEndpoint, utcnow
from tests.helpers import MODERATOR, auth
from tests.webhook_receiver import STALL, Receiver

ADMIN = auth("root", roles=["admin"], name="Root")
MOD = auth("mod-1", **MODERATOR)
READER = auth("u-1", name="Ann", email="ann@example.com")
OTHER = auth("u-2", name="Bob", email="bob@example.com")

pytestmark = pytest.mark.settings(
    COMMENTS_WEBHOOK_ALLOW_PRIVATE=True,  # the receiver is on 127.0.0.1
    COMMENTS_WEBHOOK_CONNECT_TIMEOUT_SECONDS=1.0,
    COMMENTS_WEBHOOK_TIMEOUT_SECONDS=1.0,
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture(autouse=True)
def _close_sender(app: Any) -> Iterator[None]:
    yield
    state = app.extensions.pop(STATE, None)
    if state is not None:
        state.close()


def register(client: Any, url: str, events: list[str] | None = None) -> tuple[int, str]:
    body = {"url": url} if events is None else {"url": url, "events": events}
    r = client.post("/api/v1/admin/webhooks", json=body, headers=ADMIN)
    assert r.status_code == 201, r.json
    return r.json["id"], r.json["secret"]


def deliver(app: Any, now: dt.datetime | None = None) -> int:
    with app.app_context():
        try:
            return deliver_due(app, now=now)
        finally:
            db.session.remove()


def rows(app: Any) -> list[WebhookDelivery]:
    with app.app_context():
        found = list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
        db.session.remove()
        return found


def endpoint(app: Any, endpoint_id: int) -> WebhookEndpoint:
    with app.app_context():
        found = db.session.get(WebhookEndpoint, endpoint_id)
        db.session.remove()
        assert found is not None
        return found


def post(client: Any, article: str = "a-1", body: str = "Hello", **extra: Any) -> Any:
    headers = extra.pop("headers", READER)
    r = client.post(
        f"/api/v1/articles/{article}/comments", json={"body": body, **extra}, headers=headers
    )
    assert r.status_code == 201, r.json
    return r.json


def test_a_new_comment_arrives_signed_with_its_public_shape(
    app: Any, client: Any, receiver: Receiver
) -> None:
    _, secret = register(client, receiver.url)
    comment = post(client, body="Shares up **4%**")
    assert len(receiver.received) == 0  # the request itself sent nothing
    assert deliver(app) == 1
    (got,) = receiver.wait_for(1)
    assert got.path == "/hooks/comments"
    assert got.headers["content-type"] == "application/json"
    assert got.message_id.startswith("msg_")
    payload = got.verify(secret)
    assert payload["type"] == "comment.created"
    assert payload["timestamp"].endswith("Z")
    data = payload["data"]
    assert (data["comment_id"], data["article_id"], data["status"]) == (
        comment["id"],
        "a-1",
        "published",
    )
    public = client.get(f"/api/v1/comments/{comment['id']}").json  # an anonymous reader
    assert data["comment"] == public
    (row,) = rows(app)
    assert (row.status, row.attempts, row.response_code) == (DeliveryStatus.DELIVERED, 1, 200)
    assert row.next_attempt_at is None and row.delivered_at is not None
    assert row.payload == ""  # the body is not kept once delivered
    page = client.get(f"/api/v1/admin/webhooks/{row.endpoint_id}/deliveries", headers=ADMIN).json
    assert page["items"][0]["status"] == "delivered"
    assert page["items"][0]["response_code"] == 200 and page["items"][0]["next_attempt_at"] is None
    assert deliver(app) == 0  # delivered once


def test_payloads_carry_no_email_ip_or_guest_secret(
    app: Any, client: Any, receiver: Receiver
) -> None:
    _, secret = register(client, receiver.url, ["*", "reaction.changed"])
    guest = client.post(
        "/api/v1/articles/a-1/comments",
        json={"body": "As a guest", "author_name": "Guest"},
        environ_base={"REMOTE_ADDR": "198.51.100.23"},
    ).json
    mine = post(client, body="Signed in", parent_id=guest["id"])
    client.put(f"/api/v1/comments/{mine['id']}/reactions/like", headers=OTHER)
    client.post(
        f"/api/v1/comments/{mine['id']}/flags",
        json={"reason": "spam", "note": "bob@example.com says"},
        headers=OTHER,
    )
    while deliver(app):
        pass
    received = receiver.wait_for(4)
    types = [r.verify(secret)["type"] for r in received]
    assert sorted(types) == [
        "comment.created",
        "comment.created",
        "comment.flagged",
        "reaction.changed",
    ]
    for r in received:
        text = r.body.decode()
        for private in ("ann@example.com", "bob@example.com", "198.51.100.23", guest["edit_token"]):
            assert private not in text, (private, text)
        assert "guest_key" not in text and "edit_token" not in text


def test_events_map_to_the_catalogue_and_reactions_are_opt_in(
    app: Any, client: Any, receiver: Receiver
) -> None:
    everything, _ = register(client, receiver.url, ["*"])
    reactions, _ = register(client, receiver.url + "?only=reactions", ["reaction.changed"])
    c = post(client)
    client.put(f"/api/v1/comments/{c['id']}/reactions/like", headers=OTHER)
    client.put("/api/v1/articles/a-1/reactions/like", headers=OTHER)
    client.patch(f"/api/v1/comments/{c['id']}", json={"body": "Edited"}, headers=READER)
    client.post(f"/api/v1/comments/{c['id']}/flags", json={"reason": "spam"}, headers=OTHER)
    r = client.post(
        f"/api/v1/admin/comments/{c['id']}/actions", json={"action": "remove"}, headers=MOD
    )
    assert r.status_code == 200
    client.put("/api/v1/admin/bans/u-9", json={"reason": "spam"}, headers=MOD)
    client.delete("/api/v1/admin/users/u-2", headers=ADMIN)
    while deliver(app):
        pass
    by_endpoint: dict[int, list[dict[str, Any]]] = {everything: [], reactions: []}
    for got in receiver.wait_for(10):  # with the removal's notification.created (#15)
        target = reactions if "only=reactions" in got.path else everything
        by_endpoint[target].append(json.loads(got.body))
    assert sorted(p["type"] for p in by_endpoint[everything]) == [
        "comment.created",
        "comment.deleted",
        "comment.edited",
        "comment.flagged",
        "comment.moderated",
        "notification.created",  # the author is told of the removal
        "user.banned",
        "user.erased",
    ]
    reaction_payloads = by_endpoint[reactions]
    assert [p["type"] for p in reaction_payloads] == ["reaction.changed"] * 2
    # Sent concurrently: arrival order is not the events' order.
    on_article, on_comment = sorted(
        (p["data"] for p in reaction_payloads), key=lambda d: d["comment_id"] is not None
    )
    assert on_comment["comment_id"] == c["id"] and on_comment["reactions"] == {"like": 1}
    assert on_comment["added"] is True and on_comment["kind"] == "like"
    assert on_comment["user_id"] == "u-2" and on_comment["score"] == 1
    assert on_article["comment_id"] is None and on_article["reactions"] == {"like": 1}
    moderated = next(p for p in by_endpoint[everything] if p["type"] == "comment.moderated")
    assert moderated["data"]["action"] == "remove" and moderated["data"]["moderator_id"] == "mod-1"
    deleted = next(p for p in by_endpoint[everything] if p["type"] == "comment.deleted")
    assert deleted["data"]["status"] == "removed" and deleted["data"]["comment"]["body"] is None


@pytest.mark.settings(COMMENTS_PREMODERATION="all")
def test_held_comments_then_published(app: Any, client: Any, receiver: Receiver) -> None:
    _, secret = register(client, receiver.url)
    c = post(client)
    assert c["status"] == "pending"
    client.post(
        f"/api/v1/admin/comments/{c['id']}/actions", json={"action": "approve"}, headers=MOD
    )
    while deliver(app):
        pass
    payloads = [r.verify(secret) for r in receiver.wait_for(5)]
    assert sorted(p["type"] for p in payloads) == [
        "comment.created",
        "comment.held",
        "comment.moderated",
        "comment.published",
        "notification.created",  # the author is told of the approval (#15)
    ]
    held = next(p for p in payloads if p["type"] == "comment.held")
    assert held["data"]["status"] == "pending" and held["data"]["held_reason"] == "premoderation"
    published = next(p for p in payloads if p["type"] == "comment.published")
    assert published["data"]["previous_status"] == "pending"


def test_a_rolled_back_request_leaves_no_delivery(
    app: Any, client: Any, receiver: Receiver
) -> None:
    register(client, receiver.url)
    client.patch("/api/v1/admin/articles/closed-1", json={"status": "closed"}, headers=MOD)
    r = client.post("/api/v1/articles/closed-1/comments", json={"body": "x"}, headers=READER)
    assert r.status_code == 409
    assert rows(app) == []


def test_shadow_banned_authors_comments_are_not_announced(
    app: Any, client: Any, receiver: Receiver
) -> None:
    register(client, receiver.url)
    client.put("/api/v1/admin/bans/u-1", json={"reason": "troll", "shadow": True}, headers=MOD)
    post(client, body="Nobody sees this")
    while deliver(app):
        pass
    types = [json.loads(r.body)["type"] for r in receiver.received]
    assert types == ["user.banned"]


def test_retried_after_500s_with_backoff_then_delivered(
    app: Any, client: Any, receiver: Receiver
) -> None:
    endpoint_id, secret = register(client, receiver.url)
    receiver.plan.extend([500, 503])
    post(client)
    t0 = utcnow()
    assert deliver(app, now=t0) == 1
    (row,) = rows(app)
    assert (row.status, row.attempts, row.response_code) == (DeliveryStatus.PENDING, 1, 500)
    assert json.loads(row.payload)["type"] == "comment.created"  # kept for the retries
    assert row.last_error == "answered 500"
    wait = (row.next_attempt_at - t0).total_seconds()
    assert 5 * 0.75 <= wait <= 5 * 1.25  # the first retry: 5 s, with jitter
    assert endpoint(app, endpoint_id).failing_since is not None
    assert deliver(app, now=t0 + dt.timedelta(seconds=1)) == 0  # not due yet
    assert deliver(app, now=t0 + dt.timedelta(seconds=7)) == 1
    (row,) = rows(app)
    assert (row.attempts, row.response_code) == (2, 503)
    wait = (row.next_attempt_at - (t0 + dt.timedelta(seconds=7))).total_seconds()
    assert 20 * 0.75 <= wait <= 20 * 1.25  # then 20 s: exponential
    assert deliver(app, now=t0 + dt.timedelta(seconds=40)) == 1
    (row,) = rows(app)
    assert (row.status, row.attempts, row.response_code) == (DeliveryStatus.DELIVERED, 3, 200)
    received = receiver.wait_for(3)
    assert len({r.message_id for r in received}) == 1  # the same message each time
    for r in received:
        r.verify(secret)
    assert endpoint(app, endpoint_id).failing_since is None  # a success ends the run


def test_a_timeout_is_a_failed_attempt_and_is_retried(
    app: Any, client: Any, receiver: Receiver
) -> None:
    register(client, receiver.url)
    receiver.plan.append(STALL)
    post(client)
    t0 = utcnow()
    started = time.monotonic()
    assert deliver(app, now=t0) == 1
    assert time.monotonic() - started < 5  # the read timeout (1 s) cut it short
    (row,) = rows(app)
    assert row.status == DeliveryStatus.PENDING and row.last_error.startswith("timeout")
    assert row.response_code is None
    receiver.release()
    assert deliver(app, now=t0 + dt.timedelta(seconds=10)) == 1
    (row,) = rows(app)
    assert row.status == DeliveryStatus.DELIVERED and row.attempts == 2


def test_redirects_are_not_followed(app: Any, client: Any, receiver: Receiver) -> None:
    register(client, receiver.url)
    receiver.plan.append(302)
    post(client)
    deliver(app)
    (row,) = rows(app)
    assert row.response_code == 302 and row.last_error == "redirect not followed 302"
    assert len(receiver.received) == 1


def test_given_up_after_the_retry_window_and_the_endpoint_disabled(app: Any, client: Any) -> None:
    with Receiver(default=500) as receiver:
        endpoint_id, _ = register(client, receiver.url)
        post(client)
        now = utcnow()
        attempts = 0
        while True:
            assert deliver(app, now=now) == 1
            attempts += 1
            (row,) = rows(app)
            if row.status != DeliveryStatus.PENDING:
                break
            assert row.next_attempt_at <= row.created_at + dt.timedelta(hours=24)
            now = row.next_attempt_at
            assert attempts < 30
    assert row.status == DeliveryStatus.FAILED and row.next_attempt_at is None
    assert row.payload == ""
    assert 8 <= row.attempts == attempts <= 15
    assert row.last_attempt_at == row.created_at + dt.timedelta(hours=24)
    hook = endpoint(app, endpoint_id)
    assert hook.enabled is False and hook.disabled_reason.startswith("failing since")
    assert "answered 500" in hook.disabled_reason
    with app.app_context():
        (entry,) = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "disable_webhook")
        ).all()
        assert (entry.actor_id, entry.target_type, entry.target_id) == (
            "system",
            "webhook",
            str(endpoint_id),
        )
        assert entry.before["enabled"] is True and entry.after["enabled"] is False
    shown = client.get(f"/api/v1/admin/webhooks/{endpoint_id}", headers=ADMIN).json
    assert shown["enabled"] is False and shown["disabled_reason"] == hook.disabled_reason
    post(client, body="after it was disabled")
    assert len(rows(app)) == 1  # a disabled endpoint gets no new deliveries


def test_the_worker_disables_only_the_endpoint_failing_for_the_whole_window_and_once(
    db_session: Session,
) -> None:
    """``disable_failing`` as the worker calls it: not a moment early, not an endpoint that
    is not failing, not the other endpoints, not twice; the reason says since when and the
    last error (cut to the column's 500 characters), and the audit entry is the system's, at
    the worker's time, with the settings before and after."""
    since = dt.datetime(2026, 11, 1, 8, 30, 15, tzinfo=dt.timezone.utc)
    made_at = since - dt.timedelta(days=1)
    window = dt.timedelta(hours=24)
    now = since + window
    failing, other, healthy = (
        webhooks.create_endpoint(
            db_session, url=f"https://93.184.215.14/{n}", events=["*"], actor_id="root", now=made_at
        ).id
        for n in ("failing", "other", "healthy")
    )
    db_session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id.in_([failing, other]))
        .values(failing_since=since)
    )

    def disable(endpoint_id: int, at: dt.datetime, error: str = "answered 500") -> bool:
        return webhooks.disable_failing(
            db_session, endpoint_id=endpoint_id, last_error=error, now=at, retry_for=window
        )

    assert disable(999, now) is False  # no such endpoint
    assert disable(healthy, now) is False  # failing_since is None: nothing to disable
    assert disable(failing, now - dt.timedelta(seconds=1)) is False  # a second early
    assert disable(failing, now) is True
    assert disable(failing, now + dt.timedelta(minutes=1)) is False  # once
    db_session.expire_all()
    hook = db_session.get(WebhookEndpoint, failing)
    assert (hook.enabled, hook.disabled_reason, hook.updated_at) == (
        False,
        "failing since 2026-11-01T08:30:15Z; last error: answered 500",
        now,
    )
    for untouched in (other, healthy):
        hook = db_session.get(WebhookEndpoint, untouched)
        assert (hook.enabled, hook.disabled_reason, hook.updated_at) == (True, None, made_at)
    settings = {"url": "https://93.184.215.14/failing", "events": ["*"], "enabled": True}
    (entry,) = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "disable_webhook")
    ).all()
    assert (entry.actor_id, entry.target_type, entry.target_id, entry.created_at) == (
        "system",
        "webhook",
        str(failing),
        now,
    )
    assert entry.reason == (
        "failing continuously for the retry window (COMMENTS_WEBHOOK_RETRY_HOURS)"
    )
    assert entry.before == {**settings, "disabled_reason": None}
    assert entry.after == {
        **settings,
        "enabled": False,
        "disabled_reason": "failing since 2026-11-01T08:30:15Z; last error: answered 500",
    }

    assert disable(other, now, error="x" * 600) is True
    reason = db_session.get(WebhookEndpoint, other).disabled_reason
    assert len(reason) == 500 and reason.startswith("failing since 2026-11-01T08:30:15Z; last")

    # The session's own copy of an endpoint may not know yet that it is failing (the
    # worker marks it with an UPDATE that does not touch the session): the database
    # decides, and the reason says "?" for the start it could not read.
    stale = db_session.get(WebhookEndpoint, healthy)
    assert stale.failing_since is None
    db_session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == healthy)
        .values(failing_since=since)
        .execution_options(synchronize_session=False)
    )
    assert disable(healthy, now) is True
    assert stale.disabled_reason == "failing since ?; last error: answered 500"


def test_dns_rebinding_is_refused_at_delivery_time(
    app: Any, client: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.helpers import reconfigure

    reconfigure(app, COMMENTS_WEBHOOK_ALLOW_PRIVATE=False)
    port = receiver.url.split(":")[2].split("/")[0]
    monkeypatch.setattr(ssrf, "resolver", lambda host, p: ["93.184.215.14"])
    register(client, f"http://rebind.example:{port}/hooks/comments")
    monkeypatch.setattr(ssrf, "resolver", lambda host, p: ["127.0.0.1"])  # the name moved
    post(client)
    assert deliver(app) == 1
    (row,) = rows(app)
    assert row.status == DeliveryStatus.PENDING and row.last_error.startswith("refused:")
    assert "loopback" in row.last_error
    assert receiver.received == []


def test_rotating_the_secret_signs_with_the_new_one_only(
    app: Any, client: Any, receiver: Receiver
) -> None:
    endpoint_id, old = register(client, receiver.url)
    new = client.post(f"/api/v1/admin/webhooks/{endpoint_id}/rotate-secret", headers=ADMIN).json[
        "secret"
    ]
    post(client)
    deliver(app)
    (got,) = receiver.wait_for(1)
    assert got.verify(new)["type"] == "comment.created"
    with pytest.raises(WebhookVerificationError):
        got.verify(old)


def test_a_test_event_is_delivered(app: Any, client: Any, receiver: Receiver) -> None:
    endpoint_id, secret = register(client, receiver.url, ["user.erased"])
    client.post(f"/api/v1/admin/webhooks/{endpoint_id}/test", headers=ADMIN)
    assert deliver(app) == 1
    payload = receiver.wait_for(1)[0].verify(secret)
    assert payload["type"] == "webhook.test"
    assert payload["data"] == {"endpoint_id": endpoint_id, "requested_by": "root"}


def test_a_stalled_endpoint_slows_neither_readyz_nor_requests(
    app: Any, client: Any, receiver: Receiver
) -> None:
    from tests.helpers import reconfigure

    reconfigure(app, COMMENTS_WEBHOOK_TIMEOUT_SECONDS=20.0)
    register(client, receiver.url)
    receiver.plan.append(STALL)
    stop = threading.Event()
    worker = Worker(app, idle_seconds=0.05, stop=stop)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        post(client)
        receiver.wait_for(1)  # the worker is now held by the endpoint
        started = time.monotonic()
        assert client.get("/readyz").status_code == 200
        post(client, body="another")
        assert time.monotonic() - started < 2
    finally:
        receiver.release()
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


@pytest.mark.postgres
@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="several workers at once need PostgreSQL"
)
def test_two_workers_at_once_deliver_each_message_once(
    app: Any, client: Any, database_url: str, settings: dict[str, Any]
) -> None:
    with Receiver(delay=0.02) as receiver:
        endpoint_id, _ = register(client, receiver.url)
        for _ in range(60):
            client.post(f"/api/v1/admin/webhooks/{endpoint_id}/test", headers=ADMIN)
        second = create_app({"DATABASE_URL": database_url, **settings})
        stops = [threading.Event(), threading.Event()]
        workers = [
            Worker(app, idle_seconds=0.05, stop=stops[0]),
            Worker(second, idle_seconds=0.05, stop=stops[1]),
        ]
        threads = [threading.Thread(target=w.run) for w in workers]
        for t in threads:
            t.start()
        try:
            receiver.wait_for(60, seconds=60)
            deadline = time.monotonic() + 30
            while any(r.status != DeliveryStatus.DELIVERED for r in rows(app)):
                assert time.monotonic() < deadline
                time.sleep(0.1)
        finally:
            for s in stops:
                s.set()
            for t in threads:
                t.join(timeout=30)
            state = second.extensions.pop(STATE, None)
            if state is not None:
                state.close()
            with second.app_context():
                db.engine.dispose()
        ids = [r.message_id for r in receiver.received]
        assert len(ids) == 60 and len(set(ids)) == 60  # no message twice
        assert all(w.handled > 0 for w in workers), [w.handled for w in workers]


def test_a_post_reads_the_endpoints_once_for_both_rounds_of_its_commit(
    post: Any, count_queries: Any
) -> None:
    """A reply to a followed thread commits in two rounds of sinks (its comment, then the
    notification the first round recorded); each round asks the outbox for enabled
    endpoints, and the second is answered from the first (service/delivery/outbox.py)."""
    assert (
        post("wh-once", "the first comment; its author now follows", user="wh-a").status_code == 201
    )
    with count_queries() as q:
        assert post("wh-once", "a reply that notifies the follower", user="wh-b").status_code == 201
    notified = [
        s for s in q.statements if s.lstrip().upper().startswith("INSERT INTO NOTIFICATIONS")
    ]
    reads = [s for s in q.statements if "FROM webhook_endpoints" in s]
    assert notified, "the follower was not notified: this test needs the second round"
    assert len(reads) == 1, q.statements
