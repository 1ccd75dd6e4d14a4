"""flask export / import / recount on the test database."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from service import create_app
from service.domain.data import COUNTERS
from service.enums import CommentStatus, FlagReason, FlagState
from service.extensions import db
from service.models import (
    Article,
    ArticleReactionCount,
    Comment,
    CommentReactionCount,
    Flag,
    utcnow,
)
from tests.helpers import auth
from tests.helpers import empty_tables as _empty_tables


@pytest.fixture
def thread(app: Any, client: Any, post: Any) -> dict[str, int]:
    """Two articles with replies, reactions of several kinds, flags, a pending, a removed
    (tombstone) and a shadowed comment."""
    root = post("data-1", "root").get_json()["id"]
    reply = post("data-1", "reply", user="u-2", parent_id=root).get_json()["id"]
    deep = post("data-1", "deeper", user="u-3", parent_id=reply).get_json()["id"]
    other = post("data-2", "elsewhere", user="u-2").get_json()["id"]
    guest = post("data-1", "guest words", user=None).get_json()["id"]
    for user in ("u-2", "u-3", "u-4"):
        client.put(f"/api/v1/comments/{root}/reactions/like", headers=auth(user))
    client.put(f"/api/v1/comments/{root}/reactions/dislike", headers=auth("u-5"))
    client.put(f"/api/v1/comments/{reply}/reactions/insightful", headers=auth("u-1"))
    client.put("/api/v1/articles/data-1/reactions/like", headers=auth("u-7"))
    client.put("/api/v1/articles/data-2/reactions/funny", headers=auth("u-7"))
    with app.app_context():
        now = utcnow()
        db.session.add_all(
            [
                Flag(
                    comment_id=reply,
                    user_id="u-8",
                    reason=FlagReason.SPAM,
                    weight=1.0,
                    state=FlagState.OPEN,
                    created_at=now,
                ),
                Flag(
                    comment_id=reply,
                    user_id="u-9",
                    reason=FlagReason.ABUSE,
                    weight=0.5,
                    state=FlagState.OPEN,
                    created_at=now,
                ),
                Flag(
                    comment_id=root,
                    user_id="u-9",
                    reason=FlagReason.OTHER,
                    weight=1.0,
                    state=FlagState.DISMISSED,
                    created_at=now,
                    resolved_at=now,
                ),
            ]
        )
        db.session.execute(
            update(Comment).where(Comment.id == reply).values(flag_count=2, flag_weight=1.5)
        )
        from service.domain.comments import set_status

        set_status(db.session, db.session.get(Comment, deep), CommentStatus.REMOVED)
        set_status(db.session, db.session.get(Comment, guest), CommentStatus.PENDING)
        set_status(
            db.session, db.session.get(Comment, other), CommentStatus.PUBLISHED, shadowed=True
        )
        db.session.commit()
    return {"root": root, "reply": reply, "deep": deep, "other": other, "guest": guest}


# Every counter of the fixture's root comment, wrong.
WRONG_ROOT = {
    "reply_count": 0,
    "likes": 0,
    "dislikes": 7,
    "score": -7,
    "best": 0.9,
    "controversy": 3.0,
    "flag_count": 5,
    "flag_weight": 5.0,
}


def _export(app: Any, *args: str) -> list[dict[str, Any]]:
    result = app.test_cli_runner().invoke(args=["export", *args])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_recount_finds_no_drift_in_data_the_api_wrote(app: Any, thread: Any) -> None:
    result = app.test_cli_runner().invoke(args=["recount", "--check"])
    assert result.exit_code == 0, result.output
    for name in COUNTERS:
        assert f"{name}: 0 wrong" in result.output


def test_recount_repairs_corrupted_counters(app: Any, client: Any, thread: Any) -> None:
    with app.app_context():
        db.session.execute(update(Article).values(comment_count=99, reaction_count=42))
        db.session.execute(update(Comment).where(Comment.id == thread["root"]).values(**WRONG_ROOT))
        db.session.execute(
            update(Comment)
            .where(Comment.id == thread["reply"])
            .values(flag_count=0, flag_weight=0.0)
        )
        db.session.execute(
            update(CommentReactionCount).values(count=CommentReactionCount.count + 3)
        )
        db.session.execute(update(ArticleReactionCount).values(count=0))
        db.session.commit()
    runner = app.test_cli_runner()
    check = runner.invoke(args=["recount", "--check"])
    assert check.exit_code == 1
    assert "articles.comment_count: 2 wrong (not fixed: --check)" in check.output
    assert "comments.likes: 1 wrong" in check.output
    assert "comment_reaction_counts.count: 3 wrong" in check.output  # like, dislike, insightful
    assert "article_reaction_counts.count: 2 wrong" in check.output
    # --check changed nothing.
    assert runner.invoke(args=["recount", "--check"]).exit_code == 1

    fixed = runner.invoke(args=["recount"])
    assert fixed.exit_code == 0, fixed.output
    assert "comments.flag_count: 2 wrong (fixed)" in fixed.output
    assert runner.invoke(args=["recount", "--check"]).exit_code == 0

    thread_body = client.get("/api/v1/articles/data-1/comments").get_json()
    # Visible: root, reply (published); the removed tombstone and the pending guest are not.
    assert thread_body["total"] == 2
    root = (
        thread_body["items"][0]
        if thread_body["items"][0]["id"] == thread["root"]
        else next(c for c in thread_body["items"] if c["id"] == thread["root"])
    )
    assert root["reactions"] == {"like": 3, "dislike": 1}
    assert root["score"] == 2
    assert root["reply_count"] == 1
    with app.app_context():
        reply = db.session.get(Comment, thread["reply"])
        assert (reply.flag_count, reply.flag_weight) == (2, 1.5)  # open flags only
        root_row = db.session.get(Comment, thread["root"])
        assert (root_row.flag_count, root_row.flag_weight) == (0, 0.0)
        assert db.session.get(Article, "data-2").comment_count == 0  # shadowed
    articles = client.get("/api/v1/counts?article_id=data-1&article_id=data-2").get_json()
    assert articles["counts"] == {
        "data-1": {"comments": 2, "reactions": 1},
        "data-2": {"comments": 0, "reactions": 1},
    }


def test_recount_of_one_article_leaves_the_others(app: Any, thread: Any) -> None:
    with app.app_context():
        db.session.execute(update(Article).values(comment_count=99))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["recount", "--article", "data-2"])
    assert "articles.comment_count: 1 wrong (fixed)" in result.output
    with app.app_context():
        assert db.session.get(Article, "data-1").comment_count == 99
        assert db.session.get(Article, "data-2").comment_count == 0


def test_export_carries_every_field_and_one_article_on_request(app: Any, thread: Any) -> None:
    records = _export(app)
    assert records[0] == {"type": "meta", "format": "comments-service-export", "version": 1}
    kinds = [r["type"] for r in records[1:]]
    assert kinds == sorted(
        kinds,
        key=[
            "article",
            "comment",
            "comment_reaction",
            "article_reaction",
            "flag",
            "comment_ticker",
            "comment_revision",
        ].index,
    )
    comments = {r["data"]["id"]: r["data"] for r in records if r["type"] == "comment"}
    deep = comments[thread["deep"]]
    assert deep["status"] == "removed" and deep["status_changed_at"]
    assert {"created_at", "edited_at", "held_reason", "shadowed", "path", "root_id"} <= set(deep)
    assert comments[thread["other"]]["shadowed"] is True
    assert sum(1 for r in records if r["type"] == "flag") == 3

    only = _export(app, "--article", "data-2")
    assert {
        r["data"].get("article_id", r["data"].get("id"))
        for r in only[1:]
        if r["type"] in ("article", "comment", "article_reaction")
    } == {"data-2"}
    assert not [r for r in only if r["type"] == "flag"]


def test_round_trip_into_an_empty_database(
    app: Any,
    thread: Any,
    database_url: str,
    tmp_path: Path,
) -> None:
    dump = tmp_path / "dump.jsonl"
    result = app.test_cli_runner().invoke(args=["export", "--output", str(dump)])
    assert result.exit_code == 0, result.output
    before = dump.read_text()

    _empty_tables(database_url)
    fresh = create_app(
        {
            "DATABASE_URL": database_url,
            "COMMENTS_SECRET_KEY": "k",
            "COMMENTS_JWT_SECRET": "j" * 40,
            "RATELIMIT_ENABLED": False,
        }
    )
    runner = fresh.test_cli_runner()
    first = runner.invoke(args=["import", str(dump)])
    assert first.exit_code == 0, first.output
    assert "comment: 5 added, 0 already present" in first.output
    assert _export(fresh) == [json.loads(line) for line in before.splitlines()]

    again = runner.invoke(args=["import", str(dump)])
    assert again.exit_code == 0, again.output
    assert "comment: 0 added, 5 already present" in again.output
    assert _export(fresh) == [json.loads(line) for line in before.splitlines()]
    assert runner.invoke(args=["recount", "--check"]).exit_code == 0

    # The rebuilt reaction tables serve the thread, and new ids follow the imported ones.
    client = fresh.test_client()
    body = client.get("/api/v1/articles/data-1/comments").get_json()
    assert any(c["reactions"].get("like") == 3 for c in body["items"])
    new = client.post(
        "/api/v1/articles/data-1/comments",
        json={"body": "after import"},
        headers=auth("u-new", secret="j" * 40),
    )
    assert new.status_code == 201, new.get_json()
    assert new.get_json()["id"] > max(thread.values())
    with fresh.app_context():
        db.session.remove()
        db.engine.dispose()


def test_import_refuses_another_installations_rows(app: Any, thread: Any, tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.jsonl"
    foreign.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"type": "meta", "format": "comments-service-export", "version": 1},
                {
                    "type": "article",
                    "data": {
                        "id": "elsewhere",
                        "status": "open",
                        "created_at": "2020-01-01T00:00:00+00:00",
                    },
                },
                {
                    "type": "comment",
                    "data": {
                        "id": thread["root"],
                        "article_id": "elsewhere",
                        "created_at": "2020-01-01T00:00:00+00:00",
                    },
                },
            ]
        )
        + "\n"
    )
    result = app.test_cli_runner().invoke(args=["import", str(foreign)])
    assert result.exit_code == 1
    assert (
        f"comment {thread['root']} exists here as a different comment; "
        "this export comes from another installation"
    ) in result.output
    with app.app_context():
        assert db.session.get(Article, "elsewhere") is None  # nothing saved


META = '{"type": "meta", "format": "comments-service-export", "version": 1}'
WHEN = "2020-01-01T00:00:00+00:00"
ARTICLE = '{"type": "article", "data": {"id": "x", "created_at": "%s"}}' % WHEN


@pytest.mark.parametrize(
    "lines, message",
    [
        (['{"type": "article", "data": {"id": "x"}}'], "must start with the meta record"),
        (['{"type": "meta", "format": "other", "version": 1}'], "not a comments-service-export"),
        (
            ['{"type": "meta", "format": "comments-service-export", "version": 1}', "{not json"],
            "line 2: not JSON",
        ),
        (
            [
                '{"type": "meta", "format": "comments-service-export", "version": 1}',
                '{"type": "article", "data": {"id": "x", "password": "y"}}',
            ],
            "unknown fields: password",
        ),
        (
            [
                '{"type": "meta", "format": "comments-service-export", "version": 1}',
                '{"type": "article", "data": {"id": "x", "created_at": "yesterday"}}',
            ],
            "not a datetime",
        ),
        # Each refusal says which line and what is wrong with it.
        ([], "nothing imported: empty file: no meta record"),
        ([META, '{"data": {"id": "x"}}'], "nothing imported: line 2: not an export record"),
        ([META, '{"type": "poll", "data": {}}'], "line 2: unknown record type 'poll'"),
        ([META, '{"type": "article"}'], "line 2: article record without a data object"),
        (
            [META, '{"type": "article", "data": {"id": "x", "password": "y", "token": "z"}}'],
            "line 2: article has unknown fields: password, token",
        ),
        ([META, '{"type": "article", "data": {"status": "open"}}'], "line 2: article lacks id"),
        (
            [META, ARTICLE, '{"type": "comment", "data": {"id": 1, "created_at": "%s"}}' % WHEN],
            "line 3: comment lacks article_id",
        ),
        (
            [
                META,
                ARTICLE,
                '{"type": "comment", "data": {"article_id": "x", "created_at": "%s"}}' % WHEN,
            ],
            "line 3: comment lacks its id",
        ),
        (
            [META, '{"type": "article", "data": {"id": "x", "created_at": "2020-01-01T00:00:00"}}'],
            "line 2: article.created_at has no time zone",
        ),
        (
            [
                META,
                ARTICLE,
                '{"type": "comment", "data": {"id": 1, "article_id": "x", "created_at": "%s"}}'
                % WHEN,
                ARTICLE,
            ],
            "line 4: article after comment; keep the export's order",
        ),
    ],
)
def test_import_rejects_malformed_files(
    app: Any, tmp_path: Path, lines: list[str], message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = app.test_cli_runner().invoke(args=["import", str(path)])
    assert result.exit_code == 1
    assert message in result.output
    with app.app_context():
        assert db.session.get(Article, "x") is None  # nothing saved


# --- recount, rule by rule ----------------------------------------------------------------
# The tests below were written against mutmut's survivors of service/domain/data.py
# (docs/reliability.md): each names what a wrong recount would have done.

ADMIN = "/api/v1/admin"
MOD = auth("mod-1", roles=["moderator"], name="Mod")


@pytest.fixture
def busy(app: Any, client: Any, thread: dict[str, int]) -> dict[str, int]:
    """``thread`` plus what a recount can confuse: one kind on two comments and on two
    articles, two kinds on one article, open flags on two comments, and a shadow-banned
    reader whose comment reaction, article reaction and flag are stored but count for
    nothing."""
    writes = [
        client.put(f"/api/v1/comments/{thread['reply']}/reactions/like", headers=auth("u-4")),
        client.put("/api/v1/articles/data-2/reactions/like", headers=auth("u-8")),
        client.put("/api/v1/articles/data-1/reactions/funny", headers=auth("u-8")),
        # and an article nobody reacted to
        client.post("/api/v1/articles/data-3/comments", json={"body": "quiet"}, headers=auth()),
        client.post(
            f"/api/v1/comments/{thread['root']}/flags", json={"reason": "spam"}, headers=auth("u-6")
        ),
        client.put(f"{ADMIN}/bans/shade", json={"reason": "ring", "shadow": True}, headers=MOD),
        client.put(f"/api/v1/comments/{thread['root']}/reactions/like", headers=auth("shade")),
        client.put("/api/v1/articles/data-1/reactions/like", headers=auth("shade")),
        client.post(
            f"/api/v1/comments/{thread['reply']}/flags",
            json={"reason": "spam"},
            headers=auth("shade"),
        ),
    ]
    assert [w.status_code for w in writes] == [200, 200, 200, 201, 201, 201, 200, 200, 201]
    return thread


def _counters(session: Any) -> dict[str, list[Any]]:
    """Every denormalised counter, as rows sorted by their owner."""
    from service.domain.data import COMMENT_COUNTERS

    columns = (getattr(Comment, name) for name in COMMENT_COUNTERS)
    return {
        "comments": sorted(map(tuple, session.execute(select(Comment.id, *columns)))),
        "articles": sorted(
            map(
                tuple,
                session.execute(select(Article.id, Article.comment_count, Article.reaction_count)),
            )
        ),
        "comment kinds": sorted(
            map(
                tuple,
                session.execute(
                    select(
                        CommentReactionCount.comment_id,
                        CommentReactionCount.kind,
                        CommentReactionCount.count,
                    )
                ),
            )
        ),
        "article kinds": sorted(
            map(
                tuple,
                session.execute(
                    select(
                        ArticleReactionCount.article_id,
                        ArticleReactionCount.kind,
                        ArticleReactionCount.count,
                    )
                ),
            )
        ),
    }


def _versions(session: Any) -> dict[str, int]:
    return dict(map(tuple, session.execute(select(Article.id, Article.version))))


def _corrupt(session: Any, ids: dict[str, int]) -> dict[str, int]:
    """Every counter wrong on rows of two articles at least (the article counters on all
    three); returns how many rows each recount must find wrong."""
    session.execute(update(Article).values(comment_count=Article.comment_count + 5))
    session.execute(update(Article).values(reaction_count=7))
    session.execute(update(Comment).where(Comment.id == ids["root"]).values(**WRONG_ROOT))
    # The reply's flag weight is off by 0.5 alone: a recount that tolerates less than 1
    # would miss it.
    session.execute(
        update(Comment)
        .where(Comment.id == ids["reply"])
        .values(likes=5, flag_count=0, flag_weight=1.0)
    )
    session.execute(
        update(Comment)
        .where(Comment.id == ids["other"])
        .values(reply_count=4, dislikes=2, score=1, best=0.5, controversy=1.0)
    )
    # Per-kind tables: a wrong count, a missing row and stale rows (one of them a kind
    # another comment of the same article really has).
    session.execute(
        update(CommentReactionCount)
        .where(CommentReactionCount.comment_id == ids["root"], CommentReactionCount.kind == "like")
        .values(count=9)
    )
    session.execute(
        delete(CommentReactionCount).where(
            CommentReactionCount.comment_id == ids["reply"], CommentReactionCount.kind == "like"
        )
    )
    session.add(CommentReactionCount(comment_id=ids["root"], kind="insightful", count=2))
    session.add(CommentReactionCount(comment_id=ids["other"], kind="funny", count=1))
    session.execute(
        delete(ArticleReactionCount).where(
            ArticleReactionCount.article_id == "data-1", ArticleReactionCount.kind == "like"
        )
    )
    session.execute(
        update(ArticleReactionCount)
        .where(ArticleReactionCount.article_id == "data-2", ArticleReactionCount.kind == "funny")
        .values(count=5)
    )
    session.add(ArticleReactionCount(article_id="data-2", kind="insightful", count=3))
    session.commit()
    return {
        "articles.comment_count": 3,
        "articles.reaction_count": 3,
        "article_reaction_counts.count": 3,
        "comments.reply_count": 2,
        "comments.likes": 2,
        "comments.dislikes": 2,
        "comments.score": 2,
        "comments.best": 2,
        "comments.controversy": 2,
        "comments.flag_count": 2,
        "comments.flag_weight": 2,
        "comment_reaction_counts.count": 4,
    }


def test_recount_rebuilds_exactly_what_the_api_wrote(app: Any, busy: dict[str, int]) -> None:
    """Every counter of the articles corrupted, recounted one article per chunk (so each
    drift total adds up across chunks): the counters are exactly what the API's own writes
    had made them, and every article whose counters changed has a newer version (a cached
    page of it must not be served again)."""
    from service.domain.data import recount

    with app.app_context():
        written = _counters(db.session)
        # What the fixture wrote, spelled out where a recount could go wrong.
        kinds = {(owner, kind): n for owner, kind, n in written["comment kinds"]}
        assert kinds[(busy["root"], "like")] == 3  # the shadow-banned like is not counted
        assert kinds[(busy["reply"], "like")] == 1
        assert dict(((a, k), n) for a, k, n in written["article kinds"]) == {
            ("data-1", "like"): 1,
            ("data-1", "funny"): 1,
            ("data-2", "funny"): 1,
            ("data-2", "like"): 1,
        }
        before = _versions(db.session)
        expected_drift = _corrupt(db.session, busy)

        assert recount(db.session, chunk=1) == expected_drift  # fixes by default
        db.session.commit()
        assert _counters(db.session) == written
        after = _versions(db.session)
        assert all(after[article] > before[article] for article in before), (before, after)
        assert set(recount(db.session, fix=False).values()) == {0}


def test_recount_without_fix_changes_nothing(app: Any, busy: dict[str, int]) -> None:
    from service.domain.data import recount

    with app.app_context():
        expected_drift = _corrupt(db.session, busy)
        corrupted, versions = _counters(db.session), _versions(db.session)
        assert recount(db.session, fix=False) == expected_drift
        # Read in the same session, before any rollback: nothing was even flushed.
        assert (_counters(db.session), _versions(db.session)) == (corrupted, versions)


def test_recount_of_one_article_reads_and_fixes_only_its_rows(
    app: Any, busy: dict[str, int]
) -> None:
    from service.domain.data import recount

    with app.app_context():
        written = _counters(db.session)
        _corrupt(db.session, busy)
        corrupted = _counters(db.session)
        drift = recount(db.session, article_ids=["data-2"])
        db.session.commit()
        # data-2: its article row, the shadowed comment, one wrong and one stale kind row
        # of the article, one stale kind row of the comment.
        assert {name: n for name, n in drift.items() if n} == {
            "articles.comment_count": 1,
            "articles.reaction_count": 1,
            "article_reaction_counts.count": 2,
            "comments.reply_count": 1,
            "comments.dislikes": 1,
            "comments.score": 1,
            "comments.best": 1,
            "comments.controversy": 1,
            "comment_reaction_counts.count": 1,
        }
        now = _counters(db.session)
        data_2 = {busy["other"], "data-2"}
        for table, rows in now.items():
            for row in rows:
                source = written if row[0] in data_2 else corrupted
                assert row in source[table], (table, row)


def test_a_repaired_comment_makes_its_articles_cached_pages_stale(
    app: Any, busy: dict[str, int]
) -> None:
    """Only a comment's counter was wrong (its article's were right): the article's
    version still moves on, and only that article's."""
    from service.domain.data import recount

    with app.app_context():
        before = _versions(db.session)
        db.session.execute(update(Comment).where(Comment.id == busy["root"]).values(likes=0))
        db.session.commit()
        assert recount(db.session)["comments.likes"] == 1
        db.session.commit()
        after = _versions(db.session)
        assert after["data-1"] > before["data-1"]
        assert after["data-2"] == before["data-2"]


