"""The live event stream (issue 16): GET /api/v1/articles/{id}/events.

Streams are opened through the ASGI router (service/asgi.py) in process (tests/live.py),
writes go through the test client. Without Redis the hub fans out in process; the tests at
the end run two apps on one Redis (TEST_REDIS_URL). Article ids carry a random suffix:
Redis keeps its buffers between runs."""

from __future__ import annotations

import os
import time
import uuid
from typing import Any, Iterator

import pytest

from service import create_app
from service.domain import events as ev
from service.domain.comments import Author, create_comment
from service.extensions import db
from service.live import hub as live_hub
from service.live import hub_of, sink
from tests.helpers import callers
from tests.live import Harness, Stream

C = callers()
REDIS_URL = os.environ.get("TEST_REDIS_URL")


def article(name: str) -> str:
    return f"live-{name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(autouse=True, params=["in-process", "redis"])
def fan_out(request: pytest.FixtureRequest, settings: dict[str, Any]) -> str:
    """Every test runs with the in-process hub, and again on Redis with TEST_REDIS_URL."""
    if request.param == "redis":
        if not REDIS_URL:
            pytest.skip("set TEST_REDIS_URL to run the stream tests on Redis too")
        settings["COMMENTS_REDIS_URL"] = REDIS_URL
    return str(request.param)


@pytest.fixture
def live(app: Any) -> Iterator[Harness]:
    harness = Harness(app)
    yield harness
    harness.close()


def opened(live: Harness, article_id: str, **kwargs: Any) -> Stream:
    stream = live.open(article_id, **kwargs)
    assert stream.wait_started() == 200
    first = stream.blocks(2)  # retry, then the newest id (or the replay)
    assert first[0] == {"retry": "3000"}
    return stream


def post(client: Any, article_id: str, body: str, headers: dict[str, str], **extra: Any) -> int:
    answer = client.post(
        f"/api/v1/articles/{article_id}/comments", json={"body": body, **extra}, headers=headers
    )
    assert answer.status_code == 201, answer.json
    return int(answer.json["id"])


