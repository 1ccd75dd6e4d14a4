"""Edits the rules refuse, as the author, a stranger and a banned author see them: the exact
problem (status, type, detail) a frontend shows. Mutation testing (#22) found these
refusals were only checked by status code, or not at all."""

from __future__ import annotations

import datetime as dt

from tests.helpers import auth, callers

API = "/api/v1"
MOD = callers().moderator


def _problem(r):
    body = r.get_json()
    return r.status_code, body["type"].rsplit("/", 1)[-1], body["detail"]


def test_a_deleted_comment_cannot_be_edited_by_its_author(client, post):
    """A tombstone (deleted, kept for its replies) is still shown, so its author can reach
    it; an edit must not bring the words back."""
    top = post("a1", "top", user="u-1").get_json()
    post("a1", "reply", user="u-2", parent_id=top["id"])
    assert client.delete(f"{API}/comments/{top['id']}", headers=auth("u-1")).status_code == 204
    r = client.patch(f"{API}/comments/{top['id']}", json={"body": "back"}, headers=auth("u-1"))
    assert _problem(r) == (404, "not-found", "There is no such comment.")
    assert r.content_type == "application/problem+json"


def test_only_the_author_may_edit(client, post):
    c = post("a1", "mine", user="u-1").get_json()
    r = client.patch(f"{API}/comments/{c['id']}", json={"body": "yours"}, headers=auth("u-2"))
    assert _problem(r) == (403, "forbidden", "Only the author can edit this comment.")
    assert client.get(f"{API}/comments/{c['id']}").get_json()["body"] == "mine"


def test_a_banned_author_cannot_edit_until_the_ban_expires(client, post):
    """A ban with an end date refuses edits while it runs (the ban is judged at the time of
    the edit)."""
    c = post("a1", "before the ban", user="u-1").get_json()
    until = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).isoformat()
    r = client.put(
        f"{API}/admin/bans/u-1", json={"reason": "spam", "expires_at": until}, headers=MOD
    )
    assert r.status_code in (200, 201), r.get_json()
    r = client.patch(f"{API}/comments/{c['id']}", json={"body": "after"}, headers=auth("u-1"))
    assert _problem(r) == (403, "banned", "You are banned from commenting.")
    assert client.get(f"{API}/comments/{c['id']}").get_json()["body"] == "before the ban"
