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
