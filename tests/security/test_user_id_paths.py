"""Issue #14 item 2: every `sub` a token may carry is addressable by every /admin/users/...
and /admin/bans/... route, percent-encoded (`/` included), so no author is beyond moderation."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.helpers import auth

ADMIN = "/api/v1/admin"
SUBS = [
    "evil/user",
    "https://idp.example/users/42",
    "..",
    ".",
    "auth0|abc",
    "a\x01b",
    "tab\there",
    "with space",
    "100%25",
    "ünïcode/ß?#&",
    "x/comments",
]


def _post_as(client, sub, body):
    # A plain name: the sub itself may hold characters a name may not (test_names.py).
    return client.post(
        "/api/v1/articles/a1/comments", json={"body": body}, headers=auth(sub, name="Someone")
    )


@pytest.mark.parametrize("sub", SUBS)
def test_every_accepted_sub_can_be_listed_banned_exported_and_erased(client, sub):
    assert _post_as(client, sub, "first").status_code == 201
    admin = auth("root", roles=["admin"], name="Root")
    path = quote(sub, safe="")

    r = client.get(f"{ADMIN}/users/{path}/comments", headers=admin)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["user_id"] == sub
    assert [c["body"] for c in r.get_json()["items"]] == ["first"]

    r = client.put(f"{ADMIN}/bans/{path}", json={"reason": "spam"}, headers=admin)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["user_id"] == sub
    assert _post_as(client, sub, "again").status_code == 403

    r = client.get(f"{ADMIN}/users/{path}/export", headers=admin)
    assert r.status_code == 200 and r.get_json()["user_id"] == sub
    assert len(r.get_json()["comments"]) == 1

    assert client.delete(f"{ADMIN}/bans/{path}", headers=admin).status_code == 204
    r = client.delete(f"{ADMIN}/users/{path}", headers=admin)
    assert r.status_code == 200 and r.get_json()["user_id"] == sub


def test_a_percent_encoded_dot_segment_is_the_user_named_dot_dot(client, post):
    assert post("a1", "dots", user="..").status_code == 201
    admin = auth("root", roles=["admin"], name="Root")
    r = client.get(f"{ADMIN}/users/%2E%2E/comments", headers=admin)
    assert r.status_code == 200 and r.get_json()["user_id"] == ".."


def test_a_user_called_x_slash_comments_is_not_user_x(client, post):
    assert post("a1", "by x", user="x").status_code == 201
    admin = auth("root", roles=["admin"], name="Root")
    r = client.get(f"{ADMIN}/users/x%2Fcomments/comments", headers=admin)
    assert r.status_code == 200 and r.get_json()["items"] == []
    assert r.get_json()["user_id"] == "x/comments"


@pytest.mark.parametrize("claim", ["sub", "name"])
@pytest.mark.parametrize("bad", ["nul\x00byte", "lone\ud800surrogate"])
def test_a_sub_or_name_no_database_can_hold_is_401(client, claim, bad):
    """Item 16 (part): NUL or a lone surrogate in `sub`/`name` was a 500 on PostgreSQL."""
    import time

    import jwt as pyjwt

    from tests.helpers import JWT_SECRET

    claims = {"sub": "u-1", "name": "N", "exp": int(time.time()) + 60, claim: bad}
    token = pyjwt.encode(claims, JWT_SECRET, algorithm="HS256")
    r = client.post(
        "/api/v1/articles/a1/comments",
        json={"body": "hi"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 401
