"""The public page cache (service/cache.py): every kind of write shows at once, and no
reader ever gets another reader's private view (own reactions, pending or shadowed
comments). Each test runs with the in-process cache; the Redis ones with TEST_REDIS_URL."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import update

from service.cache import MemoryCache, RedisCache
from service.extensions import db
from service.models import Article, Ban, utcnow
from tests.helpers import auth

API = "/api/v1"
THREAD = f"{API}/articles/a1/comments"


def bodies(response) -> list[str]:
    out = []

    def walk(items):
        for item in items:
            out.append(item["body"])
            walk(item["replies"])

    walk(response.get_json()["items"])
    return out


def cached_pages(app) -> int:
    cache = app.extensions["comments"].page_cache
    return len(cache) if isinstance(cache, MemoryCache) else -1


def test_anonymous_page_is_served_from_the_cache_byte_for_byte(app, client, post):
    post("a1", "first")
    miss = client.get(THREAD)
    assert cached_pages(app) == 1
    hit = client.get(THREAD)
    assert hit.status_code == 200
    assert hit.get_data() == miss.get_data()
    assert hit.headers["ETag"] == miss.headers["ETag"]
    assert hit.headers["Cache-Control"] == "public, max-age=5"
    assert hit.content_type == "application/json"
    again = client.get(THREAD, headers={"If-None-Match": hit.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.settings(COMMENTS_CACHE_URL="off")
def test_the_cache_can_be_switched_off(app, client, post):
    post("a1", "first")
    assert client.get(THREAD).status_code == 200
    assert app.extensions["comments"].page_cache is None


def test_cached_and_uncached_pages_are_identical(app, client, post, settings):
    for i in range(7):
        r = post("a1", f"c{i}", user=f"u-{i}")
        if i % 2:
            post("a1", f"reply {i}", user="u-9", parent_id=r.get_json()["id"])
    client.put(f"{API}/comments/1/reactions/like", headers=auth("r"))
    from service import create_app

    plain_app = create_app({**app.config, "COMMENTS_CACHE_URL": "off"})
    plain = plain_app.test_client()
    for query in ("", "?sort=oldest&limit=3", "?sort=top", "?sort=best&limit=2"):
        client.get(THREAD + query)  # fill
        for headers in ({}, auth("r"), auth("u-1")):
            cached, uncached = (
                client.get(THREAD + query, headers=headers),
                plain.get(THREAD + query, headers=headers),
            )
            assert cached.get_json() == uncached.get_json()
            assert cached.headers["ETag"] == uncached.headers["ETag"]
    with plain_app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_post_shows_at_once(client, post):
    post("a1", "first")
    assert bodies(client.get(THREAD)) == ["first"]
    r = post("a1", "second", user="u-2")
    post("a1", "a reply", user="u-3", parent_id=r.get_json()["id"])
    page = client.get(THREAD)
    assert bodies(page) == ["second", "a reply", "first"]
    assert page.get_json()["total"] == 3


def test_edit_shows_at_once(client, post):
    cid = post("a1", "before").get_json()["id"]
    assert bodies(client.get(THREAD)) == ["before"]
    r = client.patch(
        f"{API}/comments/{cid}", json={"body": "after"}, headers=auth("u-1", name="Name u-1")
    )
    assert r.status_code == 200
    assert bodies(client.get(THREAD)) == ["after"]


def test_delete_shows_at_once(client, post):
    keep = post("a1", "keep").get_json()["id"]
    gone = post("a1", "gone", user="u-2").get_json()["id"]
    reply_to_keep = post("a1", "reply", user="u-3", parent_id=keep).get_json()["id"]
    assert sorted(bodies(client.get(THREAD))) == ["gone", "keep", "reply"]
    assert client.delete(f"{API}/comments/{gone}", headers=auth("u-2")).status_code == 204
    assert client.delete(f"{API}/comments/{reply_to_keep}", headers=auth("u-3")).status_code == 204
    page = client.get(THREAD).get_json()
    assert bodies(client.get(THREAD)) == ["keep"]
    assert page["total"] == 1 and page["items"][0]["reply_count"] == 0


def test_moderator_removal_shows_at_once(client, post):
    cid = post("a1", "rude").get_json()["id"]
    assert bodies(client.get(THREAD)) == ["rude"]
    r = client.delete(f"{API}/comments/{cid}", headers=auth("mod", roles=["moderator"]))
    assert r.status_code == 204
    assert bodies(client.get(THREAD)) == []


def test_reactions_show_at_once(client, post):
    cid = post("a1", "first").get_json()["id"]
    assert client.get(THREAD).get_json()["items"][0]["reactions"] == {}
    client.put(f"{API}/comments/{cid}/reactions/like", headers=auth("r1"))
    item = client.get(THREAD).get_json()["items"][0]
    assert item["reactions"] == {"like": 1} and item["score"] == 1
    client.delete(f"{API}/comments/{cid}/reactions/like", headers=auth("r1"))
    item = client.get(THREAD).get_json()["items"][0]
    assert item["reactions"] == {} and item["score"] == 0


def test_article_status_is_part_of_the_key(app, client, post):
    post("a1", "first")
    assert bodies(client.get(THREAD)) == ["first"]
    with app.app_context():  # even a change that forgot to bump the version
        db.session.execute(update(Article).values(status="hidden"))
        db.session.commit()
    assert client.get(THREAD).get_json() == {"items": [], "next_cursor": None, "total": 0}


def test_own_reactions_are_never_shared(app, client, post):
    cid = post("a1", "first").get_json()["id"]
    client.put(f"{API}/comments/{cid}/reactions/funny", headers=auth("r1"))
    # r1 fills the cache on a miss, then reads it on a hit
    for _ in range(2):
        mine = client.get(THREAD, headers=auth("r1")).get_json()["items"][0]
        assert mine["my_reactions"] == ["funny"]
    assert cached_pages(app) == 1
    assert client.get(THREAD).get_json()["items"][0]["my_reactions"] == []
    assert client.get(THREAD, headers=auth("r2")).get_json()["items"][0]["my_reactions"] == []
    r1 = client.get(THREAD, headers=auth("r1"))
    assert r1.headers["Cache-Control"] == "private, no-cache"
    assert r1.get_json()["items"][0]["my_reactions"] == ["funny"]


@pytest.mark.settings(COMMENTS_PREMODERATION="first_comment")
def test_pending_comments_stay_with_their_author(app, client, post):
    assert post("a1", "held for review", user="newbie").get_json()["status"] == "pending"
    # the author reads first: were their page stored, everyone would see the pending comment
    assert bodies(client.get(THREAD, headers=auth("newbie"))) == ["held for review"]
    assert bodies(client.get(THREAD)) == []
    assert bodies(client.get(THREAD, headers=auth("other"))) == []
    assert bodies(client.get(THREAD, headers=auth("newbie"))) == ["held for review"]


def test_shadowed_comments_stay_with_their_author(app, client, post, count_queries):
    with app.app_context():
        db.session.add(Ban(user_id="troll", shadow=True, created_by="mod", created_at=utcnow()))
        db.session.commit()
    post("a1", "visible", user="u-1")
    post("a1", "shadowed", user="troll")
    with count_queries() as q:
        assert bodies(client.get(THREAD, headers=auth("troll"))) == ["shadowed", "visible"]
    assert q.count <= 4
    assert bodies(client.get(THREAD)) == ["visible"]
    assert bodies(client.get(THREAD, headers=auth("u-2"))) == ["visible"]
    assert bodies(client.get(THREAD, headers=auth("troll"))) == ["shadowed", "visible"]


def test_memory_cache_stays_within_its_budget():
    cache = MemoryCache(budget=100)
    for i in range(10):
        cache.set(f"k{i}", b"x" * 20)
    assert cache.size <= 100 and len(cache) == 5
    assert cache.get("k0") is None and cache.get("k9") == b"x" * 20
    cache.get("k5")  # recently used: kept
    cache.set("k10", b"y" * 20)
    assert cache.get("k5") is not None and cache.get("k6") is None
    cache.set("huge", b"z" * 60)  # more than a quarter of the budget: not stored
    assert cache.get("huge") is None


@pytest.mark.settings(COMMENTS_CACHE_URL="redis://127.0.0.1:1/0")
def test_unreachable_redis_is_a_miss_not_an_error(client, post):
    post("a1", "first")
    assert bodies(client.get(THREAD)) == ["first"]
    post("a1", "second", user="u-2")
    assert bodies(client.get(THREAD)) == ["second", "first"]


def _redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("set TEST_REDIS_URL to test the page cache on Redis")
    return url


@pytest.mark.redis
def test_redis_pages_are_shared_and_invalidated(database_url, settings, post, client):
    from service import create_app

    url = _redis_url()
    config = {"DATABASE_URL": database_url, **settings, "COMMENTS_CACHE_URL": url}
    one, two = create_app(config), create_app(config)
    post("a1", "first")
    first = one.test_client().get(THREAD)
    assert isinstance(one.extensions["comments"].page_cache, RedisCache)
    # the second instance reads the page the first one stored
    stored = two.test_client()
    assert stored.get(THREAD).get_data() == first.get_data()
    post("a1", "second", user="u-2")
    assert bodies(stored.get(THREAD)) == ["second", "first"]
    assert bodies(one.test_client().get(THREAD)) == ["second", "first"]
    for application in (one, two):
        with application.app_context():
            db.engine.dispose()


def test_json_provider_writes_what_flask_would(app):
    import datetime as dt
    import json

    from flask.json.provider import DefaultJSONProvider

    value = {
        "b": 1,
        "a": [1.5, None, True, "é", "lone \ud800"],
        3: "int key",
        "when": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
    }
    plain = DefaultJSONProvider(app)
    plain.sort_keys = False
    assert json.loads(app.json.dumps(value)) == json.loads(plain.dumps(value))
    with app.test_request_context():
        assert json.loads(app.json.response(value).get_data()) == json.loads(plain.dumps(value))
        assert app.json.response({"x": 1}).get_data() == b'{"x":1}\n'


@pytest.mark.settings(COMMENTS_COUNTS_CACHE_SECONDS=1)
def test_counts_are_kept_for_one_time_slot_then_read_again(app, client, post, monkeypatch):
    """The default: /counts answers live in the page cache for COMMENTS_COUNTS_CACHE_SECONDS,
    keyed by the query string and the time slot."""
    from service.api import counts as counts_view

    now = [5000.2]
    monkeypatch.setattr(counts_view, "_now", lambda: now[0])
    post("a1", "first")
    url = f"{API}/counts?article_id=a1&article_id=a2"
    first = client.get(url)
    assert first.get_json()["counts"]["a1"] == {"comments": 1, "reactions": 0}
    post("a1", "second")
    now[0] = 5000.9  # same one-second slot: the stored answer, byte for byte
    kept = client.get(url)
    assert kept.get_data() == first.get_data() and kept.headers["ETag"] == first.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    now[0] = 5001.0  # the next slot reads the database
    fresh = client.get(url)
    assert fresh.get_json()["counts"]["a1"] == {"comments": 2, "reactions": 0}
    assert fresh.headers["ETag"] != first.headers["ETag"]
    # refusals are never stored: the same bad query is checked (and refused) every time
    for _ in range(2):
        assert client.get(f"{API}/counts?article_id=a1&bogus=1").status_code == 422


@pytest.mark.settings(COMMENTS_COUNTS_CACHE_SECONDS=0)
def test_counts_cache_can_be_switched_off(client, post):
    url = f"{API}/counts?article_id=a1"
    post("a1", "first")
    assert client.get(url).get_json()["counts"]["a1"]["comments"] == 1
    post("a1", "second")
    assert client.get(url).get_json()["counts"]["a1"]["comments"] == 2