def listing(client: Any, article_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get(f"/api/v1/articles/{article_id}/comments").json[
        "items"
    ]
    return items


def act(client: Any, cid: int, action: str) -> None:
    answer = client.post(
        f"/api/v1/admin/comments/{cid}/actions", json={"action": action}, headers=C.moderator
    )
    assert answer.status_code == 200, answer.json


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [e["event"] for e in events]


# --- content and order, per kind ----------------------------------------------------------


def test_each_kind_of_change_reaches_the_stream_in_order_as_the_listing_shows_it(
    client: Any, live: Harness, fan_out: str
) -> None:
    a = article("kinds")
    assert hub_of(client.application).uses_redis == (fan_out == "redis")
    stream = opened(live, a)

    cid = post(client, a, "Hello **markets**", C.reader)
    created, counted = stream.events(2)
    assert kinds([created, counted]) == ["comment.created", "article"]
    # Exactly what an anonymous reader's listing shows.
    assert created["data"] == listing(client, a)[0]
    assert created["data"]["my_reactions"] == []
    assert counted["data"] == client.get(f"/api/v1/articles/{a}").json
    assert counted["data"]["comment_count"] == 1

    assert client.put(f"/api/v1/comments/{cid}/reactions/like", headers=C.other).status_code == 200
    (reactions,) = stream.events(1)
    assert reactions["event"] == "reactions"
    assert reactions["data"] == {"comment_id": cid, "reactions": {"like": 1}, "score": 1}

    assert client.put(f"/api/v1/articles/{a}/reactions/funny", headers=C.other).status_code == 200
    (on_article,) = stream.events(1)
    assert on_article == {
        "id": on_article["id"],
        "event": "reactions",
        "data": {"comment_id": None, "reactions": {"funny": 1}, "score": None},
    }

    edited = client.patch(f"/api/v1/comments/{cid}", json={"body": "Edited"}, headers=C.reader)
    assert edited.status_code == 200
    (update,) = stream.events(1)
    assert update["event"] == "comment.updated"
    assert update["data"] == listing(client, a)[0]
    assert update["data"]["body"] == "Edited" and update["data"]["edited_at"] is not None

    act(client, cid, "pin")
    (pinned,) = stream.events(1)
    assert (pinned["event"], pinned["data"]["pinned"]) == ("comment.updated", True)

    reply = post(client, a, "A reply", C.other, parent_id=cid)
    reply_created, _ = stream.events(2)
    assert reply_created["data"]["parent_id"] == cid and reply_created["data"]["id"] == reply

    # Deleted with a visible reply: a tombstone (an update); the reply deleted: removed.
    assert client.delete(f"/api/v1/comments/{cid}", headers=C.reader).status_code == 204
    tombstone, count = stream.events(2)
    assert tombstone["event"] == "comment.updated"
    assert tombstone["data"]["status"] == "deleted"
    assert tombstone["data"]["body"] is tombstone["data"]["author"] is None
    assert count["data"]["comment_count"] == 1
    assert client.delete(f"/api/v1/comments/{reply}", headers=C.other).status_code == 204
    removed, tombstone_gone, count = stream.events(3)
    assert removed == {
        "id": removed["id"],
        "event": "comment.removed",
        "data": {"id": reply, "article_id": a, "parent_id": cid, "depth": 1},
    }
    # the tombstone's last reply went: it leaves the listing too
    assert tombstone_gone["data"] == {"id": cid, "article_id": a, "parent_id": None, "depth": 0}
    assert count["data"]["comment_count"] == 0
    assert listing(client, a) == []

    ids = [int(e["id"].rsplit("-", 1)[1]) for e in [created, counted, reactions, on_article]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_a_rolled_back_write_publishes_nothing(app: Any, live: Harness) -> None:
    a = article("rollback")
    stream = opened(live, a)
    with app.app_context():
        rules = app.extensions["comments"].rules
        author = Author(user_id="u-1", name="Name u-1")
        create_comment(
            db.session, article_id=a, author=author, body="never", parent_id=None, rules=rules
        )
        db.session.flush()
        db.session.rollback()
        create_comment(
            db.session, article_id=a, author=author, body="kept", parent_id=None, rules=rules
        )
        db.session.commit()
    created, _ = stream.events(2)
    assert created["data"]["body"] == "kept"  # the first event said is the committed one


# --- visibility: nothing an anonymous reader could not see ---------------------------------


@pytest.mark.settings(COMMENTS_PREMODERATION="all")
def test_pending_comments_stay_off_the_stream_until_approved(client: Any, live: Harness) -> None:
    a = article("pending")
    stream = opened(live, a)
    cid = post(client, a, "held for review", C.reader)
    assert stream.quiet() == []
    act(client, cid, "approve")
    created, count = stream.events(2)
    assert created["event"] == "comment.created" and created["data"]["id"] == cid
    assert created["data"]["status"] == "published"
    assert count["data"]["comment_count"] == 1


@pytest.mark.settings(COMMENTS_FLAG_HIDE_THRESHOLD=0.5)
def test_a_comment_hidden_by_flags_is_removed_and_comes_back_when_approved(
    client: Any, live: Harness
) -> None:
    a = article("hidden")
    cid = post(client, a, "flag me", C.reader)
    stream = opened(live, a)
    flagged = client.post(f"/api/v1/comments/{cid}/flags", json={"reason": "spam"}, headers=C.other)
    assert flagged.status_code == 201
    removed, count = stream.events(2)
    assert (removed["event"], removed["data"]["id"]) == ("comment.removed", cid)
    assert "body" not in removed["data"]
    assert count["data"]["comment_count"] == 0
    act(client, cid, "approve")
    created, _ = stream.events(2)
    assert (created["event"], created["data"]["body"]) == ("comment.created", "flag me")


def test_a_removed_comment_is_removed_or_a_tombstone(client: Any, live: Harness) -> None:
    a = article("removed")
    lone = post(client, a, "alone", C.reader)
    parent = post(client, a, "with a reply", C.reader)
    reply = post(client, a, "the reply", C.other, parent_id=parent)
    stream = opened(live, a)
    act(client, lone, "remove")
    removed, _ = stream.events(2)
    assert (removed["event"], removed["data"]["id"]) == ("comment.removed", lone)
    act(client, parent, "remove")
    tombstone, _ = stream.events(2)
    assert tombstone["event"] == "comment.updated"
    assert tombstone["data"]["status"] == "removed" and tombstone["data"]["body"] is None
    # Its last reply gone, the tombstone leaves the listing too, and the stream says so.
    assert client.delete(f"/api/v1/comments/{reply}", headers=C.other).status_code == 204
    gone = stream.events(3)
    assert [(e["event"], e["data"].get("id")) for e in gone[:2]] == [
        ("comment.removed", reply),
        ("comment.removed", parent),
    ]
    assert listing(client, a) == []


def test_a_shadow_banned_authors_comments_never_reach_the_stream(
    client: Any, live: Harness
) -> None:
    a = article("shadow")
    banned = client.put(
        "/api/v1/admin/bans/u-1", json={"reason": "spam", "shadow": True}, headers=C.moderator
    )
    assert banned.status_code == 201
    stream = opened(live, a)
    shadowed = post(client, a, "only I see this", C.reader)
    assert client.get(f"/api/v1/comments/{shadowed}").status_code == 404  # truly private
    visible = post(client, a, "everyone sees this", C.other)
    seen = stream.events(2)
    assert kinds(seen) == ["comment.created", "article"]
    assert seen[0]["data"]["id"] == visible  # the shadowed one was never sent
    # and their reactions do not move public counts, so they are not sent either
    assert client.put(f"/api/v1/comments/{visible}/reactions/like", headers=C.reader).status_code
    assert stream.quiet() == []


def test_a_hidden_article_sends_only_that_it_is_hidden_then_reset_when_shown(
    client: Any, live: Harness
) -> None:
    a = article("hidden-article")
    cid = post(client, a, "before", C.reader)
    stream = opened(live, a)
    hide = client.patch(
        f"/api/v1/admin/articles/{a}", json={"status": "hidden"}, headers=C.moderator
    )
    assert hide.status_code == 200
    (hidden,) = stream.events(1)
    assert hidden["event"] == "article"
    assert hidden["data"]["status"] == "hidden" and hidden["data"]["comment_count"] == 0
    act(client, cid, "pin")  # a change inside the hidden thread: nothing said
    assert stream.quiet() == []
    # A stream opened now, resuming from before, gets no replay of the hidden thread.
    late = live.open(a, headers={"Last-Event-ID": hidden["id"].rsplit("-", 1)[0] + "-1"})
    assert late.wait_started() == 200
    assert [b for b in late.blocks(2) if "event" in b] == []
    shown = client.patch(
        f"/api/v1/admin/articles/{a}", json={"status": "open"}, headers=C.moderator
    )
    assert shown.status_code == 200
    article_event, reset = stream.events(2)
    assert article_event["data"]["status"] == "open"
    assert article_event["data"]["comment_count"] == 1
    assert (reset["event"], reset["data"]) == ("reset", {})


# --- resume, reset, heartbeat, retry, the per-IP cap --------------------------------------


def test_resume_replays_what_was_missed_then_carries_on_live(client: Any, live: Harness) -> None:
    a = article("resume")
    stream = opened(live, a)
    post(client, a, "one", C.reader)
    first = stream.events(2)
    stream.close()
    missed = [post(client, a, text, C.reader) for text in ("two", "three")]
    resumed = live.open(a, headers={"Last-Event-ID": first[-1]["id"]})
    assert resumed.wait_started() == 200
    assert resumed.blocks(1) == [{"retry": "3000"}]
    replayed = resumed.events(4)
    assert kinds(replayed) == ["comment.created", "article"] * 2
    assert [e["data"]["id"] for e in replayed[::2]] == missed
    post(client, a, "four", C.reader)
    live_again = resumed.events(2)
    assert live_again[0]["data"]["body"] == "four"
    seqs = [int(e["id"].rsplit("-", 1)[1]) for e in first + replayed + live_again]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # nothing twice, no gap


@pytest.mark.settings(COMMENTS_SSE_BUFFER=2)
def test_an_id_the_buffer_no_longer_covers_gets_reset(client: Any, live: Harness) -> None:
    a = article("reset")
    stream = opened(live, a)
    post(client, a, "one", C.reader)
    old = stream.events(2)[0]["id"]
    for text in ("two", "three", "four"):
        post(client, a, text, C.reader)
    for last in (old, "nonsense", "1-999999"):
        resumed = live.open(a, headers={"Last-Event-ID": last})
        assert resumed.wait_started() == 200
        (reset,) = resumed.events(1)
        assert (reset["event"], reset["data"]) == ("reset", {})
        assert reset["id"].endswith("-8")  # the newest id: resuming from it is exact
        resumed.close()


def test_a_fresh_stream_starts_at_the_newest_id_and_resumes_from_it(
    client: Any, live: Harness
) -> None:
    a = article("fresh")
    stream = live.open(a)
    assert stream.wait_started() == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert stream.headers["cache-control"] == "no-cache"
    assert "content-length" not in stream.headers
    retry, newest = stream.blocks(2)
    assert newest == {"id": "0"}  # nothing published yet
    stream.close()
    cid = post(client, a, "while away", C.reader)
    resumed = live.open(a, headers={"Last-Event-ID": "0"})
    assert resumed.wait_started() == 200
    assert resumed.events(1)[0]["data"]["id"] == cid


@pytest.mark.settings(COMMENTS_SSE_HEARTBEAT_SECONDS=0.2, COMMENTS_SSE_RETRY_MS=1234)
def test_heartbeat_and_retry(live: Harness) -> None:
    stream = live.open(article("ping"))
    assert stream.wait_started() == 200
    assert stream.blocks(1) == [{"retry": "1234"}]
    started = time.monotonic()
    pings = [b for b in stream.blocks(3, timeout=5, pings=True) if b.get("comment") == "ping"]
    assert len(pings) >= 2
    assert time.monotonic() - started < 3


@pytest.mark.settings(COMMENTS_SSE_HEARTBEAT_SECONDS=0.2)
def test_one_shared_heartbeat_pings_every_idle_stream_without_a_timer_each(
    live: Harness,
) -> None:
    streams = [opened(live, article(f"tick{i}")) for i in range(12)]
    for stream in streams:
        pings = stream.blocks(2, timeout=5, pings=True)
        assert [b.get("comment") for b in pings] == ["ping", "ping"]
    # one ticker for the hub (asyncio.sleep: one timer), not a timer per stream
    assert len(live.loop._scheduled) < 4  # type: ignore[attr-defined]


def test_a_stalled_client_holds_back_no_other_stream_and_catches_up_in_order(
    client: Any, live: Harness
) -> None:
    a = article("stall")
    stalled, quick = opened(live, a), opened(live, a)
    stalled.stall()
    time.sleep(0.05)
    first = post(client, a, "first while one reader stalls", C.reader)
    second = post(client, a, "second while one reader stalls", C.reader)
    assert created(quick, 2) == [first, second]
    assert stalled.quiet(0.3) == []
    stalled.resume()
    assert created(stalled, 2) == [first, second]
    third = post(client, a, "third, all reading again", C.reader)
    assert created(stalled, 1) == [third]
    assert created(quick, 1) == [third]


def created(stream: Stream, count: int) -> list[int]:
    """The ids of the next ``count`` comment.created events (others in between skipped)."""
    out: list[int] = []
    while len(out) < count:
        out += [e["data"]["id"] for e in stream.events(1) if e["event"] == "comment.created"]
    return out


@pytest.mark.settings(COMMENTS_SSE_MAX_PER_IP=1)
def test_a_client_too_far_behind_is_ended_and_its_place_freed(
    client: Any, live: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_hub, "MAX_PENDING", 2)
    a = article("behind")
    stalled = opened(live, a)
    stalled.stall()
    time.sleep(0.05)
    for i in range(4):  # one in flight, two waiting, the fourth is too many
        post(client, a, f"comment {i} the stalled reader will not get live", C.reader)
    stalled.resume()
    with pytest.raises(AssertionError, match="ended"):
        stalled.events(4, timeout=5)
    deadline = time.monotonic() + 5
    while True:  # the ended stream's place (a cap of 1 here) comes free
        again = live.open(a)
        if again.wait_started() == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert again.status == 200


@pytest.mark.settings(COMMENTS_SSE_MAX_PER_IP=2)
def test_per_ip_cap(live: Harness) -> None:
    a = article("cap")
    first, second = opened(live, a), opened(live, a)
    refused = live.open(a)
    assert refused.wait_started() == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) > 0
    assert b"2 open event streams" in refused.body()
    assert opened(live, a, client="198.51.100.9")  # another address is not counted
    first.close()
    deadline = time.monotonic() + 5
    while True:  # the closed stream's place comes free
        again = live.open(a)
        if again.wait_started() == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert again.status == 200
    assert second.status == 200


def test_refusals_are_problem_json_and_no_stream(live: Harness) -> None:
    bad = live.open("not an id!")
    assert bad.wait_started() == 422
    assert bad.headers["content-type"] == "application/problem+json"
    expired = live.open(article("token"), headers={"Authorization": "Bearer nonsense"})
    assert expired.wait_started() == 401


def test_served_as_plain_wsgi_the_stream_answers_once_and_resumes(client: Any) -> None:
    """Without the ASGI server (a WSGI deployment, the test client) the response ends after
    the replay: EventSource reconnects after `retry` with its last id, and loses nothing."""
    a = article("wsgi")
    first = client.get(f"/api/v1/articles/{a}/events")
    assert first.status_code == 200 and first.mimetype == "text/event-stream"
    assert first.get_data() == b"retry: 3000\n\nid: 0\n\n"
    cid = post(client, a, "posted between polls", C.reader)
    again = client.get(f"/api/v1/articles/{a}/events", headers={"Last-Event-ID": "0"})
    text = again.get_data(as_text=True)
    assert "event: comment.created" in text and f'"id":{cid}' in text


@pytest.mark.settings(COMMENTS_REDIS_URL="redis://127.0.0.1:1/0")
def test_without_its_redis_the_stream_opens_with_a_reset_and_writes_go_on(
    client: Any, live: Harness, fan_out: str
) -> None:
    if fan_out != "in-process":
        pytest.skip("runs once: the Redis here is a closed port")
    a = article("redis-down")
    stream = live.open(a, headers={"Last-Event-ID": "123-4"})
    assert stream.wait_started() == 200
    assert stream.blocks(2) == [{"retry": "3000"}, {"event": "reset", "data": {}}]  # id kept
    post(client, a, "still posted", C.reader)  # the publish fails quietly after the commit
    assert listing(client, a)[0]["body"] == "still posted"


# --- two instances, one Redis --------------------------------------------------------------


@pytest.fixture
def redis_apps(database_url: str, settings: dict[str, Any], app: Any) -> Iterator[tuple]:
    if not REDIS_URL:
        pytest.skip("set TEST_REDIS_URL to test fan-out between instances through Redis")
    config = {"DATABASE_URL": database_url, **settings, "COMMENTS_REDIS_URL": REDIS_URL}
    one, two = create_app(config), create_app(config)
    yield one, two
    for instance in (one, two):
        with instance.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.redis
def test_an_event_posted_on_one_instance_reaches_a_stream_on_another(
    redis_apps: tuple, fan_out: str
) -> None:
    if fan_out != "redis":
        pytest.skip("runs once, in the Redis round")
    one, two = redis_apps
    assert hub_of(one).uses_redis and hub_of(two).uses_redis
    a = article("redis")
    harness = Harness(two)
    try:
        stream = opened(harness, a)
        cid = post(one.test_client(), a, "from instance one", C.reader)
        created, count = stream.events(2)
        assert created["event"] == "comment.created" and created["data"]["id"] == cid
        assert count["data"]["comment_count"] == 1
        # and the buffer is shared: resuming on instance one replays it
        stream.close()
        post(two.test_client(), a, "from instance two", C.other)
        polled = one.test_client().get(
            f"/api/v1/articles/{a}/events", headers={"Last-Event-ID": count["id"]}
        )
        assert "from instance two" in polled.get_data(as_text=True)
    finally:
        harness.close()


def test_events_no_stream_shows_cost_no_statement(app: Any, post: Any, count_queries: Any) -> None:
    """A post's second round of sinks carries ``notification.created`` (and flags, bans and
    erasures carry theirs): the live sink reads nothing for them (sink.STREAMED), while the
    same comment's ``comment.created`` reads its rows to build the stream event."""
    cid = post("live-unstreamed", "a comment to be notified of").get_json()["id"]
    quiet = [
        ev.Event(ev.NOTIFICATION_CREATED, article_id="live-unstreamed", comment_id=cid),
        ev.Event(ev.COMMENT_FLAGGED, article_id="live-unstreamed", comment_id=cid),
    ]
    with app.app_context():
        with count_queries() as q:
            assert sink.build(db.session, quiet) == []
        assert q.count == 0
        with count_queries() as q:
            shown = sink.build(
                db.session,
                [ev.Event(ev.COMMENT_CREATED, article_id="live-unstreamed", comment_id=cid)],
            )
        assert shown and q.count > 0
