"""Threads as a frontend calls them: post, reply, page, edit, delete, guests."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from service.domain import comments as comment_rules
from service.extensions import db
from service.models import Comment, CommentStatus
from tests.helpers import auth

API = "/api/v1"


def thread(client, article="a1", headers=None, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    r = client.get(f"{API}/articles/{article}/comments?{query}", headers=headers or {})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_unknown_article_reads_as_empty_open_thread(client):
    assert thread(client, "never-seen") == {"items": [], "next_cursor": None, "total": 0}
    r = client.get(f"{API}/articles/never-seen")
    assert r.get_json() == {
        "id": "never-seen",
        "status": "open",
        "comment_count": 0,
        "reactions": {},
        "my_reactions": [],
        # surge mode (issue #18): nothing in force
        "slow_mode_seconds": 0,
        "slow_mode_until": None,
        "premoderation_until": None,
    }


def test_post_returns_the_comment_with_location(client, post):
    r = post("a1", "Hello **world**", user="u-42")
    assert r.status_code == 201
    c = r.get_json()
    assert r.headers["Location"] == f"{API}/comments/{c['id']}"
    assert c["author"] == {
        "id": "u-42",
        "name": "Name u-42",
        "is_guest": False,
        "is_moderator": False,
    }
    assert c["body"] == "Hello **world**"
    assert c["body_html"] == "<p>Hello <strong>world</strong></p>"
    assert c["status"] == "published" and c["depth"] == 0 and c["parent_id"] is None
    assert c["edited_at"] is None and c["replies"] == [] and c["reactions"] == {}
    assert c["created_at"].endswith("Z")
    assert client.get(r.headers["Location"]).get_json()["id"] == c["id"]


def test_reply_three_deep_nests_in_the_listing(client, post):
    top = post("a1", "top").get_json()
    r1 = post("a1", "r1", user="u-2", parent_id=top["id"]).get_json()
    r2 = post("a1", "r2", user="u-3", parent_id=r1["id"]).get_json()
    r3 = post("a1", "r3", user="u-1", parent_id=r2["id"]).get_json()
    assert [r1["depth"], r2["depth"], r3["depth"]] == [1, 2, 3]
    page = thread(client)
    assert page["total"] == 4
    [item] = page["items"]
    assert item["reply_count"] == 3
    level1 = item["replies"][0]
    assert level1["id"] == r1["id"] and level1["reply_count"] == 2
    assert level1["replies"][0]["replies"][0]["id"] == r3["id"]
    one = client.get(f"{API}/comments/{r1['id']}").get_json()
    assert one["replies"][0]["id"] == r2["id"]


def test_replies_past_max_depth_attach_to_the_parent(client, post):
    parent_id = None
    ids = []
    for i in range(8):  # default max depth 5
        c = post("a1", f"level {i}", parent_id=parent_id).get_json()
        ids.append(c)
        parent_id = c["id"]
    assert [c["depth"] for c in ids] == [0, 1, 2, 3, 4, 5, 5, 5]
    # the 7th comment replied to a depth-5 comment: it became that comment's sibling
    assert ids[6]["parent_id"] == ids[4]["id"]
    assert ids[7]["parent_id"] == ids[4]["id"]
    assert thread(client)["items"][0]["reply_count"] == 7


def test_a_reply_past_max_depth_is_not_counted_under_the_comment_it_answered(client, post):
    """Kills the survivor "the reattached reply's path includes the depth-5 parent": the
    reply becomes the depth-5 comment's sibling, so it counts under depth 4 and above, and
    the depth-5 comment it answered still has no replies."""
    chain, parent_id = [], None
    for i in range(6):
        chain.append(post("a1", f"level {i}", parent_id=parent_id).get_json())
        parent_id = chain[-1]["id"]
    deepest = chain[5]
    reply = post("a1", "too deep", parent_id=deepest["id"]).get_json()
    assert (reply["parent_id"], reply["depth"]) == (chain[4]["id"], 5)

    def reply_count(comment):
        return client.get(f"{API}/comments/{comment['id']}").get_json()["reply_count"]

    assert reply_count(deepest) == 0
    assert reply_count(chain[4]) == 2
    assert reply_count(chain[3]) == 3
    assert thread(client)["items"][0]["reply_count"] == 6


def test_reply_must_be_in_the_same_article(client, post):
    other = post("other", "elsewhere").get_json()
    r = post("a1", "reply", parent_id=other["id"])
    assert r.status_code == 422
    assert r.content_type == "application/problem+json"
    assert "parent_id" in r.get_json()["errors"]
    assert post("a1", "reply", parent_id=999999).status_code == 422


def test_paging_45_comments_sees_each_once_in_order(client, post):
    ids = [post("a1", f"comment {i}", user=f"u-{i % 7}").get_json()["id"] for i in range(45)]
    for sort, expected in (("newest", ids[::-1]), ("oldest", ids)):
        seen, cursor, pages = [], None, 0
        while True:
            params = {"limit": 20, "sort": sort}
            if cursor:
                params["cursor"] = cursor
            page = thread(client, **params)
            pages += 1
            assert page["total"] == 45
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == 3
        assert seen == expected


def test_new_comments_between_pages_do_not_shift_the_next_page(client, post):
    ids = [post("a1", f"c{i}").get_json()["id"] for i in range(5)]
    page1 = thread(client, limit=2)
    post("a1", "a newcomer")
    page2 = thread(client, limit=2, cursor=page1["next_cursor"])
    assert [i["id"] for i in page2["items"]] == [ids[2], ids[1]]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: c[:-3] + "xyz",
        lambda c: "x" + c,
        lambda c: "not-a-cursor",
    ],
)
def test_tampered_cursor_is_a_400(client, post, mangle):
    for i in range(3):
        post("a1", f"c{i}")
    cursor = thread(client, limit=1)["next_cursor"]
    r = client.get(f"{API}/articles/a1/comments?limit=1&cursor={mangle(cursor)}")
    assert r.status_code == 400
    assert r.content_type == "application/problem+json"
    assert "cursor" in r.get_json()["errors"]


def test_cursor_of_another_sort_or_article_is_refused(client, post):
    for i in range(3):
        post("a1", f"c{i}")
        post("a2", f"c{i}")
    cursor = thread(client, limit=1)["next_cursor"]
    assert client.get(f"{API}/articles/a1/comments?sort=oldest&cursor={cursor}").status_code == 400
    assert client.get(f"{API}/articles/a2/comments?cursor={cursor}").status_code == 400


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "limit=abc", "sort=random", "cursor=", "limit=1&limit=2", "bogus=1"],
)
def test_bad_listing_parameters_are_422(client, query):
    r = client.get(f"{API}/articles/a1/comments?{query}")
    assert r.status_code == 422, query
    assert r.content_type == "application/problem+json"
    assert r.get_json()["errors"]


@pytest.mark.settings(COMMENTS_REPLIES_PER_THREAD=3)
def test_replies_beyond_the_nested_bound_page_through_replies(client, post):
    top = post("a1", "top").get_json()
    reply_ids = [post("a1", f"r{i}", parent_id=top["id"]).get_json()["id"] for i in range(7)]
    [item] = thread(client)["items"]
    assert item["reply_count"] == 7
    assert [r["id"] for r in item["replies"]] == reply_ids[:3]
    seen, cursor = [], None
    while True:
        url = f"{API}/comments/{top['id']}/replies?limit=3"
        r = client.get(url + (f"&cursor={cursor}" if cursor else ""))
        assert r.status_code == 200
        body = r.get_json()
        seen += [c["id"] for c in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == reply_ids


def test_author_edits_within_the_window(client, post, app):
    c = post("a1", "first words", user="u-1").get_json()
    r = client.patch(
        f"{API}/comments/{c['id']}", json={"body": "better words"}, headers=auth("u-1")
    )
    assert r.status_code == 200
    edited = r.get_json()
    assert edited["body"] == "better words" and edited["edited_at"] is not None
    assert (
        client.patch(
            f"{API}/comments/{c['id']}", json={"body": "mine now"}, headers=auth("u-2")
        ).status_code
        == 403
    )
    with app.app_context():
        db.session.execute(
            update(Comment)
            .where(Comment.id == c["id"])
            .values(created_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=901))
        )
        db.session.commit()
    r = client.patch(f"{API}/comments/{c['id']}", json={"body": "too late"}, headers=auth("u-1"))
    assert r.status_code == 403
    assert "15 minutes" in r.get_json()["detail"]
    assert client.get(f"{API}/comments/{c['id']}").get_json()["body"] == "better words"


def test_delete_without_replies_disappears(client, post):
    c = post("a1", "regret").get_json()
    keep = post("a1", "keep").get_json()
    assert client.delete(f"{API}/comments/{c['id']}", headers=auth("u-2")).status_code == 403
    assert client.delete(f"{API}/comments/{c['id']}", headers=auth("u-1")).status_code == 204
    page = thread(client)
    assert [i["id"] for i in page["items"]] == [keep["id"]]
    assert page["total"] == 1
    assert client.get(f"{API}/articles/a1").get_json()["comment_count"] == 1
    assert client.get(f"{API}/comments/{c['id']}").status_code == 404
    assert client.delete(f"{API}/comments/{c['id']}", headers=auth("u-1")).status_code == 404


def test_delete_with_replies_leaves_a_tombstone_until_the_replies_go(client, post):
    top = post("a1", "top", user="u-1").get_json()
    reply = post("a1", "reply", user="u-2", parent_id=top["id"]).get_json()
    assert client.delete(f"{API}/comments/{top['id']}", headers=auth("u-1")).status_code == 204
    page = thread(client)
    [stone] = page["items"]
    assert stone["status"] == "deleted"
    assert stone["body"] is None and stone["body_html"] is None and stone["author"] is None
    assert stone["replies"][0]["id"] == reply["id"]
    assert page["total"] == 1
    assert client.delete(f"{API}/comments/{reply['id']}", headers=auth("u-2")).status_code == 204
    assert thread(client) == {"items": [], "next_cursor": None, "total": 0}


def test_moderator_delete_is_a_removal(client, post):
    top = post("a1", "top", user="u-1").get_json()
    post("a1", "reply", user="u-2", parent_id=top["id"])
    r = client.delete(f"{API}/comments/{top['id']}", headers=auth("mod", roles=["moderator"]))
    assert r.status_code == 204
    assert thread(client)["items"][0]["status"] == "removed"


def test_guest_posts_and_edits_with_its_token(client, post):
    r = post("a1", "guest words", user=None, author_name="  Visitor  ")
    assert r.status_code == 201
    c = r.get_json()
    assert c["author"] == {"id": None, "name": "Visitor", "is_guest": True, "is_moderator": False}
    token = c["edit_token"]
    assert len(token) >= 20
    other = post("a1", "another guest", user=None).get_json()
    url = f"{API}/comments/{c['id']}"
    assert client.patch(url, json={"body": "x"}).status_code == 401
    assert (
        client.patch(
            url, json={"body": "x"}, headers={"X-Edit-Token": other["edit_token"]}
        ).status_code
        == 403
    )
    assert client.patch(url, json={"body": "x"}, headers=auth("u-1")).status_code == 403
    r = client.patch(url, json={"body": "guest, edited"}, headers={"X-Edit-Token": token})
    assert r.status_code == 200 and r.get_json()["body"] == "guest, edited"
    assert "edit_token" not in client.get(url).get_json()
    assert client.delete(url, headers={"X-Edit-Token": token}).status_code == 204


def test_guests_need_a_name(client):
    r = client.post(f"{API}/articles/a1/comments", json={"body": "hi"})
    assert r.status_code == 422 and "author_name" in r.get_json()["errors"]
    r = client.post(f"{API}/articles/a1/comments", json={"body": "hi", "author_name": "x" * 81})
    assert r.status_code == 422


@pytest.mark.settings(COMMENTS_ALLOW_GUESTS=False)
def test_guests_are_refused_when_not_allowed(client):
    r = client.post(f"{API}/articles/a1/comments", json={"body": "hi", "author_name": "G"})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "   "}, "body"),
        ({"body": "x" * 10_001}, "body"),
        ({"body": "nul\u0000byte"}, "body"),
        ({"body": "lone \ud800"}, "body"),
        ({"body": 5}, "body"),
        ({}, "body"),
        ({"body": "ok", "parent_id": "1"}, "parent_id"),
        ({"body": "ok", "parent_id": 0}, "parent_id"),
        ({"body": "ok", "parentId": 1}, "parentId"),
    ],
)
def test_invalid_comment_bodies_are_422_and_store_nothing(client, payload, field):
    r = client.post(f"{API}/articles/a1/comments", json=payload, headers=auth())
    assert r.status_code == 422, r.get_json()
    problem = r.get_json()
    assert r.content_type == "application/problem+json"
    assert field in problem["errors"] and problem["detail"]
    assert thread(client)["total"] == 0


def test_body_limit_counts_characters_after_trimming(client):
    r = client.post(
        f"{API}/articles/a1/comments", json={"body": "  " + "é" * 10_000 + "  "}, headers=auth()
    )
    assert r.status_code == 201


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": "body=hi", "content_type": "application/x-www-form-urlencoded"}, 415),
        ({"data": "{not json", "content_type": "application/json"}, 400),
        ({"data": "[1, 2]", "content_type": "application/json"}, 422),
        ({"data": '{"body": "' + "x" * 70_000 + '"}', "content_type": "application/json"}, 413),
    ],
)
def test_malformed_writes_get_problem_details(client, kwargs, status):
    r = client.post(f"{API}/articles/a1/comments", headers=auth(), **kwargs)
    assert r.status_code == status
    assert r.content_type == "application/problem+json"
    problem = r.get_json()
    assert problem["status"] == status and problem["detail"] and problem["type"]


@pytest.mark.parametrize("article_id", ["a b", "x" * 201, "semi;colon", "ü"])
def test_bad_article_ids_are_422(client, article_id):
    from urllib.parse import quote

    r = client.get(f"{API}/articles/{quote(article_id)}/comments")
    assert r.status_code == 422
    assert "article_id" in r.get_json()["errors"]


def test_every_kind_of_error_is_problem_json_with_nosniff(client):
    for method, url, status in [
        ("get", "/nowhere", 404),
        ("get", f"{API}/comments/abc", 404),
        ("put", f"{API}/config", 405),
        ("get", f"{API}/comments/99999999999", 404),
    ]:
        r = getattr(client, method)(url)
        assert r.status_code == status, (method, url)
        assert r.content_type == "application/problem+json"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/healthz").headers["X-Content-Type-Options"] == "nosniff"


def test_idempotency_key_returns_the_first_comment(client, post):
    headers = {"Idempotency-Key": "abc-123"}
    first = post("a1", "once", headers=headers)
    again = post("a1", "once", headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert thread(client)["total"] == 1
    other = post("a1", "something else", headers=headers)
    assert other.status_code == 422
    # keys are scoped to the caller: another user may use the same key
    assert (
        post("a1", "once", user="u-2", headers=headers).get_json()["id"] != first.get_json()["id"]
    )


def test_double_submit_of_the_same_body_is_409(client, post):
    first = post("a1", "Buy  the dip")
    second = post("a1", "buy the DIP")
    assert second.status_code == 409
    assert second.get_json()["comment_id"] == first.get_json()["id"]
    assert post("a2", "buy the dip").status_code == 201
    assert post("a1", "buy the dip", user="u-9").status_code == 201


def _age(app, model, seconds, **where):
    """Move rows' created_at ``seconds`` into the past: the clock cannot move through HTTP."""
    with app.app_context():
        for row in db.session.scalars(select(model).filter_by(**where)):
            row.created_at -= dt.timedelta(seconds=seconds)
        db.session.commit()