def test_floating_point_dust_in_a_flag_weight_is_not_drift(app: Any, busy: dict[str, int]) -> None:
    """Flag weights are added and taken away one flag at a time, so a stored weight can
    differ from the sum of its flags in the last bits; that is not a wrong counter."""
    from service.domain.data import recount

    with app.app_context():
        db.session.execute(
            update(Comment).where(Comment.id == busy["other"]).values(flag_weight=1e-12)
        )
        db.session.execute(
            update(Comment).where(Comment.id == busy["reply"]).values(flag_weight=1.5 + 1e-12)
        )
        db.session.commit()
        assert recount(db.session, fix=False)["comments.flag_weight"] == 0


def test_import_in_batches_reports_every_row(
    app: Any, thread: Any, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of two: the five comments arrive in three batches, and the report adds
    them all up."""
    from service.domain import data

    dump = tmp_path / "dump.jsonl"
    assert app.test_cli_runner().invoke(args=["export", "--output", str(dump)]).exit_code == 0
    _empty_tables(database_url)
    monkeypatch.setattr(data, "BATCH", 2)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["import", str(dump)])
    assert "comment: 5 added, 0 already present" in first.output, first.output
    assert "comment_reaction: 5 added, 0 already present" in first.output
    again = runner.invoke(args=["import", str(dump)])
    assert "comment: 0 added, 5 already present" in again.output, again.output


def test_import_recounts_the_articles_it_touched(
    app: Any, thread: Any, database_url: str, tmp_path: Path
) -> None:
    """An article imported without its comments has no comments here, whatever its row
    says; comments imported later, without their article rows, count on it."""
    records = _export(app)
    _empty_tables(database_url)
    articles, comments = tmp_path / "articles.jsonl", tmp_path / "comments.jsonl"
    articles.write_text(
        "\n".join(json.dumps(r) for r in records if r["type"] in ("meta", "article")) + "\n"
    )
    comments.write_text(
        "\n".join(json.dumps(r) for r in records if r["type"] in ("meta", "comment")) + "\n"
    )
    assert next(r for r in records if r["type"] == "article")["data"]["comment_count"] == 2
    runner = app.test_cli_runner()
    assert runner.invoke(args=["import", str(articles)]).exit_code == 0
    with app.app_context():
        assert db.session.get(Article, "data-1").comment_count == 0
    assert runner.invoke(args=["import", str(comments)]).exit_code == 0
    with app.app_context():
        assert db.session.get(Article, "data-1").comment_count == 2


def test_export_times_are_utc_whatever_the_servers_time_zone(
    app: Any, thread: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        records = _export(app)
    finally:
        monkeypatch.undo()
        time.tzset()
    stamps = [v for r in records[1:] for k, v in r["data"].items() if k.endswith("_at") and v]
    assert len(stamps) > 10
    assert all(stamp.endswith("+00:00") for stamp in stamps), stamps


def test_one_articles_export_holds_its_rows_and_no_others(app: Any, thread: Any) -> None:
    def kinds(records: list[dict[str, Any]]) -> dict[str, int]:
        return dict(Counter(r["type"] for r in records[1:]))

    one = _export(app, "--article", "data-1")
    assert kinds(one) == {
        "article": 1,
        "comment": 4,
        "comment_reaction": 5,
        "article_reaction": 1,
        "flag": 3,
    }
    assert {r["data"]["id"] for r in one if r["type"] == "comment"} == {
        thread["root"],
        thread["reply"],
        thread["deep"],
        thread["guest"],
    }
    assert {r["data"]["comment_id"] for r in one if r["type"] in ("flag", "comment_reaction")} == {
        thread["root"],
        thread["reply"],
    }
    other = _export(app, "--article", "data-2")
    assert kinds(other) == {"article": 1, "comment": 1, "article_reaction": 1}
    assert [r["data"]["id"] for r in other if r["type"] == "article"] == ["data-2"]
