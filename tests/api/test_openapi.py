"""openapi.yaml is valid, matches the routes and the contract, and real responses match it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from sqlalchemy import update
from werkzeug.routing import IntegerConverter

from service import create_app
from service.domain import threads
from service.domain.readers import unsubscribe_token
from service.enums import ArticleStatus, Sort
from service.extensions import db
from service.models import Article, Ban, Comment
from tests.helpers import MODERATOR, auth, reconfigure
from tests.openapi_check import (
    SPEC_PATH,
    assert_matches_spec,
    operations,
    schema_validator,
    spec,
)

# In CI the contract sits next to the project: ../shared/api-contract.md.
CONTRACT = Path(__file__).resolve().parents[2].parent / "shared" / "api-contract.md"

ARTICLE = "/api/v1/articles/{article_id}"
EVENTS = "/api/v1/articles/{article_id}/events"
THREAD = "/api/v1/articles/{article_id}/comments"
ARTICLE_REACTION = "/api/v1/articles/{article_id}/reactions/{kind}"
COMMENT = "/api/v1/comments/{comment_id}"
REPLIES = "/api/v1/comments/{comment_id}/replies"
CONTEXT = "/api/v1/comments/{comment_id}/context"
COMMENT_REACTION = "/api/v1/comments/{comment_id}/reactions/{kind}"
COUNTS = "/api/v1/counts"
CONFIG = "/api/v1/config"
FLAGS = "/api/v1/comments/{comment_id}/flags"
ADMIN = "/api/v1/admin"
ACTIONS = ADMIN + "/comments/{comment_id}/actions"
ADMIN_ARTICLE = ADMIN + "/articles/{article_id}"
BAN = ADMIN + "/bans/{user_id}"
USER = ADMIN + "/users/{user_id}"


# --- the document ---------------------------------------------------------------------------


def test_spec_is_valid_openapi_3_1() -> None:
    validate(spec())
    assert spec()["openapi"].startswith("3.1.")


def test_shared_component_names_are_defined() -> None:
    """Other branches' fragments $ref these names (see the team's shared-names note)."""
    components = spec()["components"]
    expected = {
        "schemas": {"Comment", "Author", "Article", "ReactionState", "Problem"},
        "responses": {
            "BadRequest",
            "Unauthorized",
            "Forbidden",
            "NotFound",
            "Conflict",
            "PayloadTooLarge",
            "UnsupportedMediaType",
            "ValidationFailed",
            "TooManyRequests",
            "ServiceUnavailable",
        },
        "parameters": {"ArticleId", "CommentId", "Limit", "Cursor"},
        "securitySchemes": {"bearerAuth"},
    }
    for section, names in expected.items():
        assert names <= set(components[section]), (section, names - set(components[section]))


def test_openapi_yaml_is_served(client: Any) -> None:
    r = client.get("/openapi.yaml")
    assert_matches_spec("GET", "/openapi.yaml", r)
    assert r.data == SPEC_PATH.read_bytes()


# --- routes versus the document -------------------------------------------------------------


def _template(rule: str) -> str:
    """Werkzeug's '<int(max=2147483647):comment_id>' -> OpenAPI's '{comment_id}'."""
    return re.sub(r"<(?:[A-Za-z_]\w*(?:\([^)]*\))?:)?([A-Za-z_]\w*)>", r"{\1}", rule)


def _routes(app: Any) -> set[tuple[str, str]]:
    return {
        (method, _template(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }


def test_template_conversion() -> None:
    assert _template("/c/<int(max=2147483647):comment_id>/r/<string(maxlength=32):kind>") == (
        "/c/{comment_id}/r/{kind}"
    )
    assert _template("/a/<article_id>") == "/a/{article_id}"


def test_every_route_is_documented(app: Any) -> None:
    undocumented = _routes(app) - set(operations())
    assert not undocumented, f"routes missing from openapi.yaml: {sorted(undocumented)}"


def test_every_documented_operation_is_routed(app: Any) -> None:
    unrouted = set(operations()) - _routes(app)
    assert not unrouted, f"openapi.yaml describes operations nobody serves: {sorted(unrouted)}"


def test_integer_path_parameters_have_the_routes_bounds(app: Any) -> None:
    checked = 0
    for rule in app.url_map.iter_rules():
        path = _template(rule.rule)
        if path not in spec()["paths"]:
            continue
        for name, converter in rule._converters.items():
            # service.converters.AsciiIntegerConverter is one (ASCII digits only).
            if not isinstance(converter, IntegerConverter):
                continue
            param = next(p for p in _path_parameters(path) if p["name"] == name)
            assert param["schema"].get("maximum") == converter.max, (path, name)
            checked += 1
    assert checked, "no integer path parameter found: the route table changed shape"


def _path_parameters(path: str) -> list[dict[str, Any]]:
    out = []
    for param in spec()["paths"][path].get("parameters", []):
        if "$ref" in param:
            param = spec()["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
        out.append(param)
    return out


# --- the contract versus the document -------------------------------------------------------

_ENDPOINT = re.compile(r"((?:`[A-Z]+`/)*)`([A-Z]+) (/[^`\s]*)`")


def _contract_endpoints() -> list[tuple[str, str]]:
    """Every `METHOD /path` of the contract's endpoint tables and operational endpoints."""
    try:
        text = CONTRACT.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [("ABSENT", str(CONTRACT))]
    found: list[tuple[str, str]] = []
    for section in re.split(r"^## ", text, flags=re.MULTILINE):
        heading = section.split("\n", 1)[0]
        if "Operational endpoints" in heading:
            prefix, chunks = "", [section]
        elif "endpoints" in heading:
            # Only the first cell of each table row names endpoints.
            prefix = "/api/v1"
            chunks = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
        else:
            continue
        for chunk in chunks:
            for extra, method, path in _ENDPOINT.findall(chunk):
                methods = re.findall(r"`([A-Z]+)`", extra) + [method]
                for m in methods:
                    found.append((m, prefix + path.split("?", 1)[0]))
    return list(dict.fromkeys(found)) or [("MISSING", f"no endpoints found in {CONTRACT}")]


