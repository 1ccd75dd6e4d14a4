"""sort=hot (issue #18): Hacker News-style decay with a frozen clock, tie-breaks, and
pagination whose cursor freezes the reference time, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import update

from service.domain import ranking
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