def test_the_same_text_is_welcome_again_after_the_duplicate_window(app, client, post):
    """Kills the survivor "the duplicate window dropped": the same text is refused within
    COMMENTS_DUPLICATE_WINDOW_SECONDS (300) and accepted after it."""
    first = post("a1", "same words").get_json()
    _age(app, Comment, 290, id=first["id"])
    r = post("a1", "same words")
    assert r.status_code == 409 and r.get_json()["comment_id"] == first["id"]
    _age(app, Comment, 11, id=first["id"])  # now 301 s old
    again = post("a1", "same words")
    assert again.status_code == 201
    assert again.get_json()["id"] != first["id"]


def test_an_idempotency_key_is_forgotten_after_its_ttl(app, client, post):
    """Kills the survivor "idempotency keys never expire": within
    COMMENTS_IDEMPOTENCY_TTL_SECONDS (24 h) a retry replays the first comment; after it, the
    same key posts a new one."""
    from service.models import IdempotencyKey

    headers = {"Idempotency-Key": "retry-me"}
    first = post("a1", "once", headers=headers).get_json()
    _age(app, IdempotencyKey, 86_400 - 60)
    _age(app, Comment, 86_400 - 60)  # keeps the duplicate rule out of the way
    replayed = post("a1", "once", headers=headers)
    assert replayed.status_code == 201 and replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.get_json()["id"] == first["id"]
    _age(app, IdempotencyKey, 61)
    fresh = post("a1", "once", headers=headers)
    assert fresh.status_code == 201
    assert "Idempotent-Replayed" not in fresh.headers
    assert fresh.get_json()["id"] != first["id"]
    assert thread(client)["total"] == 2


