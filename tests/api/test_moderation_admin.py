"""The moderators' API: who may call it, API keys, the audit log, the queue's pages, people
(history, export, erasure), automatic holds and the figures."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from service.domain import ranking
from service.enums import CommentStatus
from service.extensions import db
from service.models import (
    Article,
    ArticleReaction,
    ArticleReactionCount,
    Comment,
    CommentReaction,
    CommentReactionCount,
    Flag,
    utcnow,
)
from tests.helpers import auth, reconfigure

MOD = auth("mod-1", roles=["moderator"], name="Mod")
ADMIN = "/api/v1/admin"
SAMPLE = {"article_id": "art-1", "comment_id": "1", "user_id": "u-1", "endpoint_id": "1"}
ADMINS_ONLY = (f"{ADMIN}/webhooks",)  # a moderator gets 403 there (#15)
BODIES = {
    ("POST", "/api/v1/admin/comments/<comment_id>/actions"): {"action": "approve"},
    ("PATCH", "/api/v1/admin/articles/<article_id>"): {"status": "open"},
    ("PUT", "/api/v1/admin/bans/<user_id>"): {"reason": "x"},
}


def admin_routes(app: Any) -> list[tuple[str, str, str]]:
    """Every (method, rule, concrete url) of the admin blueprint, from the app's url map, so a
    new route is covered without editing this test."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(ADMIN):
            continue
        plain = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"<\1>", rule.rule)
        url = re.sub(r"<([^>]+)>", lambda m: SAMPLE[m.group(1)], plain)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, plain, url))
    return out


def call(client: Any, method: str, plain: str, url: str, headers: dict[str, str]) -> Any:
    return client.open(url, method=method, json=BODIES.get((method, plain)), headers=headers)


def test_every_admin_route_requires_a_moderator(app, client, post):
    routes = admin_routes(app)
    assert len(routes) >= 12
    post("art-1", "a comment", user="u-1")
    for method, plain, url in routes:
        anon = call(client, method, plain, url, {})
        assert anon.status_code == 401, (method, url)
        assert anon.headers["Content-Type"] == "application/problem+json"
        user = call(client, method, plain, url, auth("reader"))
        assert user.status_code == 403, (method, url)
        wrong_role = call(client, method, plain, url, auth("editor", roles=["editor"]))
        assert wrong_role.status_code == 403, (method, url)
        bad = call(client, method, plain, url, {"Authorization": "Bearer not-a-token"})
        assert bad.status_code == 401, (method, url)


def test_moderators_and_admins_get_in(app, client, post):
    post("art-1", "a comment", user="u-1")
    hook = {"url": "https://93.184.215.14/in"}  # webhook endpoint 1
    assert client.post(f"{ADMIN}/webhooks", json=hook, headers=auth("root", roles=["admin"]))
    for roles in (["moderator"], ["admin"], ["reader", "admin"]):
        for method, plain, url in admin_routes(app):
            if method != "GET":
                continue
            r = call(client, method, plain, url, auth("boss", roles=roles))
            admins_only = plain.startswith(ADMINS_ONLY) and "admin" not in roles
            assert r.status_code == (403 if admins_only else 200), (roles, url, r.get_json())
            assert r.headers["Cache-Control"] == "no-store"


