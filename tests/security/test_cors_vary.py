"""#14 items 6 and 19 (CORS part): every response whose headers depend on Origin varies on
it, and Access-Control-Allow-Origin is sent only when a matching Origin came."""

from __future__ import annotations

import pytest

ALLOWED = "https://www.example.com"
PATHS = ["/api/v1/articles/a1/comments", "/api/v1/counts?article_id=a1"]


@pytest.mark.settings(COMMENTS_CORS_ORIGINS=[ALLOWED])
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("origin", [None, "https://evil.example", ALLOWED])
def test_one_configured_origin_varies_and_allows_only_a_match(client, path, origin):
    headers = {"Origin": origin} if origin else {}
    r = client.get(path, headers=headers)
    assert r.status_code == 200
    assert "origin" in {v.strip().lower() for v in r.headers.get("Vary", "").split(",")}
    if origin == ALLOWED:
        assert r.headers["Access-Control-Allow-Origin"] == ALLOWED
    else:
        assert "Access-Control-Allow-Origin" not in r.headers
        assert not [h for h in r.headers.keys() if h.lower().startswith("access-control-")]


@pytest.mark.settings(COMMENTS_CORS_ORIGINS=[ALLOWED, "http://localhost:3000"])
def test_several_origins_and_a_mismatch_still_vary(client):
    r = client.get(PATHS[0], headers={"Origin": "https://evil.example"})
    assert "Origin" in r.headers.get("Vary", "")
    assert "Access-Control-Allow-Origin" not in r.headers


@pytest.mark.settings(COMMENTS_CORS_ORIGINS=[ALLOWED])
def test_a_304_varies_on_origin_too(client):
    first = client.get(PATHS[0], headers={"Origin": ALLOWED})
    etag = first.headers["ETag"]
    r = client.get(PATHS[0], headers={"If-None-Match": etag})
    assert r.status_code == 304
    assert "Origin" in r.headers.get("Vary", "")
    assert "Access-Control-Allow-Origin" not in r.headers
