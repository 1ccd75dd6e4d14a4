"""Market features through the API (issue #18): cashtags and the ticker endpoints with their
visibility rules, disclosures (and the required mode), visible edit history (after edits,
deletes, removals and erasure), and listings that still cost a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import event, func, select, update

from service import create_app
from service.extensions import db
from service.models import Comment, CommentRevision, CommentTicker
from tests.helpers import MODERATOR, auth, empty_tables
from tests.openapi_check import assert_matches_spec

MOD = auth("mod-1", **MODERATOR)
ADMIN = "/api/v1/admin"
QUOTE = "https://news.example/quote/{symbol}"
TICKERS = "/api/v1/tickers"
TICKER = "/api/v1/tickers/{symbol}"
TICKER_COMMENTS = "/api/v1/tickers/{symbol}/comments"
REVISIONS = "/api/v1/comments/{comment_id}/revisions"


def get(client: Any, template: str, expect: int = 200, headers: Any = None, **params: Any) -> Any:
    query = params.pop("query", None)
    r = client.get(template.format(**params), query_string=query, headers=headers or {})
    assert r.status_code == expect, r.get_data(as_text=True)
    return assert_matches_spec("GET", template, r)


def created(r: Any) -> dict[str, Any]:
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def act(client: Any, comment_id: int, action: str) -> None:
    r = client.post(f"{ADMIN}/comments/{comment_id}/actions", json={"action": action}, headers=MOD)
    assert r.status_code == 200, r.get_json()


def backdate(app: Any, comment_id: int, **ago: float) -> None:
    """Move a comment (and its mentions) into the past."""
    when = dt.datetime.now(dt.timezone.utc) - dt.timedelta(**ago)
    with app.app_context():
        db.session.execute(update(Comment).where(Comment.id == comment_id).values(created_at=when))
        db.session.execute(
            update(CommentTicker)
            .where(CommentTicker.comment_id == comment_id)
            .values(created_at=when)
        )
        db.session.commit()


def rows(app: Any, model: Any, comment_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(model).where(model.comment_id == comment_id)
        )


# --- cashtags -----------------------------------------------------------------------------


@pytest.mark.settings(COMMENTS_TICKER_URL_TEMPLATE=QUOTE)
def test_cashtags_are_stored_linked_and_listed(client, post):
    c = created(post("a1", "Long $baba and $9988.HK; not `$JD` nor $5."))
    assert c["tickers"] == ["BABA", "9988.HK"]
    assert c["disclosure"] is None and c["revision_count"] == 0
    assert '<a href="https://news.example/quote/BABA" class="cashtag"' in c["body_html"]
    assert "<code>$JD</code>" in c["body_html"]
    page = client.get("/api/v1/articles/a1/comments").get_json()
    assert page["items"][0]["tickers"] == ["BABA", "9988.HK"]
    config = client.get("/api/v1/config").get_json()
    assert config["ticker_url_template"] == QUOTE and config["require_disclosure"] is False
    preview = client.post("/api/v1/preview", json={"body": "$BABA"}).get_json()
    assert 'class="cashtag"' in preview["body_html"] and preview["links"] == 0


def test_without_a_template_cashtags_are_text_but_still_counted(client, post):
    c = created(post("a1", "Long $BABA"))
    assert c["body_html"] == "<p>Long $BABA</p>" and c["tickers"] == ["BABA"]
    assert client.get("/api/v1/config").get_json()["ticker_url_template"] is None
    assert get(client, TICKER, symbol="baba")["comments"] == {"1h": 1, "24h": 1, "7d": 1}


def test_ticker_counts_windows_and_previous(app, client, post):
    recent = [created(post("a1", f"$BABA take {i}", user=f"u-{i}"))["id"] for i in range(3)]
    older = created(post("a1", "$BABA and $TSLA yesterday", user="u-9"))["id"]
    backdate(app, older, hours=30)
    week = created(post("a2", "$TSLA last week", user="u-8"))["id"]
    backdate(app, week, days=3)
    created(post("a2", "$TSLA now", user="u-7"))
    backdate(app, recent[0], minutes=90)

    day = get(client, TICKERS, query={"window": "24h"})["items"]
    assert day == [
        {"symbol": "BABA", "comments": 3, "previous": 1},
        {"symbol": "TSLA", "comments": 1, "previous": 1},
    ]
    hour = get(client, TICKERS, query={"window": "1h"})["items"]
    assert hour == [
        {"symbol": "BABA", "comments": 2, "previous": 1},
        {"symbol": "TSLA", "comments": 1, "previous": 0},
    ]
    assert get(client, TICKERS, query={"window": "7d", "limit": 1})["items"] == [
        {"symbol": "BABA", "comments": 4, "previous": 0}
    ]
    assert get(client, TICKERS)["items"] == day  # 24h by default
    get(client, TICKERS, 422, query={"window": "1y"})
    get(client, TICKERS, 422, query={"window": "1h", "extra": "x"})

    assert get(client, TICKER, symbol="tsla") == {
        "symbol": "TSLA",
        "comments": {"1h": 1, "24h": 1, "7d": 3},
        "likes": 0,
        "dislikes": 0,
    }
    assert get(client, TICKER, symbol="NOPE")["comments"] == {"1h": 0, "24h": 0, "7d": 0}
    get(client, TICKER, 422, symbol="5.50")
    get(client, TICKER, 422, symbol="$BABA")


def test_trending_ranks_by_mentions_and_counts_only_the_two_windows(app, client, post):
    """The most-mentioned symbol first even when another comes first alphabetically; a symbol
    mentioned only in the window before is not trending; a mention older than the two
    windows counts in neither; a symbol nobody named has no likes (mutation testing, #22:
    ordering by symbol alone, ``HAVING current >= 0``, ``3 * window`` and ``coalesce(..., 1)``
    for the likes and dislikes went unnoticed)."""
    for i in range(2):
        created(post("t1", f"$ZZZ is up, take {i}", user=f"z-{i}"))
    created(post("t1", "$AAA once", user="a-1"))
    old = created(post("t1", "$OLD ninety minutes ago", user="o-1"))["id"]
    backdate(app, old, minutes=90)
    far = created(post("t1", "$FAR long ago", user="f-1"))["id"]
    backdate(app, far, minutes=150)
    created(post("t1", "$FAR again now", user="f-2"))
    hour = get(client, TICKERS, query={"window": "1h"})["items"]
    assert hour == [
        {"symbol": "ZZZ", "comments": 2, "previous": 0},
        {"symbol": "AAA", "comments": 1, "previous": 0},
        {"symbol": "FAR", "comments": 1, "previous": 0},
    ]
    assert get(client, TICKER, symbol="NONE") == {
        "symbol": "NONE",
        "comments": {"1h": 0, "24h": 0, "7d": 0},
        "likes": 0,
        "dislikes": 0,
    }


def test_likes_and_dislikes_of_a_symbols_comments(client, post):
    a = created(post("a1", "$BABA up", user="u-1"))["id"]
    b = created(post("a1", "$BABA down", user="u-2"))["id"]
    created(post("a1", "no tag", user="u-3"))
    for user, cid, kind in (("r1", a, "like"), ("r2", a, "like"), ("r3", b, "dislike")):
        r = client.put(f"/api/v1/comments/{cid}/reactions/{kind}", headers=auth(user))
        assert r.status_code == 200
    summary = get(client, TICKER, symbol="BABA")
    assert (summary["likes"], summary["dislikes"]) == (2, 1)


def test_what_the_public_never_sees_is_never_counted_or_listed(app, client, post):
    shown = created(post("open", "$BABA fine", user="u-1"))["id"]
    removed = created(post("open", "$BABA removed", user="u-2"))["id"]
    deleted = created(post("open", "$BABA deleted", user="u-3"))["id"]
    shadow = "u-shadow"
    r = client.put(f"{ADMIN}/bans/{shadow}", json={"reason": "spam", "shadow": True}, headers=MOD)
    assert r.status_code == 201
    shadowed = created(post("open", "$BABA shadowed", user=shadow))["id"]
    hidden_article = created(post("secret", "$BABA hidden thread", user="u-4"))["id"]
    r = client.patch(f"{ADMIN}/articles/secret", json={"status": "hidden"}, headers=MOD)
    assert r.status_code == 200
    r = client.patch(f"{ADMIN}/articles/held", json={"premoderation": True}, headers=MOD)
    pending = created(post("held", "$BABA pending", user="u-5"))
    assert pending["status"] == "pending"
    act(client, removed, "remove")
    assert client.delete(f"/api/v1/comments/{deleted}", headers=auth("u-3")).status_code == 204
    assert rows(app, CommentTicker, deleted) == 0  # the author's words went, mentions too

    assert get(client, TICKER, symbol="BABA")["comments"]["24h"] == 1
    assert get(client, TICKERS)["items"] == [{"symbol": "BABA", "comments": 1, "previous": 0}]
    for who in ({}, auth("u-9"), MOD):
        listed = get(client, TICKER_COMMENTS, symbol="BABA", headers=who)
        assert [c["id"] for c in listed["items"]] == [shown], who
    # Authors see their own held and shadowed comments, as in a thread (and no one else's).
    mine = get(client, TICKER_COMMENTS, symbol="baba", headers=auth("u-5"))
    assert [c["id"] for c in mine["items"]] == [pending["id"], shown]
    theirs = get(client, TICKER_COMMENTS, symbol="BABA", headers=auth(shadow))
    assert [c["id"] for c in theirs["items"]] == [shadowed, shown]
    assert hidden_article not in [c["id"] for c in theirs["items"]]

    # Approval publishes, and the count follows at once.
    act(client, pending["id"], "approve")
    assert get(client, TICKER, symbol="BABA")["comments"]["24h"] == 2


def test_a_removed_comment_kept_as_a_tombstone_for_its_replies_is_not_listed(client, post):
    """A thread shows a removed comment that has replies as a tombstone; the symbol's listing
    never shows it (mutation testing, #22: without ``status NOT IN tombstones`` in
    tickers.comments, visible_to let it through)."""
    shown = created(post("tomb", "$BABA fine", user="u-1"))["id"]
    removed = created(post("tomb", "$BABA rude", user="u-2"))["id"]
    created(post("tomb", "a reply to the rude one", user="u-3", parent_id=removed))
    act(client, removed, "remove")
    for who in ({}, auth("u-2"), MOD):
        listed = get(client, TICKER_COMMENTS, symbol="BABA", headers=who)
        assert [c["id"] for c in listed["items"]] == [shown], who


def test_a_page_of_a_symbols_comments_reads_one_beyond_the_page(app, client, post):
    """tickers.comments reads ``limit + 1`` comments (the extra one says there is a next
    page), not every comment naming the symbol (mutation testing, #22: ``limit(None)`` and
    ``limit + 2`` went unnoticed because the view cuts the page itself)."""
    from service.domain import tickers
    from service.domain.threads import Viewer

    for i in range(4):
        created(post("lim", f"$NVDA note {i}", user=f"u-{i}"))
    with app.app_context():
        found = tickers.comments(
            db.session, symbol="NVDA", viewer=Viewer(None), limit=2, after_id=None
        )
    assert len(found) == 3


def test_ticker_comments_page_newest_first_by_cursor(client, post):
    ids = [created(post(f"a{i % 2}", f"$NVDA #{i}", user=f"u-{i}"))["id"] for i in range(5)]
    created(post("a1", "$AMD only", user="u-9"))
    first = get(client, TICKER_COMMENTS, symbol="nvda", query={"limit": 2})
    assert [c["id"] for c in first["items"]] == ids[::-1][:2]
    assert all(c["replies"] == [] and "NVDA" in c["tickers"] for c in first["items"])
    second = get(
        client, TICKER_COMMENTS, symbol="NVDA", query={"limit": 2, "cursor": first["next_cursor"]}
    )
    third = get(
        client, TICKER_COMMENTS, symbol="NVDA", query={"limit": 2, "cursor": second["next_cursor"]}
    )
    assert [c["id"] for c in second["items"] + third["items"]] == ids[::-1][2:]
    assert third["next_cursor"] is None
    # a cursor of another symbol's listing is not this one's
    get(client, TICKER_COMMENTS, 400, symbol="AMD", query={"cursor": first["next_cursor"]})
    get(client, TICKER_COMMENTS, 422, symbol="12345", query={})


def test_editing_the_body_moves_the_mentions(client, post):
    c = created(post("a1", "$BABA", user="u-1"))
    r = client.patch(f"/api/v1/comments/{c['id']}", json={"body": "$JD instead"}, headers=auth())
    assert r.status_code == 200 and r.get_json()["tickers"] == ["JD"]
    assert get(client, TICKER, symbol="BABA")["comments"]["1h"] == 0
    assert get(client, TICKER, symbol="JD")["comments"]["1h"] == 1


# --- disclosures --------------------------------------------------------------------------


def test_disclosures_are_checked_and_shown(client, post):
    c = created(post("a1", "Thoughts on $BABA", disclosure={"baba": "long", "9988.hk": "none"}))
    assert c["disclosure"] == {"BABA": "long", "9988.HK": "none"}
    got = client.get(f"/api/v1/comments/{c['id']}").get_json()
    assert got["disclosure"] == {"BABA": "long", "9988.HK": "none"}
    # a symbol needn't be in the body
    assert created(post("a1", "no tags", disclosure={"TSLA": "short"}))["disclosure"] == {
        "TSLA": "short"
    }
    for bad, words in (
        ({"BABA": "maybe"}, "say long, short or none"),
        ({"$5": "long"}, "is not a ticker symbol"),
        ({s: "none" for s in ("A", "B", "C", "D", "E", "F")}, "at most 5 symbols"),
        (["BABA"], "Not a valid mapping type."),
    ):
        r = post("a1", "x $BABA", disclosure=bad)
        assert r.status_code == 422, bad
        problem = r.get_json()
        assert words in problem["errors"]["disclosure"][0], problem
    assert client.get("/api/v1/articles/a1").get_json()["comment_count"] == 2  # none half-written


@pytest.mark.settings(COMMENTS_REQUIRE_DISCLOSURE=True)
def test_required_disclosure(client, post):
    assert client.get("/api/v1/config").get_json()["require_disclosure"] is True
    r = post("a1", "Buying more $BABA today")
    assert r.status_code == 422
    problem = r.get_json()
    assert problem["type"].endswith("/invalid-disclosure")
    assert "disclose your position" in problem["detail"].lower() and "$BABA" in problem["detail"]
    assert problem["errors"]["disclosure"] == [problem["detail"]]
    assert created(post("a1", "Buying more $BABA today", disclosure={"BABA": "long"}))
    assert created(post("a1", "no cashtag, no disclosure needed"))
    assert created(post("a1", "a `$BABA` code span needs none"))
    # an edit that adds a cashtag needs one too
    plain = created(post("a1", "plain words", user="u-2"))
    r = client.patch(f"/api/v1/comments/{plain['id']}", json={"body": "$JD!"}, headers=auth("u-2"))
    assert r.status_code == 422 and "disclosure" in r.get_json()["errors"]
    r = client.patch(
        f"/api/v1/comments/{plain['id']}",
        json={"body": "$JD!", "disclosure": {"JD": "none"}},
        headers=auth("u-2"),
    )
    assert r.status_code == 200 and r.get_json()["disclosure"] == {"JD": "none"}


def test_disclosure_edits_within_the_window_only(app, client, post):
    c = created(post("a1", "$BABA", disclosure={"BABA": "none"}))
    r = client.patch(
        f"/api/v1/comments/{c['id']}", json={"disclosure": {"BABA": "long"}}, headers=auth()
    )
    assert r.status_code == 200
    edited = assert_matches_spec("PATCH", "/api/v1/comments/{comment_id}", r)
    assert edited["disclosure"] == {"BABA": "long"} and edited["body"] == "$BABA"
    assert edited["edited_at"] is not None and edited["revision_count"] == 1
    r = client.patch(f"/api/v1/comments/{c['id']}", json={"disclosure": None}, headers=auth())
    assert r.status_code == 200 and r.get_json()["disclosure"] is None
    r = client.patch(f"/api/v1/comments/{c['id']}", json={}, headers=auth())
    assert r.status_code == 422
    with app.app_context():
        db.session.execute(
            update(Comment)
            .where(Comment.id == c["id"])
            .values(created_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))
        )
        db.session.commit()
    r = client.patch(
        f"/api/v1/comments/{c['id']}", json={"disclosure": {"BABA": "short"}}, headers=auth()
    )
    assert r.status_code == 403 and r.get_json()["type"].endswith("/edit-window-closed")
    assert client.get(f"/api/v1/comments/{c['id']}").get_json()["disclosure"] is None


def test_an_idempotent_retry_must_carry_the_same_disclosure(client, post):
    key = {"Idempotency-Key": "k-1"}
    first = created(post("a1", "$BABA", headers=key, disclosure={"BABA": "long"}))
    again = post("a1", "$BABA", headers=key, disclosure={"BABA": "long"})
    assert again.status_code == 201 and again.get_json()["id"] == first["id"]
    assert post("a1", "$BABA", headers=key, disclosure={"BABA": "short"}).status_code == 422


# --- visible edit history -----------------------------------------------------------------


def test_every_edit_keeps_the_previous_version(client, post):
    c = created(post("a1", "Target $100 on $BABA", disclosure={"BABA": "long"}))
    for body in ("Target $150 on $BABA", "Target $200 on $BABA"):
        r = client.patch(f"/api/v1/comments/{c['id']}", json={"body": body}, headers=auth())
        assert r.status_code == 200
    r = client.patch(
        f"/api/v1/comments/{c['id']}", json={"body": "Target $200 on $BABA"}, headers=auth()
    )
    assert r.get_json()["revision_count"] == 2  # no change, no new version
    history = get(client, REVISIONS, comment_id=c["id"])["items"]
    assert [h["body"] for h in history] == ["Target $100 on $BABA", "Target $150 on $BABA"]
    assert history[0]["created_at"] == c["created_at"]
    assert history[0]["disclosure"] == {"BABA": "long"}
    assert history[0]["body_html"] == "<p>Target $100 on $BABA</p>"
    page = client.get("/api/v1/articles/a1/comments").get_json()
    assert page["items"][0]["revision_count"] == 2
    assert get(client, REVISIONS, comment_id=created(post("a1", "never edited"))["id"]) == {
        "items": []
    }
    get(client, REVISIONS, 404, comment_id=999999)


def test_history_follows_the_comments_visibility(client, post):
    r = client.patch(f"{ADMIN}/articles/held", json={"premoderation": True}, headers=MOD)
    held = created(post("held", "first", user="u-1"))
    r = client.patch(f"/api/v1/comments/{held['id']}", json={"body": "second"}, headers=auth())
    assert r.status_code == 200
    get(client, REVISIONS, 404, comment_id=held["id"])  # anonymous: no such comment
    get(client, REVISIONS, 404, comment_id=held["id"], headers=auth("u-2"))
    assert len(get(client, REVISIONS, comment_id=held["id"], headers=auth())["items"]) == 1
    assert len(get(client, REVISIONS, comment_id=held["id"], headers=MOD)["items"]) == 1


def test_a_hidden_articles_history_is_as_missing_as_a_comment_that_never_was(client, post):
    """Mutation testing (#22): `revisions.history` no longer asking `article_visible` (or
    asking it about no article) let anyone read the edit history of a hidden article's
    comments; the 404's detail was checked nowhere."""
    c = created(post("secret", "Target $100 on $BABA", user="u-1"))
    r = client.patch(f"/api/v1/comments/{c['id']}", json={"body": "$BABA v2"}, headers=auth())
    assert r.status_code == 200
    r = client.patch(f"{ADMIN}/articles/secret", json={"status": "hidden"}, headers=MOD)
    assert r.status_code == 200
    missing = get(client, REVISIONS, 404, comment_id=999999)
    assert missing["detail"] == "There is no such comment."
    for who in (None, auth("u-2"), auth("u-1")):  # even its author, as in the thread
        assert get(client, REVISIONS, 404, headers=who, comment_id=c["id"]) == missing
    history = get(client, REVISIONS, headers=MOD, comment_id=c["id"])["items"]
    assert [h["body"] for h in history] == ["Target $100 on $BABA"]


