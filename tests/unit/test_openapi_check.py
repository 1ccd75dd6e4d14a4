"""The spec checker catches what it claims to: each case here is a response it must refuse."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.wrappers import Response

from tests.openapi_check import assert_matches_spec

COMMENT = "/api/v1/comments/{comment_id}"


def _comment(**changes: Any) -> dict[str, Any]:
    comment = {
        "id": 1,
        "article_id": "a1",
        "parent_id": None,
        "depth": 0,
        "author": {"id": "u-1", "name": "Ann", "is_guest": False, "is_moderator": False},
        "body": "hi",
        "body_html": "<p>hi</p>",
        "status": "published",
        "pinned": False,
        "created_at": "2026-11-28T09:15:00Z",
        "edited_at": None,
        "reactions": {},
        "my_reactions": [],
        "score": 0,
        "tickers": [],
        "disclosure": None,
        "revision_count": 0,
        "reply_count": 0,
        "replies": [],
    }
    comment.update(changes)
    return comment


def _response(
    body: Any, status: int = 200, mimetype: str = "application/json", **headers: str
) -> Response:
    base = {
        "X-Content-Type-Options": "nosniff",
        "ETag": '"abc"',
        "Cache-Control": "public, max-age=5",
        "Vary": "Authorization",
    }
    base.update({k.replace("_", "-"): v for k, v in headers.items()})
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return Response(data, status=status, mimetype=mimetype, headers=base)


def test_a_documented_response_passes() -> None:
    body = assert_matches_spec(
        "GET", COMMENT, _response(_comment(replies=[_comment(id=2, parent_id=1, depth=1)]))
    )
    assert body["id"] == 1


@pytest.mark.parametrize(
    "response",
    [
        _response(_comment(), status=418),  # undocumented status
        _response(_comment(), mimetype="text/html"),  # wrong content type
        _response(_comment(author_email="ann@example.com")),  # closed schema
        _response(_comment(replies=[_comment(id=2, ip="10.0.0.1")])),  # nested replies closed
        _response(_comment(status="deleted")),  # tombstone with a body
        _response(_comment(created_at="2026-11-28 09:15")),  # not a timestamp
        _response(_comment(), ETag=""),  # bad header value
        _response(
            {"type": "x", "title": "t", "status": 404, "detail": "d"},
            status=404,
            mimetype="application/problem+json",
        ),  # problem type not a URI
        _response(
            {
                "type": "https://comments.example/problems/not-found",
                "title": "Not Found",
                "status": 400,
                "detail": "d",
            },
            status=404,
            mimetype="application/problem+json",
        ),  # status disagrees
    ],
    ids=[
        "status",
        "content-type",
        "extra-field",
        "nested-extra",
        "tombstone",
        "timestamp",
        "etag",
        "problem-type",
        "problem-status",
    ],
)
def test_an_undocumented_response_fails(response: Response) -> None:
    with pytest.raises(AssertionError):
        assert_matches_spec("GET", COMMENT, response)


def test_required_headers_and_empty_bodies_are_checked() -> None:
    created = _comment()
    missing_location = _response(created, status=201)
    with pytest.raises(AssertionError, match="Location"):
        assert_matches_spec("POST", "/api/v1/articles/{article_id}/comments", missing_location)
    with pytest.raises(AssertionError, match="without a body"):
        assert_matches_spec("DELETE", COMMENT, _response("oops", status=204))
    with pytest.raises(AssertionError, match="nosniff"):
        assert_matches_spec("GET", COMMENT, _response(_comment(), X_Content_Type_Options=""))


def test_a_method_the_path_lacks_must_be_405_with_the_documented_allow() -> None:
    problem = {
        "type": "https://comments.example/problems/method-not-allowed",
        "title": "Method Not Allowed",
        "status": 405,
        "detail": "No.",
    }
    ok = _response(
        problem, status=405, mimetype="application/problem+json", Allow="GET, HEAD, OPTIONS"
    )
    assert_matches_spec("POST", "/api/v1/config", ok)
    wrong_allow = _response(
        problem, status=405, mimetype="application/problem+json", Allow="GET, POST, HEAD, OPTIONS"
    )
    with pytest.raises(AssertionError, match="Allow"):
        assert_matches_spec("POST", "/api/v1/config", wrong_allow)
    with pytest.raises(AssertionError, match="not in openapi.yaml"):
        assert_matches_spec("GET", "/api/v1/nowhere", ok)
