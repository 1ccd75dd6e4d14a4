"""sort=hot (issue #18): Hacker News-style decay with a frozen clock, tie-breaks, and
pagination whose cursor freezes the reference time, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from sqlalchemy import update

from service.domain import ranking
from service.domain.threads import Cursors
from service.extensions import db
from service.models import Comment
from tests.helpers import auth, utc

T0 = utc(2026, 11, 29, 12, 0, 0)
THREAD = "/api/v1/articles/hot-1/comments"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, dt.datetime]:
    """The API's clock, set by the test: state["now"]."""
    state = {"now": T0}
    monkeypatch.setattr("service.api.comments.utcnow", lambda: state["now"])
    return state


def _post(client: Any, clock: dict[str, dt.datetime], at: dt.datetime, body: str) -> int:
    clock["now"] = at
    r = client.post(THREAD, json={"body": body}, headers=auth(f"author-{body}"))
    assert r.status_code == 201, r.get_json()
    return int(r.get_json()["id"])


def _score(app: Any, comment_id: int, score: int) -> None:
    with app.app_context():
        db.session.execute(update(Comment).where(Comment.id == comment_id).values(score=score))
        db.session.commit()


def _ids(client: Any, query: str = "") -> tuple[list[int], str | None]:
    r = client.get(f"{THREAD}?sort=hot{query}")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    return [c["id"] for c in body["items"]], body["next_cursor"]


def test_hot_orders_by_decayed_score_with_a_frozen_clock(app, client, clock):
    old_popular = _post(client, clock, T0 - dt.timedelta(hours=10), "old-popular")
    fresh = _post(client, clock, T0 - dt.timedelta(minutes=30), "fresh")
    old_quiet = _post(client, clock, T0 - dt.timedelta(hours=10, minutes=1), "old-quiet")
    mid = _post(client, clock, T0 - dt.timedelta(hours=3), "mid")
    _score(app, old_popular, 30)
    _score(app, mid, 4)
    _score(app, old_quiet, -1)
    clock["now"] = T0
    ids, _ = _ids(client)
    # hot: old-popular 31/12^1.8 = 0.35, fresh 1/2.5^1.8 = 0.19, mid 5/5^1.8 = 0.28,
    # old-quiet 0/12.02^1.8 = 0
    expected = {
        old_popular: ranking.hot(30, 10),
        fresh: ranking.hot(0, 0.5),
        mid: ranking.hot(4, 3),
        old_quiet: ranking.hot(-1, 10 + 1 / 60),
    }
    assert (
        ids == sorted(expected, key=lambda i: -expected[i]) == [old_popular, mid, fresh, old_quiet]
    )
    # A day later the old comments have sunk below a brand new one.
    newer = _post(client, clock, T0 + dt.timedelta(hours=24), "newer")
    ids, _ = _ids(client)
    assert ids[0] == newer


def test_ties_go_to_the_newer_comment_and_pinned_comes_first(app, client, clock):
    same = [_post(client, clock, T0, f"same-{i}") for i in range(3)]  # one instant, one score
    ids, _ = _ids(client)
    assert ids == sorted(same, reverse=True)
    pin = client.post(
        f"/api/v1/admin/comments/{same[2 - 2]}/actions",
        json={"action": "pin"},
        headers=auth("mod", roles=["moderator"]),
    )
    assert pin.status_code == 200
    ids, _ = _ids(client)
    assert ids == [same[0], same[2], same[1]]


@pytest.mark.settings(COMMENTS_HOT_GRAVITY=0.5)
def test_gravity_is_configurable(app, client, clock):
    """With a weak gravity an old, well-liked comment still beats a fresh one."""
    old = _post(client, clock, T0 - dt.timedelta(hours=20), "old")
    fresh = _post(client, clock, T0, "fresh")
    _score(app, old, 5)
    ids, _ = _ids(client)
    assert ids == [old, fresh]  # 6/22^0.5 = 1.28 > 1/2^0.5 = 0.71 (at 1.8: 0.02 < 0.29)


