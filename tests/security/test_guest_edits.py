"""#14 items 14 and 15: a guest's edit token works on their pending comment, and an
idempotent replay of their post hands the same edit token out again."""

from __future__ import annotations

import pytest

API = "/api/v1"


def _guest_post(client, body="a guest's view", key=None, ip="10.2.2.2"):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        f"{API}/articles/a1/comments",
        json={"body": body, "author_name": "Pat"},
        headers=headers,
        environ_base={"REMOTE_ADDR": ip},
    )


@pytest.mark.settings(COMMENTS_PREMODERATION="guests")
def test_a_guest_can_edit_and_delete_their_pending_comment(client):
    r = _guest_post(client)
    assert r.status_code == 201 and r.get_json()["status"] == "pending"
    cid, token = r.get_json()["id"], r.get_json()["edit_token"]
    r = client.patch(
        f"{API}/comments/{cid}",
        json={"body": "edited while pending"},
        headers={"X-Edit-Token": token},
    )
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["body"] == "edited while pending"
    # Without the token (or with another) the pending comment still does not exist.
    # Without any credentials: 401, as for every id, so it still confirms nothing.
    assert client.patch(f"{API}/comments/{cid}", json={"body": "x"}).status_code == 401
    wrong = {"X-Edit-Token": "not-the-token"}
    assert client.delete(f"{API}/comments/{cid}", headers=wrong).status_code == 404
    assert (
        client.delete(f"{API}/comments/{cid}", headers={"X-Edit-Token": token}).status_code == 204
    )


def test_a_replayed_guest_post_returns_the_same_edit_token(client):
    first = _guest_post(client, key="k-1")
    assert first.status_code == 201
    again = _guest_post(client, key="k-1")
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    token = again.get_json()["edit_token"]
    assert token == first.get_json()["edit_token"]
    cid = first.get_json()["id"]
    r = client.patch(
        f"{API}/comments/{cid}", json={"body": "fixed"}, headers={"X-Edit-Token": token}
    )
    assert r.status_code == 200


def test_another_ip_replaying_the_key_gets_no_token(client):
    first = _guest_post(client, key="k-2")
    other = _guest_post(client, key="k-2", ip="10.2.2.3")
    # Keys are scoped to the caller: the other address makes its own comment and token.
    assert other.get_json()["id"] != first.get_json()["id"]
    assert other.get_json()["edit_token"] != first.get_json()["edit_token"]


def test_edit_tokens_differ_between_keys(client):
    a = _guest_post(client, body="one", key="k-a").get_json()["edit_token"]
    b = _guest_post(client, body="two", key="k-b").get_json()["edit_token"]
    c = _guest_post(client, body="three").get_json()["edit_token"]
    assert len({a, b, c}) == 3 and all(len(t) >= 32 for t in (a, b, c))
