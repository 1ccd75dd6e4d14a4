"""Surge mode (issue #18): slow mode and premoderation_until set by moderators, the
automatic surge with its audit entries and event, and their race safety."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, cast

import pytest
from sqlalchemy import Table, func, select, update

from service.domain import events as domain_events
from service.domain import surge
from service.domain.errors import RuleError
from service.events import add_sink
from service.extensions import db
from service.models import Article, ArticlePostCount, AuditEntry
from tests.helpers import at_once, auth, utc

T0 = utc(2026, 11, 29, 12, 0, 0)
MOD = auth("mod-1", roles=["moderator"], name="Mod")
ARTICLE = "/api/v1/admin/articles/surge-1"
THREAD = "/api/v1/articles/surge-1/comments"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, dt.datetime]:
    state = {"now": T0}
    for where in ("service.api.comments", "service.schemas", "service.admin.articles"):
        monkeypatch.setattr(f"{where}.utcnow", lambda: state["now"])
    monkeypatch.setattr("service.domain.moderation.articles.utcnow", lambda: state["now"])
    return state


def _post(client: Any, user: str, body: str, **headers: str) -> Any:
    return client.post(THREAD, json={"body": body}, headers={**auth(user), **headers})


@pytest.mark.parametrize(
    "payload",
    [
        {"slow_mode_seconds": "30"},
        {"slow_mode_seconds": 30.5},
        {"slow_mode_seconds": True},
        {"slow_mode_seconds": -1},
        {"slow_mode_seconds": 86_401},
        {"slow_mode_seconds": None},
        {"premoderation_until": "tomorrow"},
        {"premoderation_until": "2026-12-01T10:00:00"},  # no time zone
        {"premoderation_until": 1764583200},
        {"slow_mode_until": "2026-12-01T10:00:00Z", "bogus": 1},
    ],
)
def test_patch_refuses_loose_types(client, payload):
    r = client.patch(ARTICLE, json=payload, headers=MOD)
    assert r.status_code == 422, r.get_json()
    assert r.headers["Content-Type"].startswith("application/problem+json")


def test_slow_mode_limits_each_reader_and_says_when(client, clock):
    r = client.patch(ARTICLE, json={"slow_mode_seconds": 60, "reason": "busy"}, headers=MOD)
    assert r.status_code == 200
    assert r.get_json()["slow_mode_seconds"] == 60
    assert r.get_json()["effective_slow_mode_seconds"] == 60
    public = client.get("/api/v1/articles/surge-1").get_json()
    assert public["slow_mode_seconds"] == 60 and public["slow_mode_until"] is None
    assert _post(client, "u-1", "first").status_code == 201
    clock["now"] = T0 + dt.timedelta(seconds=20)
    r = _post(client, "u-1", "second")
    assert r.status_code == 429
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert r.headers["Retry-After"] == "40"
    problem = r.get_json()
    assert problem["retry_after"] == 40
    assert problem["type"].endswith("/slow-mode")
    assert "40 s" in problem["detail"] and "12:01:00 UTC" in problem["detail"]
    # Another reader and a moderator are not held back.
    assert _post(client, "u-2", "other reader").status_code == 201
    assert _post(client, "mod-1", "a", **MOD).status_code == 201
    assert client.post(THREAD, json={"body": "b"}, headers=MOD).status_code == 201
    clock["now"] = T0 + dt.timedelta(seconds=61)
    assert _post(client, "u-1", "second").status_code == 201
    with client.application.app_context():
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "update_article")
        ).one()
    assert entry.before["slow_mode_seconds"] == 0 and entry.after["slow_mode_seconds"] == 60
    assert entry.reason == "busy" and entry.actor_id == "mod-1"


def test_guests_are_slowed_by_their_address(client, clock):
    client.patch(ARTICLE, json={"slow_mode_seconds": 30}, headers=MOD)
    r = client.post(THREAD, json={"body": "one", "author_name": "Ann"})
    assert r.status_code == 201
    r = client.post(THREAD, json={"body": "two", "author_name": "Another name"})
    assert r.status_code == 429


def test_slow_mode_until_ends_by_itself(client, clock):
    until = (T0 + dt.timedelta(minutes=5)).isoformat()
    client.patch(ARTICLE, json={"slow_mode_seconds": 600, "slow_mode_until": until}, headers=MOD)
    assert client.get("/api/v1/articles/surge-1").get_json()["slow_mode_until"] == (
        "2026-11-29T12:05:00Z"
    )
    assert _post(client, "u-1", "one").status_code == 201
    assert _post(client, "u-1", "two").status_code == 429
    clock["now"] = T0 + dt.timedelta(minutes=5, seconds=1)
    assert client.get("/api/v1/articles/surge-1").get_json()["slow_mode_seconds"] == 0
    assert _post(client, "u-1", "two").status_code == 201


def test_premoderation_until_holds_new_comments_until_then(client, clock):
    until = T0 + dt.timedelta(hours=1)
    r = client.patch(ARTICLE, json={"premoderation_until": until.isoformat()}, headers=MOD)
    assert r.status_code == 200
    assert client.get("/api/v1/articles/surge-1").get_json()["premoderation_until"] == (
        "2026-11-29T13:00:00Z"
    )
    held = _post(client, "u-1", "during")
    assert held.get_json()["status"] == "pending"
    queue = client.get("/api/v1/admin/queue?state=pending", headers=MOD).get_json()
    assert queue["items"][0]["held_reason"] == "premoderation"
    assert client.post(THREAD, json={"body": "mod"}, headers=MOD).get_json()["status"] == (
        "published"
    )
    clock["now"] = until + dt.timedelta(seconds=1)
    assert _post(client, "u-2", "after").get_json()["status"] == "published"
    assert client.get("/api/v1/articles/surge-1").get_json()["premoderation_until"] is None
    r = client.patch(ARTICLE, json={"premoderation_until": None}, headers=MOD)
    assert r.get_json()["premoderation_until"] is None


class _Recorder:
    def __init__(self) -> None:
        self.events: list[domain_events.Event] = []

    def in_transaction(self, session: Any, events: list[domain_events.Event]) -> None:
        return None

    def after_commit(self, events: list[domain_events.Event]) -> None:
        self.events.extend(events)


@pytest.mark.settings(
    COMMENTS_SURGE_COMMENTS_PER_MINUTE=3,
    COMMENTS_SURGE_SLOW_MODE_SECONDS=45,
    COMMENTS_SURGE_MINUTES=10,
)
def test_automatic_surge_turns_slow_mode_on_audited_as_the_system(app, client, clock):
    recorder = _Recorder()
    add_sink(app, recorder)
    for i in range(3):
        clock["now"] = T0 + dt.timedelta(seconds=10 * i)
        assert _post(client, f"r-{i}", f"comment {i}").status_code == 201
    assert client.get("/api/v1/articles/surge-1").get_json()["slow_mode_seconds"] == 0
    clock["now"] = T0 + dt.timedelta(seconds=40)
    assert _post(client, "r-3", "the fourth in a minute").status_code == 201
    article = client.get("/api/v1/articles/surge-1").get_json()
    assert article["slow_mode_seconds"] == 45
    assert article["slow_mode_until"] == "2026-11-29T12:10:40Z"
    with app.app_context():
        entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "surge")))
    assert len(entries) == 1
    entry = entries[0]
    assert entry.actor_id == "system" and entry.target_id == "surge-1"
    assert entry.before["surge_until"] is None
    assert entry.after["surge_until"] == "2026-11-29T12:10:40Z"
    assert "4 comments within a minute" in (entry.reason or "")
    changed = [e for e in recorder.events if e.type == domain_events.ARTICLE_CHANGED]
    assert len(changed) == 1 and changed[0].actor_id == "system"
    # The surge now slows readers down; a fifth comment in the minute does not re-trigger.
    clock["now"] = T0 + dt.timedelta(seconds=50)
    assert _post(client, "r-3", "too soon").status_code == 429
    assert _post(client, "r-4", "fifth").status_code == 201
    log = client.get("/api/v1/admin/audit-log?action=surge", headers=MOD).get_json()
    assert [e["actor"] for e in log["items"]] == ["system"]
    # A moderator's decision ends the surge.
    r = client.patch(ARTICLE, json={"slow_mode_seconds": 0}, headers=MOD)
    assert r.get_json()["effective_slow_mode_seconds"] == 0
    # And once it ends, slow mode is off again.
    clock["now"] = T0 + dt.timedelta(minutes=11)
    assert _post(client, "r-3", "later").status_code == 201


@pytest.mark.settings(COMMENTS_SURGE_COMMENTS_PER_MINUTE=5, COMMENTS_SURGE_SLOW_MODE_SECONDS=30)
def test_a_surge_ends_and_gives_back_the_moderators_slow_mode(client, clock):
    client.patch(ARTICLE, json={"slow_mode_seconds": 10}, headers=MOD)
    for i in range(6):
        clock["now"] = T0 + dt.timedelta(seconds=i)
        assert _post(client, f"s-{i}", f"c{i}").status_code == 201
    assert client.get("/api/v1/articles/surge-1").get_json()["slow_mode_seconds"] == 30
    clock["now"] = T0 + dt.timedelta(minutes=16)
    article = client.get("/api/v1/articles/surge-1").get_json()
    assert article["slow_mode_seconds"] == 10 and article["slow_mode_until"] is None


@pytest.mark.settings(COMMENTS_SURGE_COMMENTS_PER_MINUTE=4)
def test_concurrent_posts_count_once_each_and_trigger_the_surge_once(app, client):
    calls = [(lambda c, i=i: _post(c, f"crowd-{i}", f"at once {i}").status_code) for i in range(10)]
    statuses = at_once(app, calls)
    assert statuses.count(201) == 10, statuses
    with app.app_context():
        counted = db.session.scalar(select(func.sum(ArticlePostCount.count)))
        surges = db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "surge")
        )
    assert counted == 10
    # Ten posts within a minute or two: each minute past the threshold triggers at most once.
    assert 1 <= surges <= 2
    assert client.get("/api/v1/articles/surge-1").get_json()["slow_mode_seconds"] == 30


def test_surge_is_off_by_default(app, client):
    for i in range(12):
        assert _post(client, f"q-{i}", f"calm {i}").status_code == 201
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ArticlePostCount)) == 0
    assert client.get("/api/v1/articles/surge-1").get_json()["slow_mode_seconds"] == 0


def _settings(**changed: Any) -> dict[str, Any]:
    """An article's stored surge settings, as the moderators' article object and the audit
    log show them: the defaults, with ``changed``."""
    return {
        "slow_mode_seconds": 0,
        "slow_mode_until": None,
        "surge_slow_mode_seconds": 0,
        "surge_until": None,
        "premoderation_until": None,
        **changed,
    }


def test_an_article_never_written_reads_as_open_with_no_surge_settings(client):
    r = client.get("/api/v1/admin/articles/never-written", headers=MOD)
    assert r.status_code == 200
    assert r.get_json() == {
        "id": "never-written",
        "status": "open",
        "premoderation": None,
        **_settings(),
        "effective_status": "open",
        "auto_closed": False,
        "comment_count": 0,
        "reaction_count": 0,
        "first_comment_at": None,
        "created_at": None,
        "effective_slow_mode_seconds": 0,
        "effective_slow_mode_until": None,
        "effective_premoderation_until": None,
    }


def test_a_day_is_the_longest_slow_mode_a_moderator_can_set(client, clock):
    """86,400 s is allowed (the schema's and the domain's bound agree); 86,401 is not."""
    r = client.patch(ARTICLE, json={"slow_mode_seconds": 86_400}, headers=MOD)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["slow_mode_seconds"] == 86_400
    assert r.get_json()["effective_slow_mode_seconds"] == 86_400
    r = client.patch(ARTICLE, json={"slow_mode_seconds": 86_401}, headers=MOD)
    assert r.status_code == 422
    assert client.get(ARTICLE, headers=MOD).get_json()["slow_mode_seconds"] == 86_400


@pytest.mark.settings(
    COMMENTS_SURGE_COMMENTS_PER_MINUTE=1,
    COMMENTS_SURGE_SLOW_MODE_SECONDS=45,
    COMMENTS_SURGE_MINUTES=10,
)
def test_the_surge_is_audited_and_announced_with_what_it_changed(app, client, clock):
    """The surge's audit entry (its time, target, reason, and the settings before and
    after, a moderator's included) and its article.changed event, in full, with the lowest
    threshold (one comment a minute: the second turns the surge on); and a moderator's new
    slow mode afterwards clears the surge's pair and the old end time."""
    r = client.patch(
        ARTICLE,
        json={
            "slow_mode_seconds": 10,
            "slow_mode_until": (T0 + dt.timedelta(hours=2)).isoformat(),
            "premoderation_until": (T0 - dt.timedelta(hours=1)).isoformat(),  # over
        },
        headers=MOD,
    )
    assert r.status_code == 200, r.get_json()
    moderators = _settings(
        slow_mode_seconds=10,
        slow_mode_until="2026-11-29T14:00:00Z",
        premoderation_until="2026-11-29T11:00:00Z",
    )
    surging = {**moderators, "surge_slow_mode_seconds": 45, "surge_until": "2026-11-29T12:10:10Z"}
    recorder = _Recorder()
    add_sink(app, recorder)
    assert _post(client, "p-0", "comment 0").status_code == 201
    assert client.get(ARTICLE, headers=MOD).get_json()["surge_until"] is None
    clock["now"] = T0 + dt.timedelta(seconds=10)
    assert _post(client, "p-1", "comment 1").status_code == 201

    log = client.get("/api/v1/admin/audit-log?action=surge", headers=MOD).get_json()
    [entry] = log["items"]
    del entry["id"]
    assert entry == {
        "actor": "system",
        "action": "surge",
        "target_type": "article",
        "target_id": "surge-1",
        "reason": "2 comments within a minute (more than 1): slow mode of 45 s for 10 min",
        "before": moderators,
        "after": surging,
        "created_at": "2026-11-29T12:00:10Z",
    }
    [event] = [e for e in recorder.events if e.type == domain_events.ARTICLE_CHANGED]
    assert (event.article_id, event.actor_id) == ("surge-1", "system")
    assert event.data == {"before": moderators, "after": surging, "reason": "surge"}
    r = client.get(ARTICLE, headers=MOD).get_json()
    assert {k: r[k] for k in surging} == surging
    assert r["effective_slow_mode_seconds"] == 45
    assert r["effective_slow_mode_until"] == "2026-11-29T12:10:10Z"

    # A moderator's new slow mode ends the surge and, given without an end, the old end too.
    r = client.patch(ARTICLE, json={"slow_mode_seconds": 20}, headers=MOD).get_json()
    expected = _settings(slow_mode_seconds=20, premoderation_until="2026-11-29T11:00:00Z")
    assert {k: r[k] for k in expected} == expected
    assert (r["effective_slow_mode_seconds"], r["effective_slow_mode_until"]) == (20, None)