def test_api_key_works_and_revoked_key_is_401(app, client):
    runner = app.test_cli_runner()
    with app.app_context():
        result = runner.invoke(args=["create-api-key", "--role", "moderator", "--name", "bot"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get(f"{ADMIN}/queue", headers=headers).status_code == 200
    r = client.put(f"{ADMIN}/bans/spammer", json={"reason": "bot test"}, headers=headers)
    assert r.status_code == 201 and r.get_json()["created_by"] == "apikey:bot"
    with app.app_context():
        result = runner.invoke(args=["revoke-api-key", "--name", "bot"])
    assert result.exit_code == 0, result.output
    r = client.get(f"{ADMIN}/queue", headers=headers)
    assert r.status_code == 401 and r.headers["Content-Type"] == "application/problem+json"


def test_audit_log_is_append_only_filterable_and_paged(client, post):
    for i in range(5):
        client.put(f"{ADMIN}/bans/u{i}", json={"reason": f"r{i}"}, headers=MOD)
    client.patch(f"{ADMIN}/articles/a1", json={"status": "closed"}, headers=MOD)
    page = client.get(f"{ADMIN}/audit-log?limit=2", headers=MOD).get_json()
    assert [e["action"] for e in page["items"]] == ["update_article", "ban"]
    seen = [e["id"] for e in page["items"]]
    while page["next_cursor"]:
        page = client.get(
            f"{ADMIN}/audit-log",
            query_string={"limit": 2, "cursor": page["next_cursor"]},
            headers=MOD,
        ).get_json()
        seen += [e["id"] for e in page["items"]]
    assert len(seen) == 6 and seen == sorted(seen, reverse=True)
    only = client.get(f"{ADMIN}/audit-log?action=ban&target_id=u3", headers=MOD).get_json()
    assert [(e["target_id"], e["reason"], e["actor"]) for e in only["items"]] == [
        ("u3", "r3", "mod-1")
    ]
    assert client.get(f"{ADMIN}/audit-log?actor=nobody", headers=MOD).get_json()["items"] == []
    assert client.get(f"{ADMIN}/audit-log?target_type=planet", headers=MOD).status_code == 422
    # A cursor from another filter or a forged one: 400.
    cursor = client.get(f"{ADMIN}/audit-log?limit=1", headers=MOD).get_json()["next_cursor"]
    assert (
        client.get(
            f"{ADMIN}/audit-log", query_string={"cursor": cursor, "action": "ban"}, headers=MOD
        ).status_code
        == 400
    )
    assert client.get(f"{ADMIN}/audit-log?cursor=forged", headers=MOD).status_code == 400
    # Append-only: no way to change or delete entries.
    entry = seen[0]
    for method in ("PUT", "PATCH", "DELETE"):
        assert client.open(f"{ADMIN}/audit-log", method=method, headers=MOD).status_code == 405
        assert (
            client.open(f"{ADMIN}/audit-log/{entry}", method=method, headers=MOD).status_code == 404
        )


def test_queue_orders_most_flagged_first_and_pages(client, post):
    made = {}
    for n in (1, 2, 0, 2):
        c = post("art", f"flagged {n} {len(made)}", user=f"author{len(made)}").get_json()
        made[c["id"]] = n
        for j in range(n):
            client.post(
                f"/api/v1/comments/{c['id']}/flags", json={"reason": "spam"}, headers=auth(f"f{j}")
            )
    client.patch(f"{ADMIN}/articles/other", json={"premoderation": True}, headers=MOD)
    pending = post("other", "held", user="p").get_json()
    q = client.get(f"{ADMIN}/queue?state=all&limit=2", headers=MOD).get_json()
    order = [i["id"] for i in q["items"]]
    while q["next_cursor"]:
        q = client.get(
            f"{ADMIN}/queue",
            query_string={"state": "all", "limit": 2, "cursor": q["next_cursor"]},
            headers=MOD,
        ).get_json()
        order += [i["id"] for i in q["items"]]
    two = sorted(i for i, n in made.items() if n == 2)
    one = [i for i, n in made.items() if n == 1]
    assert order == two + one + [pending["id"]]
    assert q["total"] == 4
    flagged = client.get(f"{ADMIN}/queue?state=flagged", headers=MOD).get_json()
    assert len(flagged["items"]) == 3
    by_article = client.get(f"{ADMIN}/queue?article_id=other", headers=MOD).get_json()
    assert [i["id"] for i in by_article["items"]] == [pending["id"]]
    assert client.get(f"{ADMIN}/queue?state=weird", headers=MOD).status_code == 422
    assert client.get(f"{ADMIN}/queue?limit=0", headers=MOD).status_code == 422


def test_queue_item_shows_the_parent_and_the_authors_record(client, post):
    parent = post("art", "the parent comment " + "long " * 60, user="p").get_json()
    reply = post("art", "a reply", user="r", parent_id=parent["id"]).get_json()
    old = post("art", "older", user="r").get_json()
    client.post(f"{ADMIN}/comments/{old['id']}/actions", json={"action": "remove"}, headers=MOD)
    client.post(
        f"/api/v1/comments/{reply['id']}/flags", json={"reason": "abuse"}, headers=auth("f")
    )
    item = client.get(f"{ADMIN}/queue?state=flagged", headers=MOD).get_json()["items"][0]
    assert item["parent"]["id"] == parent["id"]
    assert item["parent"]["excerpt"].startswith("the parent comment")
    assert len(item["parent"]["excerpt"]) <= 160
    assert item["author_record"] == {"comments": 2, "removed": 1}
    assert item["flags"] == {"abuse": 1}


def test_queue_items_carry_the_newest_reporters_notes(client, post, app):
    reconfigure(app, COMMENTS_FLAG_HIDE_THRESHOLD=100)  # every reader can still flag it
    comment = post("art", "a comment readers argue about").get_json()
    other = post("art", "another comment", user="u2").get_json()
    client.put(f"{ADMIN}/bans/shadowy", json={"reason": "x", "shadow": True}, headers=MOD)

    def flag(who: str, reason: str, note: str | None, target: dict[str, Any] = comment) -> None:
        r = client.post(
            f"/api/v1/comments/{target['id']}/flags",
            json={"reason": reason, "note": note},
            headers=auth(who),
        )
        assert r.status_code == 201, r.get_json()

    flag("f1", "spam", "First note: a link farm.")
    flag("f2", "spam", None)
    flag("f3", "misinformation", "Second: the figures are invented.")
    flag("f4", "other", "Third: posted on every article.")
    flag("shadowy", "abuse", "A shadow-banned reader's note counts for nothing.")
    flag("f5", "abuse", "Fourth and newest.")
    flag("f6", "spam", "On the other comment.", target=other)

    items = {i["id"]: i for i in client.get(f"{ADMIN}/queue", headers=MOD).get_json()["items"]}
    notes = items[comment["id"]]["notes"]
    assert [(n["reason"], n["note"]) for n in notes] == [
        ("abuse", "Fourth and newest."),
        ("other", "Third: posted on every article."),
        ("misinformation", "Second: the figures are invented."),
    ]
    assert all(re.match(r"\d{4}-\d\d-\d\dT", n["created_at"]) for n in notes)
    assert [n["note"] for n in items[other["id"]]["notes"]] == ["On the other comment."]

    # A decision closes the round: the next flags start with notes of their own.
    after = client.post(
        f"{ADMIN}/comments/{comment['id']}/actions", json={"action": "approve"}, headers=MOD
    ).get_json()
    assert after["notes"] == [] and after["flag_count"] == 0
    flag("f7", "spam", "A new round.")
    items = {i["id"]: i for i in client.get(f"{ADMIN}/queue", headers=MOD).get_json()["items"]}
    assert [n["note"] for n in items[comment["id"]]["notes"]] == ["A new round."]


def test_one_comment_in_any_status_for_moderators(client, post):
    comment = post("art", "removed soon", user="w").get_json()
    client.post(
        f"/api/v1/comments/{comment['id']}/flags",
        json={"reason": "spam", "note": "ad"},
        headers=auth("f"),
    )
    client.post(f"{ADMIN}/comments/{comment['id']}/actions", json={"action": "remove"}, headers=MOD)
    assert client.get(f"/api/v1/comments/{comment['id']}").status_code == 404  # readers
    item = client.get(f"{ADMIN}/comments/{comment['id']}", headers=MOD).get_json()
    assert item["id"] == comment["id"] and item["status"] == "removed"
    assert item["article_id"] == "art" and item["retained"]["author"]["id"] == "w"
    assert item["retained"]["body"] == "removed soon" and item["notes"] == []
    missing = client.get(f"{ADMIN}/comments/999999", headers=MOD)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/problem+json"
    assert client.get(f"{ADMIN}/comments/{comment['id']}", headers=auth("r")).status_code == 403


def test_blocked_terms_and_links_hold_comments(client, post, app, tmp_path):
    terms = tmp_path / "terms.txt"
    terms.write_text("crypto pump\nscam\n")
    reconfigure(app, COMMENTS_BLOCKED_TERMS_FILE=str(terms), COMMENTS_MAX_LINKS=2)
    r = post("art", "This is a ＳＣＡＭ, trust me")
    assert r.status_code == 201 and r.get_json()["status"] == "pending"
    held = r.get_json()
    r = post("art", "join the Crypto  Pump", user="u2")
    assert r.get_json()["status"] == "pending"
    assert post("art", "scammers are everywhere", user="u3").get_json()["status"] == "published"
    links = "see https://a.example https://b.example [c](https://c.example)"
    linked = post("art", links, user="u4").get_json()
    assert linked["status"] == "pending"
    q = client.get(f"{ADMIN}/queue?state=pending", headers=MOD).get_json()["items"]
    reasons = {i["id"]: i["held_reason"] for i in q}
    assert reasons[held["id"]] == "blocked_term" and reasons[linked["id"]] == "links"
    entries = client.get(f"{ADMIN}/audit-log?action=hold", headers=MOD).get_json()["items"]
    assert {(e["actor"], e["target_id"], e["reason"]) for e in entries} >= {
        ("system", str(held["id"]), "blocked_term"),
        ("system", str(linked["id"]), "links"),
    }
    assert thread_total(client) == 1
    # A moderator's own comment is not held.
    r = client.post("/api/v1/articles/art/comments", json={"body": "warning: scam"}, headers=MOD)
    assert r.get_json()["status"] == "published"

    # An edit that adds a blocked term sends the comment back to the queue.
    fine = post("art", "all good here", user="u5").get_json()
    r = client.patch(
        f"/api/v1/comments/{fine['id']}", json={"body": "actually a scam"}, headers=auth("u5")
    )
    assert r.status_code == 200 and r.get_json()["status"] == "pending"
    assert thread_total(client) == 2
    assert (
        client.get(f"{ADMIN}/audit-log?target_id={fine['id']}", headers=MOD).get_json()["items"][0][
            "action"
        ]
        == "hold"
    )


def test_the_audit_log_says_what_a_hold_changed_and_why(client, post, app, tmp_path, monkeypatch):
    """Mutation testing (#22): the audit entries of automatic holds were checked for their
    action and reason only; dropping their before/after snapshots, their time, the edited
    comment's held reason or the "(after an edit)" note went unnoticed. The post's clock is
    set to a past hour, so a hold stamped with the audit log's own clock instead of the
    post's time (``now`` dropped from audit_hold's call) shows."""
    posted = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
    monkeypatch.setattr("service.api.comments.utcnow", lambda: posted)
    terms = tmp_path / "terms.txt"
    terms.write_text("scam\n")
    reconfigure(app, COMMENTS_BLOCKED_TERMS_FILE=str(terms))
    held = post("art", "a scam", user="u1").get_json()
    monkeypatch.setattr("service.api.comments.utcnow", utcnow)  # the edit below is of now
    fine = post("art", "all good here", user="u5").get_json()
    r = client.patch(
        f"/api/v1/comments/{fine['id']}", json={"body": "actually a scam"}, headers=auth("u5")
    )
    assert r.status_code == 200 and r.get_json()["status"] == "pending"
    queue = client.get(f"{ADMIN}/queue?state=pending", headers=MOD).get_json()["items"]
    assert {i["id"]: i["held_reason"] for i in queue} == {
        held["id"]: "blocked_term",
        fine["id"]: "blocked_term",
    }

    def hold_of(comment_id: int) -> dict[str, Any]:
        log = client.get(f"{ADMIN}/audit-log?target_id={comment_id}", headers=MOD).get_json()
        (entry,) = [e for e in log["items"] if e["action"] == "hold"]
        assert (entry["actor"], entry["target_type"]) == ("system", "comment")
        return entry

    new = hold_of(held["id"])
    assert (new["reason"], new["before"]) == ("blocked_term", None)
    assert new["after"] == {
        "status": "pending",
        "pinned": False,
        "held_reason": "blocked_term",
        "flag_count": 0,
    }
    assert new["created_at"] == held["created_at"] == "2026-03-02T09:30:00Z"  # held as posted
    edited = hold_of(fine["id"])
    assert edited["reason"] == "blocked_term (after an edit)"
    assert (edited["before"]["status"], edited["before"]["held_reason"]) == ("published", None)
    assert (edited["after"]["status"], edited["after"]["held_reason"]) == (
        "pending",
        "blocked_term",
    )


def thread_total(client: Any) -> int:
    return client.get("/api/v1/articles/art/comments").get_json()["total"]


def test_user_history_and_export(client, post):
    a = post("art", "first", user="subject").get_json()
    b = post("art", "second", user="subject").get_json()
    other = post("art", "someone else", user="x").get_json()
    client.post(f"{ADMIN}/comments/{a['id']}/actions", json={"action": "remove"}, headers=MOD)
    client.put(f"/api/v1/comments/{other['id']}/reactions/like", headers=auth("subject"))
    client.put("/api/v1/articles/art/reactions/insightful", headers=auth("subject"))
    client.post(
        f"/api/v1/comments/{other['id']}/flags",
        json={"reason": "spam", "note": "ads"},
        headers=auth("subject"),
    )
    client.put(f"{ADMIN}/bans/subject", json={"reason": "testing", "shadow": True}, headers=MOD)

    r = client.get(f"{ADMIN}/users/subject/comments?limit=1", headers=MOD)
    page = r.get_json()
    assert [i["id"] for i in page["items"]] == [b["id"]]
    assert page["record"] == {"comments": 2, "removed": 1}
    assert page["ban"]["shadow"] is True
    page2 = client.get(
        f"{ADMIN}/users/subject/comments", query_string={"cursor": page["next_cursor"]}, headers=MOD
    ).get_json()
    assert [(i["id"], i["status"], i["retained"]["body"]) for i in page2["items"]] == [
        (a["id"], "removed", "first")
    ]

    export = client.get(f"{ADMIN}/users/subject/export", headers=MOD).get_json()
    assert [c["body"] or c["retained"]["body"] for c in export["comments"]] == ["first", "second"]
    assert export["comment_reactions"][0]["kind"] == "like"
    assert export["article_reactions"][0]["article_id"] == "art"
    assert export["flags"][0]["note"] == "ads"
    assert export["bans"][0]["reason"] == "testing"
    assert [e["action"] for e in export["audit_log"]] == ["ban"]
    text = r.get_data(as_text=True) + str(export)
    assert "fingerprint" not in text and "edit_token" not in text


def recount(session: Any) -> None:
    """Every denormalised counter equals a count of the rows it summarises."""
    comments = list(session.scalars(select(Comment)))
    counted = {c.id for c in comments if c.status == CommentStatus.PUBLISHED and not c.shadowed}
    for article in session.scalars(select(Article)):
        assert article.comment_count == sum(
            1 for c in comments if c.article_id == article.id and c.id in counted
        ), article.id
        reactions = (
            session.scalar(
                select(func.count())
                .select_from(ArticleReaction)
                .where(ArticleReaction.article_id == article.id, ArticleReaction.counted)
            )
            or 0
        )
        assert article.reaction_count == reactions
    for c in comments:
        descendants = [d for d in comments if f"/{c.id}/" in d.path]
        assert c.reply_count == sum(1 for d in descendants if d.id in counted), c.id
        kinds = dict(
            session.execute(
                select(CommentReaction.kind, func.count())
                .where(CommentReaction.comment_id == c.id, CommentReaction.counted)
                .group_by(CommentReaction.kind)
            ).all()
        )
        stored = dict(
            session.execute(
                select(CommentReactionCount.kind, CommentReactionCount.count).where(
                    CommentReactionCount.comment_id == c.id, CommentReactionCount.count != 0
                )
            ).all()
        )
        assert stored == kinds, c.id
        likes, dislikes = kinds.get("like", 0), kinds.get("dislike", 0)
        assert (c.likes, c.dislikes, c.score) == (likes, dislikes, likes - dislikes)
        assert c.best == pytest.approx(ranking.wilson_lower_bound(likes, dislikes))
        assert c.controversy == pytest.approx(ranking.controversy(likes, dislikes))
        open_flags = session.execute(
            select(func.count(), func.coalesce(func.sum(Flag.weight), 0.0)).where(
                Flag.comment_id == c.id, Flag.state == "open", Flag.weight > 0
            )
        ).one()
        assert c.flag_count == open_flags[0]
        assert c.flag_weight == pytest.approx(open_flags[1])
    for row in session.scalars(select(ArticleReactionCount)):
        assert row.count == (
            session.scalar(
                select(func.count())
                .select_from(ArticleReaction)
                .where(
                    ArticleReaction.article_id == row.article_id,
                    ArticleReaction.kind == row.kind,
                    ArticleReaction.counted,
                )
            )
            or 0
        )


def test_erasure_leaves_counters_equal_to_a_recount(app, client, post):
    root = post("a1", "root by someone", user="keeper").get_json()
    gone = post("a1", "erased, alone", user="subject").get_json()
    parent = post("a1", "erased, replied to", user="subject").get_json()
    child = post("a1", "reply to subject", user="keeper", parent_id=parent["id"]).get_json()
    own_chain = post("a2", "subject's top", user="subject").get_json()
    post("a2", "subject's own reply", user="subject", parent_id=own_chain["id"])
    sub_reply = post("a1", "subject replies", user="subject", parent_id=root["id"]).get_json()
    for kind in ("like", "dislike", "insightful"):
        for user in ("subject", "keeper", "third"):
            if (kind, user) == ("dislike", "keeper"):
                continue
            client.put(f"/api/v1/comments/{root['id']}/reactions/{kind}", headers=auth(user))
    client.put(f"/api/v1/comments/{child['id']}/reactions/dislike", headers=auth("subject"))
    client.put(f"/api/v1/comments/{parent['id']}/reactions/like", headers=auth("keeper"))
    for article in ("a1", "a2"):
        client.put(f"/api/v1/articles/{article}/reactions/like", headers=auth("subject"))
        client.put(f"/api/v1/articles/{article}/reactions/like", headers=auth("keeper"))
    client.post(
        f"/api/v1/comments/{child['id']}/flags", json={"reason": "spam"}, headers=auth("subject")
    )
    client.post(
        f"/api/v1/comments/{root['id']}/flags", json={"reason": "spam"}, headers=auth("subject")
    )
    client.put(f"{ADMIN}/bans/subject", json={"reason": "r"}, headers=MOD)
    with app.app_context():
        recount(db.session)

    assert client.delete(f"{ADMIN}/users/subject", headers=MOD).status_code == 403  # admins only
    r = client.delete(f"{ADMIN}/users/subject", headers=auth("root", roles=["admin"]))
    assert r.status_code == 200, r.get_json()
    erased = r.get_json()["erased"]
    assert erased["comments_tombstoned"] == 1 and erased["comments_deleted"] == 4
    # their dislike (which withdrew their like) and insightful on root, their dislike on
    # child, their two article likes (mutation testing, #22: joining each reaction to every
    # other comment reported one per reaction and comment)
    assert (erased["comment_reactions"], erased["article_reactions"]) == (3, 2)
    with app.app_context():
        recount(db.session)
        assert (
            db.session.scalar(
                select(func.count()).select_from(Comment).where(Comment.author_id == "subject")
            )
            == 0
        )
        tomb = db.session.get(Comment, parent["id"])
        assert (tomb.body, tomb.author_name, tomb.status) == (None, None, CommentStatus.DELETED)
        assert db.session.get(Comment, gone["id"]) is None
        assert db.session.get(Comment, sub_reply["id"]) is None
        assert db.session.scalar(select(func.count()).select_from(Flag)) == 0

    page = client.get("/api/v1/articles/a1/comments").get_json()
    assert page["total"] == 2
    tombstone = next(i for i in page["items"] if i["id"] == parent["id"])
    assert tombstone["author"] is None and tombstone["body"] is None
    assert tombstone["replies"][0]["id"] == child["id"]
    assert client.get("/api/v1/articles/a2").get_json()["comment_count"] == 0
    assert client.get(f"{ADMIN}/bans", headers=MOD).get_json()["items"] == []
    export = client.get(f"{ADMIN}/users/subject/export", headers=MOD).get_json()
    assert export["comments"] == export["comment_reactions"] == export["flags"] == []
    entry = client.get(f"{ADMIN}/audit-log?action=erase_user", headers=MOD).get_json()["items"]
    assert entry[0]["target_id"] == "subject" and entry[0]["after"] == erased


def test_stats(client, post):
    a = post("busy", "one", user="u1").get_json()
    post("busy", "two", user="u2")
    post("quiet", "three", user="u3")
    client.put(f"/api/v1/comments/{a['id']}/reactions/like", headers=auth("u2"))
    client.put("/api/v1/articles/busy/reactions/like", headers=auth("u2"))
    for user in ("f1", "f2", "f3"):
        client.post(
            f"/api/v1/comments/{a['id']}/flags", json={"reason": "hate"}, headers=auth(user)
        )
    client.post(f"{ADMIN}/comments/{a['id']}/actions", json={"action": "remove"}, headers=MOD)
    s = client.get(f"{ADMIN}/stats", headers=MOD).get_json()
    assert len(s["per_day"]) == 30
    assert s["per_day"][-1]["comments"] == 3 and s["per_day"][-1]["reactions"] == 2
    assert sum(d["comments"] for d in s["per_day"]) == s["totals"]["comments"] == 3
    assert s["most_discussed"][0] == {"article_id": "busy", "comments": 2}
    assert s["flags_by_reason"]["hate"] == 3 and s["flags_by_reason"]["spam"] == 0
    assert s["queue"] == {"flagged": 0, "pending": 0, "hidden": 0, "all": 0}
    assert s["decisions"] == 1 and s["median_seconds_to_decision"] >= 0
    assert client.get(f"{ADMIN}/stats?days=7", headers=MOD).get_json()["per_day"].__len__() == 7
    assert client.get(f"{ADMIN}/stats?days=0", headers=MOD).status_code == 422


def test_stats_count_each_queue(client, post):
    """The stats' queue sizes count what waits in each queue (mutation testing, #22:
    test_stats only ever saw empty queues, so ``or 0`` -> ``and 0`` (always 0), ``where(None)``
    (every comment) and ``select(None)`` in queue_sizes went unnoticed)."""
    flagged = post("q1", "flag me", user="u1").get_json()
    post("q1", "leave me", user="u2")
    r = client.post(
        f"/api/v1/comments/{flagged['id']}/flags", json={"reason": "spam"}, headers=auth("f1")
    )
    assert r.status_code == 201, r.get_json()
    r = client.patch(f"{ADMIN}/articles/q2", json={"premoderation": True}, headers=MOD)
    assert r.status_code == 200, r.get_json()
    assert post("q2", "wait for me", user="u3").get_json()["status"] == "pending"
    s = client.get(f"{ADMIN}/stats", headers=MOD).get_json()
    assert s["queue"] == {"flagged": 1, "pending": 1, "hidden": 0, "all": 2}


def test_a_flagged_comment_its_author_deletes_leaves_the_flagged_queue(client, post):
    """Mutation testing (#22): queue_condition's flagged state without its tombstone filter
    kept a deleted comment, whose open flags still count, in the moderators' queue."""
    gone = post("q4", "deleted while flagged", user="u1").get_json()
    r = client.post(
        f"/api/v1/comments/{gone['id']}/flags", json={"reason": "spam"}, headers=auth("f1")
    )
    assert r.status_code == 201, r.get_json()
    assert client.delete(f"/api/v1/comments/{gone['id']}", headers=auth("u1")).status_code == 204
    s = client.get(f"{ADMIN}/stats", headers=MOD).get_json()
    assert s["queue"] == {"flagged": 0, "pending": 0, "hidden": 0, "all": 0}
    assert client.get(f"{ADMIN}/queue?state=flagged", headers=MOD).get_json()["items"] == []


@pytest.mark.settings(COMMENTS_FLAG_HIDE_THRESHOLD=0.25)
def test_a_comment_hidden_by_an_erased_flagger_stays_in_the_queue(client, post):
    """Erasing its only flagger takes the comment's flag count back to 0, but it is still
    hidden and waits for a moderator, under "hidden" and "all" (mutation testing, #22: "all"
    without the hidden state went unnoticed)."""
    hidden = post("q5", "hidden by a flag", user="u2").get_json()
    r = client.post(
        f"/api/v1/comments/{hidden['id']}/flags", json={"reason": "spam"}, headers=auth("f2")
    )
    assert r.status_code == 201, r.get_json()
    r = client.delete(f"{ADMIN}/users/f2", headers=auth("root", roles=["admin"]))
    assert r.status_code == 200, r.get_json()
    s = client.get(f"{ADMIN}/stats", headers=MOD).get_json()
    assert s["queue"] == {"flagged": 0, "pending": 0, "hidden": 1, "all": 1}
    items = client.get(f"{ADMIN}/queue?state=all", headers=MOD).get_json()["items"]
    assert [(i["id"], i["status"]) for i in items] == [(hidden["id"], "hidden")]


def test_a_queue_page_reads_one_comment_beyond_the_page(app, client, post):
    """moderation.queue_page reads ``limit + 1`` comments (the extra one says there is a next
    page), not the whole queue (mutation testing, #22: ``limit(None)`` and ``limit + 2`` in
    queue_query went unnoticed because the view cuts the page itself)."""
    from service.domain import moderation

    r = client.patch(f"{ADMIN}/articles/q3", json={"premoderation": True}, headers=MOD)
    assert r.status_code == 200, r.get_json()
    for i in range(4):
        assert post("q3", f"held number {i}", user=f"u{i}").get_json()["status"] == "pending"
    with app.app_context():
        page = moderation.queue_page(
            db.session, state="pending", article_id=None, limit=2, after=None
        )
    assert len(page) == 3


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("PUT", f"{ADMIN}/bans/u%00x", {"reason": "r"}),
        ("GET", f"{ADMIN}/users/u%00x/export", None),
        ("DELETE", f"{ADMIN}/users/u%00x", None),  # u%01x is a real sub now (#14 item 2)
        ("GET", f"{ADMIN}/audit-log?actor=a%00b", None),
        ("GET", f"{ADMIN}/audit-log?target_id=%00", None),
        ("PUT", f"{ADMIN}/bans/u1", {"reason": "r\x00"}),
        ("PUT", f"{ADMIN}/bans/u1", {"reason": "r", "expires_at": "9999-12-31T23:00:00-05:00"}),
        ("PUT", f"{ADMIN}/bans/u1", {"reason": "r", "shadow": "yes please"}),
        ("POST", f"{ADMIN}/comments/1/actions", {"action": "remove", "reason": "\ud800"}),
        ("PATCH", f"{ADMIN}/articles/a1", {"status": "closed", "reason": "x\x00"}),
        ("PATCH", f"{ADMIN}/articles/a1", {"premoderation": "sometimes"}),
    ],
)
def test_hostile_admin_input_is_422_and_stores_nothing(client, post, method, url, body):
    post("a1", "a comment", user="u-1")
    before = client.get(f"{ADMIN}/audit-log", headers=MOD).get_json()["items"]
    r = client.open(url, method=method, json=body, headers=MOD)
    assert r.status_code == 422, r.get_json()
    assert r.headers["Content-Type"] == "application/problem+json"
    assert client.get(f"{ADMIN}/audit-log", headers=MOD).get_json()["items"] == before


