"""ETag / Cache-Control / Vary on public GETs, and 304 on If-None-Match."""

from __future__ import annotations

from typing import Any

from tests.helpers import auth

THREAD = "/api/v1/articles/cache-1/comments"


def test_anonymous_reads_are_public_and_revalidate_with_304(client: Any, post: Any) -> None:
    post("cache-1", "first")
    r = client.get(THREAD)
    assert r.status_code == 200
    etag = r.headers["ETag"]
    assert r.headers["Cache-Control"].startswith("public")
    assert "Authorization" in r.headers["Vary"]
    again = client.get(THREAD, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag


def test_signed_in_reads_are_private_and_revalidate_with_304(client: Any, post: Any) -> None:
    post("cache-1", "first")
    headers = auth("u-reader")
    r = client.get(THREAD, headers=headers)
    assert r.headers["Cache-Control"] == "private, no-cache"
    again = client.get(THREAD, headers={**headers, "If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304


def test_the_etag_changes_when_a_comment_is_added(client: Any, post: Any) -> None:
    post("cache-1", "first")
    etag = client.get(THREAD).headers["ETag"]
    post("cache-1", "second", user="u-2")
    r = client.get(THREAD, headers={"If-None-Match": etag})
    assert r.status_code == 200
    assert r.headers["ETag"] != etag
    assert len(r.get_json()["items"]) == 2


def test_writes_and_errors_are_not_cached(client: Any, post: Any) -> None:
    created = post("cache-1", "first")
    assert "ETag" not in created.headers
    missing = client.get("/api/v1/comments/999999")
    assert missing.status_code == 404 and "ETag" not in missing.headers
