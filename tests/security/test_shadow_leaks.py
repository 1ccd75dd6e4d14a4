"""A shadow-banned author's writes change nothing another caller can observe, number by
number (#14, the other side of item 7): reactions and score, the article's comment count,
/counts, GET /comments/{id} and its /replies, the thread's total, the auto-close clock and
the names a guest may use. The shadow-banned author alone sees their own."""

from __future__ import annotations

import datetime as dt

import pytest

from service import services
from service.domain import comments as rules_
from service.extensions import db
from service.models import Ban, utcnow
from tests.helpers import auth

API = "/api/v1"
THREAD = f"{API}/articles/a1/comments"
OTHERS = {"anonymous": {}, "reader": auth("u-3", name="Third")}


@pytest.fixture
def troll(app):
    with app.app_context():
        db.session.add(Ban(user_id="troll", shadow=True, created_by="mod", created_at=utcnow()))
        db.session.commit()
    return auth("troll", name="Troll")


def _get(client, path, headers=None):
    r = client.get(path, headers=headers or {})
    assert r.status_code == 200, (path, r.get_json())
    return r.get_json()


def test_a_trolls_reactions_move_no_count_and_no_score(client, post, troll):
    c = post("a1", "a fair point", user="u-1").get_json()
    reply = post("a1", "agreed", user="u-2", parent_id=c["id"]).get_json()
    assert (
        client.put(f"{API}/comments/{c['id']}/reactions/like", headers=auth("u-2")).status_code
        == 200
    )
    before = {who: _get(client, f"{API}/comments/{c['id']}", h) for who, h in OTHERS.items()}

    for method, kind in (
        ("put", "like"),
        ("put", "dislike"),  # a vote flip withdraws the (uncounted) like
        ("put", "insightful"),
        ("put", "funny"),
        ("delete", "funny"),
    ):
        r = getattr(client, method)(f"{API}/comments/{c['id']}/reactions/{kind}", headers=troll)
        assert r.status_code == 200
    client.put(f"{API}/comments/{reply['id']}/reactions/dislike", headers=troll)

    for who, headers in OTHERS.items():
        now = _get(client, f"{API}/comments/{c['id']}", headers)
        assert now["reactions"] == before[who]["reactions"] == {"like": 1}, who
        assert now["score"] == before[who]["score"] == 1, who
        assert now["replies"][0]["reactions"] == {} and now["replies"][0]["score"] == 0
        listed = _get(client, THREAD, headers)["items"][0]
        assert listed["reactions"] == {"like": 1} and listed["score"] == 1
        replies = _get(client, f"{API}/comments/{c['id']}/replies", headers)["items"]
        assert replies[0]["reactions"] == {} and replies[0]["score"] == 0
        top = _get(client, THREAD + "?sort=top", headers)["items"][0]
        assert top["id"] == c["id"] and top["score"] == 1
    # Another reader's own reaction answer counts them, not the troll.
    r = client.put(f"{API}/comments/{c['id']}/reactions/insightful", headers=auth("u-3"))
    assert r.get_json()["reactions"] == {"like": 1, "insightful": 1}

    # The troll sees their reactions counted.
    mine = _get(client, f"{API}/comments/{c['id']}", troll)
    assert mine["reactions"] == {"like": 1, "dislike": 1, "insightful": 2}
    assert mine["my_reactions"] == ["dislike", "insightful"]


def test_a_trolls_comments_move_no_article_count_total_or_counts(client, post, troll):
    parent = post("a1", "a fair point", user="u-1").get_json()
    assert post("a1", "my reply", user="troll", parent_id=parent["id"]).status_code == 201
    assert post("a1", "my own thread", user="troll").status_code == 201
    assert client.put(f"{API}/articles/a1/reactions/like", headers=troll).status_code == 200

    for who, headers in OTHERS.items():
        article = _get(client, f"{API}/articles/a1", headers)
        assert article["comment_count"] == 1 and article["reactions"] == {}, who
        counts = _get(client, f"{API}/counts?article_id=a1", headers)["counts"]["a1"]
        assert counts == {"comments": 1, "reactions": 0}, who
        thread = _get(client, THREAD, headers)
        assert thread["total"] == 1 and [i["id"] for i in thread["items"]] == [parent["id"]]
        assert thread["items"][0]["reply_count"] == 0 and thread["items"][0]["replies"] == []

    # The troll: every number as if their writes counted.
    article = _get(client, f"{API}/articles/a1", troll)
    assert article["comment_count"] == 3
    assert article["reactions"] == {"like": 1} and article["my_reactions"] == ["like"]
    counts = _get(client, f"{API}/counts?article_id=a1", troll)["counts"]["a1"]
    assert counts == {"comments": 3, "reactions": 1}
    assert _get(client, THREAD, troll)["total"] == 3