def test_an_audit_entry_keeps_the_time_of_the_action_it_records(app):
    """audit.record stores the ``now`` of the change it records, not the time of the insert
    (kills ``created_at=now or utcnow()`` dropped, set to None or turned into ``and``)."""
    import datetime as dt

    from service.domain import audit

    when = dt.datetime(2021, 3, 4, 5, 6, 7, tzinfo=dt.timezone.utc)
    with app.app_context():
        entry = audit.record(
            db.session,
            actor_id="m-1",
            action="hide",
            target_type="comment",
            target_id="7",
            now=when,
        )
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(type(entry), entry.id).created_at == when
        later = audit.record(
            db.session, actor_id="m-1", action="show", target_type="comment", target_id="7"
        )
        assert later.created_at > when


def test_erasing_a_flagger_takes_back_only_the_flags_still_weighing(client, post):
    """Erasure subtracts a flagger's flag from the comment's counters only while it is open
    and weighs something (mutation testing, #22: ``state == OPEN or weight > 0`` also took back
    a flag a moderator had already dismissed, and ``weight >= 0`` a shadow-banned flagger's
    flag that never counted; each left the moderators a wrong flag count)."""
    c = post("a1", "a disputed comment", user="author").get_json()

    def flags_on_it() -> tuple[int, float]:
        r = client.get(f"{ADMIN}/comments/{c['id']}", headers=MOD)
        assert r.status_code == 200, r.get_json()
        return r.get_json()["flag_count"], r.get_json()["flag_weight"]

    def flag(user: str) -> None:
        r = client.post(
            f"/api/v1/comments/{c['id']}/flags", json={"reason": "spam"}, headers=auth(user)
        )
        assert r.status_code == 201, r.get_json()

    flag("early")
    r = client.post(
        f"{ADMIN}/comments/{c['id']}/actions", json={"action": "dismiss_flags"}, headers=MOD
    )
    assert r.status_code == 200, r.get_json()
    assert flags_on_it() == (0, 0)
    client.put(f"{ADMIN}/bans/ghost", json={"reason": "r", "shadow": True}, headers=MOD)
    flag("ghost")  # stored, weighs nothing
    flag("late")
    open_flags = flags_on_it()
    assert open_flags[0] == 1 and open_flags[1] > 0
    admin = auth("root", roles=["admin"])
    for user in ("early", "ghost"):
        assert client.delete(f"{ADMIN}/users/{user}", headers=admin).status_code == 200
        assert flags_on_it() == open_flags, user