def test_removal_hides_the_history_from_the_public_not_from_moderators(client, post):
    parent = created(post("a1", "v1 $BABA", user="u-1"))
    client.patch(f"/api/v1/comments/{parent['id']}", json={"body": "v2 $BABA"}, headers=auth())
    created(post("a1", "a reply", user="u-2", parent_id=parent["id"]))
    act(client, parent["id"], "remove")
    tomb = client.get(f"/api/v1/comments/{parent['id']}").get_json()
    assert tomb["status"] == "removed"
    assert (tomb["tickers"], tomb["disclosure"], tomb["revision_count"]) == ([], None, 0)
    assert get(client, REVISIONS, comment_id=parent["id"]) == {"items": []}
    assert get(client, REVISIONS, comment_id=parent["id"], headers=auth())["items"] == []
    moderators = get(client, REVISIONS, comment_id=parent["id"], headers=MOD)["items"]
    assert [h["body"] for h in moderators] == ["v1 $BABA"]
    act(client, parent["id"], "restore")
    assert [h["body"] for h in get(client, REVISIONS, comment_id=parent["id"])["items"]] == [
        "v1 $BABA"
    ]


def test_an_authors_delete_deletes_the_history(app, client, post):
    parent = created(post("a1", "v1", user="u-1", disclosure={"BABA": "short"}))
    client.patch(f"/api/v1/comments/{parent['id']}", json={"body": "v2 $BABA"}, headers=auth())
    created(post("a1", "a reply", user="u-2", parent_id=parent["id"]))
    assert client.delete(f"/api/v1/comments/{parent['id']}", headers=auth()).status_code == 204
    assert rows(app, CommentRevision, parent["id"]) == 0
    assert get(client, REVISIONS, comment_id=parent["id"], headers=MOD) == {"items": []}
    with app.app_context():
        stored = db.session.get(Comment, parent["id"])
        assert (stored.tickers, stored.disclosure, stored.revision_count) == (None, None, 0)


