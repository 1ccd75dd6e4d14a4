"""Who is notified and who is not (#15), through the API, on SQLite and PostgreSQL: replies,
mentions, followed threads, moderation, and every "never" (own actions, mutes, shadow
bans, pending comments, deleted parents, erasure); /me, settings, listing and read marks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from service import events as app_events
from service.domain import events
from service.extensions import db
from service.models import Ban, Follow, Mute, Notification, ReaderSettings
from tests.helpers import MODERATOR, auth, reconfigure
from tests.openapi_check import assert_matches_spec

MOD = auth("mod-1", **MODERATOR)
ADMIN = auth("root", roles=["admin"], name="Root")
ME = "/api/v1/me"
INBOX = "/api/v1/me/notifications"


def who(user: str) -> dict[str, str]:
    return auth(user, name=f"Name {user}")


def inbox(client: Any, user: str, **query: Any) -> dict[str, Any]:
    r = client.get(INBOX, headers=who(user), query_string=query)
    assert r.status_code == 200, r.get_json()
    return assert_matches_spec("GET", "/api/v1/me/notifications", r)


def kinds(client: Any, user: str) -> list[tuple[str, int]]:
    return [(n["kind"], n["comment_id"]) for n in inbox(client, user)["items"]]


def follow(client: Any, user: str, article: str) -> None:
    r = client.put(f"/api/v1/articles/{article}/subscription", headers=who(user))
    assert r.status_code == 204, r.get_json()


def act(client: Any, comment_id: int, action: str) -> None:
    r = client.post(
        f"/api/v1/admin/comments/{comment_id}/actions", json={"action": action}, headers=MOD
    )
    assert r.status_code == 200, r.get_json()


def post_as(
    client: Any, article: str, body: str, headers: dict[str, str], parent_id: int | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {"body": body}
    if parent_id is not None:
        payload["parent_id"] = parent_id
    r = client.post(f"/api/v1/articles/{article}/comments", json=payload, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def no_follow_on_post(client: Any, *users: str) -> None:
    for user in users:
        r = client.patch(f"{ME}/settings", json={"follow_on_post": False}, headers=who(user))
        assert r.status_code == 200, r.get_json()


def held_by_an_edit(app: Any, client: Any, tmp_path: Any, comment_id: int, body: str) -> None:
    """u-2 edits a blocked term ("casino") into their comment: the edit puts it back in the
    queue."""
    terms = tmp_path / "terms.txt"
    terms.write_text("casino\n")
    reconfigure(app, COMMENTS_BLOCKED_TERMS_FILE=str(terms))
    r = client.patch(f"/api/v1/comments/{comment_id}", json={"body": body}, headers=who("u-2"))
    assert r.get_json()["status"] == "pending"


# --- reply --------------------------------------------------------------------------------


def test_a_direct_reply_notifies_the_parents_author(client, post):
    parent = post("n1", "What do you think?", user="u-1").get_json()
    reply = post("n1", "I agree **strongly**", user="u-2", parent_id=parent["id"]).get_json()
    page = inbox(client, "u-1")
    assert page["unread"] == 1 and page["next_cursor"] is None
    (item,) = page["items"]
    assert item["kind"] == "reply" and item["comment_id"] == reply["id"]
    assert item["article_id"] == "n1" and item["read"] is False and item["outcome"] is None
    assert item["actor"] == {"id": "u-2", "name": "Name u-2"}
    assert item["excerpt"] == "I agree strongly"
    # The replier hears of nothing: posting is their own action.
    assert kinds(client, "u-2") == []


def test_replying_to_yourself_notifies_nobody(client, post):
    parent = post("n2", "first", user="u-1").get_json()
    post("n2", "and a follow-up", user="u-1", parent_id=parent["id"])
    assert kinds(client, "u-1") == []


def test_a_guests_reply_notifies_with_a_guest_actor(client, post):
    parent = post("n3", "hello", user="u-1").get_json()
    post("n3", "guest here", user=None, parent_id=parent["id"])
    (item,) = inbox(client, "u-1")["items"]
    assert item["actor"] == {"id": None, "name": "Guest"}


def test_a_reply_to_a_guest_notifies_nobody(client, post):
    guest = post("n4", "a guest's comment", user=None).get_json()
    post("n4", "reply to the guest", user="u-2", parent_id=guest["id"])
    assert kinds(client, "u-2") == []


# --- mention ------------------------------------------------------------------------------


def test_a_mention_names_a_participant_by_the_name_shown_in_the_thread(client, post):
    no_follow_on_post(client, "u-1", "u-2", "u-3")
    post("m1", "I cover banks", user="u-1")
    post("m1", "I cover tech", user="u-2")
    mention = post("m1", "As @Name u-1 said, and not @Nobody", user="u-3").get_json()
    assert kinds(client, "u-1") == [("mention", mention["id"])]
    assert kinds(client, "u-2") == []


def test_a_mention_of_someone_outside_the_thread_notifies_nobody(client, post):
    post("m2", "elsewhere", user="u-1")
    post("m3", "hello @Name u-1", user="u-2")
    assert kinds(client, "u-1") == []


def test_a_mention_of_someone_whose_only_comment_nobody_sees_notifies_nobody(app, client, post):
    no_follow_on_post(client, "u-1")
    with app.app_context():
        db.session.add(Ban(user_id="u-1", created_by="m", reason="x", shadow=True))
        db.session.commit()
    post("m4", "my shadowed words", user="u-1")  # not shown in the thread: not a participant
    post("m4", "@Name u-1 are you there", user="u-2")
    assert kinds(client, "u-1") == []


def test_a_mention_of_someone_whose_comments_are_deleted_or_removed_notifies_nobody(client, post):
    """Mutation testing (#22): without the status filter in _participants, the author of a
    deleted or removed comment, whose name the thread no longer shows, could be mentioned."""
    no_follow_on_post(client, "u-1", "u-2", "u-3")
    deleted = post("m7", "I take it back", user="u-1").get_json()
    r = client.delete(f"/api/v1/comments/{deleted['id']}", headers=who("u-1"))
    assert r.status_code == 204
    removed = post("m7", "rude words", user="u-2").get_json()
    act(client, removed["id"], "remove")
    post("m7", "@Name u-1 and @Name u-2, where did you go?", user="u-3")
    assert kinds(client, "u-1") == []
    assert kinds(client, "u-2") == [("moderation", removed["id"])]


def test_a_name_the_poster_shares_mentions_the_other_person(client):
    """The poster's own comment is not a participant (mutation testing, #22: without
    ``Comment.id != comment.id`` the poster, as the latest to write as "Sam", took their own
    mention of the other Sam, and nobody was told)."""
    no_follow_on_post(client, "u-1", "u-2")
    post_as(client, "m8", "Sam here", auth("u-1", name="Sam"))
    mention = post_as(client, "m8", "@Sam, another Sam agrees", auth("u-2", name="Sam"))
    assert kinds(client, "u-1") == [("mention", mention["id"])]
    assert kinds(client, "u-2") == []


def test_a_reader_who_changed_their_name_is_mentioned_by_the_name_their_comments_show(client):
    """The thread still shows the older comment under the older name, so it mentions them
    (mutation testing, #22: _participants grouped by author alone kept only the name of their
    latest comment)."""
    no_follow_on_post(client, "u-1", "u-2")
    post_as(client, "m9", "first, as Mei", auth("u-1", name="Mei"))
    post_as(client, "m9", "then, as Mei Ling", auth("u-1", name="Mei Ling"))
    old = post_as(client, "m9", "@Mei is right", auth("u-2", name="Bob"))
    new = post_as(client, "m9", "@Mei Ling too", auth("u-2", name="Bob"))
    assert kinds(client, "u-1") == [("mention", new["id"]), ("mention", old["id"])]


# --- followed threads ---------------------------------------------------------------------


def test_a_follower_hears_of_every_new_comment_and_can_stop(client, post):
    follow(client, "u-9", "t1")
    first = post("t1", "one", user="u-1").get_json()
    assert kinds(client, "u-9") == [("thread", first["id"])]
    r = client.delete("/api/v1/articles/t1/subscription", headers=who("u-9"))
    assert r.status_code == 204
    post("t1", "two", user="u-1")
    assert kinds(client, "u-9") == [("thread", first["id"])]


def test_posting_follows_the_thread_unless_the_setting_says_not(client, post):
    post("t2", "I was here first", user="u-1")
    later = post("t2", "me too", user="u-2").get_json()
    assert kinds(client, "u-1") == [("thread", later["id"])]
    r = client.get("/api/v1/articles/t2", headers=who("u-1"))
    assert assert_matches_spec("GET", "/api/v1/articles/{article_id}", r)["subscribed"] is True

    no_follow_on_post(client, "u-3")
    post("t3", "just passing", user="u-3")
    post("t3", "hello", user="u-4")
    assert kinds(client, "u-3") == []
    r = client.get("/api/v1/articles/t3", headers=who("u-3"))
    assert r.get_json()["subscribed"] is False
    assert "subscribed" not in client.get("/api/v1/articles/t3").get_json()
    # One reader's "no" is theirs alone: u-4, who said nothing, follows t3 by posting
    # (mutation testing: the statement's user condition dropped), and so does u-5, who saved
    # settings that say yes (its follow_on_post condition dropped: any saved settings declined).
    r = client.patch(f"{ME}/settings", json={"follow_on_post": True}, headers=who("u-5"))
    assert r.status_code == 200
    post("t3", "count me in", user="u-5")
    for reader in ("u-4", "u-5"):
        r = client.get("/api/v1/articles/t3", headers=who(reader))
        assert r.get_json()["subscribed"] is True, reader


def test_the_follow_on_post_statement_is_built_once_not_for_every_post(client, post, monkeypatch):
    """Every post runs it, and building it costs about as much as SQLite answering it
    (mutation testing, #22: ``statement = None`` or ``_FOLLOW_ON_POST.get(None)`` built it
    again for every post, with the same rows)."""
    from service.domain import notifications

    built = []
    build = notifications._follow_on_post_statement

    def counted(session):
        built.append(session.get_bind().dialect.name)
        return build(session)

    monkeypatch.setattr(notifications, "_FOLLOW_ON_POST", {})
    monkeypatch.setattr(notifications, "_follow_on_post_statement", counted)
    post("t5", "one", user="u-1")
    post("t5", "two", user="u-2")
    post("t6", "three", user="u-1")
    assert len(built) == 1
    r = client.get("/api/v1/articles/t5", headers=who("u-2"))
    assert r.get_json()["subscribed"] is True


def test_one_notification_per_reader_per_comment_reply_first(client, post):
    parent = post("t4", "question", user="u-1").get_json()  # u-1 now follows t4 too
    reply = post("t4", "@Name u-1 answer", user="u-2", parent_id=parent["id"]).get_json()
    assert kinds(client, "u-1") == [("reply", reply["id"])]


def test_a_hidden_article_cannot_be_followed(app, client, post):
    post("t5", "x", user="u-1")
    r = client.patch("/api/v1/admin/articles/t5", json={"status": "hidden"}, headers=MOD)
    assert r.status_code == 200
    r = client.put("/api/v1/articles/t5/subscription", headers=who("u-2"))
    assert_matches_spec("PUT", "/api/v1/articles/{article_id}/subscription", r)
    assert r.status_code == 409


# --- never: mutes, shadow bans, pending comments, deleted parents -------------------------


def test_a_muted_authors_comments_never_notify_and_arrive_collapsed(app, client, post):
    parent = post("x1", "mine", user="u-1").get_json()
    r = client.put("/api/v1/me/muted/u-2", headers=who("u-1"))
    assert r.status_code == 204
    assert_matches_spec("PUT", "/api/v1/me/muted/{user_id}", r)
    reply = post("x1", "@Name u-1 troll", user="u-2", parent_id=parent["id"]).get_json()
    post("x1", "more noise", user="u-2")
    assert kinds(client, "u-1") == []

    def flags(headers: dict[str, str]) -> dict[int, bool]:
        page = client.get("/api/v1/articles/x1/comments", headers=headers).get_json()
        out: dict[int, bool] = {}
        stack = list(page["items"])
        while stack:
            c = stack.pop()
            out[c["id"]] = c.get("muted", False)
            stack.extend(c["replies"])
        return out

    for _ in range(2):  # a fresh public page, then the cached one
        mine = flags(who("u-1"))
        assert mine[reply["id"]] is True and mine[parent["id"]] is False
        assert not any(flags({}).values())  # the stored page never carries it
        assert not any(flags(who("u-3")).values())
    one = client.get(f"/api/v1/comments/{parent['id']}", headers=who("u-1")).get_json()
    assert one["replies"][0]["muted"] is True and "muted" not in one
    replies = client.get(f"/api/v1/comments/{parent['id']}/replies", headers=who("u-1"))
    assert replies.get_json()["items"][0]["muted"] is True

    assert client.delete("/api/v1/me/muted/u-2", headers=who("u-1")).status_code == 204
    assert not any(flags(who("u-1")).values())
    later = post("x1", "now heard", user="u-2", parent_id=parent["id"]).get_json()
    assert kinds(client, "u-1") == [("reply", later["id"])]


@pytest.mark.settings(COMMENTS_CACHE_URL="off")
def test_collapsed_comments_without_the_page_cache(client, post):
    post("x2", "noise", user="u-2")
    client.put("/api/v1/me/muted/u-2", headers=who("u-1"))
    page = client.get("/api/v1/articles/x2/comments", headers=who("u-1")).get_json()
    assert page["items"][0]["muted"] is True


def test_muting_yourself_is_refused_and_others_ids_with_slashes_work(client):
    r = client.put("/api/v1/me/muted/u-1", headers=who("u-1"))
    assert r.status_code == 422
    assert_matches_spec("PUT", "/api/v1/me/muted/{user_id}", r)
    r = client.put("/api/v1/me/muted/auth0%7Cx%2Fy", headers=who("u-1"))
    assert r.status_code == 204


def test_listing_with_mutes_costs_no_extra_query(app, client, post, count_queries):
    for i in range(5):
        post("x3", f"comment {i}", user=f"u-{i % 3}")
    counts = {}
    for muted in (False, True):
        if muted:
            client.put("/api/v1/me/muted/u-2", headers=who("u-9"))
        for cached in (False, True):
            with count_queries() as q:
                r = client.get("/api/v1/articles/x3/comments", headers=who("u-9"))
            assert r.status_code == 200
            counts[(muted, cached)] = q.count
    assert counts[(True, True)] == counts[(False, True)]


def test_a_shadow_banned_authors_comments_notify_nobody(app, client, post):
    parent = post("s1", "hello", user="u-1").get_json()
    follow(client, "u-3", "s1")
    with app.app_context():
        db.session.add(Ban(user_id="u-2", created_by="m", reason="x", shadow=True))
        db.session.commit()
    post("s1", "@Name u-1 psst", user="u-2", parent_id=parent["id"])
    assert kinds(client, "u-1") == [] and kinds(client, "u-3") == []


@pytest.mark.settings(COMMENTS_PREMODERATION="all")
def test_a_pending_comment_notifies_once_it_is_approved(client, post):
    parent = post_as(client, "p1", "mine", MOD)  # moderators skip the queue
    reply = post("p1", "held reply", user="u-2", parent_id=parent["id"]).get_json()
    assert reply["status"] == "pending"
    assert kinds(client, "mod-1") == []
    act(client, reply["id"], "approve")
    assert kinds(client, "mod-1") == [("reply", reply["id"])]
    (approved,) = inbox(client, "u-2")["items"]
    assert approved["kind"] == "moderation" and approved["outcome"] == "approved"
    assert approved["actor"] is None and approved["comment_id"] == reply["id"]
    assert approved["excerpt"] == "held reply"


@pytest.mark.settings(COMMENTS_PREMODERATION="all")
def test_approving_a_held_reply_tells_a_reader_who_was_told_of_other_comments(client, post):
    """Approval skips only the readers already told of this comment (mutation testing, #22:
    _already_notified without its ``comment_id`` condition skipped everyone with a
    notification of any comment)."""
    parent = post_as(client, "p5", "mine", MOD)
    other = post_as(
        client, "p5", "a colleague's reply", auth("mod-2", **MODERATOR), parent_id=parent["id"]
    )
    reply = post("p5", "held reply", user="u-2", parent_id=parent["id"]).get_json()
    assert reply["status"] == "pending"
    act(client, reply["id"], "approve")
    assert kinds(client, "mod-1") == [("reply", reply["id"]), ("reply", other["id"])]


@pytest.mark.settings(COMMENTS_BLOCKED_TERMS_FILE=None)
def test_a_comment_held_again_after_an_edit_does_not_notify_twice(app, client, post, tmp_path):
    parent = post("p2", "mine", user="u-1").get_json()
    reply = post("p2", "fine words", user="u-2", parent_id=parent["id"]).get_json()
    held_by_an_edit(app, client, tmp_path, reply["id"], "casino")
    act(client, reply["id"], "approve")
    assert kinds(client, "u-1") == [("reply", reply["id"])]


@pytest.mark.settings(COMMENTS_BLOCKED_TERMS_FILE=None)
def test_approving_an_edit_after_a_reader_told_of_it_muted_its_author(app, client, post, tmp_path):
    """Approval leaves out readers already told even when they are no longer to be told now
    (mutation testing, #22: ``targets.pop(user)`` without its default raised KeyError for a
    follower who had muted the author since, and the approval answered 500)."""
    follow(client, "u-9", "p6")
    parent = post("p6", "mine", user="u-1").get_json()
    client.post(INBOX + "/read", json={"up_to": 2**31 - 1}, headers=who("u-9"))
    reply = post("p6", "fine words", user="u-2", parent_id=parent["id"]).get_json()
    told = [("thread", reply["id"]), ("thread", parent["id"])]
    assert kinds(client, "u-9") == told
    r = client.put("/api/v1/me/muted/u-2", headers=who("u-9"))
    assert r.status_code == 204, r.get_json()
    held_by_an_edit(app, client, tmp_path, reply["id"], "casino")
    act(client, reply["id"], "approve")
    assert kinds(client, "u-1") == [("reply", reply["id"])]
    assert kinds(client, "u-9") == told


def test_a_reply_held_after_its_notification_shows_neither_words_nor_author(
    app, client, post, tmp_path
):
    """The reader was told of a reply that an edit then put back in the queue: until it is
    approved their inbox keeps the notification but not the held words or who wrote them
    (mutation testing, #22: ``PUBLISHED or not shadowed`` in inbox._item, and an excerpt
    shown whatever ``shown`` says, both showed the held text)."""
    parent = post("p4", "mine", user="u-1").get_json()
    reply = post("p4", "fine words", user="u-2", parent_id=parent["id"]).get_json()
    held_by_an_edit(app, client, tmp_path, reply["id"], "try the casino")
    (held,) = inbox(client, "u-1")["items"]
    assert (held["kind"], held["comment_id"]) == ("reply", reply["id"])
    assert (held["actor"], held["excerpt"]) == (None, None)
    act(client, reply["id"], "approve")
    (shown,) = inbox(client, "u-1")["items"]
    assert (shown["actor"], shown["excerpt"]) == (
        {"id": "u-2", "name": "Name u-2"},
        "try the casino",
    )


@pytest.mark.settings(COMMENTS_PREMODERATION="all")
def test_a_reply_whose_parent_was_deleted_meanwhile_notifies_nobody(client, post):
    no_follow_on_post(client, "mod-2")
    parent = post_as(client, "p3", "mine", auth("mod-2", **MODERATOR))
    reply = post("p3", "held", user="u-2", parent_id=parent["id"]).get_json()
    r = client.delete(f"/api/v1/comments/{parent['id']}", headers=auth("mod-2", **MODERATOR))
    assert r.status_code == 204
    act(client, reply["id"], "approve")
    assert kinds(client, "mod-2") == []


def test_removal_tells_the_author_and_takes_the_comments_notifications_along(client, post):
    parent = post("r1", "mine", user="u-1").get_json()
    reply = post("r1", "rude", user="u-2", parent_id=parent["id"]).get_json()
    assert kinds(client, "u-1") == [("reply", reply["id"])]
    act(client, reply["id"], "remove")
    assert kinds(client, "u-1") == []  # told of words that are gone
    (removed,) = inbox(client, "u-2")["items"]
    assert (removed["kind"], removed["outcome"]) == ("moderation", "removed")
    assert removed["excerpt"] == "rude"  # the author still sees their own words
    act(client, reply["id"], "restore")
    assert [n["outcome"] for n in inbox(client, "u-2")["items"]] == ["approved", "removed"]


def test_a_removed_comment_takes_only_its_own_notifications_along(client, post):
    """Mutation testing (#22): forget_comment without its ``comment_id IN`` condition
    deleted every reply, mention and thread notification of every reader whenever any
    comment was deleted or removed."""
    no_follow_on_post(client, "u-1", "u-2", "u-3")
    parent = post("r5", "mine", user="u-1").get_json()
    rude = post("r5", "rude", user="u-2", parent_id=parent["id"]).get_json()
    kind = post("r5", "kind words", user="u-3", parent_id=parent["id"]).get_json()
    act(client, rude["id"], "remove")
    assert kinds(client, "u-1") == [("reply", kind["id"])]


@pytest.mark.settings(COMMENTS_PREMODERATION="all")
def test_removing_an_approved_comment_leaves_its_author_both_decisions(client, post):
    """A removal takes the comment's reply, mention and thread notifications along, never a
    moderation notice (mutation testing, #22: forget_comment without its kind condition
    deleted the author's earlier "approved")."""
    no_follow_on_post(client, "u-2")
    reply = post("r6", "held words", user="u-2").get_json()
    act(client, reply["id"], "approve")
    act(client, reply["id"], "remove")
    told = [(n["kind"], n["outcome"]) for n in inbox(client, "u-2")["items"]]
    assert told == [("moderation", "removed"), ("moderation", "approved")]


def test_restoring_a_removed_comment_tells_its_author_and_not_its_readers_again(client, post):
    """Only a pending comment's approval publishes it for the first time; readers told of a
    comment before its removal are not told again when a moderator restores it, while its
    author hears of both decisions (mutation testing, #22: ``before == PENDING or after ==
    PUBLISHED`` told the readers again)."""
    no_follow_on_post(client, "u-1", "u-2")
    parent = post("r4", "mine", user="u-1").get_json()
    reply = post("r4", "hasty words", user="u-2", parent_id=parent["id"]).get_json()
    assert kinds(client, "u-1") == [("reply", reply["id"])]
    act(client, reply["id"], "remove")
    act(client, reply["id"], "restore")
    assert kinds(client, "u-1") == []
    told = [(n["kind"], n["outcome"]) for n in inbox(client, "u-2")["items"]]
    assert told == [("moderation", "approved"), ("moderation", "removed")]


@pytest.mark.settings(COMMENTS_PREMODERATION="all")
def test_one_batch_notifies_of_every_comment_it_publishes(app, client, post):
    """notify() plans for every event of a transaction's batch (mutation testing, #22:
    ``planned =`` for ``planned +=``, at a new comment or at an approval, dropped what the
    batch's earlier events had planned; one request publishes one comment, so only a batch
    of several shows it)."""
    from service.domain import notifications
    from service.enums import CommentStatus
    from service.models import Comment

    parent = post_as(client, "p7", "mine", MOD)
    held = {
        user: post("p7", f"held words of {user}", user=user, parent_id=parent["id"]).get_json()
        for user in ("u-2", "u-3", "u-4")
    }
    approved = {"before": "pending", "after": "published"}
    with app.app_context():
        for comment in held.values():
            db.session.get(Comment, comment["id"]).status = CommentStatus.PUBLISHED
        db.session.flush()
        batch = [
            events.Event(events.COMMENT_STATUS, "p7", held["u-2"]["id"], data=approved),
            events.Event(
                events.COMMENT_CREATED,
                "p7",
                held["u-3"]["id"],
                actor_id="u-3",
                data={"status": "published"},
            ),
            events.Event(events.COMMENT_STATUS, "p7", held["u-4"]["id"], data=approved),
        ]
        told = notifications.notify(db.session, batch)
        db.session.rollback()
    # Posting made u-2, u-3 and u-4 follow the thread: each hears of the others' replies.
    expected = []
    for author, comment in held.items():
        expected.append(("mod-1", comment["id"], "reply"))
        expected += [(u, comment["id"], "thread") for u in held if u != author]
    assert sorted((e.user_id, e.comment_id, e.data["kind"]) for e in told) == sorted(expected)


def test_a_moderators_delete_tells_the_author_an_authors_delete_tells_nobody(client, post):
    first = post("r2", "one", user="u-1").get_json()
    second = post("r2", "two", user="u-1").get_json()
    assert client.delete(f"/api/v1/comments/{first['id']}", headers=MOD).status_code == 204
    assert client.delete(f"/api/v1/comments/{second['id']}", headers=who("u-1")).status_code == 204
    assert [(n["kind"], n["outcome"]) for n in inbox(client, "u-1")["items"]] == [
        ("moderation", "removed")
    ]


def test_a_moderator_acting_on_their_own_comment_is_not_notified(client, post):
    mine = post_as(client, "r3", "mod's words", MOD)
    act(client, mine["id"], "remove")
    assert kinds(client, "mod-1") == []


# --- erasure ------------------------------------------------------------------------------


def test_erasure_removes_everything_notifications_keep_of_a_person(app, client, post):
    theirs = post("e1", "mine", user="u-1").get_json()
    post("e1", "reply to u-1", user="u-2", parent_id=theirs["id"])  # u-1 is notified
    client.put("/api/v1/me/muted/u-2", headers=who("u-1"))
    client.put("/api/v1/me/muted/u-1", headers=who("u-4"))
    follow(client, "u-5", "e2")
    post("e2", "u-1 was here", user="u-1")  # u-5 hears of it; u-1 follows e2
    assert kinds(client, "u-5") and kinds(client, "u-1")

    r = client.delete("/api/v1/admin/users/u-1", headers=ADMIN)
    assert r.status_code == 200, r.get_json()
    erased = r.get_json()["erased"]
    assert erased["notifications"] == 1 and erased["mutes"] == 2
    assert erased["follows"] == 2 and erased["settings"] == 0
    with app.app_context():
        left = {
            model.__name__: db.session.scalar(select(func.count()).select_from(model).where(cond))
            for model, cond in (
                (Notification, Notification.user_id == "u-1"),
                (Follow, Follow.user_id == "u-1"),
                (Mute, (Mute.user_id == "u-1") | (Mute.muted_id == "u-1")),
                (ReaderSettings, ReaderSettings.user_id == "u-1"),
            )
        }
    assert left == {"Notification": 0, "Follow": 0, "Mute": 0, "ReaderSettings": 0}
    # What others were told of u-1's comments went with those comments.
    assert kinds(client, "u-5") == []


def test_erasure_takes_along_what_others_were_told_of_each_of_their_comments(app, client, post):
    """An erased person's reply without answers is deleted outright, one with answers is kept
    as a tombstone; the notifications of both go (mutation testing, #22: ``break`` for
    ``continue`` after a comment no longer there stopped reading the erasure's events, and
    the reply kept as a tombstone stayed in its parent's author's inbox)."""
    no_follow_on_post(client, "u-1", "u-2", "u-3")
    parent = post("e3", "mine", user="u-1").get_json()
    kept = post("e3", "a reply that is answered", user="u-2", parent_id=parent["id"]).get_json()
    post("e3", "an answer", user="u-3", parent_id=kept["id"])
    deleted = post("e3", "a second reply", user="u-2", parent_id=parent["id"]).get_json()
    assert kinds(client, "u-1") == [("reply", deleted["id"]), ("reply", kept["id"])]
    r = client.delete("/api/v1/admin/users/u-2", headers=ADMIN)
    assert r.status_code == 200, r.get_json()
    assert kinds(client, "u-1") == []
    with app.app_context():
        told = select(func.count()).select_from(Notification)
        assert db.session.scalar(told.where(Notification.user_id == "u-1")) == 0


@pytest.mark.settings(COMMENTS_SMTP_URL="smtp://127.0.0.1:1")
def test_erasure_forgets_the_stored_address(app, client):
    mail = auth("u-1", name="Ann", email="ann@example.com")
    assert (
        client.patch(f"{ME}/settings", json={"email": "instant"}, headers=mail).status_code == 200
    )
    r = client.delete("/api/v1/admin/users/u-1", headers=ADMIN)
    assert r.get_json()["erased"]["settings"] == 1
    with app.app_context():
        stored = db.session.scalars(select(ReaderSettings.email_address)).all()
    assert stored == []


# --- /me, settings, listing, read marks ---------------------------------------------------


def test_me_tells_who_unread_settings_and_an_open_ban_but_never_a_shadow_ban(app, client, post):
    r = client.get(ME, headers=who("u-1"))
    me = assert_matches_spec("GET", ME, r)
    assert me == {
        "user": {"id": "u-1", "name": "Name u-1"},
        "unread_notifications": 0,
        "settings": {"email": "off", "follow_on_post": True},
        "ban": None,
        "email_available": False,
    }
    with app.app_context():
        db.session.add(Ban(user_id="u-1", created_by="m", reason="spam links", shadow=False))
        db.session.add(Ban(user_id="u-2", created_by="m", reason="secret", shadow=True))
        db.session.commit()
    ban = client.get(ME, headers=who("u-1")).get_json()["ban"]
    assert ban == {"reason": "spam links", "expires_at": None, "shadow": False}
    assert client.get(ME, headers=who("u-2")).get_json()["ban"] is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ME),
        ("PATCH", ME + "/settings"),
        ("GET", INBOX),
        ("POST", INBOX + "/read"),
        ("PUT", "/api/v1/articles/a/subscription"),
        ("DELETE", "/api/v1/articles/a/subscription"),
        ("PUT", "/api/v1/me/muted/u-2"),
        ("DELETE", "/api/v1/me/muted/u-2"),
    ],
)
def test_guests_and_anonymous_callers_get_401(client, method, path):
    r = client.open(path, method=method, json={"up_to": 1})
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    assert r.headers["WWW-Authenticate"] == "Bearer"