def test_erasure_counts_every_tombstone_and_leaves_each_bare(client, post):
    """The summary counts each comment kept as a tombstone (and no ban the person never had),
    the audit entry keeps the admin's reason, and a tombstone keeps no trace of why it was
    held (mutation testing, #22: ``tombstones = 1`` reported one of two, ``had_ban is None``
    counted a ban, the audit entry's reason dropped or None or its target type changed, and a
    held reason of "" instead of none all survived the one-tombstone test)."""
    ids = []
    for body in ("first, replied to", "second, replied to"):
        mine = post("a3", body, user="subject").get_json()
        reply = post("a3", f"a reply to the {body}", user="keeper", parent_id=mine["id"])
        assert reply.status_code == 201, reply.get_json()
        ids.append(mine["id"])
    r = client.delete(
        f"{ADMIN}/users/subject?reason=erasure request 42", headers=auth("root", roles=["admin"])
    )
    assert r.status_code == 200, r.get_json()
    erased = r.get_json()["erased"]
    assert (erased["comments_tombstoned"], erased["comments_deleted"], erased["bans"]) == (2, 0, 0)
    (entry,) = client.get(f"{ADMIN}/audit-log?action=erase_user", headers=MOD).get_json()["items"]
    assert (entry["target_type"], entry["target_id"]) == ("user", "subject")
    assert (entry["reason"], entry["after"]) == ("erasure request 42", erased)
    for comment_id in ids:
        tomb = client.get(f"{ADMIN}/comments/{comment_id}", headers=MOD).get_json()
        assert (tomb["status"], tomb["author"], tomb["held_reason"]) == ("deleted", None, None)


