"""Who may do what: every route × every kind of caller, in one table.

The routes come from the app's url_map, so a new route without a row here fails
``test_every_route_has_a_row``. "ok" means any 2xx; moderators, admins and moderator API
keys must then all get the same success status.
"""

from __future__ import annotations

from typing import Any

import pytest

from service.domain.readers import unsubscribe_token
from service.domain.tokens import hash_secret
from service.extensions import db
from service.models import ApiKey, Ban, utcnow
from tests.helpers import auth

# "anonymous" and "guest" post the same body from the same address under the same name:
# one guest's double submit (409) to duplicate detection, which is not the subject here.
pytestmark = pytest.mark.settings(COMMENTS_DUPLICATE_WINDOW_SECONDS=0)

CALLERS = ("anonymous", "guest", "author", "other", "banned", "moderator", "admin", "api_key")
API_KEY = "csk_matrix_key_0123456789abcdef"
OK = "ok"

PUBLIC = {c: 200 for c in CALLERS}
SIGNED_IN = {
    "anonymous": 401,
    "guest": 401,
    "author": 200,
    "other": 200,
    "banned": 403,
    "moderator": 200,
    "admin": 200,
    "api_key": 200,
}
MODERATORS = {
    "anonymous": 401,
    "guest": 401,
    "author": 403,
    "other": 403,
    "banned": 403,
    "moderator": OK,
    "admin": OK,
    "api_key": OK,
}
# A reader's own things (#15): anyone signed in with a token, banned or not; API keys
# (service accounts) have no inbox.
READERS = {**SIGNED_IN, "banned": 200, "api_key": 403}
READERS_204 = {c: (204 if v == 200 else v) for c, v in READERS.items()}
# The e-mail's one-click unsubscribe link: no sign-in, the token says who.
UNSUBSCRIBE = "/api/v1/unsubscribe?token=" + unsubscribe_token(
    "cursor-secret-for-tests", "u-author"
)
# Irreversible erasure needs the admin role (#14 item 19); the matrix's API key is a moderator.
ADMINS = {**MODERATORS, "moderator": 403, "api_key": 403}
DEMO_OFF = {c: 404 for c in CALLERS}