def test_erasure_deletes_the_history(app, client, post):
    kept = created(post("a1", "v1 $BABA", user="u-gone"))
    client.patch(
        f"/api/v1/comments/{kept['id']}", json={"body": "v2 $BABA"}, headers=auth("u-gone")
    )
    created(post("a1", "a reply keeps the tombstone", user="u-2", parent_id=kept["id"]))
    alone = created(post("a2", "v1 $JD", user="u-gone"))
    client.patch(f"/api/v1/comments/{alone['id']}", json={"body": "v2 $JD"}, headers=auth("u-gone"))
    assert rows(app, CommentRevision, kept["id"]) == rows(app, CommentRevision, alone["id"]) == 1
    r = client.get(f"{ADMIN}/users/u-gone/export", headers=MOD)
    export = assert_matches_spec("GET", "/api/v1/admin/users/{user_id}/export", r)
    assert [(v["comment_id"], v["body"]) for v in export["comment_revisions"]] == [
        (kept["id"], "v1 $BABA"),
        (alone["id"], "v1 $JD"),
    ]
    r = client.delete(f"{ADMIN}/users/u-gone", headers=auth("root", roles=["admin"]))
    assert r.status_code == 200, r.get_json()
    for cid in (kept["id"], alone["id"]):
        assert rows(app, CommentRevision, cid) == rows(app, CommentTicker, cid) == 0
    assert get(client, TICKER, symbol="BABA")["comments"]["1h"] == 0
    assert get(client, REVISIONS, comment_id=kept["id"], headers=MOD) == {"items": []}


