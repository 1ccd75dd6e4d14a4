"""The app's own limits on a request's head answer as problem+json, and stay above what the
API itself accepts (service/requestlimits.py)."""

from __future__ import annotations

from service.requestlimits import MAX_HEADERS, MAX_TARGET

THREAD = "/api/v1/articles/limits-article/comments"


def _is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.get_json()
    assert body["status"] == status and body["detail"]
    return body


def test_an_over_long_request_target_is_414_problem_json(client):
    r = client.get(THREAD + "?cursor=" + "a" * (MAX_TARGET + 1))
    body = _is_problem(r, 414)
    assert "request target" in body["detail"]
    assert r.headers.get("X-Request-ID")


def test_an_oversized_header_block_is_431_problem_json(client):
    headers = {f"X-Filler-{i}": "v" * 4000 for i in range(MAX_HEADERS // 4000 + 1)}
    body = _is_problem(client.get(THREAD, headers=headers), 431)
    assert "headers" in body["detail"]


def test_a_9000_byte_bearer_token_is_the_services_401(client):
    r = client.get(THREAD, headers={"Authorization": "Bearer " + "a" * 9000})
    _is_problem(r, 401)


def test_a_1000_character_non_ascii_cursor_is_the_services_400(client):
    # The schema allows 1,000 characters; percent-encoded 4-byte characters are 12,000 bytes.
    r = client.get(THREAD, query_string={"cursor": "😀" * 1000})
    body = _is_problem(r, 400)
    assert "cursor" in body["detail"]


def test_requests_just_under_the_limits_reach_the_view(client):
    r = client.get(THREAD, headers={"X-Filler": "v" * (MAX_HEADERS - 2000)})
    assert r.status_code == 200


def test_the_refusals_match_the_spec(client):
    from tests.openapi_check import assert_matches_spec

    template = "/api/v1/articles/{article_id}/comments"
    r = client.get(THREAD + "?cursor=" + "a" * (MAX_TARGET + 1))
    assert r.status_code == 414
    assert_matches_spec("GET", template, r)
    r = client.post(THREAD, json={"body": "x"}, headers={"X-Filler": "v" * (MAX_HEADERS + 1)})
    assert r.status_code == 431
    assert_matches_spec("POST", template, r)