def test_unicode_round_trips(client, post):
    text = "阿里巴巴 Qwen3 🚀 — «ça marche» ∑"
    c = post("a1", text).get_json()
    assert client.get(f"{API}/comments/{c['id']}").get_json()["body"] == text


def test_config_describes_what_a_client_renders(client):
    config = client.get(f"{API}/config").get_json()
    assert config["reaction_kinds"] == [
        "like",
        "dislike",
        "insightful",
        "funny",
        "agree",
        "disagree",
    ]
    assert config["edit_window_seconds"] == 900 and config["max_depth"] == 5
    assert config["allow_guests"] is True and config["max_body_length"] == 10_000


def test_counter_updates_refresh_an_article_already_loaded(app, post):
    """The counter UPDATEs are Core statements (domain/comments.py): an Article already in
    the session must show their effect before commit, not its stale loaded values."""
    import datetime as dt

    from service.domain import comments as rules_
    from service.extensions import db
    from service.models import Article, utcnow

    assert post("loaded", "first").status_code == 201
    with app.app_context():
        article = db.session.get(Article, "loaded")
        version, count, first = article.version, article.comment_count, article.first_comment_at
        rules_.bump_version(db.session, "loaded")
        assert article.version == version + 1
        created = rules_.create_comment(
            db.session,
            article_id="loaded",
            author=rules_.Author(user_id="u-9", name="Nine"),
            body="second",
            parent_id=None,
            rules=rules_.Rules(),
            now=utcnow() + dt.timedelta(seconds=1),
        )
        assert created.comment.id is not None
        assert (article.version, article.comment_count) == (version + 2, count + 1)
        assert article.first_comment_at == first
        db.session.rollback()