def test_erasing_a_person_withdraws_each_of_their_article_reactions_and_no_one_elses(client):
    """Erasure takes back every article reaction of the person, each from its own article's
    total, and leaves other people's alone. Mutation testing (#22): the recount test had the
    person and another reader both liking the same two articles, so reading everyone's
    reactions, or every reaction but theirs, or withdrawing with no kind, no article or no
    person, or by adding instead of removing, or taking one from every other article's
    total instead of this one's (with two articles the same sum) went unnoticed."""
    for article in ("b1", "b2", "b3"):
        r = client.put(f"/api/v1/articles/{article}/reactions/like", headers=auth("subject"))
        assert r.status_code == 200
    client.put("/api/v1/articles/b1/reactions/insightful", headers=auth("keeper"))
    client.put("/api/v1/articles/b2/reactions/like", headers=auth("keeper"))
    r = client.delete(f"{ADMIN}/users/subject", headers=auth("root", roles=["admin"]))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["erased"]["article_reactions"] == 3
    reactions = [
        client.get(f"/api/v1/articles/{a}").get_json()["reactions"] for a in ("b1", "b2", "b3")
    ]
    assert reactions == [{"insightful": 1}, {"like": 1}, {}]
    counts = client.get("/api/v1/counts?article_id=b1&article_id=b2&article_id=b3").get_json()
    assert {a: c["reactions"] for a, c in counts["counts"].items()} == {"b1": 1, "b2": 1, "b3": 0}
    assert (
        client.get(f"{ADMIN}/users/subject/export", headers=MOD).get_json()["article_reactions"]
        == []
    )
    kept = client.get(f"{ADMIN}/users/keeper/export", headers=MOD).get_json()["article_reactions"]
    assert sorted((x["article_id"], x["kind"]) for x in kept) == [
        ("b1", "insightful"),
        ("b2", "like"),
    ]