def test_get_comment_and_its_replies_show_nothing_of_a_troll(client, post, troll):
    parent = post("a1", "a fair point", user="u-1").get_json()
    answer = post("a1", "agreed", user="u-2", parent_id=parent["id"]).get_json()
    under_parent = post("a1", "troll here", user="troll", parent_id=parent["id"]).get_json()
    under_answer = post("a1", "and here", user="troll", parent_id=answer["id"]).get_json()

    for who, headers in OTHERS.items():
        one = _get(client, f"{API}/comments/{parent['id']}", headers)
        assert one["reply_count"] == 1, who
        assert [r["id"] for r in one["replies"]] == [answer["id"]]
        assert one["replies"][0]["reply_count"] == 0 and one["replies"][0]["replies"] == []
        page = _get(client, f"{API}/comments/{parent['id']}/replies", headers)
        assert [r["id"] for r in page["items"]] == [answer["id"]]
        assert page["items"][0]["reply_count"] == 0
        answer_now = _get(client, f"{API}/comments/{answer['id']}", headers)
        assert answer_now["reply_count"] == 0 and answer_now["replies"] == []
        for hidden in (under_parent, under_answer):
            assert client.get(f"{API}/comments/{hidden['id']}", headers=headers).status_code == 404

    # The troll sees their replies, counted where they hang.
    one = _get(client, f"{API}/comments/{parent['id']}", troll)
    assert one["reply_count"] == 3
    assert {r["id"] for r in one["replies"]} == {answer["id"], under_parent["id"]}
    nested = next(r for r in one["replies"] if r["id"] == answer["id"])
    assert nested["reply_count"] == 1 and nested["replies"][0]["id"] == under_answer["id"]
    page = _get(client, f"{API}/comments/{parent['id']}/replies", troll)
    assert [r["id"] for r in page["items"]] == [
        answer["id"],
        under_parent["id"],
        under_answer["id"],
    ]
    assert page["items"][0]["reply_count"] == 1
    assert _get(client, f"{API}/comments/{answer['id']}", troll)["reply_count"] == 1


def test_a_trolls_deleted_thread_leaves_no_tombstone(client, post, troll):
    top = post("a1", "troll thread", user="troll").get_json()
    post("a1", "troll again", user="troll", parent_id=top["id"])
    assert client.delete(f"{API}/comments/{top['id']}", headers=troll).status_code == 204
    for who, headers in OTHERS.items():
        thread = _get(client, THREAD, headers)
        assert thread == {"items": [], "next_cursor": None, "total": 0}, who


@pytest.mark.settings(COMMENTS_AUTO_CLOSE_DAYS=1)
def test_a_trolls_first_comment_does_not_start_the_auto_close_clock(app, client, post, troll):
    with app.app_context():
        rules_.create_comment(
            db.session,
            article_id="a1",
            author=rules_.Author(user_id="troll", name="Troll"),
            body="first!",
            parent_id=None,
            rules=rules_.Rules.from_settings(services.of(app).settings),
            now=utcnow() - dt.timedelta(days=2),
        )
        db.session.commit()
    # Before: the thread had closed, for everyone, a day after the troll's invisible post.
    r = post("a1", "the first comment anyone can see", user="u-1")
    assert r.status_code == 201, r.get_json()


def test_a_trolls_name_does_not_refuse_a_guest(client, post, troll):
    assert post("a1", "I am the Troll", user="troll").status_code == 201  # name "Name troll"
    r = client.post(THREAD, json={"body": "guest words", "author_name": "Name troll"})
    assert r.status_code == 201, r.get_json()  # a 422 would show the troll's comment exists
    # A visible signed-in author's name stays protected.
    assert post("a1", "visible words", user="u-1").status_code == 201
    r = client.post(THREAD, json={"body": "guest again", "author_name": "Name u-1"})
    assert r.status_code == 422


def test_a_reply_below_a_shadowed_comment_stays_shadowed_after_the_ban(app, client, post, troll):
    """Found by the state machine: the troll's comment, written under the ban, got a reply
    from them after the ban was lifted; the reply counted (total 1) below a parent no one
    else can see (0 visible)."""
    top = post("a1", "under the ban", user="troll").get_json()
    with app.app_context():
        db.session.execute(db.delete(Ban).where(Ban.user_id == "troll"))
        db.session.commit()
    assert post("a1", "after the ban", user="troll", parent_id=top["id"]).status_code == 201
    for who, headers in OTHERS.items():
        thread = _get(client, THREAD, headers)
        assert thread["total"] == 0 and thread["items"] == [], who
        assert _get(client, f"{API}/articles/a1", headers)["comment_count"] == 0, who