def test_turning_the_surge_on_reads_the_article_as_it_is_now(app, clock):
    """The post loaded the article before it took the row's lock; on PostgreSQL another
    transaction (a moderator's PATCH) may have committed since. turn_on reads the row
    again, so the audit's "before" is what the surge really replaced. (The change is made
    here behind the session's back with a Core UPDATE, as a concurrent commit would be.)"""
    rules = surge.SurgeRules(comments_per_minute=2, slow_mode_seconds=45, minutes=10)
    with app.app_context():
        session = db.session()
        session.add(Article(id="surge-1"))
        session.commit()
        loaded = session.get(Article, "surge-1")  # as the post loaded it, and holds it
        assert loaded is not None and loaded.slow_mode_seconds == 0
        table = cast(Table, Article.__table__)
        session.execute(update(table).where(table.c.id == "surge-1").values(slow_mode_seconds=20))
        article = surge.turn_on(session, article_id="surge-1", now=T0, rules=rules, count=3)
        assert article is loaded and article.slow_mode_seconds == 20
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "surge")).one()
        assert entry.before == _settings(slow_mode_seconds=20)
        assert entry.after == _settings(
            slow_mode_seconds=20, surge_slow_mode_seconds=45, surge_until="2026-11-29T12:10:00Z"
        )


