"""A thread listing costs a fixed number of queries, whatever the thread's size."""

from __future__ import annotations

import random

import pytest

from service import services
from service.domain import comments as rules_
from service.domain.reactions import react_to_comment
from service.extensions import db
from service.models import utcnow
from tests.helpers import auth

KINDS = ["like", "dislike", "insightful", "funny", "agree", "disagree"]


def seed(app, article: str, n: int) -> None:
    """n comments, a third of them replies at various depths, with reactions."""
    rng = random.Random(n)
    with app.app_context():
        rules = rules_.Rules.from_settings(services.of(app).settings)
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


# --- GET /comments/{id}/context (#16) --------------------------------------------------------


@pytest.mark.settings(COMMENTS_REPLIES_PER_THREAD=3)
def test_comment_context_query_count_does_not_grow_with_depth(app, client, count_queries):
    """A deep link costs the same at depth 0 as at the deepest level, signed in or not."""
    seed(app, "busy", 60)  # other threads in the table
    with app.app_context():
        rules = rules_.Rules.from_settings(services.of(app).settings)

        def say(parent: int | None, i: int) -> int:
            author = rules_.Author(user_id=f"u-{i % 3}", name=f"U{i}")
            return rules_.create_comment(
                db.session,
                article_id="deep",
                author=author,
                body=f"comment {i}",
                parent_id=parent,
                rules=rules,
                now=utcnow(),
            ).comment.id

        chain = [say(None, 0)]
        for i in range(10):  # more replies than the listing nests
            say(chain[0], 100 + i)
        for depth in range(1, rules.max_depth + 1):
            chain.append(say(chain[-1], depth))
        db.session.commit()
    counts = {}
    for depth, comment_id in enumerate(chain):
        for who, headers in (("anonymous", {}), ("reader", auth("u-1"))):
            with count_queries() as q:
                r = client.get(f"/api/v1/comments/{comment_id}/context", headers=headers)
            assert r.status_code == 200 and r.get_json()["target_id"] == comment_id
            counts[(depth, who)] = q.count
    assert len(set(counts.values())) == 1, counts
    # the comment and its article's status, the branch with the nested replies, reactions
    assert counts[(rules.max_depth, "reader")] <= 3
