"""The moderators' queue costs a fixed, small number of statements, whatever the page
holds (#14: it answered at a tenth of the thread page's rate; docs/performance.md)."""

from __future__ import annotations

from tests.helpers import MODERATOR, auth

API = "/api/v1"
MOD = auth("m-1", **MODERATOR)


def _flag(client, comment_id, user, reason="spam", note=None):
    body = {"reason": reason} | ({"note": note} if note else {})
    r = client.post(f"{API}/comments/{comment_id}/flags", json=body, headers=auth(user))
    assert r.status_code == 201, r.get_json()


def _seed(client, post, article, n):
    """n flagged comments (replies among them), two notes each, from n authors."""
    parent = post(article, "the parent", user="p-1").get_json()
    for i in range(n):
        c = post(article, f"comment {i}", user=f"a-{i}", parent_id=parent["id"] if i % 2 else None)
        cid = c.get_json()["id"]
        _flag(client, cid, f"f-{i}-1", "spam", note=f"first note {i}")
        _flag(client, cid, f"f-{i}-2", "abuse", note=f"second note {i}")


def test_the_queue_costs_seven_statements_at_any_size(client, post, count_queries):
    _seed(client, post, "small", 2)
    _seed(client, post, "large", 12)
    counts = {}
    for article in ("small", "large"):
        with count_queries() as q:
            r = client.get(f"{API}/admin/queue?state=flagged&article_id={article}", headers=MOD)
        assert r.status_code == 200
        counts[article] = q.count
    assert counts["small"] == counts["large"]
    # comments (+ their parents' excerpts, reactions, flags with notes, author records),
    # the total, and the spam model's scores (#18): seven (six without the scores).
    assert counts["large"] <= 7, counts


def test_flags_and_notes_come_back_as_before(client, post):
    c = post("a1", "flag me", user="u-1").get_json()
    _flag(client, c["id"], "f-1", "spam", note="one")
    _flag(client, c["id"], "f-2", "spam")
    _flag(client, c["id"], "f-3", "abuse", note="three")
    item = client.get(f"{API}/admin/queue?state=all", headers=MOD).get_json()["items"][0]
    assert item["flags"] == {"spam": 2, "abuse": 1}
    assert [n["note"] for n in item["notes"]] == ["three", "one"]  # newest first
    assert {n["reason"] for n in item["notes"]} == {"spam", "abuse"}
    assert all(n["created_at"].endswith("Z") for n in item["notes"])
