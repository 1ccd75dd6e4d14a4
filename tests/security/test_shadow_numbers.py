"""#14 item 7: to a shadow-banned author every number looks as if their writes counted;
to everyone else nothing of theirs counts."""

from __future__ import annotations

import pytest

from service.extensions import db
from service.models import Ban, utcnow
from tests.helpers import auth

API = "/api/v1"
THREAD = f"{API}/articles/a1/comments"


@pytest.fixture
def troll(app):
    with app.app_context():
        db.session.add(Ban(user_id="troll", shadow=True, created_by="mod", created_at=utcnow()))
        db.session.commit()
    return auth("troll", name="Troll")


def _counts(client, headers=None):
    return client.get(f"{API}/counts?article_id=a1", headers=headers or {}).get_json()["counts"][
        "a1"
    ]


@pytest.mark.parametrize(
    "cache", [None, pytest.param("off", marks=pytest.mark.settings(COMMENTS_CACHE_URL="off"))]
)
def test_the_shadow_banned_author_cannot_tell_from_the_numbers(client, post, troll, cache):
    parent = post("a1", "a fair point", user="u-1").get_json()
    client.put(f"{API}/comments/{parent['id']}/reactions/like", headers=auth("u-2"))
    before_public = client.get(THREAD).get_json()
    assert post("a1", "my reply", user="troll", parent_id=parent["id"]).status_code == 201
    assert post("a1", "my own thread", user="troll").status_code == 201

    mine = client.get(THREAD, headers=troll).get_json()
    visible = len(mine["items"]) + sum(len(i["replies"]) for i in mine["items"])
    assert visible == 3 and mine["total"] == 3
    p = next(i for i in mine["items"] if i["id"] == parent["id"])
    assert p["reply_count"] == 1
    assert _counts(client, troll)["comments"] == 3

    r = client.put(f"{API}/comments/{parent['id']}/reactions/like", headers=troll)
    assert r.get_json() == {"reactions": {"like": 2}, "my_reactions": ["like"]}
    r = client.put(f"{API}/comments/{parent['id']}/reactions/insightful", headers=troll)
    assert r.get_json()["reactions"] == {"like": 2, "insightful": 1}
    mine = client.get(THREAD, headers=troll).get_json()
    p = next(i for i in mine["items"] if i["id"] == parent["id"])
    assert p["reactions"] == {"like": 2, "insightful": 1}
    assert p["my_reactions"] == ["insightful", "like"]

    # Everyone else: nothing of the troll's counts.
    public = client.get(THREAD).get_json()
    assert public["total"] == before_public["total"] == 1
    assert public["items"][0]["reply_count"] == 0
    assert public["items"][0]["reactions"] == {"like": 1}
    assert _counts(client)["comments"] == 1
    assert _counts(client, auth("u-3"))["comments"] == 1
    other = client.get(THREAD, headers=auth("u-3")).get_json()
    assert other["total"] == 1 and other["items"][0]["reactions"] == {"like": 1}


def test_a_troll_reacting_on_a_cached_page_sees_their_reaction_counted(client, post, troll):
    c = post("a1", "a fair point", user="u-1").get_json()
    client.get(THREAD)  # the public page is stored
    client.put(f"{API}/comments/{c['id']}/reactions/like", headers=troll)
    client.get(THREAD)
    mine = client.get(THREAD, headers=troll).get_json()
    assert mine["items"][0]["reactions"] == {"like": 1}
    assert client.get(THREAD).get_json()["items"][0]["reactions"] == {}


