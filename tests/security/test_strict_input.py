"""#14 items 18 and 19 (paths): strict booleans, dot-segment article ids, ASCII digits."""

from __future__ import annotations

import pytest

from tests.helpers import MODERATOR, auth

ADMIN = "/api/v1/admin"


@pytest.mark.parametrize("value", [0, 1, "yes", "true", "on", "", None, [], {}, 1.0])
def test_article_premoderation_takes_only_true_false_or_null(client, value):
    r = client.patch(
        f"{ADMIN}/articles/a1", json={"premoderation": value}, headers=auth(**MODERATOR)
    )
    if value is None:
        assert r.status_code == 200
    else:
        assert r.status_code == 422, r.get_json()
        assert "premoderation" in r.get_json()["errors"]


@pytest.mark.parametrize("value", [0, 1, "on", "true", None])
def test_shadow_ban_takes_only_a_json_boolean(client, value):
    r = client.put(
        f"{ADMIN}/bans/u-1", json={"reason": "x", "shadow": value}, headers=auth(**MODERATOR)
    )
    assert r.status_code == 422
    assert client.get(f"{ADMIN}/bans", headers=auth(**MODERATOR)).get_json()["items"] == []


def test_json_booleans_still_work(client):
    mod = auth(**MODERATOR)
    r = client.put(f"{ADMIN}/bans/u-1", json={"reason": "x", "shadow": True}, headers=mod)
    assert r.status_code == 201 and r.get_json()["shadow"] is True
    r = client.patch(f"{ADMIN}/articles/a1", json={"premoderation": False}, headers=mod)
    assert r.status_code == 200 and r.get_json()["premoderation"] is False


@pytest.mark.parametrize("article", [".", ".."])
def test_dot_segment_article_ids_are_refused(client, post, article):
    from urllib.parse import quote

    path = quote(article, safe="").replace(".", "%2E")
    assert client.get(f"/api/v1/articles/{path}/comments").status_code == 422
    r = client.post(f"/api/v1/articles/{path}/comments", json={"body": "hi"}, headers=auth("u-1"))
    assert r.status_code == 422
    r = client.get(f"/api/v1/counts?article_id={article}")
    assert r.status_code == 422


def test_fullwidth_digits_are_not_comment_ids(client, post):
    cid = post("a1", "one").get_json()["id"]
    assert cid == 1
    assert client.get("/api/v1/comments/1").status_code == 200
    assert client.get("/api/v1/comments/\uff11").status_code == 404
    assert client.get("/api/v1/comments/%EF%BC%91").status_code == 404


@pytest.mark.parametrize("size", [80 * 1024, 64 * 1024 + 10])
def test_a_chunked_body_over_the_limit_is_413(client, size):
    import io
    import json

    body = json.dumps({"body": "x" * size, "author_name": "G"}).encode()
    r = client.post(
        "/api/v1/articles/a1/comments",
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert r.status_code == 413
    assert r.mimetype == "application/problem+json"


def test_a_small_chunked_body_still_posts(client):
    import io

    r = client.post(
        "/api/v1/articles/a1/comments",
        input_stream=io.BytesIO(b'{"body": "short", "author_name": "G"}'),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert r.status_code == 201