def test_a_pin_ends_when_the_comment_leaves_the_thread(post, db_session):
    """set_status: a pinned comment that is removed (or deleted, held...) loses its pin, so a
    later restore does not put it back on top; publishing a pinned comment keeps the pin."""
    c = db_session.get(Comment, post("a1", "pinned words").get_json()["id"])
    c.pinned = True
    comment_rules.set_status(db_session, c, CommentStatus.PUBLISHED)
    assert c.pinned is True
    comment_rules.set_status(db_session, c, CommentStatus.REMOVED)
    assert c.pinned is False
    comment_rules.set_status(db_session, c, CommentStatus.PUBLISHED)
    assert c.pinned is False


def test_replies_to_a_missing_or_deleted_parent_get_exact_problems(client, post):
    other = post("a2", "elsewhere").get_json()
    r = post("a1", "reply", parent_id=other["id"])
    problem = r.get_json()
    detail = "parent_id: no such comment in this article."
    assert (r.status_code, problem["type"].rsplit("/", 1)[-1]) == (422, "invalid-parent")
    assert problem["detail"] == detail and problem["errors"] == {"parent_id": [detail]}
    top = post("a1", "top", user="u-1").get_json()
    post("a1", "kept alive", user="u-2", parent_id=top["id"])
    assert client.delete(f"{API}/comments/{top['id']}", headers=auth("u-1")).status_code == 204
    r = post("a1", "too late", user="u-3", parent_id=top["id"])
    problem = r.get_json()
    assert (r.status_code, problem["type"].rsplit("/", 1)[-1]) == (409, "parent-deleted")
    assert problem["detail"] == "That comment was deleted; reply to another one."