# (method, url rule) → (path, JSON body or None, expected status per caller)
MATRIX: dict[tuple[str, str], tuple[str, Any, dict[str, Any]]] = {
    ("GET", "/"): ("/", None, DEMO_OFF),
    ("GET", "/demo"): ("/demo", None, DEMO_OFF),
    ("POST", "/demo/token"): ("/demo/token", {"persona": "moderator"}, DEMO_OFF),
    ("GET", "/admin"): ("/admin", None, PUBLIC),  # a static page; its data needs a moderator
    ("GET", "/admin/console.css"): ("/admin/console.css", None, PUBLIC),
    ("GET", "/admin/console.js"): ("/admin/console.js", None, PUBLIC),
    ("GET", "/docs"): ("/docs", None, PUBLIC),  # API docs: on outside production
    ("GET", "/docs/apidocs.js"): ("/docs/apidocs.js", None, PUBLIC),
    ("GET", "/docs/swagger-ui/<name>"): ("/docs/swagger-ui/swagger-ui.css", None, PUBLIC),
    ("GET", "/embed/comments.css"): ("/embed/comments.css", None, PUBLIC),
    ("GET", "/embed/comments.js"): ("/embed/comments.js", None, PUBLIC),
    ("GET", "/embed/count.js"): ("/embed/count.js", None, PUBLIC),
    ("GET", "/embed/i18n/<lang>.js"): ("/embed/i18n/de.js", None, PUBLIC),
    ("GET", "/healthz"): ("/healthz", None, PUBLIC),
    ("GET", "/readyz"): ("/readyz", None, PUBLIC),
    ("GET", "/metrics"): ("/metrics", None, PUBLIC),
    ("GET", "/openapi.yaml"): ("/openapi.yaml", None, PUBLIC),
    ("GET", "/api/v1/config"): ("/api/v1/config", None, PUBLIC),
    ("POST", "/api/v1/preview"): ("/api/v1/preview", {"body": "**draft**"}, PUBLIC),
    ("GET", "/api/v1/counts"): ("/api/v1/counts?article_id=a1", None, PUBLIC),
    ("GET", "/api/v1/articles/<article_id>"): ("/api/v1/articles/a1", None, PUBLIC),
    # The live stream (branch live, #16): public, an anonymous reader's view for everyone.
    ("GET", "/api/v1/articles/<article_id>/events"): ("/api/v1/articles/a1/events", None, PUBLIC),
    ("GET", "/api/v1/articles/<article_id>/comments"): (
        "/api/v1/articles/a1/comments",
        None,
        PUBLIC,
    ),
    ("POST", "/api/v1/articles/<article_id>/comments"): (
        "/api/v1/articles/a1/comments",
        {"body": "matrix post", "author_name": "G"},
        {**{c: 201 for c in CALLERS}, "banned": 403},
    ),
    ("PUT", "/api/v1/articles/<article_id>/reactions/<string(maxlength=32):kind>"): (
        "/api/v1/articles/a1/reactions/like",
        None,
        SIGNED_IN,
    ),
    ("DELETE", "/api/v1/articles/<article_id>/reactions/<string(maxlength=32):kind>"): (
        "/api/v1/articles/a1/reactions/like",
        None,
        SIGNED_IN,
    ),
    ("GET", "/api/v1/comments/<int(max=2147483647):comment_id>"): (
        "/api/v1/comments/{c}",
        None,
        PUBLIC,
    ),
    # market features (#18): public reads
    ("GET", "/api/v1/comments/<int(max=2147483647):comment_id>/revisions"): (
        "/api/v1/comments/{c}/revisions",
        None,
        PUBLIC,
    ),
    ("GET", "/api/v1/tickers"): ("/api/v1/tickers?window=1h", None, PUBLIC),
    ("GET", "/api/v1/tickers/<string(maxlength=40):symbol>"): (
        "/api/v1/tickers/BABA",
        None,
        PUBLIC,
    ),
    ("GET", "/api/v1/tickers/<string(maxlength=40):symbol>/comments"): (
        "/api/v1/tickers/BABA/comments",
        None,
        PUBLIC,
    ),
    ("GET", "/api/v1/comments/<int(max=2147483647):comment_id>/replies"): (
        "/api/v1/comments/{c}/replies",
        None,
        PUBLIC,
    ),
    ("GET", "/api/v1/comments/<int(max=2147483647):comment_id>/context"): (
        "/api/v1/comments/{c}/context",
        None,
        PUBLIC,
    ),
    ("PATCH", "/api/v1/comments/<int(max=2147483647):comment_id>"): (
        "/api/v1/comments/{c}",
        {"body": "edited"},
        {**{c: 403 for c in CALLERS}, "anonymous": 401, "author": 200},
    ),
    ("DELETE", "/api/v1/comments/<int(max=2147483647):comment_id>"): (
        "/api/v1/comments/{c}",
        None,
        {
            "anonymous": 401,
            "guest": 403,
            "author": 204,
            "other": 403,
            "banned": 403,
            "moderator": 204,
            "admin": 204,
            "api_key": 204,
        },
    ),
    ("POST", "/api/v1/comments/<int(max=2147483647):comment_id>/flags"): (
        "/api/v1/comments/{c}/flags",
        {"reason": "spam"},
        {**SIGNED_IN, "author": 409, "other": 201, "moderator": 201, "admin": 201, "api_key": 201},
    ),
    (
        "PUT",
        "/api/v1/comments/<int(max=2147483647):comment_id>/reactions/<string(maxlength=32):kind>",
    ): ("/api/v1/comments/{c}/reactions/like", None, {**SIGNED_IN, "author": 403}),  # no self-votes
    (
        "DELETE",
        "/api/v1/comments/<int(max=2147483647):comment_id>/reactions/<string(maxlength=32):kind>",
    ): ("/api/v1/comments/{c}/reactions/like", None, SIGNED_IN),
    ("GET", "/api/v1/admin/queue"): ("/api/v1/admin/queue", None, MODERATORS),
    ("GET", "/api/v1/admin/stats"): ("/api/v1/admin/stats", None, MODERATORS),
    ("GET", "/api/v1/admin/audit-log"): ("/api/v1/admin/audit-log", None, MODERATORS),
    ("GET", "/api/v1/admin/bans"): ("/api/v1/admin/bans", None, MODERATORS),
    ("PUT", "/api/v1/admin/bans/<user_id:user_id>"): (
        "/api/v1/admin/bans/u-other",
        {"reason": "matrix", "shadow": False},
        MODERATORS,
    ),
    ("DELETE", "/api/v1/admin/bans/<user_id:user_id>"): (
        "/api/v1/admin/bans/u-banned",
        None,
        MODERATORS,
    ),
    ("GET", "/api/v1/admin/articles/<article_id>"): ("/api/v1/admin/articles/a1", None, MODERATORS),
    ("PATCH", "/api/v1/admin/articles/<article_id>"): (
        "/api/v1/admin/articles/a1",
        {"status": "closed"},
        MODERATORS,
    ),
    ("GET", "/api/v1/admin/comments/<int(max=2147483647):comment_id>"): (
        "/api/v1/admin/comments/{c}",
        None,
        MODERATORS,
    ),
    ("POST", "/api/v1/admin/comments/<int(max=2147483647):comment_id>/actions"): (
        "/api/v1/admin/comments/{c}/actions",
        {"action": "pin"},
        MODERATORS,
    ),
    ("GET", "/api/v1/admin/users/<user_id:user_id>/comments"): (
        "/api/v1/admin/users/u-author/comments",
        None,
        MODERATORS,
    ),
    ("GET", "/api/v1/admin/users/<user_id:user_id>/export"): (
        "/api/v1/admin/users/u-author/export",
        None,
        MODERATORS,
    ),
    ("DELETE", "/api/v1/admin/users/<user_id:user_id>"): (
        "/api/v1/admin/users/u-author",
        None,
        ADMINS,
    ),
    # Notifications (#15): the reader's own endpoints.
    ("GET", "/api/v1/me"): ("/api/v1/me", None, READERS),
    ("PATCH", "/api/v1/me/settings"): ("/api/v1/me/settings", {"follow_on_post": True}, READERS),
    ("GET", "/api/v1/me/notifications"): ("/api/v1/me/notifications", None, READERS),
    ("POST", "/api/v1/me/notifications/read"): (
        "/api/v1/me/notifications/read",
        {"up_to": 1},
        READERS,
    ),
    ("PUT", "/api/v1/articles/<article_id>/subscription"): (
        "/api/v1/articles/a1/subscription",
        None,
        READERS_204,
    ),
    ("DELETE", "/api/v1/articles/<article_id>/subscription"): (
        "/api/v1/articles/a1/subscription",
        None,
        READERS_204,
    ),
    ("PUT", "/api/v1/me/muted/<user_id:user_id>"): (
        "/api/v1/me/muted/u-replier",
        None,
        READERS_204,
    ),
    ("DELETE", "/api/v1/me/muted/<user_id:user_id>"): (
        "/api/v1/me/muted/u-replier",
        None,
        READERS_204,
    ),
    ("POST", "/api/v1/unsubscribe"): (UNSUBSCRIBE, None, PUBLIC),
    ("GET", "/api/v1/unsubscribe"): (UNSUBSCRIBE, None, PUBLIC),
    # Webhooks (#15): admins only; {w} is the world's endpoint.
    ("GET", "/api/v1/admin/webhooks"): ("/api/v1/admin/webhooks", None, ADMINS),
    ("POST", "/api/v1/admin/webhooks"): (
        "/api/v1/admin/webhooks",
        {"url": "https://93.184.215.14/matrix"},
        ADMINS,
    ),
    ("GET", "/api/v1/admin/webhooks/<int(max=2147483647):endpoint_id>"): (
        "/api/v1/admin/webhooks/{w}",
        None,
        ADMINS,
    ),
    ("PATCH", "/api/v1/admin/webhooks/<int(max=2147483647):endpoint_id>"): (
        "/api/v1/admin/webhooks/{w}",
        {"events": ["*"]},
        ADMINS,
    ),
    ("DELETE", "/api/v1/admin/webhooks/<int(max=2147483647):endpoint_id>"): (
        "/api/v1/admin/webhooks/{w}",
        None,
        ADMINS,
    ),
    ("POST", "/api/v1/admin/webhooks/<int(max=2147483647):endpoint_id>/rotate-secret"): (
        "/api/v1/admin/webhooks/{w}/rotate-secret",
        None,
        ADMINS,
    ),
    ("POST", "/api/v1/admin/webhooks/<int(max=2147483647):endpoint_id>/test"): (
        "/api/v1/admin/webhooks/{w}/test",
        None,
        ADMINS,
    ),
    ("GET", "/api/v1/admin/webhooks/<int(max=2147483647):endpoint_id>/deliveries"): (
        "/api/v1/admin/webhooks/{w}/deliveries",
        None,
        ADMINS,
    ),
}


