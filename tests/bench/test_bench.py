"""The benchmark's own correctness: its bulk-inserted data is what the domain code would have
written, and a tiny run of `make bench` (--smoke) produces its table."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench import seed
from bench.run import parse_wrk
from service.domain import ranking
from tests.helpers import auth

ROOT = Path(__file__).resolve().parents[2]


def _seed(database_url: str) -> None:
    engine = create_engine(database_url)
    rng = random.Random(3)
    seed.insert_plan(
        engine,
        seed.plan_articles(
            article_ids=["one"],
            comments=120,
            first_id=1,
            rng=rng,
            reactors=8,
            reactions_per_comment=2.5,
        ),
    )
    seed.insert_plan(
        engine,
        seed.plan_articles(
            article_ids=["a", "b", "c"],
            comments=90,
            first_id=121,
            rng=rng,
            reactors=5,
            reactions_per_comment=0.5,
            unique_bodies=False,
        ),
    )
    seed.finish(engine)
    engine.dispose()


def test_seeded_counters_match_the_rows(app, database_url):
    _seed(database_url)
    engine = create_engine(database_url)
    with engine.connect() as conn:
        comments = conn.execute(
            text(
                "SELECT id, article_id, parent_id, root_id, path, depth, reply_count, likes, "
                "dislikes, score, best, controversy FROM comments"
            )
        ).all()
        by_id = {c.id: c for c in comments}
        reactions = conn.execute(text("SELECT comment_id, kind FROM comment_reactions")).all()
        counts = {
            (r.comment_id, r.kind): r.count
            for r in conn.execute(
                text("SELECT comment_id, kind, count FROM comment_reaction_counts")
            )
        }
        articles = conn.execute(text("SELECT id, comment_count, version FROM articles")).all()
    engine.dispose()
    assert len(comments) == 210 and reactions
    replies = [c for c in comments if c.parent_id is not None]
    assert 0.2 < len(replies) / len(comments) < 0.45
    for c in comments:
        # path lists the ancestors; parent, root and depth follow from it
        ancestors = [int(x) for x in c.path.strip("/").split("/") if x]
        assert c.depth == len(ancestors) and c.depth <= seed.MAX_DEPTH
        assert c.root_id == (ancestors[0] if ancestors else None)
        assert c.parent_id == (ancestors[-1] if ancestors else None)
        assert all(by_id[a].article_id == c.article_id and a < c.id for a in ancestors)
        descendants = [d for d in comments if d.path.startswith(f"{c.path}{c.id}/")]
        assert c.reply_count == len(descendants)
        kinds = [k for cid, k in reactions if cid == c.id]
        assert (c.likes, c.dislikes) == (kinds.count("like"), kinds.count("dislike"))
        assert c.score == ranking.net_score(c.likes, c.dislikes)
        assert c.best == pytest.approx(ranking.wilson_lower_bound(c.likes, c.dislikes))
        assert c.controversy == pytest.approx(ranking.controversy(c.likes, c.dislikes))
        for kind in set(kinds):
            assert counts[(c.id, kind)] == kinds.count(kind)
    assert sum(counts.values()) == len(reactions)
    for article in articles:
        mine = [c for c in comments if c.article_id == article.id]
        assert article.comment_count == len(mine)
        assert article.version == len(mine) + sum(
            1 for cid, _ in reactions if by_id[cid].article_id == article.id
        )


def test_seeded_data_works_with_the_domain_code(app, client, database_url):
    _seed(database_url)
    r = client.get("/api/v1/articles/one/comments?limit=100")
    assert r.status_code == 200
    assert r.get_json()["total"] == 120
    depths = {i: client.get(f"/api/v1/comments/{i}").get_json()["depth"] for i in range(1, 121)}
    deepest = max(depths, key=depths.__getitem__)
    chain, node = [], deepest
    while node is not None:
        comment = client.get(f"/api/v1/comments/{node}").get_json()
        chain.append((node, comment["reply_count"]))
        node = comment["parent_id"]
    # a new comment gets the next id (sequences moved past the explicit ids) and its
    # ancestors' counters move as they would for any other comment
    r = client.post(
        "/api/v1/articles/one/comments",
        json={"body": "late reply", "parent_id": deepest},
        headers=auth("late"),
    )
    assert r.status_code == 201, r.get_json()
    new = r.get_json()
    assert new["id"] == 211
    ancestors = chain if new["parent_id"] == deepest else chain[1:]
    assert ancestors
    for cid, replies in ancestors:
        assert client.get(f"/api/v1/comments/{cid}").get_json()["reply_count"] == replies + 1
    assert client.get("/api/v1/articles/one/comments").get_json()["total"] == 121


WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:1/x
  2 threads and 4 connections
  Latency Distribution
     50%  812.00us
     75%    1.10ms
     90%    1.50ms
     99%    3.20ms
  2000 requests in 1.00s, 1.00MB read
  Non-2xx or 3xx responses: 7
Requests/sec:   1998.50
"""


def test_parse_wrk():
    run = parse_wrk(WRK_OUTPUT)
    assert (run.rps, run.p50_ms, run.p99_ms, run.errors, run.requests) == (
        1998.5,
        0.812,
        3.2,
        7,
        2000,
    )


@pytest.mark.slow
def test_bench_smoke(tmp_path):
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt-get install -y wrk): the bench smoke run needs it")
    out = tmp_path / "performance.md"
    out.write_text("# Performance\n\nprose stays\n")
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    doc = out.read_text()
    assert doc.startswith("# Performance\n\nprose stays\n")
    assert "| scenario | req/s | p50 ms | p99 ms | ceiling req/s | of ceiling |" in doc
    for name in (
        "thread page, anonymous",
        "thread page, signed in",
        "thread page 1, anonymous",
        "counts for",
        "moderator queue",
        "post a comment",
        "react to a comment",
        "in the database)",
        "Servers compared (SQLite",
        "| granian ASGI: event streams native",
        "of the fastest ceiling",
    ):
        assert name in doc
    assert "errors)" not in doc, doc
