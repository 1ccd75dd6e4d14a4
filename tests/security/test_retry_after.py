"""#14 item 13: Retry-After only on 429 and 503, with the number the body states."""

from __future__ import annotations

import pytest

from tests.helpers import auth
from tests.security.test_read_only_database import make_read_only_app

API = "/api/v1"


@pytest.mark.settings(RATELIMIT_ENABLED=True)
def test_successful_answers_carry_no_retry_after(client, post):
    r = post("a1", "first")
    assert r.status_code == 201 and "Retry-After" not in r.headers
    assert "X-RateLimit-Remaining" in r.headers  # the limit headers stay
    r = client.get(f"{API}/articles/a1/comments")
    assert r.status_code == 200 and "Retry-After" not in r.headers


@pytest.mark.settings(RATELIMIT_ENABLED=True, COMMENTS_LIMIT_COMMENT="1/minute")
def test_a_429_says_the_same_number_in_header_and_body(post):
    post("a1", "one")
    r = post("a1", "two")
    assert r.status_code == 429
    assert r.headers["Retry-After"] == str(r.get_json()["retry_after"])


def test_a_503_keeps_its_own_retry_after(tmp_path):
    """A read-only database (tests/security/test_read_only_database.py) under a limit:
    flask-limiter used to overwrite the 503's Retry-After with its own window."""
    app = make_read_only_app(tmp_path, RATELIMIT_ENABLED=True)
    r = app.test_client().post(
        f"{API}/articles/a1/comments", json={"body": "x"}, headers=auth("u-1")
    )
    assert r.status_code == 503
    assert r.headers["Retry-After"] == str(r.get_json()["retry_after"]) == "5"