def _set(app: Any, model: Any, row_id: Any, **values: Any) -> None:
    from sqlalchemy import update

    with app.app_context():
        db.session.execute(update(model).where(model.id == row_id).values(**values))
        db.session.commit()


def test_stats_count_each_utc_day_of_the_window_and_nothing_before_it(app, client, post):
    """The figures of ``moderation_stats`` for a fixed ``now`` and rows placed in time: three
    days from midnight UTC two days back, a row at that midnight in and one a second before
    out, uncounted (shadow-banned) reactions out, the most discussed articles by count then
    name (mutation testing, #22: test_stats put every row in today, so the window's start,
    ``>= since`` dropped or ``> since``, the days counted from ``now + i``, no GROUP BY, the
    ``counted`` filters, an article reaction on a day without comment reactions, the order
    and LIMIT of the most discussed, and the default of ten went unnoticed)."""
    import datetime as dt

    from service.domain.stats import moderation_stats

    def at(day: int, hour: int = 12, second: int = 0) -> dt.datetime:
        return dt.datetime(2026, 3, day, hour, 0, second, tzinfo=dt.timezone.utc)

    since = dt.datetime(2026, 3, 8, tzinfo=dt.timezone.utc)
    placed = {
        ("busy", at(10, 9)): "u1",
        ("busy", at(10, 10)): "u2",
        ("busy", at(9, 8)): "u3",
        ("aaa", since): "u4",
        ("zzz", at(9, 1)): "u5",
        ("old", since - dt.timedelta(seconds=1)): "u6",
        ("old", at(7)): "u7",
    }
    made = {}
    for (article, when), user in placed.items():
        c = post(article, f"by {user}", user=user).get_json()
        _set(app, Comment, c["id"], created_at=when)
        made[user] = c["id"]
    reactions = [  # (url, user, created_at, counted)
        (f"/api/v1/comments/{made['u1']}/reactions/like", "r1", at(10), True),
        (f"/api/v1/comments/{made['u1']}/reactions/like", "r2", at(9), False),
        (f"/api/v1/comments/{made['u2']}/reactions/like", "r3", at(7), True),
        ("/api/v1/articles/busy/reactions/like", "r1", at(8), True),
        ("/api/v1/articles/busy/reactions/like", "r2", at(10), False),
        ("/api/v1/articles/aaa/reactions/like", "r3", at(7), True),
    ]
    for url, user, when, counted in reactions:
        assert client.put(url, headers=auth(user)).status_code == 200
        model = CommentReaction if "/comments/" in url else ArticleReaction
        with app.app_context():
            row_id = db.session.scalar(select(func.max(model.id)).where(model.user_id == user))
        _set(app, model, row_id, created_at=when, counted=counted)
    for user, reason, when in (("f1", "spam", since), ("f2", "abuse", at(7))):
        r = client.post(
            f"/api/v1/comments/{made['u1']}/flags", json={"reason": reason}, headers=auth(user)
        )
        assert r.status_code == 201, r.get_json()
        with app.app_context():
            flag_id = db.session.scalar(select(Flag.id).where(Flag.user_id == user))
        _set(app, Flag, flag_id, created_at=when)

    with app.app_context():
        s = moderation_stats(db.session, days=3, now=at(10, 12))
        assert s["since"] == "2026-03-08T00:00:00Z"
        assert s["per_day"] == [
            {"date": "2026-03-08", "comments": 1, "reactions": 1},
            {"date": "2026-03-09", "comments": 2, "reactions": 0},
            {"date": "2026-03-10", "comments": 2, "reactions": 1},
        ]
        assert s["totals"] == {"comments": 5, "reactions": 2}
        assert s["most_discussed"] == [
            {"article_id": "busy", "comments": 3},
            {"article_id": "aaa", "comments": 1},
            {"article_id": "zzz", "comments": 1},
        ]
        assert s["flags_by_reason"]["spam"] == 1 and s["flags_by_reason"]["abuse"] == 0
        top = moderation_stats(db.session, days=3, now=at(10, 12), top=2)["most_discussed"]
        assert [a["article_id"] for a in top] == ["busy", "aaa"]

    for i in range(10):  # fourteen articles in thirty days: the ten most discussed are listed
        c = post(f"more-{i:02}", "one more", user="u8").get_json()
        _set(app, Comment, c["id"], created_at=at(9))
    with app.app_context():
        s = moderation_stats(db.session, now=at(10, 12))
        assert (s["days"], s["since"], len(s["per_day"])) == (30, "2026-02-09T00:00:00Z", 30)
        listed = [(a["article_id"], a["comments"]) for a in s["most_discussed"]]
        assert len(listed) == 10
        assert listed[:4] == [("busy", 3), ("old", 2), ("aaa", 1), ("more-00", 1)]


