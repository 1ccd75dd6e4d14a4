"""Model-based test: a hypothesis state machine drives comments, replies, edits, deletes,
reactions, flags, bans and moderator actions through the test client, and after every step
checks that the stored counters equal a recount, that reply_count is exact, that tombstones
stand only above visible replies, and that nothing is orphaned."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from service.extensions import db
from tests.helpers import MODERATOR, auth

from .invariants import check_tree, drift, orphans

ARTICLES = ("sm-a", "sm-b")
USERS = ("u-ann", "u-bob", "u-cid")
KINDS = ("like", "dislike", "insightful")
ACTIONS = ("approve", "remove", "restore", "pin", "unpin", "dismiss_flags")
REASONS = ("spam", "abuse", "off_topic")
EXAMPLES = int(os.environ.get("RELIABILITY_STATE_EXAMPLES", "12"))
STEPS = int(os.environ.get("RELIABILITY_STATE_STEPS", "30"))
MOD = auth("u-mod", **MODERATOR)


class CommentsMachine(RuleBasedStateMachine):
    comments = Bundle("comments")

    def __init__(self, app: Any) -> None:
        super().__init__()
        self.app = app
        self.client = app.test_client()
        self.authors: dict[int, str | None] = {}
        self.guest_tokens: dict[int, str] = {}
        with app.app_context():
            from tests.helpers import empty_tables as _empty_tables

            _empty_tables(app.config["SQLALCHEMY_DATABASE_URI"])

    def call(
        self, method: str, url: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        response = self.client.open(url, method=method, headers=headers or {}, **kwargs)
        assert response.status_code < 500, (method, url, response.status_code, response.data)
        return response

    # --- writes ---------------------------------------------------------------------------

    @rule(
        target=comments,
        article=st.sampled_from(ARTICLES),
        user=st.sampled_from(USERS + (None,)),
        body=st.text(min_size=1, max_size=30),
    )
    def post(self, article: str, user: str | None, body: str) -> Any:
        payload: dict[str, Any] = {"body": body}
        headers = auth(user, name=user) if user else {}
        if user is None:
            payload["author_name"] = "Guest"
        r = self.call("POST", f"/api/v1/articles/{article}/comments", headers, json=payload)
        if r.status_code != 201:
            assert r.status_code in (403, 409, 422), r.json
            return self._noop_id()
        self.authors[r.json["id"]] = user
        if "edit_token" in r.json:
            self.guest_tokens[r.json["id"]] = r.json["edit_token"]
        return r.json["id"]

    def _noop_id(self) -> int:
        return 2**31 - 1  # a comment id that does not exist: every later call on it is a 404

    @rule(
        target=comments,
        parent=comments,
        user=st.sampled_from(USERS),
        body=st.text(min_size=1, max_size=30),
    )
    def reply(self, parent: int, user: str, body: str) -> int:
        article = self._article_of(parent)
        if article is None:
            return self._noop_id()
        r = self.call(
            "POST",
            f"/api/v1/articles/{article}/comments",
            auth(user, name=user),
            json={"body": body, "parent_id": parent},
        )
        if r.status_code != 201:
            assert r.status_code in (403, 404, 409, 422), r.json
            return self._noop_id()
        self.authors[r.json["id"]] = user
        return r.json["id"]

    def _article_of(self, comment_id: int) -> str | None:
        from service.models import Comment

        with self.app.app_context():
            comment = db.session.get(Comment, comment_id)
            article = comment.article_id if comment is not None else None
            db.session.remove()
        return article

    def _author_headers(self, comment_id: int) -> dict[str, str]:
        user = self.authors.get(comment_id)
        if user is not None:
            return auth(user, name=user)
        token = self.guest_tokens.get(comment_id)
        return {"X-Edit-Token": token} if token else {}

    @rule(comment=comments, body=st.text(min_size=1, max_size=30))
    def edit(self, comment: int, body: str) -> None:
        r = self.call(
            "PATCH",
            f"/api/v1/comments/{comment}",
            self._author_headers(comment),
            json={"body": body},
        )
        assert r.status_code in (200, 401, 403, 404, 409, 422), r.json

    @rule(comment=consumes(comments), as_moderator=st.booleans())
    def delete(self, comment: int, as_moderator: bool) -> None:
        headers = MOD if as_moderator else self._author_headers(comment)
        r = self.call("DELETE", f"/api/v1/comments/{comment}", headers)
        assert r.status_code in (204, 401, 403, 404), r.data

    @rule(
        comment=comments,
        user=st.sampled_from(USERS),
        kind=st.sampled_from(KINDS),
        add=st.booleans(),
    )
    def react(self, comment: int, user: str, kind: str, add: bool) -> None:
        r = self.call(
            "PUT" if add else "DELETE", f"/api/v1/comments/{comment}/reactions/{kind}", auth(user)
        )
        assert r.status_code in (200, 403, 404, 409), r.json

    @rule(
        article=st.sampled_from(ARTICLES),
        user=st.sampled_from(USERS),
        kind=st.sampled_from(KINDS),
        add=st.booleans(),
    )
    def react_article(self, article: str, user: str, kind: str, add: bool) -> None:
        r = self.call(
            "PUT" if add else "DELETE", f"/api/v1/articles/{article}/reactions/{kind}", auth(user)
        )
        assert r.status_code in (200, 403, 404, 409), r.json

    @rule(comment=comments, user=st.sampled_from(USERS), reason=st.sampled_from(REASONS))
    def flag(self, comment: int, user: str, reason: str) -> None:
        r = self.call(
            "POST", f"/api/v1/comments/{comment}/flags", auth(user), json={"reason": reason}
        )
        assert r.status_code in (200, 201, 403, 404, 409), r.json

    @rule(comment=comments, action=st.sampled_from(ACTIONS))
    def moderate(self, comment: int, action: str) -> None:
        r = self.call(
            "POST",
            f"/api/v1/admin/comments/{comment}/actions",
            MOD,
            json={"action": action, "reason": "state machine"},
        )
        assert r.status_code in (200, 404, 409, 422), r.json

    @rule(user=st.sampled_from(USERS), shadow=st.booleans(), lift=st.booleans())
    def ban(self, user: str, shadow: bool, lift: bool) -> None:
        if lift:
            r = self.call("DELETE", f"/api/v1/admin/bans/{user}", MOD)
            assert r.status_code in (204, 404), r.data
        else:
            r = self.call(
                "PUT",
                f"/api/v1/admin/bans/{user}",
                MOD,
                json={"reason": "state machine", "shadow": shadow},
            )
            assert r.status_code in (200, 201), r.json

    # --- what must hold after every step ----------------------------------------------------

    @invariant()
    def counters_equal_a_recount_and_nothing_is_orphaned(self) -> None:
        with self.app.app_context():
            assert drift(db.session) == {}
            assert orphans(db.session) == {}
            db.session.remove()

    @invariant()
    def threads_read_consistently(self) -> None:
        for article in ARTICLES:
            listing = self.call("GET", f"/api/v1/articles/{article}/comments?limit=100").json
            assert check_tree(listing["items"]) == []
            article_json = self.call("GET", f"/api/v1/articles/{article}").json
            visible = sum(
                1 + node["reply_count"]
                for node in listing["items"]
                if node["status"] == "published"
            )
            # total counts every visible comment: published top-level ones and the replies
            # below any top-level node, tombstones included.
            visible += sum(
                node["reply_count"] for node in listing["items"] if node["status"] != "published"
            )
            assert listing["total"] == article_json["comment_count"] == visible


@pytest.mark.slow
def test_comments_state_machine(app: Any) -> None:
    run_state_machine_as_test(
        lambda: CommentsMachine(app),
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