@pytest.mark.parametrize(("method", "path"), _contract_endpoints(), ids=lambda value: str(value))
def test_contract_endpoint_is_documented(method: str, path: str) -> None:
    if method == "ABSENT":
        # A checkout without ../shared (a fork, a worktree elsewhere) cannot compare against
        # the contract; CI keeps shared/ beside the clone, so there the check always runs.
        pytest.skip(f"the HTTP contract is not beside this checkout ({path}); nothing to compare")
    if method == "MISSING":
        pytest.fail(f"the HTTP contract is not readable: {path}")
    assert method.lower() in spec()["paths"].get(path, {}), (
        f"{method} {path} is in the contract but not in openapi.yaml"
    )


# --- real responses versus the document -----------------------------------------------------


class Walk:
    """Sends requests, checks each against the spec, and remembers what was exercised."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.seen: set[tuple[str, str, int]] = set()

    def __call__(
        self, method: str, template: str, expect: int, *, query: Any = None, **kwargs: Any
    ) -> tuple[Any, Any]:
        params = {
            k: kwargs.pop(k)
            for k in (
                "article_id",
                "comment_id",
                "kind",
                "user_id",
                "lang",
                "name",
                "symbol",
                "endpoint_id",
            )
            if k in kwargs
        }
        path = template.format(**params)
        r = self.client.open(path, method=method, query_string=query, **kwargs)
        assert r.status_code == expect, (
            method,
            path,
            query,
            r.status_code,
            r.get_data(as_text=True)[:500],
        )
        body = assert_matches_spec(method, template, r)
        r.close()  # file responses (the widget's script) hold their file open until closed
        self.seen.add((method, template, r.status_code))
        return r, body


def _age(app: Any, comment_id: int, seconds: int) -> None:
    with app.app_context():
        db.session.execute(
            update(Comment)
            .where(Comment.id == comment_id)
            .values(created_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=seconds))
        )
        db.session.commit()


def _ban(app: Any, user_id: str) -> None:
    with app.app_context():
        db.session.add(Ban(user_id=user_id, created_by="m-1", reason="test", shadow=False))
        db.session.commit()


def _close(app: Any, article_id: str) -> None:
    with app.app_context():
        db.session.execute(
            update(Article).where(Article.id == article_id).values(status=ArticleStatus.CLOSED)
        )
        db.session.commit()


def _api_key(app: Any) -> str:
    out = app.test_cli_runner().invoke(args=["create-api-key", "--name", "walker"])
    return str(out.output.strip().split()[-1])


def test_walk_through_every_operation(app: Any, client: Any) -> None:
    w = Walk(client)
    ann, bob, mod = auth("u-1", name="Ann"), auth("u-2", name="Bob"), auth("m-1", **MODERATOR)
    bad = {"Authorization": "Bearer not-a-token"}
    banned = auth("u-banned", name="Banned")
    _ban(app, "u-banned")

    # Operational endpoints.
    w("GET", "/healthz", 200)
    w("GET", "/readyz", 200)
    w("GET", "/metrics", 200)
    w("GET", "/embed/comments.js", 200)
    w("GET", "/embed/comments.css", 200)
    w("GET", "/embed/count.js", 200)
    w("GET", "/embed/i18n/{lang}.js", 200, lang="de")
    w("GET", "/embed/i18n/{lang}.js", 404, lang="xx")
    r, _ = w("GET", "/admin", 200)  # the moderator console: served whatever the mode
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    r, _ = w("GET", "/admin/console.js", 200)
    w("GET", "/admin/console.js", 304, headers={"If-None-Match": r.headers["ETag"]})
    w("GET", "/admin/console.css", 200)
    w("GET", "/", 404)  # demo mode is off here; see test_demo_pages_match_the_spec
    w("GET", "/demo", 404)
    w("POST", "/demo/token", 404, json={"persona": "reader-a"})
    w("GET", "/openapi.yaml", 200)
    r, _ = w("GET", "/docs", 200)  # API docs: on by default outside production
    assert "script-src 'self';" in r.headers["Content-Security-Policy"]
    r, _ = w("GET", "/docs/apidocs.js", 200)
    w("GET", "/docs/apidocs.js", 304, headers={"If-None-Match": r.headers["ETag"]})
    for name in ("swagger-ui.css", "swagger-ui-bundle.js"):
        w("GET", "/docs/swagger-ui/{name}", 200, name=name)
    # Not on the list, though the package has it (its inline script would break the CSP).
    w("GET", "/docs/swagger-ui/{name}", 404, name="index.html")
    w("POST", "/healthz", 405)

    # A draft's preview.
    _, preview = w("POST", "/api/v1/preview", 200, json={"body": "See https://example.com"})
    assert preview["links"] == 1
    w("POST", "/api/v1/preview", 422, json={"body": " "})
    w("POST", "/api/v1/preview", 400, data="{", content_type="application/json")
    w("POST", "/api/v1/preview", 415, data="x")
    w("POST", "/api/v1/preview", 401, json={"body": "x"}, headers=bad)

    # Client configuration, and HTTP caching of a GET.
    r, config = w("GET", CONFIG, 200)
    assert r.headers["Cache-Control"] == "public, max-age=5"
    assert config["reaction_kinds"] == app.config["COMMENTS_REACTION_KINDS"]
    w("GET", CONFIG, 304, headers={"If-None-Match": r.headers["ETag"]})
    r, _ = w("GET", CONFIG, 200, headers=ann)
    assert r.headers["Cache-Control"] == "private, no-cache"
    w("GET", CONFIG, 401, headers=bad)
    w("DELETE", CONFIG, 405)

    # An article nobody wrote to reads as open and empty.
    r, article = w("GET", ARTICLE, 200, article_id="a1")
    assert article == {
        "id": "a1",
        "status": "open",
        "comment_count": 0,
        "reactions": {},
        "my_reactions": [],
        # surge mode (issue #18): nothing in force
        "slow_mode_seconds": 0,
        "slow_mode_until": None,
        "premoderation_until": None,
    }
    w("GET", ARTICLE, 304, article_id="a1", headers={"If-None-Match": r.headers["ETag"]})
    w("GET", ARTICLE, 422, article_id="bad%20id")
    w("GET", ARTICLE, 422, article_id="x" * 201)
    w("GET", ARTICLE, 401, article_id="a1", headers=bad)
    w("POST", ARTICLE, 405, article_id="a1")
    _, page = w("GET", THREAD, 200, article_id="a1")
    assert page == {"items": [], "next_cursor": None, "total": 0}
    # The live event stream (issue 16): served as plain WSGI here, so it answers once.
    r, _ = w("GET", EVENTS, 200, article_id="a1")
    assert r.get_data() == b"retry: 3000\n\nid: 0\n\n"
    w("GET", EVENTS, 422, article_id="bad%20id")
    w("GET", EVENTS, 401, article_id="a1", headers=bad)

    # Posting: users, guests, replies, Idempotency-Key.
    r, first = w("POST", THREAD, 201, article_id="a1", json={"body": "first **post**"}, headers=ann)
    assert r.headers["Location"] == f"/api/v1/comments/{first['id']}"
    assert "Idempotent-Replayed" not in r.headers and "edit_token" not in first
    _, replayed = w("GET", EVENTS, 200, article_id="a1", headers={"Last-Event-ID": "0"})
    assert [e["event"] for e in replayed] == ["comment.created", "article"]
    _, guest = w(
        "POST", THREAD, 201, article_id="a1", json={"body": "a guest's words", "author_name": "Gus"}
    )
    token = guest["edit_token"]
    assert guest["author"] == {"id": None, "name": "Gus", "is_guest": True, "is_moderator": False}
    keyed = {**bob, "Idempotency-Key": "retry-1"}
    r, bobs = w("POST", THREAD, 201, article_id="a1", json={"body": "from Bob"}, headers=keyed)
    assert "Idempotent-Replayed" not in r.headers
    r, again = w("POST", THREAD, 201, article_id="a1", json={"body": "from Bob"}, headers=keyed)
    assert r.headers["Idempotent-Replayed"] == "true" and again["id"] == bobs["id"]
    w("POST", THREAD, 422, article_id="a1", json={"body": "other"}, headers=keyed)
    w(
        "POST",
        THREAD,
        422,
        article_id="a1",
        json={"body": "x"},
        headers={**bob, "Idempotency-Key": "k" * 201},
    )
    _, reply = w(
        "POST",
        THREAD,
        201,
        article_id="a1",
        json={"body": "a reply", "parent_id": first["id"]},
        headers=bob,
    )
    assert (reply["parent_id"], reply["depth"]) == (first["id"], 1)
    _, reply2 = w(
        "POST",
        THREAD,
        201,
        article_id="a1",
        json={"body": "a reply to the reply", "parent_id": reply["id"]},
        headers=ann,
    )
    # What posting refuses.
    w(
        "POST",
        THREAD,
        400,
        article_id="a1",
        data="{not json",
        content_type="application/json",
        headers=ann,
    )
    w("POST", THREAD, 415, article_id="a1", data="body=hi", content_type="text/plain", headers=ann)
    w(
        "POST",
        THREAD,
        413,
        article_id="a1",
        data='{"body": "' + "x" * 70_000 + '"}',
        content_type="application/json",
        headers=ann,
    )
    w("POST", THREAD, 422, article_id="a1", json={"body": "x", "parentId": 1}, headers=ann)
    w("POST", THREAD, 422, article_id="a1", json={"body": "   "}, headers=ann)
    w("POST", THREAD, 422, article_id="a1", json=["body"], headers=ann)
    w("POST", THREAD, 422, article_id="a1", json={"body": "x", "parent_id": 999_999}, headers=ann)
    w("POST", THREAD, 422, article_id="a1", json={"body": "no name"})
    w("POST", THREAD, 422, article_id="bad%20id", json={"body": "x"}, headers=ann)
    w("POST", THREAD, 401, article_id="a1", json={"body": "x"}, headers=bad)
    reconfigure(app, COMMENTS_ALLOW_GUESTS=False)
    w("POST", THREAD, 401, article_id="a1", json={"body": "x", "author_name": "Gus"})
    reconfigure(app, COMMENTS_ALLOW_GUESTS=True)
    w("POST", THREAD, 403, article_id="a1", json={"body": "x"}, headers=banned)
    _, duplicate = w(
        "POST", THREAD, 409, article_id="a1", json={"body": "first **post**"}, headers=ann
    )
    assert duplicate["comment_id"] == first["id"]
    w("POST", THREAD, 201, article_id="closing", json={"body": "last words"}, headers=ann)
    _close(app, "closing")
    w("POST", THREAD, 409, article_id="closing", json={"body": "too late"}, headers=bob)

    # The thread: paging, cursors, sorts, caching.
    r, page = w("GET", THREAD, 200, article_id="a1", query={"limit": 1})
    assert page["total"] == 5 and len(page["items"]) == 1 and page["next_cursor"]
    cursor = page["next_cursor"]
    _, page2 = w("GET", THREAD, 200, article_id="a1", query={"limit": 1, "cursor": cursor})
    assert page2["items"][0]["id"] != page["items"][0]["id"]
    w(
        "GET",
        THREAD,
        304,
        article_id="a1",
        query={"limit": 1},
        headers={"If-None-Match": r.headers["ETag"]},
    )
    w("GET", THREAD, 400, article_id="a1", query={"limit": 1, "cursor": cursor + "x"})
    w("GET", THREAD, 400, article_id="a1", query={"sort": "top", "cursor": cursor})
    w("GET", THREAD, 422, article_id="a1", query={"sort": "loudest"})
    w("GET", THREAD, 422, article_id="a1", query={"limit": 0})
    w("GET", THREAD, 422, article_id="a1", query={"limit": 101})
    w("GET", THREAD, 422, article_id="a1", query={"colour": "red"})
    w("GET", THREAD, 422, article_id="a1", query="limit=1&limit=2")
    w("GET", THREAD, 422, article_id="bad%20id")
    w("GET", THREAD, 401, article_id="a1", headers=bad)
    for sort in Sort:
        w("GET", THREAD, 200, article_id="a1", query={"sort": sort.value})
    r, _ = w("GET", THREAD, 200, article_id="a1", headers=ann)
    assert r.headers["Cache-Control"] == "private, no-cache"
    w("PUT", THREAD, 405, article_id="a1")

    # One comment and its replies.
    r, one = w("GET", COMMENT, 200, comment_id=first["id"])
    assert [c["id"] for c in one["replies"]] == [reply["id"]]
    assert [c["id"] for c in one["replies"][0]["replies"]] == [reply2["id"]]
    w("GET", COMMENT, 304, comment_id=first["id"], headers={"If-None-Match": r.headers["ETag"]})
    w("GET", COMMENT, 404, comment_id=999_999)
    w("GET", COMMENT, 404, comment_id=2**31)
    w("GET", COMMENT, 401, comment_id=first["id"], headers=bad)
    r, replies = w("GET", REPLIES, 200, comment_id=first["id"], query={"limit": 1})
    assert [c["id"] for c in replies["items"]] == [reply["id"]] and replies["next_cursor"]
    _, more = w(
        "GET",
        REPLIES,
        200,
        comment_id=first["id"],
        query={"limit": 1, "cursor": replies["next_cursor"]},
    )
    assert [c["id"] for c in more["items"]] == [reply2["id"]]
    w(
        "GET",
        REPLIES,
        304,
        comment_id=first["id"],
        query={"limit": 1},
        headers={"If-None-Match": r.headers["ETag"]},
    )
    w("GET", REPLIES, 400, comment_id=first["id"], query={"cursor": cursor})
    w("GET", REPLIES, 422, comment_id=first["id"], query={"limit": 101})
    w("GET", REPLIES, 422, comment_id=first["id"], query={"sort": "top"})
    w("GET", REPLIES, 404, comment_id=999_999)
    w("GET", REPLIES, 401, comment_id=first["id"], headers=bad)
    w("POST", REPLIES, 405, comment_id=first["id"])
    _, context = w("GET", CONTEXT, 200, comment_id=reply2["id"])
    assert (context["target_id"], context["root"]["id"]) == (reply2["id"], first["id"])
    w("GET", CONTEXT, 404, comment_id=999_999)

    # Editing.
    _, edited = w(
        "PATCH",
        COMMENT,
        200,
        comment_id=first["id"],
        json={"body": "first post, edited"},
        headers=ann,
    )
    assert edited["edited_at"] is not None and edited["body"] == "first post, edited"
    w(
        "PATCH",
        COMMENT,
        200,
        comment_id=guest["id"],
        json={"body": "guest, edited"},
        headers={"X-Edit-Token": token},
    )
    w(
        "PATCH",
        COMMENT,
        403,
        comment_id=guest["id"],
        json={"body": "hijack"},
        headers={"X-Edit-Token": "not-the-token"},
    )
    w("PATCH", COMMENT, 401, comment_id=first["id"], json={"body": "who am I"})
    w("PATCH", COMMENT, 401, comment_id=first["id"], json={"body": "x"}, headers=bad)
    w("PATCH", COMMENT, 403, comment_id=first["id"], json={"body": "not mine"}, headers=bob)
    w(
        "PATCH",
        COMMENT,
        415,
        comment_id=first["id"],
        data="x",
        content_type="text/plain",
        headers=ann,
    )
    w(
        "PATCH",
        COMMENT,
        400,
        comment_id=first["id"],
        data="{",
        content_type="application/json",
        headers=ann,
    )
    w(
        "PATCH",
        COMMENT,
        413,
        comment_id=first["id"],
        data='{"body": "' + "y" * 70_000 + '"}',
        content_type="application/json",
        headers=ann,
    )
    w(
        "PATCH",
        COMMENT,
        422,
        comment_id=first["id"],
        json={"body": "x", "pinned": True},
        headers=ann,
    )
    w("PATCH", COMMENT, 422, comment_id=first["id"], json={"body": ""}, headers=ann)
    w("PATCH", COMMENT, 404, comment_id=999_999, json={"body": "x"}, headers=ann)
    _age(app, reply2["id"], app.config["COMMENTS_EDIT_WINDOW_SECONDS"] + 60)
    w("PATCH", COMMENT, 403, comment_id=reply2["id"], json={"body": "too late"}, headers=ann)

    # Reactions on a comment.
    _, state = w("PUT", COMMENT_REACTION, 200, comment_id=first["id"], kind="like", headers=bob)
    assert state == {"reactions": {"like": 1}, "my_reactions": ["like"]}
    _, state = w("PUT", COMMENT_REACTION, 200, comment_id=first["id"], kind="like", headers=bob)
    assert state == {"reactions": {"like": 1}, "my_reactions": ["like"]}
    _, state = w("DELETE", COMMENT_REACTION, 200, comment_id=first["id"], kind="like", headers=bob)
    assert state == {"reactions": {}, "my_reactions": []}
    w("DELETE", COMMENT_REACTION, 200, comment_id=first["id"], kind="like", headers=bob)
    w("PUT", COMMENT_REACTION, 200, comment_id=reply["id"], kind="insightful", headers=ann)
    w("PUT", COMMENT_REACTION, 422, comment_id=first["id"], kind="shrug", headers=bob)
    w("DELETE", COMMENT_REACTION, 422, comment_id=first["id"], kind="shrug", headers=bob)
    w("PUT", COMMENT_REACTION, 401, comment_id=first["id"], kind="like")
    w("DELETE", COMMENT_REACTION, 401, comment_id=first["id"], kind="like", headers=bad)
    w("PUT", COMMENT_REACTION, 404, comment_id=first["id"], kind="k" * 33, headers=bob)
    w("PUT", COMMENT_REACTION, 404, comment_id=999_999, kind="like", headers=bob)
    w("DELETE", COMMENT_REACTION, 404, comment_id=999_999, kind="like", headers=bob)
    w("PUT", COMMENT_REACTION, 403, comment_id=first["id"], kind="like", headers=banned)
    r, problem = w("PUT", COMMENT_REACTION, 403, comment_id=first["id"], kind="like", headers=ann)
    assert problem["type"].endswith("/own-comment")  # first is Ann's: no self-votes
    w("DELETE", COMMENT_REACTION, 403, comment_id=first["id"], kind="like", headers=banned)
    w("PATCH", COMMENT_REACTION, 405, comment_id=first["id"], kind="like", headers=bob)

    # Reactions on the article.
    _, state = w("PUT", ARTICLE_REACTION, 200, article_id="a1", kind="funny", headers=ann)
    assert state == {"reactions": {"funny": 1}, "my_reactions": ["funny"]}
    w("PUT", ARTICLE_REACTION, 200, article_id="a1", kind="like", headers=bob)
    w("DELETE", ARTICLE_REACTION, 200, article_id="a1", kind="like", headers=bob)
    w("PUT", ARTICLE_REACTION, 422, article_id="a1", kind="shrug", headers=ann)
    w("DELETE", ARTICLE_REACTION, 422, article_id="bad%20id", kind="like", headers=ann)
    w("PUT", ARTICLE_REACTION, 401, article_id="a1", kind="like")
    w("DELETE", ARTICLE_REACTION, 401, article_id="a1", kind="like")
    w("PUT", ARTICLE_REACTION, 403, article_id="a1", kind="like", headers=banned)
    w("DELETE", ARTICLE_REACTION, 403, article_id="a1", kind="like", headers=banned)
    w("PUT", ARTICLE_REACTION, 404, article_id="a1", kind="k" * 33, headers=ann)
    w("DELETE", ARTICLE_REACTION, 404, article_id="a1", kind="k" * 33, headers=ann)
    w("GET", ARTICLE_REACTION, 405, article_id="a1", kind="like")
    _, article = w("GET", ARTICLE, 200, article_id="a1", headers=ann)
    assert article["reactions"] == {"funny": 1} and article["my_reactions"] == ["funny"]

    # Deleting: tombstones and their refusals.
    w("DELETE", COMMENT, 403, comment_id=first["id"], headers=bob)
    w("DELETE", COMMENT, 401, comment_id=first["id"])
    w("DELETE", COMMENT, 401, comment_id=first["id"], headers=bad)
    w("DELETE", COMMENT, 403, comment_id=guest["id"], headers={"X-Edit-Token": "wrong"})
    w("DELETE", COMMENT, 204, comment_id=first["id"], headers=ann)
    _, tombstone = w("GET", COMMENT, 200, comment_id=first["id"])
    assert tombstone["status"] == "deleted" and tombstone["body"] is None
    w("DELETE", COMMENT, 404, comment_id=first["id"], headers=ann)
    w("PUT", COMMENT_REACTION, 409, comment_id=first["id"], kind="like", headers=bob)
    w("DELETE", COMMENT_REACTION, 409, comment_id=first["id"], kind="like", headers=bob)
    w(
        "POST",
        THREAD,
        409,
        article_id="a1",
        json={"body": "hello?", "parent_id": first["id"]},
        headers=bob,
    )
    w("DELETE", COMMENT, 204, comment_id=guest["id"], headers={"X-Edit-Token": token})
    w("DELETE", COMMENT, 204, comment_id=bobs["id"], headers=mod)
    _, page = w("GET", THREAD, 200, article_id="a1")
    assert [c["id"] for c in page["items"]] == [first["id"]]
    assert page["items"][0]["status"] == "deleted" and page["total"] == 2

    # Counts for listing pages.
    r, counts = w("GET", COUNTS, 200, query="article_id=a1&article_id=nobody&article_id=a1")
    assert counts == {
        "counts": {"a1": {"comments": 2, "reactions": 1}, "nobody": {"comments": 0, "reactions": 0}}
    }
    assert r.headers["Cache-Control"] == "public, max-age=30"
    w(
        "GET",
        COUNTS,
        304,
        query="article_id=a1&article_id=nobody&article_id=a1",
        headers={"If-None-Match": r.headers["ETag"]},
    )
    w("GET", COUNTS, 422)
    w("GET", COUNTS, 422, query="&".join(f"article_id=a{i}" for i in range(101)))
    w("GET", COUNTS, 422, query={"article_id": "bad id"})
    w("GET", COUNTS, 422, query={"article_id": "a1", "ids": "a2"})
    w("GET", COUNTS, 401, query={"article_id": "a1"}, headers=bad)
    w("POST", COUNTS, 405)

    # Moderation: flags, the queue, actions, articles, bans, audit log, people, figures.
    _, target = w("POST", THREAD, 201, article_id="m1", json={"body": "flag me"}, headers=ann)
    for i in range(3):
        w(
            "POST",
            FLAGS,
            201,
            comment_id=target["id"],
            json={"reason": "spam", "note": "ads"},
            headers=auth(f"flagger-{i}"),
        )
    w("POST", FLAGS, 404, comment_id=target["id"], json={"reason": "spam"}, headers=bob)
    w("POST", FLAGS, 401, comment_id=target["id"], json={"reason": "spam"})
    w("POST", FLAGS, 403, comment_id=reply["id"], json={"reason": "spam"}, headers=banned)
    w("POST", FLAGS, 409, comment_id=first["id"], json={"reason": "spam"}, headers=bob)
    w("POST", FLAGS, 422, comment_id=reply["id"], json={"reason": "boring"}, headers=ann)
    _, other = w("POST", THREAD, 201, article_id="m1", json={"body": "fine"}, headers=bob)
    w("POST", FLAGS, 201, comment_id=other["id"], json={"reason": "other"}, headers=ann)
    w("POST", FLAGS, 200, comment_id=other["id"], json={"reason": "hate"}, headers=ann)
    _, queue = w("GET", ADMIN + "/queue", 200, query={"state": "flagged", "limit": 1}, headers=mod)
    assert queue["items"][0]["id"] == target["id"] and queue["next_cursor"]
    w(
        "GET",
        ADMIN + "/queue",
        200,
        query={"state": "flagged", "cursor": queue["next_cursor"]},
        headers=mod,
    )
    w("GET", ADMIN + "/queue", 401)
    w("GET", ADMIN + "/queue", 403, headers=ann)
    w("GET", ADMIN + "/queue", 422, query={"state": "odd"}, headers=mod)
    w("GET", ADMIN + "/queue", 400, query={"cursor": "forged"}, headers=mod)
    _, acted = w(
        "POST", ACTIONS, 200, comment_id=target["id"], json={"action": "approve"}, headers=mod
    )
    assert acted["status"] == "published"
    w("POST", ACTIONS, 409, comment_id=target["id"], json={"action": "approve"}, headers=mod)
    w("POST", ACTIONS, 422, comment_id=target["id"], json={"action": "nuke"}, headers=mod)
    w("POST", ACTIONS, 404, comment_id=999999, json={"action": "remove"}, headers=mod)
    w("POST", ACTIONS, 200, comment_id=target["id"], json={"action": "pin"}, headers=mod)
    w("GET", ADMIN + "/comments/{comment_id}", 200, comment_id=target["id"], headers=mod)
    w("GET", ADMIN + "/comments/{comment_id}", 404, comment_id=999999, headers=mod)
    w("GET", ADMIN_ARTICLE, 200, article_id="m1", headers=mod)
    w("PATCH", ADMIN_ARTICLE, 200, article_id="m1", json={"premoderation": True}, headers=mod)
    w("PATCH", ADMIN_ARTICLE, 422, article_id="m1", json={}, headers=mod)
    w("PUT", BAN, 201, user_id="u-9", json={"reason": "spam", "shadow": True}, headers=mod)
    w(
        "PUT",
        BAN,
        200,
        user_id="u-9",
        json={"reason": "spam", "expires_at": "2099-01-01T00:00:00Z"},
        headers=mod,
    )
    w("PUT", BAN, 422, user_id="u-9", json={"shadow": True}, headers=mod)
    w("GET", ADMIN + "/bans", 200, headers=mod)
    w("DELETE", BAN, 204, user_id="u-9", headers=mod)
    w("DELETE", BAN, 404, user_id="u-9", headers=mod)
    _, log = w("GET", ADMIN + "/audit-log", 200, query={"limit": 2}, headers=mod)
    assert log["items"][0]["action"] == "unban"
    w(
        "GET",
        ADMIN + "/audit-log",
        200,
        query={"cursor": log["next_cursor"], "limit": 2},
        headers=mod,
    )
    w("GET", USER + "/comments", 200, user_id="u-1", headers=mod)
    w("GET", USER + "/export", 200, user_id="u-2", headers=mod)
    w("GET", ADMIN + "/stats", 200, headers=mod)
    w("DELETE", USER, 403, user_id="u-2", headers=mod)
    w("DELETE", USER, 200, user_id="u-2", headers=auth("root", roles=["admin"]))

    # Market features (#18): cashtags, disclosures, edit history, tickers.
    revisions, ticker = COMMENT + "/revisions", "/api/v1/tickers/{symbol}"
    body = {"body": "Long $BABA", "disclosure": {"BABA": "long"}}
    _, tagged = w("POST", THREAD, 201, article_id="t1", json=body, headers=ann)
    assert tagged["tickers"] == ["BABA"] and tagged["disclosure"] == {"BABA": "long"}
    edit = {"disclosure": {"BABA": "none"}}
    w("PATCH", COMMENT, 200, comment_id=tagged["id"], json=edit, headers=ann)
    _, history = w("GET", revisions, 200, comment_id=tagged["id"])
    assert [h["disclosure"] for h in history["items"]] == [{"BABA": "long"}]
    w("GET", revisions, 404, comment_id=999999)
    _, trend = w("GET", "/api/v1/tickers", 200, query={"window": "1h"})
    assert trend["items"] == [{"symbol": "BABA", "comments": 1, "previous": 0}]
    w("GET", "/api/v1/tickers", 422, query={"window": "1y"})
    w("GET", ticker, 200, symbol="baba")
    w("GET", ticker, 422, symbol="5")
    w("GET", ticker + "/comments", 200, symbol="BABA")
    w("GET", ticker + "/comments", 400, symbol="BABA", query={"cursor": "x"})
    # Notifications (#15): the signed-in reader's own endpoints.
    me_path, inbox_path, read_path = (
        "/api/v1/me",
        "/api/v1/me/notifications",
        "/api/v1/me/notifications/read",
    )
    follow_path, mute_path = ARTICLE + "/subscription", "/api/v1/me/muted/{user_id}"
    _, me = w("GET", me_path, 200, headers=ann)
    assert me["user"] == {"id": "u-1", "name": "Ann"} and me["unread_notifications"] >= 1
    w("GET", me_path, 401)
    w("GET", me_path, 403, headers={"Authorization": f"Bearer {_api_key(app)}"})
    w("PATCH", me_path + "/settings", 200, json={"follow_on_post": False}, headers=ann)
    w("PATCH", me_path + "/settings", 422, json={}, headers=ann)
    w("PATCH", me_path + "/settings", 415, data="x", content_type="text/plain", headers=ann)
    w("PATCH", me_path + "/settings", 400, data="{", content_type="application/json", headers=ann)
    w("PATCH", me_path + "/settings", 401, json={"follow_on_post": True})
    _, notes = w("GET", inbox_path, 200, headers=ann, query={"limit": 1})
    assert notes["items"]  # a moderator approved her flagged comment; Bob was erased since
    w("GET", inbox_path, 400, query={"cursor": "forged"}, headers=ann)
    w("GET", inbox_path, 422, query={"unread": "maybe"}, headers=ann)
    w("GET", inbox_path, 401)
    _, unread = w("POST", read_path, 200, json={"up_to": 2**31 - 1}, headers=ann)
    assert unread == {"unread": 0}
    w("POST", read_path, 422, json={}, headers=ann)
    w("POST", read_path, 415, data="x", content_type="text/plain", headers=ann)
    w("POST", read_path, 401, json={"up_to": 1})
    w("PUT", follow_path, 204, article_id="a1", headers=bob)
    w("PUT", follow_path, 401, article_id="a1")
    w("PUT", follow_path, 422, article_id="bad%20id", headers=bob)
    w("DELETE", follow_path, 204, article_id="a1", headers=bob)
    w("DELETE", follow_path, 401, article_id="a1")
    w("PUT", mute_path, 204, user_id="u-2", headers=ann)
    w("PUT", mute_path, 422, user_id="u-1", headers=ann)
    w("PUT", mute_path, 401, user_id="u-2")
    w("DELETE", mute_path, 204, user_id="u-2", headers=ann)
    w("DELETE", mute_path, 401, user_id="u-2")
    one_click = {"List-Unsubscribe": "One-Click"}
    token = unsubscribe_token(app.config["COMMENTS_SECRET_KEY"], "u-1")
    w("GET", "/api/v1/unsubscribe", 200, query={"token": token})
    w("GET", "/api/v1/unsubscribe", 400, query={"token": "forged"})
    w("POST", "/api/v1/unsubscribe", 200, query={"token": token}, data=one_click)
    w("POST", "/api/v1/unsubscribe", 400, query={"token": "forged"}, data=one_click)
    w(
        "POST",
        "/api/v1/unsubscribe",
        415,
        query={"token": token},
        data="x",
        content_type="text/plain",
    )

    # Webhooks (issue #15): admins only; the URL is an IP literal (no DNS in tests).
    root = auth("root", roles=["admin"])
    hooks, hook = ADMIN + "/webhooks", ADMIN + "/webhooks/{endpoint_id}"
    _, made = w("POST", hooks, 201, json={"url": "https://93.184.215.14/in"}, headers=root)
    w("POST", hooks, 422, json={"url": "http://127.0.0.1/in"}, headers=root)
    w("GET", hooks, 200, headers=root)
    w("GET", hooks, 403, headers=mod)
    w("GET", hook, 200, endpoint_id=made["id"], headers=root)
    w("PATCH", hook, 200, endpoint_id=made["id"], json={"events": ["*"]}, headers=root)
    w("POST", hook + "/rotate-secret", 200, endpoint_id=made["id"], headers=root)
    w("POST", hook + "/test", 202, endpoint_id=made["id"], headers=root)
    w("GET", hook + "/deliveries", 200, endpoint_id=made["id"], headers=root)
    w("DELETE", hook, 204, endpoint_id=made["id"], headers=root)
    w("GET", hook, 404, endpoint_id=made["id"], headers=root)

    # A path that matches no route.
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    assert not list(schema_validator("Problem").iter_errors(r.get_json()))

    exercised = {(method, template) for method, template, _ in w.seen}
    assert not set(operations()) - exercised, "operations the walk-through never called"
    statuses = {status for *_, status in w.seen}
    assert {200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 413, 415, 422} <= statuses


@pytest.fixture
def tight_limits(settings: dict[str, Any]) -> None:
    settings.update(
        RATELIMIT_ENABLED=True,
        COMMENTS_LIMIT_READ="2/minute",
        COMMENTS_LIMIT_COMMENT="1/minute",
        COMMENTS_LIMIT_REACTION="1/minute",
    )


def _until_limited(send: Any, method: str, template: str) -> Any:
    for _ in range(4):
        r = send()
        assert_matches_spec(method, template, r)
        if r.status_code == 429:
            return r
    pytest.fail(f"{method} {template} was never rate limited")


def test_rate_limited_responses_match_the_spec(tight_limits: None, client: Any) -> None:
    ann = auth("u-1", name="Ann")
    for r in (
        _until_limited(lambda: client.get("/api/v1/config"), "GET", CONFIG),
        _until_limited(
            lambda: client.post(
                "/api/v1/articles/rl/comments", headers=ann, json={"body": "hello"}
            ),
            "POST",
            THREAD,
        ),
        _until_limited(
            lambda: client.put("/api/v1/articles/rl/reactions/like", headers=ann),
            "PUT",
            ARTICLE_REACTION,
        ),
    ):
        assert int(r.headers["Retry-After"]) >= 0
        assert "X-RateLimit-Limit" in r.headers


def test_readiness_failure_matches_the_spec() -> None:
    app = create_app(
        {
            "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "COMMENTS_SECRET_KEY": "k",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    try:
        r = app.test_client().get("/readyz")
        assert r.status_code == 503
        assert_matches_spec("GET", "/readyz", r)
    finally:
        with app.app_context():
            db.engine.dispose()


def test_unexpected_failure_matches_the_spec(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: Any, **__: Any) -> Any:
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(threads, "list_thread", boom)
    r = client.get("/api/v1/articles/a1/comments")
    assert r.status_code == 500
    assert_matches_spec("GET", THREAD, r)


@pytest.mark.settings(COMMENTS_DEMO=True)
def test_demo_pages_match_the_spec(client: Any) -> None:
    with client.get("/") as r:
        assert_matches_spec("GET", "/", r)
    with client.get("/demo") as r:
        assert_matches_spec("GET", "/demo", r)
    r = client.post("/demo/token", json={"persona": "reader-a"})
    assert r.status_code == 200
    assert_matches_spec("POST", "/demo/token", r)
    assert_matches_spec("POST", "/demo/token", client.post("/demo/token", json={"persona": "x"}))