# --- query counts -------------------------------------------------------------------------


def test_listings_cost_the_same_queries_with_market_fields(app, client, post, count_queries):
    def listing_cost() -> int:
        with count_queries() as q:
            r = client.get("/api/v1/articles/q/comments?limit=20")
        assert r.status_code == 200
        return q.count

    created(post("q", "plain"))
    plain = listing_cost()
    for i in range(8):
        c = created(post("q", f"$BABA {i}", user=f"u-{i}", disclosure={"BABA": "long"}))
        client.patch(
            f"/api/v1/comments/{c['id']}", json={"body": f"$JD {i}"}, headers=auth(f"u-{i}")
        )
    assert listing_cost() == plain

    def ticker_cost(who: Any) -> int:
        with count_queries() as q:
            r = client.get("/api/v1/tickers/JD/comments?limit=20", headers=who)
        assert r.status_code == 200 and r.get_json()["items"]
        return q.count

    few = ticker_cost({}), ticker_cost(auth("u-1"))
    for i in range(20):
        created(post("q2", f"more $JD {i}", user=f"v-{i}"))
    assert (ticker_cost({}), ticker_cost(auth("u-1"))) == few
    assert few[0] <= 2  # the page and its reactions


# --- backups ------------------------------------------------------------------------------


def test_export_and_import_carry_mentions_and_history(app, client, post, database_url, tmp_path):
    c = created(post("a1", "v1 $BABA", disclosure={"BABA": "long"}))
    client.patch(f"/api/v1/comments/{c['id']}", json={"body": "v2 $JD"}, headers=auth())
    dump = tmp_path / "dump.jsonl"
    result = app.test_cli_runner().invoke(args=["export", "--output", str(dump)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in dump.read_text().splitlines()]
    assert [r["data"]["symbol"] for r in records if r["type"] == "comment_ticker"] == ["JD"]
    history = [r["data"] for r in records if r["type"] == "comment_revision"]
    assert [(h["body"], h["disclosure"]) for h in history] == [("v1 $BABA", {"BABA": "long"})]

    empty_tables(database_url)
    fresh = create_app(
        {
            "DATABASE_URL": database_url,
            "COMMENTS_SECRET_KEY": "k",
            "COMMENTS_JWT_SECRET": "j" * 40,
            "RATELIMIT_ENABLED": False,
        }
    )
    imported = fresh.test_cli_runner().invoke(args=["import", str(dump)])
    assert imported.exit_code == 0, imported.output
    restored = fresh.test_client()
    assert get(restored, REVISIONS, comment_id=c["id"])["items"][0]["body"] == "v1 $BABA"
    assert get(restored, TICKER, symbol="JD")["comments"]["1h"] == 1
    with fresh.app_context():
        db.session.remove()
        db.engine.dispose()


def test_ticker_queries_go_through_the_mention_indexes(app, client, post):
    """Counts are computed, not kept: each ticker endpoint is one query that finds its
    mentions through an index of comment_tickers, never by scanning every mention (the
    statements checked are the ones the service sends, bound parameters included)."""
    created(post("a1", "$BABA and $JD"))
    sent: list[tuple[str, Any]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        for path in ("/tickers?window=7d", "/tickers/BABA", "/tickers/BABA/comments"):
            assert client.get("/api/v1" + path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statements = [(s, p) for s, p in sent if "comment_tickers" in s]
    assert len(statements) == 3
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":  # a tiny table: which index can it use?
            conn.exec_driver_sql("SET enable_seqscan = off")
        explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
        for statement, parameters in statements:
            plan = " ".join(
                str(row) for row in conn.exec_driver_sql(explain + statement, parameters)
            )
            # found by symbol or time, not reached from every comment by comment id
            assert "_comment_tickers_" in plan, (statement, plan)
            assert "ix_comment_tickers_comment_id" not in plan, (statement, plan)