def test_settings_are_checked(client):
    for payload in ({}, {"email": "daily"}, {"follow_on_post": "no"}, {"colour": "red"}):
        r = client.patch(f"{ME}/settings", json=payload, headers=who("u-1"))
        assert r.status_code == 422, payload
        assert_matches_spec("PATCH", ME + "/settings", r)
    # No SMTP server configured: e-mail cannot be turned on.
    r = client.patch(f"{ME}/settings", json={"email": "instant"}, headers=who("u-1"))
    assert r.status_code == 422 and "e-mail" in r.get_json()["detail"]
    r = client.patch(f"{ME}/settings", json={"follow_on_post": False}, headers=who("u-1"))
    assert assert_matches_spec("PATCH", ME + "/settings", r)["settings"]["follow_on_post"] is False


@pytest.mark.settings(COMMENTS_SMTP_URL="smtp://127.0.0.1:1")
def test_instant_email_needs_an_address_in_the_token(client):
    r = client.patch(f"{ME}/settings", json={"email": "instant"}, headers=who("u-1"))
    assert r.status_code == 422 and r.get_json()["errors"] == {"email": [r.get_json()["detail"]]}
    mail = auth("u-1", name="Ann", email="ann@example.com")
    r = client.patch(f"{ME}/settings", json={"email": "instant"}, headers=mail)
    body = r.get_json()
    assert r.status_code == 200 and body["settings"]["email"] == "instant"
    assert body["email_available"] is True and "ann@example.com" not in r.get_data(as_text=True)