def test_pages_have_no_duplicates_or_gaps_while_the_clock_moves(app, client, clock):
    ids = []
    for i in range(23):
        ids.append(_post(client, clock, T0 + dt.timedelta(minutes=7 * i), f"c{i}"))
    for i, comment_id in enumerate(ids):
        _score(app, comment_id, (i * 7) % 5 - 1)  # mixed scores, some negative
    clock["now"] = T0 + dt.timedelta(hours=3)
    first, cursor = _ids(client, "&limit=5")
    # Hours pass between pages: the cursor keeps the first page's reference time, so the
    # remaining pages continue that ranking exactly, although on its own the ranking has moved.
    clock["now"] = T0 + dt.timedelta(hours=30)
    seen = list(first)
    while cursor:
        page, cursor = _ids(client, f"&limit=5&cursor={cursor}")
        seen += page
    assert len(seen) == len(set(seen)) == 23
    reference = (T0 + dt.timedelta(hours=3)).timestamp()
    with app.app_context():
        rows = db.session.query(Comment.id, Comment.score, Comment.created_at).all()
    expected = sorted(
        rows,
        key=lambda r: (-ranking.hot(r[1], (reference - r[2].timestamp()) / 3600), -r[0]),
    )
    assert seen == [r[0] for r in expected]
    # A first page asked for now ranks differently: the reference time did matter.
    fresh, _ = _ids(client, "&limit=23")
    assert fresh != seen


def test_a_new_comment_during_paging_makes_no_duplicate(app, client, clock):
    for i in range(6):
        _post(client, clock, T0 + dt.timedelta(minutes=i), f"p{i}")
    clock["now"] = T0 + dt.timedelta(minutes=10)
    first, cursor = _ids(client, "&limit=3")
    late = _post(client, clock, T0 + dt.timedelta(minutes=11), "late")
    rest, cursor2 = _ids(client, f"&limit=3&cursor={cursor}")
    assert cursor2 is None
    assert late not in rest and not set(first) & set(rest)
    assert len(first + rest) == 6


def test_a_hot_cursor_is_refused_by_other_sorts_and_tampering_is_400(app, client, clock):
    for i in range(3):
        _post(client, clock, T0, f"x{i}")
    _, cursor = _ids(client, "&limit=1")
    assert client.get(f"{THREAD}?sort=top&cursor={cursor}").status_code == 400
    assert client.get(f"{THREAD}?sort=hot&cursor={cursor[:-2]}xx").status_code == 400


def test_hot_pages_are_cached_per_minute(app, client, clock):
    """The public page cache keeps a hot page within its minute, never past it."""
    a = _post(client, clock, T0 - dt.timedelta(hours=5), "a")
    b = _post(client, clock, T0 - dt.timedelta(minutes=50), "b")
    _score(app, a, 2)
    clock["now"] = T0
    first, _ = _ids(client)
    assert first == [b, a]  # 1/2.83^1.8 = 0.15 > 3/7^1.8 = 0.09
    clock["now"] = T0 + dt.timedelta(hours=30)  # a different minute: ranked again
    later, _ = _ids(client)
    assert later == [a, b]  # 3/37^1.8 > 1/32.8^1.8


def _floor(app: Any, reference: float, limit: int) -> int:
    """The least score sort=hot's first page ranks (domain/threads._hot_floor)."""
    from sqlalchemy import select

    from service.domain import threads

    with app.app_context():
        dialect = db.session.get_bind().dialect.name
        floor = threads._hot_floor(
            dialect,
            article_id="hot-1",
            admits=[threads.visible_to(threads.Viewer())],
            rank=threads.hot_rank(dialect, reference, ranking.DEFAULT_GRAVITY),
            reference=reference,
            gravity=ranking.DEFAULT_GRAVITY,
            take=limit + 1,
            skip=limit,
        )
        return int(db.session.execute(select(floor)).scalar_one())


