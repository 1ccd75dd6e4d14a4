"""Bugs the contract fuzzer found, each pinned by a plain test."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import MODERATOR, auth

ADMIN = auth("root", roles=["admin"], name="Root")  # erasure is admin-only (#14 item 19)

TOO_LARGE = 2**31  # one past the largest comment id a route accepts


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_a_comment_id_out_of_range_is_404_whatever_the_method(client: Any, method: str) -> None:
    # Werkzeug used to answer 405 for PATCH/DELETE: the GET rule matched the path's shape
    # before the int(max=...) converter refused the value.
    r = client.open(
        f"/api/v1/comments/{TOO_LARGE}", method=method, json={"body": "x"}, headers=auth("u-1")
    )
    assert r.status_code == 404
    assert r.content_type == "application/problem+json"
    assert "Allow" not in r.headers


def test_a_real_405_still_names_the_methods_that_exist(client: Any) -> None:
    r = client.post("/api/v1/comments/1", json={"body": "x"})
    assert r.status_code == 405
    assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "PATCH", "DELETE"}


def test_a_user_id_too_long_for_the_route_is_404_on_every_method(client: Any) -> None:
    long_id = "u" * 201
    for method in ("PUT", "DELETE"):
        r = client.open(
            f"/api/v1/admin/bans/{long_id}",
            method=method,
            json={"reason": "x", "shadow": False},
            headers=auth("m", **MODERATOR),
        )
        assert r.status_code == 404, method


@pytest.mark.parametrize("reason", ["r" * 501, "nul\x00byte"])
def test_erasure_refuses_a_reason_it_cannot_keep(client: Any, post: Any, reason: str) -> None:
    assert post("a-1", "mine", user="u-9").status_code == 201
    r = client.delete("/api/v1/admin/users/u-9", query_string={"reason": reason}, headers=ADMIN)
    assert r.status_code == 422
    assert r.json["errors"].keys() == {"reason"}
    assert client.get("/api/v1/articles/a-1").json["comment_count"] == 1  # nothing erased


def test_erasure_keeps_a_reason_of_500_characters(client: Any, post: Any) -> None:
    assert post("a-1", "mine", user="u-9").status_code == 201
    r = client.delete(
        "/api/v1/admin/users/u-9",
        query_string={"reason": "r" * 500},
        headers=ADMIN,
    )
    assert r.status_code == 200
    log = client.get("/api/v1/admin/audit-log?action=erase_user", headers=auth("m", **MODERATOR))
    assert log.json["items"][0]["reason"] == "r" * 500


def test_recount_agrees_that_a_shadow_banned_users_flag_counts_for_nothing(
    app: Any, client: Any, post: Any
) -> None:
    # Found by the state machine: the service stores such a flag with weight 0 and leaves
    # flag_count alone, but recount counted it, so a check reported drift and a repair
    # would have raised flag_count.
    from service.domain.data import recount
    from service.extensions import db

    mod = auth("m", **MODERATOR)
    assert (
        client.put(
            "/api/v1/admin/bans/u-shadow", json={"reason": "x", "shadow": True}, headers=mod
        ).status_code
        == 201
    )
    comment = post("a-1", "target", user="u-2").json["id"]
    assert (
        client.post(
            f"/api/v1/comments/{comment}/flags", json={"reason": "spam"}, headers=auth("u-shadow")
        ).status_code
        == 201
    )
    with app.app_context():
        assert recount(db.session, fix=False)["comments.flag_count"] == 0


# --- found by `schemathesis run --checks all` against a live server (docs/reliability.md) ---


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_an_anonymous_edit_is_401_whether_or_not_the_comment_exists(
    client: Any, post: Any, method: str
) -> None:
    """ignored_auth: an unknown comment answered 404 to a caller with no credentials at
    all, though the operation needs them; a known one answered 401."""
    known = post("a1", "known").get_json()["id"]
    for comment_id in (known, 987654):
        r = client.open(f"/api/v1/comments/{comment_id}", method=method, json={"body": "x"})
        assert r.status_code == 401, (comment_id, r.get_json())
        assert r.headers["WWW-Authenticate"] == "Bearer"
    # With an edit token there is something to check: an unknown comment stays a 404.
    r = client.open(
        "/api/v1/comments/987654", method=method, json={"body": "x"}, headers={"X-Edit-Token": "t"}
    )
    assert r.status_code == 404


def _spec() -> Any:
    from pathlib import Path

    import yaml

    return yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())


def test_the_served_openapi_document_matches_its_declared_schema(client: Any) -> None:
    """response_schema_conformance: /openapi.yaml declared `type: string`, but a client
    reads an application/yaml body as the document it is (a mapping)."""
    import jsonschema
    import yaml

    declared = _spec()["paths"]["/openapi.yaml"]["get"]["responses"]["200"]["content"][
        "application/yaml"
    ]["schema"]
    jsonschema.validate(yaml.safe_load(client.get("/openapi.yaml").data), declared)


def test_the_preview_schema_refuses_the_empty_bodies_the_service_refuses(client: Any) -> None:
    """positive_data_acceptance: `{"body": ""}` was schema-valid and answered 422."""
    import jsonschema

    schema = _spec()["paths"]["/api/v1/preview"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    for body in ("", "   ", "\n\t"):
        assert client.post("/api/v1/preview", json={"body": body}).status_code == 422
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"body": body}, schema)
    jsonschema.validate({"body": " **x** "}, schema)
    assert client.post("/api/v1/preview", json={"body": " **x** "}).status_code == 200


# --- found by `make fuzz` (tests/reliability/fuzz_live.py, every check, both databases) ---


def test_an_integer_written_with_a_zero_fraction_is_an_integer(client: Any, post: Any) -> None:
    """positive_data_acceptance: `{"up_to": 2147483647.0}` is an integer to JSON Schema
    (and so to openapi.yaml) but was 422 "Not a valid integer"; the same held for
    parent_id, ids and slow_mode_seconds. A fraction, a string or a boolean stays 422."""
    reader = auth("u-int", name="Int")
    parent = post("a-int", "parent").get_json()["id"]
    r = client.post(
        "/api/v1/articles/a-int/comments",
        json={"body": "reply", "parent_id": float(parent)},
        headers=reader,
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["parent_id"] == parent
    for payload in ({"up_to": 2147483647.0}, {"ids": [1.0, 2]}):
        assert (
            client.post("/api/v1/me/notifications/read", json=payload, headers=reader).status_code
            == 200
        )
    for bad in (1.5, "1", True):
        r = client.post("/api/v1/me/notifications/read", json={"up_to": bad}, headers=reader)
        assert r.status_code == 422, bad
    r = client.patch(
        "/api/v1/admin/articles/a-int", json={"slow_mode_seconds": 30.0}, headers=ADMIN
    )
    assert r.status_code == 200 and r.get_json()["slow_mode_seconds"] == 30
    r = client.patch(
        "/api/v1/admin/articles/a-int", json={"slow_mode_seconds": 30.5}, headers=ADMIN
    )
    assert r.status_code == 422


def test_a_ticker_symbol_is_what_the_spec_pattern_says(client: Any) -> None:
    """positive_data_acceptance: `/tickers/{symbol}` declared any 1-40 characters. The spec
    now states the rule; the service agreed with it except for non-ASCII letters that
    upper-case to A-Z ("baı" → "BAI", "ﬀ" → "FF"), which it now refuses too."""
    import re

    schema = _spec()["components"]["parameters"]["Symbol"]["schema"]
    pattern = re.compile(schema["pattern"])
    for symbol in (
        "BABA",
        "baba",
        "BRK.B",
        "9988.HK",
        " AAPL ",
        "0000",
        "A" * 7,
        "ba\u0131",
        "\ufb00",
        "BABA.",
        "$BABA",
        "BR\u212a",
    ):
        expected = 200 if pattern.search(symbol) else 422
        assert client.get(f"/api/v1/tickers/{symbol}").status_code == expected, symbol


@pytest.mark.settings(COMMENTS_REACTION_KINDS=("up", "down", "true"))
def test_the_served_openapi_document_lists_the_configured_reaction_kinds(client: Any) -> None:
    """openapi.yaml's `kind` enum is the default set; a deployment with other kinds serves
    its own, so a client (or schemathesis reading /openapi.yaml) sees what is accepted."""
    import yaml

    served = yaml.safe_load(client.get("/openapi.yaml").data)
    assert served["components"]["parameters"]["ReactionKind"]["schema"]["enum"] == [
        "up",
        "down",
        "true",
    ]
    assert _spec()["components"]["parameters"]["ReactionKind"]["schema"]["enum"] == [
        "like",
        "dislike",
        "insightful",
        "funny",
        "agree",
        "disagree",
    ]


def test_the_spec_refuses_what_the_service_refuses_in_admin_requests(client: Any) -> None:
    """positive_data_acceptance: a PATCH of an article with only `reason`, audit-log
    filters with control characters, webhook URLs that are not http(s) URLs, and a
    date outside 2000-9000 were schema-valid and 422. Now the schemas refuse them too."""
    import jsonschema

    schemas = _spec()["components"]["schemas"]
    patch = schemas["ArticleModerationPatch"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"reason": "x"}, patch)
    jsonschema.validate({"reason": "x", "status": "open"}, patch)
    assert (
        client.patch("/api/v1/admin/articles/a", json={"reason": "x"}, headers=ADMIN).status_code
        == 422
    )
    for when in ("1999-12-31T00:00:00Z", "9001-01-01T00:00:00Z"):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"slow_mode_until": when}, patch)
        r = client.patch("/api/v1/admin/articles/a", json={"slow_mode_until": when}, headers=ADMIN)
        assert r.status_code == 422

    from service.delivery.ssrf import Refused, parse

    url = schemas["WebhookUrl"]
    for bad in (
        "0",
        "ftp://x.example/",
        "http://u:p@x.example/",
        "http://x.example/#f",
        "http://x .example/",
        "https://",
        "http://x.example:99999/",
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, url)
        with pytest.raises(Refused):
            parse(bad)
    for good in (
        "https://news.example/hooks/comments",
        "HTTP://1.2.3.4:8080/a?b=c",
        "http://[2606:4700::1]:65535/",
        "https://x.example:/",
    ):
        jsonschema.validate(good, url)
        parse(good)

    audit = _spec()["paths"]["/api/v1/admin/audit-log"]["get"]["parameters"]
    target = next(p for p in audit if p.get("name") == "target_id")["schema"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate("a\x04b", target)
    assert client.get("/api/v1/admin/audit-log?target_id=a%04b", headers=ADMIN).status_code == 422
    jsonschema.validate("a\u0098b", target)
    assert (
        client.get("/api/v1/admin/audit-log?target_id=a%C2%98b", headers=ADMIN).status_code == 200
    )


def test_the_spec_refuses_the_free_text_the_service_refuses(client: Any, post: Any) -> None:
    """The 422s of the last session's run (a NUL in a reason or note, a ban reason of
    spaces) are now schema-invalid too, so schemathesis no longer sends them as valid."""
    import jsonschema

    schemas = _spec()["components"]["schemas"]
    comment = post("a-text", "text").get_json()["id"]
    ban = schemas["BanRequest"]
    for reason in ("   ", "a\x00"):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"reason": reason}, ban)
        r = client.put("/api/v1/admin/bans/u-x", json={"reason": reason}, headers=ADMIN)
        assert r.status_code == 422, reason
    jsonschema.validate({"reason": " spam "}, ban)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate("a\x00", schemas["FlagRequest"]["properties"]["note"])
    r = client.post(
        f"/api/v1/comments/{comment}/flags",
        json={"reason": "spam", "note": "a\x00"},
        headers=auth("u-flagger"),
    )
    assert r.status_code == 422
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate("a\x00", schemas["ModerationActionRequest"]["properties"]["reason"])
    r = client.post(
        f"/api/v1/admin/comments/{comment}/actions",
        json={"action": "pin", "reason": "a\x00"},
        headers=ADMIN,
    )
    assert r.status_code == 422


def test_the_spec_refuses_a_body_with_nul_as_the_service_does(client: Any, post: Any) -> None:
    """positive_data_acceptance (a 40-example run): `POST /preview` with a NUL in the body
    was schema-valid and 422; the same rule holds for posting and editing."""
    import jsonschema

    spec = _spec()
    preview = spec["paths"]["/api/v1/preview"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["properties"]["body"]
    schemas = spec["components"]["schemas"]
    bodies = [preview] + [schemas[n]["properties"]["body"] for n in ("NewComment", "EditComment")]
    for body in ("a\x00b", "\x00", "   "):
        for schema in bodies:
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(body, schema)
        assert client.post("/api/v1/preview", json={"body": body}).status_code == 422
        assert post("a-nul", body).status_code == 422
    for schema in bodies:
        jsonschema.validate(" x ", schema)


def test_the_spec_refuses_the_article_ids_dot_and_dot_dot(client: Any) -> None:
    """positive_data_acceptance (a 40-example run): `GET /counts?article_id=.` matched the
    article id pattern and was 422 (`.` and `..` are path segments, #14 item 19)."""
    import jsonschema

    spec = _spec()
    schema = {**spec["components"]["schemas"]["ArticleIdString"]}
    queue = spec["paths"]["/api/v1/admin/queue"]["get"]["parameters"]
    assert next(p for p in queue if p.get("name") == "article_id")["schema"] == {
        "$ref": "#/components/schemas/ArticleIdString"
    }
    for article_id in (".", ".."):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(article_id, schema)
        r = client.get("/api/v1/counts", query_string={"article_id": article_id})
        assert r.status_code == 422
        r = client.get(
            "/api/v1/admin/queue", query_string={"article_id": article_id}, headers=ADMIN
        )
        assert r.status_code == 422
    jsonschema.validate("...", schema)
    assert client.get("/api/v1/counts", query_string={"article_id": "..."}).status_code == 200
