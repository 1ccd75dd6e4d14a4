"""Spam that learns from moderators (issue #18): obvious spam is held with its score on the
queue card, ordinary market talk is not, and moderators' decisions move the score."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from service import spam as spam_service
from service.extensions import db
from service.models import AuditEntry, CommentSpam, SpamModel
from service.spam import model, service
from tests.helpers import auth

MOD = auth("mod-1", roles=["moderator"], name="Mod")
THREAD = "/api/v1/articles/spam-1/comments"

SPAM = "DM me on Telegram for signals, my VIP group made 400% on $BABA: t.me/babavipcalls"
HAM = "Cloud margins improved, but the capex guidance worries me more than the revenue beat."


def _post(client: Any, user: str, body: str) -> Any:
    r = client.post(THREAD, json={"body": body}, headers=auth(user))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _queue(client: Any) -> dict[int, dict[str, Any]]:
    r = client.get("/api/v1/admin/queue?state=all", headers=MOD)
    assert r.status_code == 200
    return {item["id"]: item for item in r.get_json()["items"]}


def test_obvious_spam_is_held_with_its_score_on_the_queue_card(client):
    spam = _post(client, "spammer-1", SPAM)
    ham = _post(client, "reader-1", HAM)
    assert spam["status"] == "pending"
    assert ham["status"] == "published"
    card = _queue(client)[spam["id"]]
    assert card["held_reason"] == "spam_score"
    assert card["spam_score"] >= 0.9
    assert card["notes"] == []
    with client.application.app_context():
        row = db.session.get(CommentSpam, ham["id"])
        assert row is not None and row.score < 0.5
        hold = db.session.scalars(
            select(AuditEntry).where(AuditEntry.target_id == str(spam["id"]))
        ).one()
    assert hold.actor_id == "system" and hold.reason == "spam_score"


@pytest.mark.parametrize(
    "body",
    ["Long $BABA", "Disclosure: short $TSLA", "$JD up 5% today", "What did $NVDA guide for Q1?"],
)
def test_a_brand_new_readers_short_cashtag_comment_is_published(client, body):
    # The reader's first comment ever: a new account naming a ticker is the normal case here.
    comment = _post(client, "first-timer", body)
    assert comment["status"] == "published"
    with client.application.app_context():
        row = db.session.get(CommentSpam, comment["id"])
        assert row is not None and row.new_account and row.score < 0.5


def test_queue_cards_carry_reporters_notes_and_a_null_score_for_moderators(client):
    mod_post = client.post(THREAD, json={"body": "Moderator note: stay on topic."}, headers=MOD)
    assert mod_post.status_code == 201
    comment = _post(client, "reader-2", "The forward P/E is closer to 11 than 10.")
    for i, note in enumerate(["wrong number", "looks fine to me", "checked: it is 11"]):
        r = client.post(
            f"/api/v1/comments/{comment['id']}/flags",
            json={"reason": "misinformation", "note": note},
            headers=auth(f"flagger-{i}"),
        )
        assert r.status_code == 201
    client.post(
        f"/api/v1/comments/{mod_post.get_json()['id']}/flags",
        json={"reason": "off_topic"},
        headers=auth("flagger-9"),
    )
    cards = _queue(client)
    card = cards[comment["id"]]
    assert [n["note"] for n in card["notes"]] == [
        "checked: it is 11",
        "looks fine to me",
        "wrong number",
    ]
    assert all(n["reason"] == "misinformation" and n["created_at"] for n in card["notes"])
    assert isinstance(card["spam_score"], float) and card["spam_score"] < 0.9
    assert cards[mod_post.get_json()["id"]]["spam_score"] is None


@pytest.mark.settings(COMMENTS_SPAM_HOLD_SCORE=1.01)
def test_moderators_decisions_teach_the_model(app, client):
    """A kind of spam the seed has not seen (a fake survey) scores low at first; after
    moderators remove a few as spam, the same kind of comment scores higher, and approvals
    of a legitimate kind pull that kind down."""
    fresh = "Complete our quick shareholder survey and receive a $50 voucher at surveyprize.example"
    before = _post(client, "new-1", fresh)
    with app.app_context():
        score_before = db.session.get(CommentSpam, before["id"]).score
        assert db.session.get(SpamModel, model.MODEL_ROW) is None  # still the seed
    for i in range(6):
        c = _post(
            client,
            f"new-{i + 2}",
            f"Quick shareholder survey number {i}: win a $50 voucher at surveyprize.example",
        )
        r = client.post(
            f"/api/v1/admin/comments/{c['id']}/actions",
            json={"action": "remove", "reason": "spam: survey scam"},
            headers=MOD,
        )
        assert r.status_code == 200
    after = _post(client, "new-20", fresh + " today")
    with app.app_context():
        score_after = db.session.get(CommentSpam, after["id"]).score
        stored = db.session.get(SpamModel, model.MODEL_ROW)
        assert stored is not None and stored.decisions == 6 and stored.version == 6
    assert score_after > score_before + 0.2, (score_before, score_after)

    # Approvals teach "not spam": a kind of comment the seed finds suspicious moves down.
    borderline = (
        "Our investor club meets on Discord every Friday: discord.gg/valueclub, filings only."
    )
    first = _post(client, "new-30", borderline)
    for i in range(6):
        c = _post(client, f"new-{40 + i}", f"{borderline} Question {i} for management.")
        client.post(
            f"/api/v1/comments/{c['id']}/flags",
            json={"reason": "spam"},
            headers=auth(f"flagger-{i}"),
        )
        r = client.post(
            f"/api/v1/admin/comments/{c['id']}/actions",
            json={"action": "dismiss_flags" if i % 2 else "approve"},
            headers=MOD,
        )
        assert r.status_code == 200, r.get_json()
    again = _post(client, "new-50", borderline + " Thanks.")
    with app.app_context():
        lower = db.session.get(CommentSpam, again["id"]).score
        higher = db.session.get(CommentSpam, first["id"]).score
    assert lower < higher - 0.05, (higher, lower)


def test_other_decisions_teach_nothing(app, client):
    c = _post(client, "reader-3", HAM)
    r = client.post(
        f"/api/v1/admin/comments/{c['id']}/actions",
        json={"action": "remove", "reason": "off topic"},
        headers=MOD,
    )
    assert r.status_code == 200
    with app.app_context():
        assert db.session.get(SpamModel, model.MODEL_ROW) is None


def test_scoring_reads_the_learned_model_only_when_it_changes(app, client, count_queries):
    _post(client, "reader-4", HAM)  # the seed is trained (once per process) and cached
    with app.app_context():
        svc = service()
        with count_queries() as q:
            verdict = svc.assess(db.session, author_id="reader-5", body=HAM, now=_now())
        assert not verdict.hold
        # the account facts alone: the model's version was read under
        # VERSION_CHECK_SECONDS ago (no cashtags: no burst query)
        assert q.count == 1, q.statements
        svc._checked_at -= spam_service.VERSION_CHECK_SECONDS  # the window has passed
        with count_queries() as q:
            svc.assess(db.session, author_id="reader-5", body=HAM, now=_now())
        assert q.count == 2, q.statements  # and the version, unchanged: no model read


def test_a_lesson_learned_in_another_process_is_scored_with_once_the_window_passes(app, client):
    """Another worker's lesson bumps the model's version in the database; this process keeps
    its model for at most VERSION_CHECK_SECONDS, then reads the new one."""
    c = _post(client, "reader-6", "Free shares giveaway at grab-shares.example today only")
    with app.app_context():
        here = service()
        before = here.current(db.session)
        elsewhere = spam_service.SpamService(hold_score=here.hold_score)  # another process
        assert elsewhere.learn(db.session, comment_id=c["id"], label=1)
        db.session.commit()
        assert here.current(db.session) is before  # within the window: the model it had
        here._checked_at -= spam_service.VERSION_CHECK_SECONDS
        learned = here.current(db.session)
        assert learned is not before and learned.version == 1


def _now() -> Any:
    from service.models import utcnow

    return utcnow()


def test_a_lesson_is_the_comments_own_text_and_the_signals_it_was_scored_with(app, client):
    """``training_example`` gives the model the decided comment's body and the signals stored
    when it was scored, as strings; none for a comment never scored; nothing once the text is
    gone (mutation testing, #22: the lessons were only seen through scores moving, so the
    signals read from another comment's row (``!=`` in the join), never read, or read as
    ``[]`` or "None", went unnoticed)."""
    from service.domain import spam

    first = _post(client, "spammer-1", SPAM)
    second = _post(client, "reader-1", HAM)
    gone = _post(client, "reader-2", "Soon to be deleted by its author, who had second thoughts.")
    assert (
        client.delete(f"/api/v1/comments/{gone['id']}", headers=auth("reader-2")).status_code == 204
    )
    with app.app_context():
        stored = {
            cid: db.session.get(CommentSpam, cid).signals for cid in (first["id"], second["id"])
        }
        assert stored[first["id"]] and stored[first["id"]] != stored[second["id"]]
        assert spam.training_example(db.session, first["id"]) == (
            SPAM,
            [str(s) for s in stored[first["id"]]],
        )
        assert all(isinstance(s, str) for s in spam.training_example(db.session, first["id"])[1])
        db.session.delete(db.session.get(CommentSpam, second["id"]))
        db.session.commit()
        assert spam.training_example(db.session, second["id"]) == (HAM, [])
        assert spam.training_example(db.session, gone["id"]) is None
        assert spam.training_example(db.session, 987654) is None


def test_new_accounts_naming_one_ticker_in_a_burst_are_a_signal(app, client):
    """The third new account in ten minutes naming the same cashtag gets ``sig_burst``; the
    first two, and one naming another ticker, do not (mutation testing, #22: no test
    posted a burst through the API, so the cashtags stored under a misspelt key, which left the
    column empty and the burst never seen, went unnoticed)."""
    first = _post(client, "pump-1", "Loading up on $ZZPQ before the news")
    second = _post(client, "pump-2", "$ZZPQ is going to fly this week")
    other = _post(client, "pump-3", "Anyone holding $QQRT into earnings?")
    third = _post(client, "pump-4", "Everyone is buying $ZZPQ right now")
    with app.app_context():
        signals = {
            c["id"]: db.session.get(CommentSpam, c["id"]).signals
            for c in (first, second, other, third)
        }
        assert db.session.get(CommentSpam, first["id"]).cashtags == " ZZPQ "
    assert "sig_burst" in signals[third["id"]]
    assert all("sig_burst" not in signals[c["id"]] for c in (first, second, other))


# --- what the database says: the stored score, the burst it makes, an account's record -----

T0 = dt.datetime(2026, 11, 30, 12, tzinfo=dt.timezone.utc)
SECOND = dt.timedelta(seconds=1)
MINUTE = dt.timedelta(minutes=1)


def _unscored_comments(client: Any, n: int) -> list[int]:
    """Comments nobody scored (a moderator's), to hang stored scores on."""
    ids = []
    for i in range(n):
        r = client.post(THREAD, json={"body": f"Moderator note {i}"}, headers=MOD)
        assert r.status_code == 201
        ids.append(r.get_json()["id"])
    return ids


def _verdict(*tags: str, new: bool = True, score: float = 0.5, signals: tuple[str, ...] = ()):
    from service.domain import spam

    return spam.Verdict(score=score, signals=signals, cashtags=tags, new_account=new, hold=False)


def test_a_comments_score_is_stored_with_its_signals_tickers_and_time(app, client):
    """What the burst check and learning read later: the score, the signals as scored, the
    tickers space-delimited (none: NULL), whether the account was new and the time given
    (mutation testing, #22: a key misspelt or the tickers' spaces changed went unnoticed)."""
    from service.domain import spam

    first, second = _unscored_comments(client, 2)
    with app.app_context():
        verdict = _verdict("BABA", "9988.HK", score=0.25, signals=("sig_link", "sig_burst"))
        spam.store(db.session, comment_id=first, verdict=verdict, now=T0)
        spam.store(db.session, comment_id=second, verdict=_verdict(new=False), now=T0 + SECOND)
        db.session.commit()
        rows = {cid: db.session.get(CommentSpam, cid) for cid in (first, second)}
        stored = {
            cid: (r.score, r.signals, r.cashtags, r.new_account, r.created_at)
            for cid, r in rows.items()
        }
    assert stored == {
        first: (0.25, ["sig_link", "sig_burst"], " BABA 9988.HK ", True, T0),
        second: (0.5, [], None, False, T0 + SECOND),
    }


def test_a_burst_is_two_new_accounts_comments_on_the_ticker_in_the_last_ten_minutes(app, client):
    """``burst``: new accounts' comments naming one of the comment's first three tickers,
    from BURST_WINDOW before ``now`` (inclusive), two of them before this one; an established
    account's comment, an older one, or a longer ticker that starts the same does not count
    (mutation testing, #22: only a burst of three posted at once was tested)."""
    from service.domain import spam

    ids = iter(_unscored_comments(client, 7))
    window = spam.BURST_WINDOW
    with app.app_context():
        for verdict, at in [
            (_verdict("ZZPQ"), T0 - window),  # the window's first instant: in
            (_verdict("ZZPQ", "QQRT"), T0 - MINUTE),
            (_verdict("QQRT", new=False), T0 - MINUTE),  # an established account's
            (_verdict("ZZPQX"), T0),  # another ticker that starts the same
            (_verdict("ZZPQX"), T0),
            (_verdict("OLDT"), T0 - window - SECOND),  # before the window
            (_verdict("OLDT"), T0 - 5 * MINUTE),
        ]:
            spam.store(db.session, comment_id=next(ids), verdict=verdict, now=at)
        db.session.commit()
        assert spam.burst(db.session, ["ZZPQ"], T0) is True
        assert spam.burst(db.session, ["MSFT", "ZZPQ"], T0) is True  # any of its tickers
        assert spam.burst(db.session, ["ZZPQ"], T0 + SECOND) is False  # the first one left
        assert spam.burst(db.session, ["QQRT"], T0) is False
        assert spam.burst(db.session, ["OLDT"], T0) is False
        assert spam.burst(db.session, ["ZZPQX"], T0) is True
        # Only a comment's first three tickers are looked up (a wall of them is a signal).
        assert spam.burst(db.session, ["AAAA", "BBBB", "CCCC", "ZZPQ"], T0) is False
        assert spam.burst(db.session, [], T0) is False


def test_an_accounts_record_is_its_first_comment_time_and_what_moderators_let_stand(app, client):
    """``account_facts``: the time of the author's first comment (aware, UTC), how many are
    published and how many removed (a held one is neither); nothing for a newcomer, a guest's
    flag for no author (mutation testing, #22: the record was only seen through scores)."""
    from service.domain import spam
    from service.models import Comment

    published = [_post(client, "record-1", HAM), _post(client, "record-1", HAM + " Agreed.")]
    removed = _post(client, "record-1", "Off topic: what is everyone having for lunch today?")
    r = client.post(
        f"/api/v1/admin/comments/{removed['id']}/actions",
        json={"action": "remove", "reason": "off topic"},
        headers=MOD,
    )
    assert r.status_code == 200
    held = _post(client, "record-1", SPAM)
    assert [c["status"] for c in published + [held]] == ["published", "published", "pending"]
    with app.app_context():
        first = db.session.get(Comment, published[0]["id"]).created_at
        assert first.tzinfo is not None
        assert spam.account_facts(db.session, "record-1") == spam.AccountFacts(
            first_seen=first, published=2, removed=1, guest=False
        )
        assert spam.account_facts(db.session, "never-posted") == spam.AccountFacts(
            first_seen=None, published=0, removed=0, guest=False
        )
        assert spam.account_facts(db.session, None) == spam.AccountFacts(guest=True)


def test_scores_are_read_for_the_comments_asked_for_and_only_those(app, client):
    """``scores_for`` (the queue's cards): each asked-for comment's stored score as a float,
    none for a comment never scored (a moderator's), nothing for no comments, and no other
    comment's score (mutation testing, #22: the cards look a score up by id, so reading every
    stored score for every page went unnoticed)."""
    from service.domain import spam

    ham = _post(client, "reader-1", HAM)["id"]
    held = _post(client, "spammer-1", SPAM)["id"]
    (unscored,) = _unscored_comments(client, 1)
    with app.app_context():
        stored = {cid: db.session.get(CommentSpam, cid).score for cid in (ham, held)}
        scores = spam.scores_for(db.session, [ham, unscored])
        assert scores == {ham: stored[ham]} and type(scores[ham]) is float
        assert spam.scores_for(db.session, [held, ham]) == stored
        assert spam.scores_for(db.session, []) == {}