def _routes(app: Any) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_route_has_a_row(app: Any) -> None:
    routes = _routes(app)
    assert routes - set(MATRIX) == set(), "routes without a row in the authorisation matrix"
    assert set(MATRIX) - routes == set(), "rows for routes that no longer exist"


def _headers(caller: str, guest_token: str) -> dict[str, str]:
    return {
        "anonymous": {},
        "guest": {"X-Edit-Token": guest_token},
        "author": auth("u-author", name="Author"),
        "other": auth("u-other", name="Other"),
        "banned": auth("u-banned", name="Banned"),
        "moderator": auth("m-1", roles=["moderator"], name="Mod"),
        "admin": auth("adm-1", roles=["admin"], name="Admin"),
        "api_key": {"Authorization": f"Bearer {API_KEY}"},
    }[caller]


@pytest.fixture
def world(app: Any, client: Any) -> dict[str, Any]:
    """One published comment by u-author (with a reply), a guest's comment, a banned user,
    and a moderator API key."""
    r = client.post(
        "/api/v1/articles/a1/comments",
        json={"body": "the target"},
        headers=auth("u-author", name="Author"),
    )
    comment = r.get_json()["id"]
    client.post(
        "/api/v1/articles/a1/comments",
        json={"body": "a reply", "parent_id": comment},
        headers=auth("u-replier"),
    )
    guest = client.post(
        "/api/v1/articles/a1/comments", json={"body": "guest words", "author_name": "G"}
    ).get_json()
    with app.app_context():
        db.session.add(Ban(user_id="u-banned", created_by="m-1", reason="matrix", shadow=False))
        db.session.add(
            ApiKey(
                name="matrix", role="moderator", key_hash=hash_secret(API_KEY), created_at=utcnow()
            )
        )
        db.session.commit()
    hook = client.post(
        "/api/v1/admin/webhooks",
        json={"url": "https://93.184.215.14/world"},
        headers=auth("adm-0", roles=["admin"]),
    ).get_json()
    return {"comment": comment, "guest_token": guest["edit_token"], "webhook": hook["id"]}


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_authorisation(
    app: Any, client: Any, world: dict[str, Any], route: tuple[str, str]
) -> None:
    template, body, expected = MATRIX[route]
    method = route[0]
    path = template.format(c=world["comment"], w=world["webhook"])
    seen: dict[str, int] = {}
    for caller in CALLERS:
        # Each caller acts on the same starting state: a write by one must not decide the
        # status another gets (a delete, a ban, a closed article), so undo by rebuilding.
        r = client.open(
            path, method=method, json=body, headers=_headers(caller, world["guest_token"])
        )
        seen[caller] = r.status_code
        r.close()
        _restore(app, client, world)
    mismatches = {}
    for caller, want in expected.items():
        got = seen[caller]
        if (want == OK and not 200 <= got < 300) or (want != OK and got != want):
            mismatches[caller] = (want, got)
    assert not mismatches, f"{method} {path}: (expected, got) {mismatches}"
    successes = {seen[c] for c, want in expected.items() if want == OK}
    assert len(successes) <= 1, f"moderators, admins and API keys differ: {seen}"


def _restore(app: Any, client: Any, world: dict[str, Any]) -> None:
    """Put back what a caller's write may have changed, through the same rules."""
    from sqlalchemy import delete, update

    from service.enums import ArticleStatus, CommentStatus
    from service.models import Article, Comment, CommentReaction, Flag

    with app.app_context():
        db.session.execute(
            update(Article).where(Article.id == "a1").values(status=ArticleStatus.OPEN)
        )
        c = db.session.get(Comment, world["comment"])
        if c is not None and c.status != CommentStatus.PUBLISHED:
            c.status, c.body, c.body_html = (
                CommentStatus.PUBLISHED,
                "the target",
                "<p>the target</p>",
            )
        if c is not None:
            c.pinned = False
        db.session.execute(delete(Flag))
        db.session.execute(delete(CommentReaction))
        if db.session.get(Ban, "u-banned") is None:
            db.session.add(Ban(user_id="u-banned", created_by="m-1", reason="matrix", shadow=False))
        db.session.execute(delete(Ban).where(Ban.user_id == "u-other"))
        db.session.commit()