def test_the_score_floor_leaves_the_ranking_exactly_as_ranking_everything(app, client, clock):
    # A long, day-old thread of mostly unvoted comments, a few well-liked ones, some
    # disliked, a pinned disliked one: the floor skips most of it, and every page is still
    # exactly what ranking every comment gives (ranking.hot in Python here).
    ids = []
    for i in range(60):
        ids.append(_post(client, clock, T0 - dt.timedelta(hours=30, minutes=17 * i), f"f{i}"))
    scores = {
        cid: (12 if i % 9 == 0 else (-2 if i % 7 == 0 else (1 if i % 4 == 0 else 0)))
        for i, cid in enumerate(ids)
    }
    for cid, score in scores.items():
        _score(app, cid, score)
    pinned = ids[21]  # score -2
    pin = client.post(
        f"/api/v1/admin/comments/{pinned}/actions",
        json={"action": "pin"},
        headers=auth("mod", roles=["moderator"]),
    )
    assert pin.status_code == 200
    clock["now"] = T0
    reference = ranking.hot_reference(T0.timestamp())
    floor = _floor(app, reference, limit=5)
    assert floor >= 1, floor  # the least score ranked: the unvoted comments are left out
    with app.app_context():
        rows = db.session.query(Comment.id, Comment.score, Comment.created_at).all()
    expected = [pinned] + [
        r[0]
        for r in sorted(
            rows,
            key=lambda r: (-ranking.hot(r[1], (reference - r[2].timestamp()) / 3600), -r[0]),
        )
        if r[0] != pinned
    ]
    seen, cursor = _ids(client, "&limit=5")
    while cursor:
        page, cursor = _ids(client, f"&limit=5&cursor={cursor}")
        seen += page
    assert seen == expected
    for limit in range(1, 16):  # each first page has its own floor
        assert _ids(client, f"&limit={limit}")[0] == expected[:limit], limit


def _pin(client: Any, comment_id: int) -> None:
    pin = client.post(
        f"/api/v1/admin/comments/{comment_id}/actions",
        json={"action": "pin"},
        headers=auth("mod", roles=["moderator"]),
    )
    assert pin.status_code == 200, pin.get_json()


def test_an_author_sees_their_own_shadowed_comment_in_hot_and_no_one_else_does(app, client, clock):
    public = _post(client, clock, T0 - dt.timedelta(hours=1), "pub")
    mine = _post(client, clock, T0 - dt.timedelta(hours=2), "mine")
    pinned = _post(client, clock, T0 - dt.timedelta(hours=5), "pin")
    clock["now"] = T0
    r = client.post(
        "/api/v1/articles/hot-2/comments", json={"body": "elsewhere"}, headers=auth("x")
    )
    assert r.status_code == 201
    _pin(client, int(r.get_json()["id"]))  # pinned in another article: not in this one
    _score(app, public, 3)
    _score(app, pinned, -2)  # ranks below everything, but pinned comes first
    _pin(client, pinned)
    with app.app_context():
        db.session.execute(update(Comment).where(Comment.id == mine).values(shadowed=True))
        db.session.commit()
    assert _ids(client)[0] == [pinned, public]

    def pages(user: str) -> list[int]:
        seen: list[int] = []
        cursor = ""
        while True:  # one comment a page: the cursor after the pinned one too
            r = client.get(f"{THREAD}?sort=hot&limit=1{cursor}", headers=auth(user))
            assert r.status_code == 200, r.get_json()
            seen += [c["id"] for c in r.get_json()["items"]]
            if not r.get_json()["next_cursor"]:
                return seen
            cursor = f"&cursor={r.get_json()['next_cursor']}"

    assert pages("author-mine") == [pinned, public, mine]
    assert pages("someone-else") == [pinned, public]