def test_a_page_of_the_inbox_reads_one_row_beyond_the_page_and_no_more(app, client, post):
    """inbox.list_notifications reads ``limit + 1`` rows (the extra one says there is a next
    page), not a reader's whole inbox for every page (mutation testing, #22: ``limit(None)``
    and ``limit + 2`` went unnoticed because the view cuts the page to ``limit`` itself)."""
    from service.domain import inbox as domain_inbox

    no_follow_on_post(client, "u-2")
    parent = post("l2", "mine", user="u-1").get_json()
    for i in range(5):
        post("l2", f"a reply numbered {i}", user="u-2", parent_id=parent["id"])
    with app.app_context():
        items = domain_inbox.list_notifications(db.session, user_id="u-1", limit=2)
    assert len(items) == 3


def test_listing_pages_newest_first_filters_unread_and_marks_read(client, post):
    no_follow_on_post(client, "u-2")
    parent = post("l1", "mine", user="u-1").get_json()
    ids = [
        post("l1", f"reply {i}", user="u-2", parent_id=parent["id"]).get_json()["id"]
        for i in range(5)
    ]
    page = inbox(client, "u-1", limit=2)
    assert [n["comment_id"] for n in page["items"]] == ids[::-1][:2] and page["unread"] == 5
    nxt = inbox(client, "u-1", limit=2, cursor=page["next_cursor"])
    assert [n["comment_id"] for n in nxt["items"]] == ids[::-1][2:4]
    notification_ids = [n["id"] for n in inbox(client, "u-1")["items"]]

    r = client.post(INBOX + "/read", json={"ids": [notification_ids[0]]}, headers=who("u-1"))
    assert assert_matches_spec("POST", INBOX + "/read", r) == {"unread": 4}
    unread = inbox(client, "u-1", unread="true")
    assert len(unread["items"]) == 4 and all(not n["read"] for n in unread["items"])
    # up_to: that one and every older one; the second newest stays unread.
    r = client.post(INBOX + "/read", json={"up_to": notification_ids[2]}, headers=who("u-1"))
    assert r.get_json() == {"unread": 1}
    # Someone else's ids change nothing of theirs.
    r = client.post(INBOX + "/read", json={"up_to": 10**6}, headers=who("u-7"))
    assert r.get_json() == {"unread": 0}
    assert inbox(client, "u-1")["unread"] == 1
    assert [n["read"] for n in inbox(client, "u-1")["items"]] == [True, False, True, True, True]
    assert client.get(ME, headers=who("u-1")).get_json()["unread_notifications"] == 1

    for bad in ({}, {"up_to": 1, "ids": [1]}, {"ids": []}, {"up_to": "1"}, {"ids": [0]}):
        r = client.post(INBOX + "/read", json=bad, headers=who("u-1"))
        assert r.status_code == 422, bad
    # A query the schema refuses is 422; a cursor the service did not sign is 400.
    for query, status in (
        ({"unread": "yes"}, 422),
        ({"limit": 0}, 422),
        ({"cursor": "forged"}, 400),
    ):
        r = client.get(INBOX, headers=who("u-1"), query_string=query)
        assert r.status_code == status, query
        assert_matches_spec("GET", INBOX, r)
    # A cursor is the reader's own: another reader cannot use it.
    r = client.get(INBOX, headers=who("u-2"), query_string={"cursor": page["next_cursor"]})
    assert r.status_code == 400


