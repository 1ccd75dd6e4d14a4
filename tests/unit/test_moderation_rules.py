"""Moderation rules without Flask: flag weights, blocked terms, link counting."""

from __future__ import annotations

import pytest

from service.domain.moderation import (
    MAX_FLAG_WEIGHT,
    MIN_FLAG_WEIGHT,
    AutoRules,
    TermsCache,
    compile_terms,
    count_links,
    flag_weight,
    normalise,
)


def test_new_flagger_weighs_one():
    assert flag_weight(0, 0) == 1.0


@pytest.mark.parametrize(
    ("upheld", "dismissed", "expected"),
    [
        (1, 0, 2.0),  # (1+1)/(1+0)
        (0, 1, 0.5),  # 1/2
        (2, 1, 1.5),  # 3/2
        (3, 3, 1.0),
        (0, 2, 1 / 3),
        (5, 0, 2.0),  # 6 -> capped
        (0, 9, 0.25),  # 0.1 -> floored
    ],
)
def test_weight_worked_examples(upheld, dismissed, expected):
    assert flag_weight(upheld, dismissed) == pytest.approx(expected)


def test_weight_is_bounded():
    assert flag_weight(1000, 0) == MAX_FLAG_WEIGHT
    assert flag_weight(0, 1000) == MIN_FLAG_WEIGHT
    # One trusted flagger alone cannot reach the default hide threshold of 3.
    assert flag_weight(10**6, 0) < 3


def test_weight_moves_monotonically():
    assert flag_weight(1, 0) > flag_weight(0, 0) > flag_weight(0, 1)
    assert flag_weight(2, 5) < flag_weight(3, 5)
    assert flag_weight(2, 5) > flag_weight(2, 6)


def test_negative_counts_are_treated_as_none():
    assert flag_weight(-3, -2) == 1.0


def test_normalise_folds_width_case_and_invisible_characters():
    assert normalise("ＳＰＡＭ") == "spam"
    assert normalise("Sp\u200bAm") == "spam"
    assert normalise("ﬁne") == "fine"


@pytest.mark.parametrize(
    "text",
    [
        "this is SPAM",
        "spam!",
        "ＳＰＡＭ here",
        "(spam)",
        "s\u00adpam",
        "buy   now please",
        "Buy Now",
    ],
)
def test_blocked_terms_match_whole_words_after_normalisation(text):
    rules = AutoRules(blocked=compile_terms(["spam", "buy now"]), max_links=3)
    assert rules.hold_reason(text) == "blocked_term"


@pytest.mark.parametrize("text", ["spammer", "antispam", "buynow", "buy nowhere", "sp am"])
def test_blocked_terms_do_not_match_inside_words(text):
    rules = AutoRules(blocked=compile_terms(["spam", "buy now"]), max_links=3)
    assert rules.hold_reason(text) is None


def test_blank_lines_and_comments_in_the_terms_list_are_ignored():
    assert compile_terms(["", "  ", "# a comment"]) is None
    pattern = compile_terms(["# heading", "scam"])
    assert pattern is not None and pattern.search("a scam") and not pattern.search("heading")


def test_terms_with_regex_characters_are_literal():
    pattern = compile_terms(["c++", "a.b"])
    assert pattern is not None
    assert pattern.search("i love c++")
    assert not pattern.search("axb")


def test_count_links_counts_markdown_links_and_bare_urls():
    assert count_links("no links here") == 0
    assert count_links("[one](https://a.example)") == 1
    assert count_links("see https://a.example and www.b.example") == 2
    assert count_links("[x](https://a.example) https://b.example") == 2


def test_too_many_links_holds():
    body = " ".join(f"https://s{i}.example" for i in range(4))
    assert AutoRules(blocked=None, max_links=3).hold_reason(body) == "links"
    assert AutoRules(blocked=None, max_links=4).hold_reason(body) is None


def test_terms_cache_rereads_a_changed_file(tmp_path):
    import os

    path = tmp_path / "terms.txt"
    path.write_text("alpha\n")
    cache = TermsCache()
    first = cache.pattern(str(path))
    assert first is not None and first.search("alpha") and not first.search("beta")
    path.write_text("beta\n")
    stat = os.stat(path)
    os.utime(path, (stat.st_atime, stat.st_mtime + 5))
    second = cache.pattern(str(path))
    assert second is not None and second.search("beta") and not second.search("alpha")
    path.unlink()
    assert cache.pattern(str(path)) is second  # the last good list stays in force
    assert cache.pattern(None) is None


def test_config_refuses_a_missing_terms_file_and_bad_thresholds(tmp_path):
    from service.config import ConfigError, load_config

    base = {"COMMENTS_SECRET_KEY": "k", "DATABASE_URL": "sqlite://"}
    with pytest.raises(ConfigError, match="COMMENTS_BLOCKED_TERMS_FILE"):
        load_config({**base, "COMMENTS_BLOCKED_TERMS_FILE": str(tmp_path / "nope.txt")}, environ={})
    with pytest.raises(ConfigError, match="COMMENTS_FLAG_HIDE_THRESHOLD"):
        load_config({**base, "COMMENTS_FLAG_HIDE_THRESHOLD": 0}, environ={})
    terms = tmp_path / "terms.txt"
    terms.write_text("scam\n")
    config = load_config({**base, "COMMENTS_BLOCKED_TERMS_FILE": str(terms)}, environ={})
    assert config["COMMENTS_BLOCKED_TERMS_FILE"] == str(terms)


def test_an_account_that_has_not_earned_a_say_weighs_a_quarter():
    """#14 item 9: new accounts (no published comment a day old) flag at 0.25."""
    from service.domain.moderation import NEW_ACCOUNT_FLAG_WEIGHT

    assert NEW_ACCOUNT_FLAG_WEIGHT == 0.25
    assert flag_weight(0, 0, established=False) == 0.25
    assert flag_weight(50, 0, established=False) == 0.25
    assert flag_weight(0, 0, established=True) == 1.0
