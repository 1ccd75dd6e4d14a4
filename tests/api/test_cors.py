"""CORS: exact origins from COMMENTS_CORS_ORIGINS, through flask-cors."""

from __future__ import annotations

from typing import Any

import pytest

from service.cors import ALLOW_HEADERS, EXPOSE_HEADERS
from tests.helpers import auth

ALLOWED = "https://www.example.com"


@pytest.fixture
def cors(settings: dict[str, Any]) -> dict[str, Any]:
    settings["COMMENTS_CORS_ORIGINS"] = [ALLOWED, "http://localhost:3000"]
    return settings


def _preflight(
    client: Any,
    origin: str,
    method: str = "POST",
    headers: str = "Authorization, Content-Type, Idempotency-Key",
) -> Any:
    return client.options(
        "/api/v1/articles/a1/comments",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def test_preflight_from_an_allowed_origin(cors: Any, client: Any) -> None:
    r = _preflight(client, ALLOWED)
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key"} <= allowed
    assert "Access-Control-Allow-Credentials" not in r.headers
    assert "Origin" in r.headers.get("Vary", "")


def test_every_configured_header_may_be_sent(cors: Any, client: Any) -> None:
    r = _preflight(client, ALLOWED, "PATCH", ", ".join(ALLOW_HEADERS))
    allowed = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed == {h.lower() for h in ALLOW_HEADERS}


def test_actual_response_exposes_the_headers_a_client_reads(
    cors: Any, client: Any, post: Any
) -> None:
    r = post("a1", "hello", headers={"Origin": ALLOWED})
    assert r.status_code == 201
    assert r.headers["Access-Control-Allow-Origin"] == ALLOWED
    exposed = {h.strip().lower() for h in r.headers["Access-Control-Expose-Headers"].split(",")}
    assert exposed == {h.lower() for h in EXPOSE_HEADERS}


def test_a_disallowed_origin_gets_no_cors_headers(cors: Any, client: Any) -> None:
    for origin in (
        "https://evil.example",
        "https://www.example.com.evil.example",
        "http://www.example.com",
    ):
        r = _preflight(client, origin)
        assert "Access-Control-Allow-Origin" not in r.headers
        get = client.get("/api/v1/articles/a1", headers={"Origin": origin})
        assert get.status_code == 200
        assert "Access-Control-Allow-Origin" not in get.headers


def test_no_origins_configured_means_no_cors(client: Any) -> None:
    r = client.get("/api/v1/articles/a1", headers={"Origin": ALLOWED})
    assert "Access-Control-Allow-Origin" not in r.headers


def test_errors_carry_cors_headers_so_the_browser_can_read_them(cors: Any, client: Any) -> None:
    r = client.get("/api/v1/articles/a1", headers={"Origin": ALLOWED, **auth("u", secret="x" * 40)})
    assert r.status_code == 401
    assert r.headers["Access-Control-Allow-Origin"] == ALLOWED


@pytest.fixture
def cors_limited(cors: dict[str, Any]) -> dict[str, Any]:
    cors.update(RATELIMIT_ENABLED=True, COMMENTS_LIMIT_COMMENT="1/minute")
    return cors


def test_preflights_do_not_spend_rate_limits(cors_limited: Any, client: Any, post: Any) -> None:
    assert [_preflight(client, ALLOWED).status_code for _ in range(3)] == [200, 200, 200]
    assert post("a1", "the one allowed post", user=None).status_code == 201
    assert post("a1", "and a second one", user=None).status_code == 429
