"""A thread listing costs a fixed number of queries, whatever the thread's size."""

from __future__ import annotations

import random

import pytest

from service.domain import comments as rules_
from service.domain.reactions import react_to_comment
from service.extensions import db
from service.models import utcnow
from tests.conftest import auth

KINDS = ["like", "dislike", "insightful", "funny", "agree", "disagree"]


def seed(app, article: str, n: int) -> None:
    """n comments, a third of them replies at various depths, with reactions."""
    rng = random.Random(n)
    with app.app_context():
        rules = rules_.Rules.from_config(app.config)
        ids: list[int] = []
        for i in range(n):
            parent = rng.choice(ids) if ids and i % 3 == 0 else None
            author = rules_.Author(user_id=f"u-{i % 13}", name=f"U{i % 13}")
            c = rules_.create_comment(
                db.session,
                article_id=article,
                author=author,
                body=f"comment {i}",
                parent_id=parent,
                rules=rules,
                now=utcnow(),
            ).comment
            ids.append(c.id)
            if i % 4 == 0:
                react_to_comment(
                    db.session,
                    comment=c,
                    user_id="reader",
                    kind=rng.choice(KINDS),
                    kinds=KINDS,
                    add=True,
                )
        db.session.commit()


@pytest.mark.parametrize("sort", ["newest", "oldest", "top", "best", "controversial", "hot"])
def test_listing_query_count_does_not_grow(app, client, count_queries, sort):
    seed(app, "small", 5)
    seed(app, "large", 500)
    counts = {}
    for article in ("small", "large"):
        for who, headers in (("anonymous", {}), ("reader", auth("reader"))):
            with count_queries() as q:
                r = client.get(
                    f"/api/v1/articles/{article}/comments?sort={sort}&limit=20", headers=headers
                )
            assert r.status_code == 200
            counts[(article, who)] = q.count
            if article == "large":
                assert len(r.get_json()["items"]) == 20
    assert counts[("small", "anonymous")] == counts[("large", "anonymous")]
    assert counts[("small", "reader")] == counts[("large", "reader")]
    # article row, top-level page, first replies, reactions (counts + the reader's own)
    assert counts[("large", "anonymous")] <= 4
    assert counts[("large", "reader")] <= 4


@pytest.mark.parametrize(
    "cache",
    [
        pytest.param("memory", id="cached"),
        pytest.param("off", id="uncached", marks=pytest.mark.settings(COMMENTS_CACHE_URL="off")),
    ],
)
def test_my_reactions_cost_one_query_per_page_not_per_comment(app, client, count_queries, cache):
    seed(app, "a", 60)
    with count_queries() as anonymous:
        client.get("/api/v1/articles/a/comments?limit=50")
    with count_queries() as reader:
        r = client.get("/api/v1/articles/a/comments?limit=50", headers=auth("reader"))
    if cache == "off":
        assert reader.count == anonymous.count
    else:
        # the public page is cached: the reader pays the article row and their reactions
        assert reader.count == 2 and anonymous.count == 4
    mine = [c for c in r.get_json()["items"] if c["my_reactions"]]
    assert mine, "the seeded reader reacted to every fourth comment"