def test_surge_times_are_utc_whatever_the_servers_time_zone(
    client, clock, monkeypatch: pytest.MonkeyPatch
):
    """_iso writes UTC with a Z on a server whose local time zone is not UTC (UTC+5:30)."""
    try:
        with monkeypatch.context() as local:  # the clock fixture's patches stay
            local.setenv("TZ", "Asia/Kolkata")
            time.tzset()
            until = (T0 + dt.timedelta(minutes=5)).isoformat()
            r = client.patch(
                ARTICLE, json={"slow_mode_seconds": 60, "slow_mode_until": until}, headers=MOD
            )
            public = client.get("/api/v1/articles/surge-1").get_json()
    finally:
        time.tzset()
    assert r.get_json()["slow_mode_until"] == "2026-11-29T12:05:00Z"
    assert r.get_json()["effective_slow_mode_until"] == "2026-11-29T12:05:00Z"
    assert public["slow_mode_until"] == "2026-11-29T12:05:00Z"


@pytest.mark.parametrize("seconds", [-1, 86_401])
def test_the_rules_refuse_a_slow_mode_outside_zero_to_a_day(seconds):
    """The admin schema refuses these before the rules see them; the rules refuse them
    too, with the same field, for any other caller of moderation.update_article."""
    article = Article(id="surge-1", slow_mode_seconds=10)
    with pytest.raises(RuleError) as caught:
        surge.apply_changes(article, {"slow_mode_seconds": seconds})
    refusal = caught.value
    assert (refusal.status, refusal.detail, refusal.kind, refusal.field, refusal.extra) == (
        422,
        "slow_mode_seconds must be 0 (off) to 86400.",
        "validation-error",
        "slow_mode_seconds",
        {},
    )
    assert article.slow_mode_seconds == 10


