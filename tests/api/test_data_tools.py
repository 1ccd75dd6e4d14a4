"""flask export / import / recount on the test database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

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
        db.session.execute(
            update(Comment)
            .where(Comment.id == thread["root"])
            .values(
                reply_count=0,
                likes=0,
                dislikes=7,
                score=-7,
                best=0.9,
                controversy=3.0,
                flag_count=5,
                flag_weight=5.0,
            )
        )
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
    assert "exists here as a different comment" in result.output
    with app.app_context():
        assert db.session.get(Article, "elsewhere") is None  # nothing saved


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
