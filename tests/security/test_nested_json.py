"""#14 item 10: deeply nested JSON is a 400 problem, not a RecursionError 500."""

from __future__ import annotations

import pytest

from tests.helpers import MODERATOR, auth


@pytest.mark.parametrize("depth", [1_000, 10_000])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/articles/a1/comments"),
        ("PUT", "/api/v1/admin/bans/u-1"),
        ("POST", "/api/v1/comments/1/flags"),
    ],
)
def test_deeply_nested_json_is_400(client, post, method, path, depth):
    post("a1", "x")
    body = "[" * depth + "]" * depth
    headers = {"Content-Type": "application/json", **auth(**MODERATOR)}
    r = client.open(path, method=method, data=body, headers=headers)
    assert r.status_code == 400, r.status_code
    assert r.mimetype == "application/problem+json"
    nested = '{"body": ' + "[" * depth + "]" * depth + "}"
    r = client.open(path, method=method, data=nested, headers=headers)
    assert r.status_code == 400
