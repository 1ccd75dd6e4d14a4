"""The spam rules of service/domain/spam.py without the app or the model: which cashtags and
link domains a comment names, when an account is new, the exact signals a comment is scored
with, the text the model reads and when a score holds a comment (mutation testing, #22: these
were only seen through the seed model's scores, so a signal renamed, dropped, added to every
comment or given at the wrong threshold went unnoticed while the scores stayed on the right
side of 0.9)."""

from __future__ import annotations

import datetime as dt

import pytest

from service.domain import spam

NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.timezone.utc)
NEW = spam.AccountFacts(first_seen=None)
DAY = dt.timedelta(days=1)


def test_cashtags_are_upper_case_unique_in_first_mention_order():
    text = "$baba and $BABA, then $brk.b, $9988.hk and $JD; never $5, $100 or US$TSLA"
    assert spam.cashtags(text) == ["BABA", "BRK.B", "9988.HK", "JD"]
    assert spam.cashtags("no tickers here") == []


def test_link_domains_are_lower_case_without_www_sorted_and_unique():
    text = (
        "Read https://WWW.Example.COM and www.Foo.org, then join T.me/Chan "
        "(also www.Bar.net/x, https://bar.net/y) or bit.ly/x"
    )
    assert spam.link_domains(text) == ["bar.net", "bit.ly", "example.com", "foo.org", "t.me"]
    assert spam.link_domains("no links, just a sentence. Another one.") == []


def test_an_account_is_new_for_its_first_day_a_guest_always():
    assert spam.is_new(NEW, NOW)
    assert spam.is_new(spam.AccountFacts(first_seen=NOW - 400 * DAY, guest=True), NOW)
    assert spam.is_new(spam.AccountFacts(first_seen=NOW - DAY + dt.timedelta(seconds=1)), NOW)
    assert not spam.is_new(spam.AccountFacts(first_seen=NOW - DAY), NOW)
    assert not spam.is_new(spam.AccountFacts(first_seen=NOW - 3 * DAY), NOW)


def _signals(text: str, account: spam.AccountFacts = NEW, **kw: bool) -> list[str]:
    return spam.signals(text, account=account, now=NOW, **kw)


def test_links_and_contacts_are_signals_a_new_account_sharpens():
    three = "Join t.me/x, bit.ly/y and example.com/z"
    assert _signals(three) == [
        "sig_chat_link",
        "sig_short_link",
        "sig_link",
        "sig_links_many",
        "sig_new_chat_link",
        "sig_new_short_link",
        "sig_new_links_many",
    ]
    # Two domains are few; a plain link is sharpened by nothing.
    assert _signals("See example.com/a and example.org/b") == ["sig_link", "sig_links_few"]
    assert _signals("signals at t.me/x") == [
        "sig_chat_link",
        "sig_link",
        "sig_links_few",
        "sig_new_chat_link",
    ]
    # A handle alone, a phone number alone: a way to reach the spammer without a link.
    assert _signals("message @richtrader now") == ["sig_contact", "sig_new_contact"]
    assert _signals("WhatsApp me +44 7700 900456") == ["sig_contact", "sig_new_contact"]
    # Nothing spammy: a new account alone is no signal.
    assert _signals("Cloud margins improved this quarter") == []


def test_cashtags_are_a_signal_only_when_dense():
    # Three tickers always; two when they are more than 15% of the words; one never.
    long_text = "I have been reading the filings of these three companies for weeks now and think "
    assert _signals("$AB $CD $EF") == ["sig_cashtags_dense", "sig_new_cashtags_dense"]
    # 3 of 21 words: under 15%, and still dense.
    assert _signals(long_text + "$AB $CD $EF all look cheap") == [
        "sig_cashtags_dense",
        "sig_new_cashtags_dense",
    ]
    assert _signals("$AB $CD") == ["sig_cashtags_dense", "sig_new_cashtags_dense"]
    assert _signals(long_text + "$AB and $CD are cheap") == []  # 2 of 20 words
    assert _signals("$AB") == []


