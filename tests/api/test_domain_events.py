"""Domain events reach the app's sinks: inside the transaction before it commits, and after
it commits; a rolled-back transaction's events reach nobody (service/events.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from service import events as app_events
from service.domain import events
from service.extensions import db
from tests.helpers import auth, callers

C = callers()


class Recorder:
    def __init__(self) -> None:
        self.in_tx: list[events.Event] = []
        self.committed: list[events.Event] = []
        self.rows_seen: list[int] = []

    def in_transaction(self, session: Session, batch: list[events.Event]) -> None:
        self.in_tx.extend(batch)
        # Inside the transaction: the change that caused the event is visible to it.
        for event in batch:
            if event.comment_id is not None:
                self.rows_seen.append(
                    session.execute(
                        text("SELECT count(*) FROM comments WHERE id = :id"),
                        {"id": event.comment_id},
                    ).scalar_one()
                )

    def after_commit(self, batch: list[events.Event]) -> None:
        self.committed.extend(batch)


@pytest.fixture
def recorder(app: Any) -> Recorder:
    sink = Recorder()
    app_events.add_sink(app, sink)
    return sink


def types(batch: list[events.Event]) -> list[str]:
    return [e.type for e in batch]


def test_posting_reacting_editing_and_deleting_reach_the_sinks(client: Any, recorder: Recorder):
    posted = client.post("/api/v1/articles/ev-1/comments", json={"body": "first"}, headers=C.reader)
    assert posted.status_code == 201, posted.json
    cid = posted.json["id"]
    assert types(recorder.committed) == ["comment.created"]
    created = recorder.committed[0]
    assert (created.article_id, created.comment_id, created.actor_id) == ("ev-1", cid, "u-1")
    assert created.data == {"status": "published", "parent_id": None}
    assert recorder.rows_seen == [1]

    assert client.put(f"/api/v1/comments/{cid}/reactions/like", headers=C.other).status_code == 200
    # Putting the same reaction again changes nothing, and says nothing.
    assert client.put(f"/api/v1/comments/{cid}/reactions/like", headers=C.other).status_code == 200
    assert client.put("/api/v1/articles/ev-1/reactions/like", headers=C.other).status_code == 200
    assert (
        client.patch(
            f"/api/v1/comments/{cid}", json={"body": "first, edited"}, headers=C.reader
        ).status_code
        == 200
    )
    assert client.delete(f"/api/v1/comments/{cid}", headers=C.reader).status_code == 204
    assert types(recorder.committed) == [
        "comment.created",
        "reaction.changed",
        "reaction.changed",
        "comment.edited",
        "comment.status",
    ]
    comment_reaction, article_reaction = recorder.committed[1:3]
    assert (comment_reaction.comment_id, article_reaction.comment_id) == (cid, None)
    # who reacted, how, and whether it counted: a webhook's user_id, kind and added, and
    # whether one is sent at all (mutation testing, #22: none of it was checked)
    for reaction in (comment_reaction, article_reaction):
        assert (reaction.article_id, reaction.actor_id) == ("ev-1", "u-2")
        assert reaction.data == {"kind": "like", "added": True, "counted": True}
    assert recorder.committed[-1].data == {"before": "published", "after": "deleted"}
    assert recorder.in_tx == recorder.committed


def test_moderation_and_bans_reach_the_sinks(client: Any, recorder: Recorder):
    cid = client.post(
        "/api/v1/articles/ev-2/comments", json={"body": "hello"}, headers=C.reader
    ).json["id"]
    assert (
        client.post(
            f"/api/v1/comments/{cid}/flags", json={"reason": "spam"}, headers=C.other
        ).status_code
        == 201
    )
    removed = client.post(
        f"/api/v1/admin/comments/{cid}/actions",
        json={"action": "remove", "reason": "spam"},
        headers=C.moderator,
    )
    assert removed.status_code == 200, removed.json
    assert (
        client.put(
            "/api/v1/admin/bans/u-1", json={"reason": "spam", "shadow": True}, headers=C.moderator
        ).status_code
        == 201
    )
    assert (
        client.patch(
            "/api/v1/admin/articles/ev-2", json={"status": "closed"}, headers=C.moderator
        ).status_code
        == 200
    )
    assert types(recorder.committed) == [
        "comment.created",
        "comment.flagged",
        "comment.status",
        "comment.moderated",
        "notification.created",  # the author is told of the removal (#15)
        "user.banned",
        "article.changed",
    ]
    # A flag tells the sinks which comment, on which article, whose flag and its weight
    # (mutation testing, #22: the flagged event's ids, actor and data went unchecked).
    flagged = recorder.committed[1]
    assert (flagged.article_id, flagged.comment_id, flagged.actor_id) == ("ev-2", cid, "u-2")
    assert flagged.data == {"reason": "spam", "weight": 1.0}
    moderated = recorder.committed[3]
    assert moderated.data == {"action": "remove", "reason": "spam"}
    assert moderated.actor_id == "mod-1"
    told = recorder.committed[4]
    assert (told.user_id, told.comment_id, told.data["outcome"]) == ("u-1", cid, "removed")
    assert recorder.committed[5].user_id == "u-1"
    assert recorder.committed[5].data["shadow"] is True


def test_a_refused_write_and_a_rollback_tell_nobody(app: Any, client: Any, recorder: Recorder):
    assert (
        client.post(
            "/api/v1/articles/ev-3/comments", json={"body": "  "}, headers=C.reader
        ).status_code
        == 422
    )
    with app.app_context():
        db.session.execute(text("SELECT 1"))  # events are recorded inside a transaction
        events.record(db.session, events.Event(events.ARTICLE_CHANGED, article_id="ev-3"))
        db.session.rollback()
        db.session.commit()
    assert recorder.committed == [] and recorder.in_tx == []


def test_events_a_sink_records_are_handed_to_every_sink_in_the_same_transaction(
    app: Any, recorder: Recorder
):
    class Echo:
        def in_transaction(self, session: Session, batch: list[events.Event]) -> None:
            for event in batch:
                if event.type == events.ARTICLE_CHANGED and event.actor_id != "echo":
                    events.record(
                        session,
                        events.Event(events.ARTICLE_CHANGED, article_id="x", actor_id="echo"),
                    )

        def after_commit(self, batch: list[events.Event]) -> None:
            raise RuntimeError("a failing sink must not undo a commit")

    app_events.add_sink(app, Echo())
    with app.app_context():
        events.record(db.session, events.Event(events.ARTICLE_CHANGED, article_id="x"))
        db.session.commit()
    assert [e.actor_id for e in recorder.in_tx] == [None, "echo"]
    assert [e.actor_id for e in recorder.committed] == [None, "echo"]


def test_unknown_event_types_are_refused():
    with pytest.raises(ValueError, match="unknown event type"):
        events.Event("comment.exploded")


def test_a_ban_and_its_lifting_tell_the_sinks_whose_ban_who_acted_and_why(
    client: Any, recorder: Recorder
):
    """``user.banned`` (also a webhook: user, shadow, reason, moderator) and ``user.unbanned``
    name the person and the moderator (mutation testing, #22: their ``user_id`` or
    ``actor_id`` dropped or None, and the ban's ``reason`` key renamed, went unnoticed)."""
    assert (
        client.put(
            "/api/v1/admin/bans/u-1", json={"reason": "spam"}, headers=C.moderator
        ).status_code
        == 201
    )
    assert client.delete("/api/v1/admin/bans/u-1", headers=C.moderator).status_code == 204
    assert [(e.type, e.user_id, e.actor_id) for e in recorder.committed] == [
        ("user.banned", "u-1", "mod-1"),
        ("user.unbanned", "u-1", "mod-1"),
    ]
    assert recorder.committed[0].data == {"shadow": False, "reason": "spam"}


def test_erasing_a_person_tells_the_sinks_who_and_by_whom(client: Any, recorder: Recorder):
    """``user.erased`` (also a webhook) names the person erased and the admin who did it
    (mutation testing, #22: erase_user's event with ``user_id`` or ``actor_id`` dropped or
    None went unnoticed)."""
    admin = auth("root", roles=["admin"])
    assert client.delete("/api/v1/admin/users/u-1", headers=admin).status_code == 200
    assert [(e.type, e.user_id, e.actor_id) for e in recorder.committed] == [
        ("user.erased", "u-1", "root")
    ]