def test_each_articles_count_adds_only_the_shadowed_writes_still_standing(app, client, post):
    """To the shadow-banned author, /counts adds exactly their writes the ban kept out: the
    comments posted after it that still stand, and their uncounted article reactions, per
    article asked about, and nothing on a hidden article. Mutation testing (#22): without
    the ``shadowed`` or ``counted`` filters their writes from before the ban counted twice,
    without the status filter a comment they deleted still counted, without the hidden
    filter a hidden article showed their writes, without ``article_id IN`` an article they
    wrote on but did not ask about broke the answer (500), and an article with only their
    reaction got no comment count (or one), and one with only their comment one reaction."""
    from service.enums import ArticleStatus
    from service.models import Article

    troll = auth("troll", name="Troll")
    mod = auth("mod-1", roles=["moderator"], name="Mod")
    assert post("a1", "before the ban", user="troll").status_code == 201
    assert client.put(f"{API}/articles/a1/reactions/like", headers=troll).status_code == 200
    r = client.put(f"{API}/admin/bans/troll", json={"reason": "ring", "shadow": True}, headers=mod)
    assert r.status_code == 201
    assert post("a1", "after the ban", user="troll").status_code == 201
    gone = post("a1", "said and taken back", user="troll").get_json()
    assert client.delete(f"{API}/comments/{gone['id']}", headers=troll).status_code == 204
    assert client.put(f"{API}/articles/a1/reactions/insightful", headers=troll).status_code == 200
    assert client.put(f"{API}/articles/a2/reactions/like", headers=troll).status_code == 200
    assert post("a3", "in a thread hidden later", user="troll").status_code == 201
    assert client.put(f"{API}/articles/a3/reactions/like", headers=troll).status_code == 200
    assert post("a4", "not asked about", user="troll").status_code == 201
    assert client.put(f"{API}/articles/a4/reactions/like", headers=troll).status_code == 200
    assert post("a5", "words, no reaction", user="troll").status_code == 201
    with app.app_context():
        db.session.get(Article, "a3").status = ArticleStatus.HIDDEN
        db.session.commit()

    asked = f"{API}/counts?article_id=a1&article_id=a2&article_id=a3&article_id=a5"
    assert client.get(asked, headers=troll).get_json()["counts"] == {
        "a1": {"comments": 2, "reactions": 2},
        "a2": {"comments": 0, "reactions": 1},
        "a3": {"comments": 0, "reactions": 0},
        "a5": {"comments": 1, "reactions": 0},
    }
    assert client.get(asked).get_json()["counts"] == {
        "a1": {"comments": 1, "reactions": 1},
        "a2": {"comments": 0, "reactions": 0},
        "a3": {"comments": 0, "reactions": 0},
        "a5": {"comments": 0, "reactions": 0},
    }
    assert client.get(f"{API}/articles/a2", headers=troll).get_json()["comment_count"] == 0


def test_the_shadow_banned_author_can_react_to_their_own_comment(client, post, troll):
    """Their comment is there for them, so a reaction to it works as anyone's would: a 404
    for a comment they can see would give the ban away. Mutation testing (#22): judging
    whether the comment is visible as an anonymous reader (or as no viewer) refused it."""
    mine = post("a1", "my own view", user="troll").get_json()
    r = client.put(f"{API}/comments/{mine['id']}/reactions/insightful", headers=troll)
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"reactions": {"insightful": 1}, "my_reactions": ["insightful"]}


def test_a_troll_sees_their_article_reaction_added_to_everyone_elses(client, troll):
    """The shadow-banned author's own article reaction is added to the others' count of that
    kind, not shown alone (mutation testing, #22: ``counts.get(None, 0) + 1`` showed 1 where
    two readers had liked the article too)."""
    for user in ("r1", "r2"):
        assert (
            client.put(f"{API}/articles/a1/reactions/like", headers=auth(user)).status_code == 200
        )
    r = client.put(f"{API}/articles/a1/reactions/like", headers=troll)
    assert r.status_code == 200
    assert r.get_json() == {"reactions": {"like": 3}, "my_reactions": ["like"]}
    public = client.put(f"{API}/articles/a1/reactions/like", headers=auth("r3")).get_json()
    assert public["reactions"] == {"like": 3}  # r1, r2 and r3: the troll's like is not counted
