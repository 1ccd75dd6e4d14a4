"""Issue #18's rules without Flask: the hot formula, surge mode's slow mode, and the spam
features and decisions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from service.domain import ranking, spam, surge
from tests.helpers import utc

NOW = utc(2026, 11, 29, 12)


def test_hot_is_hacker_news_decay():
    assert ranking.hot(0, 0) == pytest.approx(1 / 2**1.8)
    assert ranking.hot(9, 8) == pytest.approx(10 / 10**1.8)
    assert ranking.hot(5, 1, gravity=1.0) == pytest.approx(2.0)
    assert ranking.hot(3, -5) == ranking.hot(3, 0)  # after the reference time: brand new
    assert ranking.hot(10, 2) > ranking.hot(10, 3) > ranking.hot(10, 30)
    assert ranking.hot(-1, 4) == 0.0


def test_hot_reference_is_the_minute():
    assert ranking.hot_reference(1_000_000_059.9) == 1_000_000_020
    assert ranking.hot_reference(1_000_000_080) == 1_000_000_080


@dataclass
class _Article:
    slow_mode_seconds: int = 0
    slow_mode_until: dt.datetime | None = None
    surge_slow_mode_seconds: int = 0
    surge_until: dt.datetime | None = None
    premoderation_until: dt.datetime | None = None


def test_slow_mode_is_the_stricter_of_the_moderators_and_the_surges():
    assert surge.slow_mode(None, NOW) == (0, None)
    assert surge.slow_mode(_Article(slow_mode_seconds=20), NOW) == (20, None)
    later = NOW + dt.timedelta(minutes=5)
    both = _Article(slow_mode_seconds=20, surge_slow_mode_seconds=60, surge_until=later)
    assert surge.slow_mode(both, NOW) == (60, later)
    assert surge.slow_mode(both, later) == (20, None)  # the surge is over
    expired = _Article(slow_mode_seconds=20, slow_mode_until=NOW)
    assert surge.slow_mode(expired, NOW) == (0, None)
    fields = surge.public_fields(_Article(premoderation_until=later), NOW)
    assert fields == {
        "slow_mode_seconds": 0,
        "slow_mode_until": None,
        "premoderation_until": "2026-11-29T12:05:00Z",
    }
    assert (
        surge.public_fields(_Article(premoderation_until=NOW), NOW)["premoderation_until"] is None
    )


FIVE_ON, TEN_ON = NOW + dt.timedelta(minutes=5), NOW + dt.timedelta(minutes=10)


def test_a_surge_of_zero_seconds_is_no_slow_mode_and_has_no_end():
    assert surge.slow_mode(_Article(surge_until=TEN_ON), NOW) == (0, None)
    assert surge.slow_mode(_Article(slow_mode_until=TEN_ON), NOW) == (0, None)


def test_of_equally_strict_settings_the_longest_says_when_slow_mode_ends():
    both = _Article(slow_mode_seconds=30, slow_mode_until=FIVE_ON)
    both.surge_slow_mode_seconds, both.surge_until = 30, TEN_ON
    assert surge.slow_mode(both, NOW) == (30, TEN_ON)
    both.slow_mode_until = None  # the moderator's lasts until changed
    assert surge.slow_mode(both, NOW) == (30, None)
    stricter = _Article(slow_mode_seconds=60, slow_mode_until=FIVE_ON)
    stricter.surge_slow_mode_seconds, stricter.surge_until = 30, TEN_ON
    assert surge.slow_mode(stricter, NOW) == (60, FIVE_ON)


def test_no_article_row_has_no_premoderation_and_no_slow_mode():
    """A thread nobody has written to has no row (None): the rules read it as all off."""
    assert surge.premoderation_active(None, NOW) is False
    assert surge.public_fields(None, NOW) == {
        "slow_mode_seconds": 0,
        "slow_mode_until": None,
        "premoderation_until": None,
    }


def test_cashtags_and_link_domains():
    text = (
        "Long $baba and $9988.HK, $BRK.B too; not $5 or $100. See t.me/x and https://www.Bit.ly/y"
    )
    assert spam.cashtags(text) == ["BABA", "9988.HK", "BRK.B"]
    assert spam.link_domains(text) == ["bit.ly", "t.me"]


NEW = spam.AccountFacts(first_seen=None)
OLD = spam.AccountFacts(first_seen=NOW - dt.timedelta(days=90), published=12)


def test_signals_beyond_the_words():
    s = spam.signals("Join t.me/pumps for $BABA $JD $PDD calls", account=NEW, now=NOW, burst=True)
    for expected in (
        "sig_chat_link",
        "sig_cashtags_dense",
        "sig_new_chat_link",
        "sig_new_cashtags_dense",
        "sig_burst",
    ):
        assert expected in s
    # A new account alone, or a ticker alone, is no signal: ordinary first comments name one.
    assert spam.signals("Long $BABA", account=NEW, now=NOW) == []
    calm = spam.signals("Margins improved at $BABA this quarter.", account=OLD, now=NOW)
    assert "sig_account_established" in calm and "sig_record_clean" in calm
    assert "sig_chat_link" not in calm and "sig_cashtags_dense" not in calm
    bad_record = spam.AccountFacts(first_seen=NOW - dt.timedelta(days=3), published=1, removed=3)
    assert "sig_record_removed" in spam.signals("hello", account=bad_record, now=NOW)
    assert "sig_account_guest" in spam.signals("hi", account=spam.AccountFacts(guest=True), now=NOW)
    assert "sig_contact" in spam.signals("whatsapp +44 7700 900123", account=OLD, now=NOW)
    assert "dom_t_me" in spam.model_text("see t.me/abc", [])


def test_a_subdomain_of_a_chat_or_shortener_domain_is_one_too():
    """A chat invite on a subdomain (ptb.discord.com, web.telegram.me, m.t.co ...) is still a
    chat link, and a domain that only ends with the same letters is not (mutation testing,
    #22: matching subdomains by ``"XX.XX" + name`` instead of ``"." + name`` went unnoticed)."""
    chat = spam.signals("Invites at https://ptb.discord.com/invite/pumps", account=OLD, now=NOW)
    assert "sig_chat_link" in chat
    short = spam.signals("Read https://m.bit.ly/abc first", account=OLD, now=NOW)
    assert "sig_short_link" in short
    lookalike = spam.signals("See https://notdiscord.com/news", account=OLD, now=NOW)
    assert "sig_chat_link" not in lookalike and "sig_link" in lookalike


@pytest.mark.parametrize(
    ("action", "reason", "label"),
    [
        ("remove", "spam", 1),
        ("remove", "Spam: telegram link", 1),
        ("remove", "abuse", 1),
        ("remove", "off topic", None),
        ("remove", None, None),
        ("approve", None, 0),
        ("dismiss_flags", "fine", 0),
        ("pin", "spam", None),
        ("restore", None, None),
    ],
)
def test_which_decisions_teach_what(action, reason, label):
    assert spam.label_for(action, reason) == label


def test_the_hold_decision():
    v = spam.decide(0.95, ["sig_burst"], ["BABA"], account=NEW, now=NOW, hold_score=0.9)
    assert v.hold and v.new_account and v.cashtags == ("BABA",)
    assert not spam.decide(0.89, [], [], account=OLD, now=NOW, hold_score=0.9).hold


def test_a_short_comment_needs_more_than_its_words_to_be_held():
    # "Link me." scored 0.96 once: a few words carry too little for the model alone.
    short = dict(account=NEW, now=NOW, hold_score=0.9, words=2)
    assert not spam.decide(0.96, ["sig_new_account_only"], [], **short).hold
    for evidence in ("sig_link", "sig_chat_link", "sig_contact", "sig_cashtags_dense", "sig_burst"):
        assert spam.decide(0.96, [evidence], [], **short).hold, evidence
    long = dict(account=NEW, now=NOW, hold_score=0.9, words=spam.WORDS_ALONE)
    assert spam.decide(0.96, [], [], **long).hold
    assert not spam.decide(0.89, ["sig_link"], [], **long).hold