@pytest.mark.settings(
    COMMENTS_PERMALINK_TEMPLATE="https://news.example/{article_id}#comment-{comment_id}"
)
def test_notifications_carry_the_permalink(client, post):
    parent = post("l2", "mine", user="u-1").get_json()
    reply = post("l2", "yours", user="u-2", parent_id=parent["id"]).get_json()
    (item,) = inbox(client, "u-1")["items"]
    assert item["url"] == f"https://news.example/l2#comment-{reply['id']}"


def test_api_keys_have_no_inbox(app, client):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["create-api-key", "--name", "bot", "--role", "moderator"])
    key = out.output.strip().split()[-1]
    r = client.get(ME, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 403


def test_each_notification_is_a_domain_event_for_the_webhooks(app, client, post):
    class Recorder:
        def __init__(self) -> None:
            self.seen: list[events.Event] = []

        def in_transaction(self, session: Any, batch: list[events.Event]) -> None:
            self.seen.extend(e for e in batch if e.type == events.NOTIFICATION_CREATED)

        def after_commit(self, batch: list[events.Event]) -> None:
            pass

    recorder = Recorder()
    app_events.add_sink(app, recorder)
    parent = post("w1", "mine", user="u-1").get_json()
    reply = post("w1", "yours", user="u-2", parent_id=parent["id"]).get_json()
    (event,) = recorder.seen
    (item,) = inbox(client, "u-1")["items"]
    assert (event.user_id, event.comment_id, event.article_id) == ("u-1", reply["id"], "w1")
    assert event.actor_id == "u-2"
    assert event.data == {"id": item["id"], "kind": "reply", "outcome": None}


def test_a_notification_is_stored_at_the_time_it_is_written_for(app, post):
    """write() stores the time it is given, unread, due for mail when planned so, and tells
    the webhooks its id, kind, outcome and actor (mutation testing, #22: ``created_at`` left
    out of the rows took the column default, the clock at the INSERT, not the time given; a
    moderation notice's event named the comment's author as its actor, or lost its outcome)."""
    from service.domain import notifications
    from service.enums import ModerationOutcome, NotificationKind
    from service.models import Comment

    reply = post("w2", "yours", user="u-2").get_json()
    when = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.timezone.utc)
    with app.app_context():
        comment = db.session.get(Comment, reply["id"])
        planned = [
            notifications.Planned("u-7", NotificationKind.MENTION, comment, mail=True),
            notifications.Planned(
                "u-2", NotificationKind.MODERATION, comment, outcome=ModerationOutcome.REMOVED
            ),
        ]
        told, moderated = notifications.write(db.session, planned, when)
        db.session.commit()
        rows = db.session.scalars(select(Notification).order_by(Notification.id)).all()
        assert [(r.user_id, r.created_at, r.read_at, r.mail_state) for r in rows] == [
            ("u-7", when, None, "due"),
            ("u-2", when, None, None),
        ]
        assert {(r.article_id, r.comment_id) for r in rows} == {("w2", reply["id"])}
        assert (told.user_id, told.actor_id, told.data) == (
            "u-7",
            "u-2",
            {"id": rows[0].id, "kind": "mention", "outcome": None},
        )
        # A moderation notice names no actor, and says what the moderator decided.
        assert (moderated.user_id, moderated.actor_id, moderated.data) == (
            "u-2",
            None,
            {"id": rows[1].id, "kind": "moderation", "outcome": "removed"},
        )


def test_a_busy_thread_adds_one_unread_notification_until_it_is_read(client, post):
    follow(client, "u-9", "busy")
    first = post("busy", "one", user="u-1").get_json()
    post("busy", "two", user="u-2")
    assert kinds(client, "u-9") == [("thread", first["id"])]  # the first one not yet seen
    client.post(INBOX + "/read", json={"up_to": 2**31 - 1}, headers=who("u-9"))
    third = post("busy", "three", user="u-3").get_json()
    assert kinds(client, "u-9")[0] == ("thread", third["id"])
