"""Webhook endpoints through the admin API: admins only, the secret shown on create and
rotate alone, the subscription checked, SSRF targets refused at registration, every change
audited, and each response as openapi.yaml documents it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from service.delivery import ssrf
from service.domain import webhooks
from service.extensions import db
from service.models import AuditEntry, WebhookEndpoint
from tests.helpers import MODERATOR, auth
from tests.openapi_check import assert_matches_spec

ADMIN = auth("root", roles=["admin"], name="Root")
HOOKS = "/api/v1/admin/webhooks"
HOOK = HOOKS + "/{endpoint_id}"
PUBLIC_URL = "https://93.184.215.14/hooks"  # an IP literal: no DNS needed in tests
T1 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)  # days before any real clock


def create(client: Any, url: str = PUBLIC_URL, **body: Any) -> Any:
    return client.post(HOOKS, json={"url": url, **body}, headers=ADMIN)


def test_only_admins_manage_webhooks(client: Any) -> None:
    made = create(client)
    assert made.status_code == 201
    one = f"{HOOKS}/{made.json['id']}"
    moderator = auth("mod-1", **MODERATOR)
    reader = auth("u-1")
    for method, path, body in [
        ("GET", HOOKS, None),
        ("POST", HOOKS, {"url": PUBLIC_URL}),
        ("GET", one, None),
        ("PATCH", one, {"enabled": False}),
        ("DELETE", one, None),
        ("POST", one + "/rotate-secret", None),
        ("POST", one + "/test", None),
        ("GET", one + "/deliveries", None),
    ]:
        for headers, status in ((moderator, 403), (reader, 403), ({}, 401)):
            r = client.open(path, method=method, json=body, headers=headers)
            assert r.status_code == status, (method, path, r.status_code)
            assert r.mimetype == "application/problem+json"
    assert client.get(one, headers=ADMIN).status_code == 200  # nothing above changed it


def test_the_secret_is_shown_on_create_and_rotate_only(client: Any, app: Any) -> None:
    made = create(client, events=["comment.created", "reaction.changed"])
    body = assert_matches_spec("POST", HOOKS, made)
    assert made.headers["Location"] == f"{HOOKS}/{body['id']}"
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["comment.created", "reaction.changed"]
    assert body["enabled"] is True and body["disabled_reason"] is None
    path = HOOK.format(endpoint_id=body["id"])
    shown = assert_matches_spec("GET", HOOK, client.get(path, headers=ADMIN))
    assert "secret" not in shown
    listed = assert_matches_spec("GET", HOOKS, client.get(HOOKS, headers=ADMIN))
    assert [e["id"] for e in listed["items"]] == [body["id"]]
    assert "secret" not in listed["items"][0]

    rotated = client.post(path + "/rotate-secret", headers=ADMIN)
    new = assert_matches_spec("POST", HOOK + "/rotate-secret", rotated)["secret"]
    assert new.startswith("whsec_") and new != body["secret"]
    with app.app_context():
        assert db.session.get(WebhookEndpoint, body["id"]).secret == new
    # Secrets never reach the audit log.
    log = client.get("/api/v1/admin/audit-log?target_type=webhook", headers=ADMIN).json
    assert [e["action"] for e in log["items"]] == ["rotate_webhook_secret", "create_webhook"]
    assert "whsec_" not in str(log)


def test_events_default_to_everything_but_reactions_and_are_checked(client: Any) -> None:
    assert create(client).json["events"] == ["*"]
    bad = create(client, events=["comment.created", "comment.exploded"])
    assert bad.status_code == 422 and "comment.exploded" in bad.json["detail"]
    assert create(client, events=[]).status_code == 422
    assert create(client, events="*").status_code == 422
    assert create(client, secret="whsec_mine").status_code == 422  # unknown fields refused
    assert client.get(HOOKS, headers=ADMIN).json["items"][0]["events"] == ["*"]
    assert len(client.get(HOOKS, headers=ADMIN).json["items"]) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/hook",
        "http://localhost:8080/hook",
        "ftp://93.184.215.14/hook",
        "javascript:alert(1)",
    ],
)
def test_ssrf_targets_are_refused_at_registration(client: Any, url: str) -> None:
    r = create(client, url=url)
    body = assert_matches_spec("POST", HOOKS, r)
    assert r.status_code == 422 and "url" in body["errors"], body
    assert client.get(HOOKS, headers=ADMIN).json["items"] == []


def test_a_name_that_resolves_to_a_private_address_is_refused(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ssrf, "resolver", lambda host, port: ["192.168.0.10"])
    r = create(client, url="https://hooks.example.com/in")
    assert r.status_code == 422 and "192.168.0.10" in r.json["detail"]
    monkeypatch.setattr(ssrf, "resolver", lambda host, port: ["93.184.215.14"])
    made = create(client, url="https://hooks.example.com/in")
    assert made.status_code == 201
    # A change of URL is checked the same way.
    path = HOOK.format(endpoint_id=made.json["id"])
    r = client.patch(path, json={"url": "http://127.0.0.1/x"}, headers=ADMIN)
    assert r.status_code == 422
    assert client.get(path, headers=ADMIN).json["url"] == "https://hooks.example.com/in"


@pytest.mark.settings(COMMENTS_WEBHOOK_ALLOW_PRIVATE=True)
def test_private_addresses_are_allowed_when_configured(client: Any) -> None:
    assert create(client, url="http://127.0.0.1:8080/hook").status_code == 201
    assert create(client, url="file:///etc/passwd").status_code == 422  # http(s) still


def test_update_disable_enable_and_delete_are_audited(client: Any) -> None:
    made = create(client).json
    path = HOOK.format(endpoint_id=made["id"])
    r = client.patch(path, json={"enabled": False, "events": ["user.banned"]}, headers=ADMIN)
    body = assert_matches_spec("PATCH", HOOK, r)
    assert body["enabled"] is False and body["disabled_reason"] == "disabled by root"
    assert body["events"] == ["user.banned"]
    test = client.post(path + "/test", headers=ADMIN)
    assert assert_matches_spec("POST", HOOK + "/test", test)["status"] == 409
    body = client.patch(path, json={"enabled": True}, headers=ADMIN).json
    assert body["enabled"] is True and body["disabled_reason"] is None
    assert assert_matches_spec("PATCH", HOOK, client.patch(path, json={}, headers=ADMIN))
    assert client.patch(path, json={"enabled": "yes"}, headers=ADMIN).status_code == 422
    r = client.delete(path, headers=ADMIN)
    assert assert_matches_spec("DELETE", HOOK, r) is None and r.status_code == 204
    missing = client.get(path, headers=ADMIN)
    problem = assert_matches_spec("GET", HOOK, missing)
    assert (problem["status"], problem["detail"]) == (404, f"No webhook endpoint {made['id']}.")
    assert problem["type"].endswith("/not-found"), problem
    assert client.delete(path, headers=ADMIN).status_code == 404
    log = client.get("/api/v1/admin/audit-log?target_type=webhook", headers=ADMIN).json
    actions = [e["action"] for e in log["items"]]
    assert actions == ["delete_webhook", "update_webhook", "update_webhook", "create_webhook"]
    assert all(e["actor"] == "root" and e["target_id"] == str(made["id"]) for e in log["items"])
    assert log["items"][2]["after"]["enabled"] is False


def test_a_test_event_is_queued_and_listed_as_a_delivery(client: Any) -> None:
    made = create(client, events=["user.erased"]).json
    path = HOOK.format(endpoint_id=made["id"])
    queued = client.post(path + "/test", headers=ADMIN)
    body = assert_matches_spec("POST", HOOK + "/test", queued)
    assert queued.status_code == 202
    assert body["type"] == "webhook.test" and body["status"] == "pending"
    assert body["attempts"] == 0 and body["message_id"].startswith("msg_")
    page = client.get(path + "/deliveries", headers=ADMIN)
    listed = assert_matches_spec("GET", HOOK + "/deliveries", page)
    assert [d["id"] for d in listed["items"]] == [body["id"]]
    for _ in range(2):
        client.post(path + "/test", headers=ADMIN)
    first = client.get(path + "/deliveries?limit=2", headers=ADMIN).json
    rest = client.get(
        path + "/deliveries",
        query_string={"limit": 2, "cursor": first["next_cursor"]},
        headers=ADMIN,
    ).json
    ids = [d["id"] for d in first["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3 and rest["next_cursor"] is None
    assert client.get(path + "/deliveries?status=delivered", headers=ADMIN).json["items"] == []
    assert client.get(path + "/deliveries?status=lost", headers=ADMIN).status_code == 422
    assert (
        client.get(HOOK.format(endpoint_id=999) + "/deliveries", headers=ADMIN).status_code == 404
    )


def test_each_change_to_an_endpoint_is_stamped_and_audited_at_the_time_given(
    db_session: Session,
) -> None:
    """The domain rules write the ``now`` they are handed, not the clock at the flush: on
    the endpoint and on each audit entry, which keeps the whole settings before and after
    (and nothing else: never the secret)."""
    t2, t3, t4 = (T1 + dt.timedelta(hours=h) for h in (1, 2, 3))
    made = webhooks.create_endpoint(
        db_session, url=PUBLIC_URL, events=["user.banned", "user.banned"], actor_id="root", now=T1
    )
    hook_id = made.id
    db_session.expire_all()
    made = db_session.get(WebhookEndpoint, hook_id)
    assert (made.enabled, made.created_by, made.created_at, made.updated_at) == (
        True,
        "root",
        T1,
        T1,
    )
    moved = webhooks.update_endpoint(
        db_session,
        endpoint_id=hook_id,
        changes={"url": PUBLIC_URL + "/v2"},
        actor_id="root-2",
        now=t2,
    )
    db_session.expire_all()
    assert (moved.url, moved.created_at, moved.updated_at) == (PUBLIC_URL + "/v2", T1, t2)
    webhooks.rotate_secret(db_session, endpoint_id=hook_id, actor_id="root", now=t3)
    webhooks.delete_endpoint(db_session, endpoint_id=hook_id, actor_id="root-2", now=t4)
    db_session.expire_all()
    assert db_session.get(WebhookEndpoint, hook_id) is None
    first = {"url": PUBLIC_URL, "events": ["user.banned"], "enabled": True, "disabled_reason": None}
    second = {**first, "url": PUBLIC_URL + "/v2"}
    entries = db_session.scalars(
        select(AuditEntry).where(AuditEntry.target_type == "webhook").order_by(AuditEntry.id)
    ).all()
    assert [
        (e.action, e.actor_id, e.target_id, e.created_at, e.reason, e.before, e.after)
        for e in entries
    ] == [
        ("create_webhook", "root", str(hook_id), T1, None, None, first),
        ("update_webhook", "root-2", str(hook_id), t2, None, first, second),
        ("rotate_webhook_secret", "root", str(hook_id), t3, None, None, None),
        ("delete_webhook", "root-2", str(hook_id), t4, None, second, None),
    ]


def test_endpoints_are_listed_oldest_first_whatever_order_the_database_reads_them(
    db_session: Session,
) -> None:
    """Without its ORDER BY the list would come in whatever order the table is read: on
    PostgreSQL an updated row moves to the end of the heap. SQLite reads in id order unless
    told otherwise: reverse_unordered_selects makes it read backwards here."""
    ids = [
        webhooks.create_endpoint(
            db_session, url=f"{PUBLIC_URL}/{n}", events=["*"], actor_id="root", now=T1
        ).id
        for n in range(3)
    ]
    # The oldest one changed: PostgreSQL writes its new row version after the others.
    webhooks.update_endpoint(
        db_session, endpoint_id=ids[0], changes={"events": ["comment.created"]}, actor_id="root"
    )
    db_session.flush()
    sqlite = db_session.get_bind().dialect.name == "sqlite"
    if sqlite:
        db_session.execute(text("PRAGMA reverse_unordered_selects = ON"))
    try:
        assert [e.id for e in webhooks.list_endpoints(db_session)] == ids
    finally:
        if sqlite:
            db_session.execute(text("PRAGMA reverse_unordered_selects = OFF"))