@pytest.mark.settings(COMMENTS_SURGE_COMMENTS_PER_MINUTE=100)
def test_per_minute_counts_older_than_an_hour_go_when_a_new_minute_starts(app, client, clock):
    """Each post counts in its article's minute; the first post of a minute deletes that
    article's counts of minutes more than KEEP_MINUTES (60) before it, and nothing else."""
    m0 = int(T0.timestamp() // 60)
    posts = [  # (minutes after T0, seconds, article, reader)
        (0, 0, "surge-1", "u-1"),
        (0, 0, "surge-2", "u-1"),
        (1, 0, "surge-1", "u-1"),
        (30, 0, "surge-1", "u-1"),
        (30, 5, "surge-1", "u-2"),
        (61, 0, "surge-1", "u-1"),
    ]
    for minutes, seconds, article, reader in posts:
        clock["now"] = T0 + dt.timedelta(minutes=minutes, seconds=seconds)
        r = client.post(
            f"/api/v1/articles/{article}/comments",
            json={"body": f"at {minutes}:{seconds}"},
            headers=auth(reader),
        )
        assert r.status_code == 201, r.get_json()
    with app.app_context():
        counts = {
            (row.article_id, row.minute - m0): row.count
            for row in db.session.scalars(select(ArticlePostCount))
        }
    # surge-1's minute 0 is gone (61 - 60 = 1: minute 1 stays); surge-2's is not touched.
    assert counts == {("surge-1", 1): 1, ("surge-1", 30): 2, ("surge-1", 61): 1, ("surge-2", 0): 1}


def test_slow_mode_ends_exactly_when_it_says_and_only_counts_this_thread(client, clock):
    """The 429 in full a second before the end (wait 1 s); at the end itself the reader may
    post again. A comment in another thread, or another guest's, does not slow anyone."""
    client.patch(ARTICLE, json={"slow_mode_seconds": 60}, headers=MOD)
    assert _post(client, "u-1", "first").status_code == 201
    clock["now"] = T0 + dt.timedelta(seconds=59)
    r = _post(client, "u-1", "a second too soon")
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "1"
    assert r.get_json() == {
        "type": "https://comments.example/problems/slow-mode",
        "title": "Too Many Requests",
        "status": 429,
        "detail": "Slow mode is on in this thread: one comment every 60 seconds per reader. "
        "You can post again in 1 s (at 12:01:00 UTC).",
        "retry_after": 1,
        "slow_mode_seconds": 60,
    }
    elsewhere = client.post(
        "/api/v1/articles/surge-2/comments", json={"body": "elsewhere"}, headers=auth("u-2")
    )
    assert elsewhere.status_code == 201
    clock["now"] = T0 + dt.timedelta(seconds=60)
    assert _post(client, "u-1", "on the minute").status_code == 201
    assert _post(client, "u-2", "here after elsewhere").status_code == 201
    # Guests: one address is slowed, another is not.
    ann = {"REMOTE_ADDR": "203.0.113.1"}
    bob = {"REMOTE_ADDR": "203.0.113.2"}
    guest = {"body": "guest", "author_name": "Ann"}
    assert client.post(THREAD, json=guest, environ_base=ann).status_code == 201
    assert client.post(THREAD, json=guest, environ_base=ann).status_code == 429
    r = client.post(THREAD, json={"body": "other guest", "author_name": "Bob"}, environ_base=bob)
    assert r.status_code == 201, r.get_json()


def test_a_one_second_slow_mode_still_slows(client, clock):
    r = client.patch(ARTICLE, json={"slow_mode_seconds": 1}, headers=MOD)
    assert r.get_json()["effective_slow_mode_seconds"] == 1
    assert client.get("/api/v1/articles/surge-1").get_json()["slow_mode_seconds"] == 1
    assert _post(client, "u-1", "one").status_code == 201
    r = _post(client, "u-1", "two")
    assert r.status_code == 429 and r.get_json()["retry_after"] == 1
    clock["now"] = T0 + dt.timedelta(seconds=1)
    assert _post(client, "u-1", "two").status_code == 201


def test_the_slow_mode_check_leaves_no_stale_version_on_a_loaded_article(app, clock):
    """check_slow_mode bumps the article's version in the database to lock the row; an
    article the session has loaded then reads the new version, not the one before."""
    with app.app_context():
        session = db.session()
        session.add(Article(id="surge-1", slow_mode_seconds=30, version=7))
        session.commit()
        loaded = session.get(Article, "surge-1")
        assert loaded is not None and loaded.version == 7
        surge.check_slow_mode(
            session,
            article_id="surge-1",
            article=loaded,
            author_id="u-1",
            guest_key=None,
            is_moderator=False,
            now=T0,
        )
        assert loaded.version == 8


def test_without_slow_mode_a_post_neither_locks_nor_looks_for_the_last_comment(
    client, count_queries
):
    """Slow mode off (0 s): the check returns before it locks the article row (an UPDATE of
    its version) and asks for the author's last comment: no cost on every post."""
    assert _post(client, "u-1", "first").status_code == 201  # the article exists now
    with count_queries() as q:
        assert _post(client, "u-1", "second").status_code == 201
    sql = [s.lower() for s in q.statements]
    assert not [s for s in sql if "max(comments.created_at)" in s]
    assert len([s for s in sql if s.startswith("update articles")]) == 1  # the post's own
