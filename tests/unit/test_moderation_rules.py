"""Moderation rules without Flask: flag weights, blocked terms, link counting."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

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
    read_terms_file,
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


def test_a_limit_of_zero_links_holds_any_link():
    """COMMENTS_MAX_LINKS=0 ("more links than this holds a comment") holds a comment with a
    single link and lets one without through (kills hold_reason's ``max_links > 0`` and
    ``max_links >= 1``, which turned the rule off at zero)."""
    rules = AutoRules(blocked=None, max_links=0)
    assert rules.hold_reason("see https://a.example") == "links"
    assert rules.hold_reason("[one](https://a.example)") == "links"
    assert rules.hold_reason("no links here") is None


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


def test_an_unchanged_terms_file_is_not_read_again(tmp_path):
    """The list is re-read when the file changes, not on every comment: a file rewritten with
    its old modification time keeps the list already read (kills TermsCache.pattern's
    ``self._key = None``, which re-read and recompiled the file for every comment)."""
    path = tmp_path / "terms.txt"
    path.write_text("alpha\n")
    cache = TermsCache()
    first = cache.pattern(str(path))
    stat = os.stat(path)
    path.write_text("beta\n")
    os.utime(path, (stat.st_atime, stat.st_mtime))
    assert cache.pattern(str(path)) is first
    assert first is not None and not first.search("beta")


def test_an_unreadable_terms_file_is_logged_by_name(tmp_path, caplog):
    """The operator is told which file went missing and that the last list stays in force
    (kills the mutants of TermsCache.pattern's warning: the path dropped or replaced by None,
    the message dropped or changed)."""
    path = tmp_path / "terms.txt"
    path.write_text("alpha\n")
    cache = TermsCache()
    kept = cache.pattern(str(path))
    path.unlink()
    with caplog.at_level(logging.WARNING, logger="service.domain.moderation.auto_rules"):
        assert cache.pattern(str(path)) is kept
    assert [r.getMessage() for r in caplog.records] == [
        f"blocked terms file {path} is unreadable; keeping the last list"
    ]


def test_a_terms_file_unreadable_from_the_first_read_blocks_nothing(tmp_path):
    """Config checks the file at start-up, but it may be gone before the first comment: then
    there is no last good list, and comments are let through rather than refused (kills
    TermsCache.__init__'s ``self._pattern = ""``, which handed AutoRules a pattern that is not
    one, so every comment failed)."""
    pattern = TermsCache().pattern(str(tmp_path / "gone.txt"))
    assert pattern is None
    assert AutoRules(blocked=pattern, max_links=3).hold_reason("hello there") is None


READ_TERMS = """
import sys
from service.domain.moderation import read_terms_file
print(ascii(read_terms_file(sys.argv[1])))
"""


def test_the_terms_file_is_read_as_utf8_whatever_the_servers_locale(tmp_path):
    """The file is documented as UTF-8: a server whose locale is plain ASCII (LC_ALL=C without
    Python's UTF-8 mode) must still block "café" and "казино", not fail to read the list
    (kills read_terms_file's ``open(path)`` without ``encoding="utf-8"``, or with None)."""
    path = tmp_path / "terms.txt"
    path.write_text("café\n  казино  \n\n", encoding="utf-8")
    assert read_terms_file(str(path)) == ["café", "казино"]
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    run = subprocess.run(
        [sys.executable, "-c", READ_TERMS, str(path)],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ascii(["café", "казино"])


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