def test_an_accounts_age_and_record_are_signals():
    week_old = spam.AccountFacts(first_seen=NOW - 7 * DAY, published=5)
    assert _signals("Fair point", week_old) == ["sig_account_established", "sig_record_clean"]
    # Three days old: neither new nor established; four published and none removed: no record.
    three_days = spam.AccountFacts(first_seen=NOW - 3 * DAY, published=4)
    assert _signals("Fair point", three_days) == []
    spammy = "DM me at t.me/x"
    assert _signals(spammy, three_days) == ["sig_chat_link", "sig_link", "sig_links_few"]
    # Removed at least twice and at least as often as published.
    removed = spam.AccountFacts(first_seen=NOW - 3 * DAY, published=2, removed=2)
    assert _signals("Fair point", removed) == ["sig_record_removed"]
    once = spam.AccountFacts(first_seen=NOW - 3 * DAY, published=0, removed=1)
    assert _signals("Fair point", once) == []
    more_published = spam.AccountFacts(first_seen=NOW - 3 * DAY, published=3, removed=2)
    assert _signals("Fair point", more_published) == []
    # Five published but one removed: not clean.
    blemished = spam.AccountFacts(first_seen=NOW - 3 * DAY, published=5, removed=1)
    assert _signals("Fair point", blemished) == []


def test_a_guest_is_a_new_account_and_a_burst_is_a_signal():
    guest = spam.AccountFacts(guest=True)
    assert _signals("Fair point", guest) == ["sig_account_guest"]
    assert _signals("Ask @richtrader", guest) == [
        "sig_contact",
        "sig_account_guest",
        "sig_new_contact",
    ]
    assert _signals("$ZZPQ to the moon", burst=True) == ["sig_burst"]
    assert _signals("$ZZPQ to the moon") == []  # no burst unless the caller found one


def test_the_model_reads_the_body_its_domains_as_words_and_the_signals():
    body = "See t.me/x-y and https://my-site.example"
    assert spam.model_text(body, ["sig_a", "sig_b"]) == (
        f"{body}\ndom_my_site_example dom_t_me sig_a sig_b"
    )
    assert spam.model_text("Fair point", []) == "Fair point\n "


def _verdict(score: float, features: list[str], *, words: int, **kw: object) -> spam.Verdict:
    args: dict = {"account": NEW, "now": NOW, "hold_score": 0.9, "tags": [], **kw}
    return spam.decide(score, features, args.pop("tags"), words=words, **args)


def test_a_score_at_the_threshold_holds_a_long_comment_or_one_with_evidence():
    assert _verdict(0.95, [], words=12) == spam.Verdict(
        score=0.95, signals=(), cashtags=(), new_account=True, hold=True
    )
    assert _verdict(0.9, ["sig_link", "sig_new_links_few"], words=3).hold is True
    assert _verdict(0.9, ["sig_link"], words=3).signals == ("sig_link",)
    for evidence in sorted(spam.EVIDENCE):
        assert _verdict(0.95, [evidence], words=1).hold is True, evidence


def test_a_short_comment_without_evidence_or_a_low_score_is_not_held():
    assert _verdict(0.99, [], words=11).hold is False
    assert _verdict(0.99, ["sig_account_guest", "sig_links_few"], words=3).hold is False
    assert _verdict(0.89, ["sig_chat_link"], words=40).hold is False


def test_a_verdict_keeps_ten_cashtags_and_whether_the_account_was_new():
    tags = [f"T{i}" for i in range(12)]
    established = spam.AccountFacts(first_seen=NOW - 30 * DAY, published=9)
    verdict = _verdict(0.2, ["sig_record_clean"], words=20, tags=tags, account=established)
    assert verdict == spam.Verdict(
        score=0.2,
        signals=("sig_record_clean",),
        cashtags=tuple(tags[:10]),
        new_account=False,
        hold=False,
    )
    day_old = spam.AccountFacts(first_seen=NOW - dt.timedelta(hours=23))
    assert _verdict(0.2, [], words=20, account=day_old).new_account is True


@pytest.mark.parametrize("text, n", [("", 0), ("$BRK.B is up 5%", 5), ("naïve café", 2)])
def test_word_count(text, n):
    assert spam.word_count(text) == n