def test_time_to_decision_runs_from_the_latest_hold_before_it(app, client, post):
    """``decision_times``: seconds from the comment's creation, or from the latest automatic
    hold or hide before the decision, to each approve, remove or dismiss_flags since
    ``since``, newest first, at most ``limit`` of them (mutation testing, #22: test_stats saw
    one decision on a comment never held, so the holds query's conditions, which hold counts,
    the window's start, the order and the limit went unnoticed)."""
    import datetime as dt

    from service.domain import audit
    from service.domain.stats import decision_times

    since = dt.datetime(2026, 3, 8, tzinfo=dt.timezone.utc)

    def s(seconds: float) -> dt.datetime:
        return since + dt.timedelta(seconds=seconds)

    ids = {}
    for name, created in (("a", s(3600)), ("b", s(7200)), ("c", s(-86400)), ("d", s(-10))):
        c = post("art", f"comment {name}", user=f"u-{name}").get_json()
        _set(app, Comment, c["id"], created_at=created)
        ids[name] = str(c["id"])
    with app.app_context():
        for actor, action, name, when in (
            ("mod", "approve", "a", s(3700)),  # 100 s after its creation
            (audit.SYSTEM, "hold", "b", s(7220)),
            (audit.SYSTEM, "hide", "b", s(7250)),  # the latest before the decision
            ("mod", "remove", "b", s(7450)),  # 200 s after the hide
            (audit.SYSTEM, "hide", "b", s(7500)),  # after the decision: not its start
            ("mod", "dismiss_flags", "c", s(-3600)),  # before the window
            ("mod", "dismiss_flags", "d", since),  # at the window's start: in
            ("mod", "pin", "a", s(9000)),  # not a decision
        ):
            audit.record(
                db.session,
                actor_id=actor,
                action=action,
                target_type="comment",
                target_id=ids[name],
                now=when,
            )
        db.session.commit()
        assert decision_times(db.session, since) == [10.0, 200.0, 100.0]
        assert decision_times(db.session, since, limit=2) == [10.0, 200.0]


def test_stats_days_are_utc_days_whatever_the_database_servers_time_zone(db_session: Any) -> None:
    """PostgreSQL's date() of a timestamp with time zone is its day in the session's time
    zone, which is the server's unless set: a comment at 23:30 UTC must count on its UTC
    day even for a server in UTC+14 (mutation testing: `_day`'s dialect switch)."""
    import datetime as dt

    from sqlalchemy import text

    from service.domain import stats
    from service.domain.comments import ensure_article

    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no session time zone; PostgreSQL's test")
    db_session.execute(text("SET LOCAL TIME ZONE 'Pacific/Kiritimati'"))
    late = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.timezone.utc)
    ensure_article(db_session, "utc-days", late)
    db_session.add(Comment(article_id="utc-days", body="late", created_at=late))
    db_session.flush()
    since = late - dt.timedelta(days=1)
    assert stats.per_day(db_session, Comment.created_at, since) == {"2026-03-01": 1}