def test_the_score_floor_is_exact_and_the_cursor_carries_the_exact_rank(app, client, clock):
    """The floor (_hot_floor) from its definition: H0 is the 2nd best rank (limit 1) of the
    2 best-scored and 2 newest unpinned top-level comments, a_min the age of the youngest
    unpinned top-level comment of this article; replies, pinned comments and other
    articles take no part."""
    ages = {"a": 100 * 60, "b": 100 * 60 + 1, "e": 20, "c": 60, "d": 40}  # minutes
    scores = {"a": 100, "b": 99, "e": 50, "c": 20, "d": 30}
    ids = {k: _post(client, clock, T0 - dt.timedelta(minutes=m), k) for k, m in ages.items()}
    for k, score in scores.items():
        _score(app, ids[k], score)
    # Younger than all of them: a reply, a pinned comment, a comment on another article.
    clock["now"] = T0 - dt.timedelta(minutes=6)
    r = client.post(THREAD, json={"body": "re", "parent_id": ids["a"]}, headers=auth("r"))
    assert r.status_code == 201
    pinned = _post(client, clock, T0 - dt.timedelta(minutes=12), "pinned")
    _pin(client, pinned)
    clock["now"] = T0 - dt.timedelta(minutes=3)
    r = client.post("/api/v1/articles/hot-2/comments", json={"body": "other"}, headers=auth("o"))
    assert r.status_code == 201
    clock["now"] = T0
    reference = ranking.hot_reference(T0.timestamp())

    def hot(k: str) -> float:
        return ranking.hot(scores[k], (reference - (T0.timestamp() - 60 * ages[k])) / 3600)

    # Candidates: a, b (best scored) and d, c (newest ids); e (younger, better ranked) is
    # not one, so H0 is c's rank, not d's.
    h0 = sorted((hot(k) for k in "abcd"), reverse=True)[1]
    a_min = (reference - (T0.timestamp() - 60 * ages["e"])) / 3600
    least = math.ceil(h0 * (a_min + 2.0) ** ranking.DEFAULT_GRAVITY * (1.0 - 1e-9) - 1.0)
    assert _floor(app, reference, limit=1) == least == 13
    # The first page's cursor holds the pinned comment's exact rank and the reference time.
    r = client.get(f"{THREAD}?sort=hot&limit=1")
    assert [c["id"] for c in r.get_json()["items"]] == [pinned]
    scope, key = Cursors("x")._serializer.loads_unsafe(r.get_json()["next_cursor"])[1]
    assert key[0] is True and key[2] == pinned and key[3] == reference
    # (SQLite's julianday() keeps the time to about 50 microseconds)
    age = (reference - (T0.timestamp() - 720)) / 3600
    assert key[1] == pytest.approx(ranking.hot(0, age), rel=1e-8) == 1 / 2.2**1.8
    order = sorted(ages, key=lambda k: -hot(k))
    assert _ids(client)[0] == [pinned] + [ids[k] for k in order]


@pytest.mark.parametrize("score", [1, -1])
def test_a_comment_right_at_the_score_floor_is_still_ranked(app, client, clock, score):
    """With limit 1 the 2nd comment sets the floor: the youngest, its own score + 1 is
    exactly H0 * (a_min + 2) ** gravity (kept by the rounding slack), and with a rank of 0
    (score -1) there is no floor at all; either way it is on the second page."""
    top = _post(client, clock, T0 - dt.timedelta(hours=1), "top")
    _score(app, top, 10)
    at_floor = _post(client, clock, T0, "at-floor")
    _score(app, at_floor, score)
    first, cursor = _ids(client, "&limit=1")
    assert first == [top] and cursor is not None
    assert _ids(client, f"&limit=1&cursor={cursor}") == ([at_floor], None)


def test_a_comment_newer_than_the_reference_time_has_age_zero(app, client, clock):
    """A first page's reference time is the start of its minute (ranking.hot_reference):
    a comment posted later in that minute ranks as 0 hours old, not a negative age."""
    _post(client, clock, T0 - dt.timedelta(hours=1), "older")
    newest = _post(client, clock, T0 + dt.timedelta(seconds=30), "newest")
    clock["now"] = T0 + dt.timedelta(seconds=50)
    r = client.get(f"{THREAD}?sort=hot&limit=1")
    assert [c["id"] for c in r.get_json()["items"]] == [newest]
    _, key = Cursors("x")._serializer.loads_unsafe(r.get_json()["next_cursor"])[1]
    assert key[3] == T0.timestamp()
    assert key[1] == pytest.approx(ranking.hot(0, 0.0), rel=1e-8) == 1 / 2**1.8
