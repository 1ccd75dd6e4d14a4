"""What a display name may hold (service/domain/names.py), as the person choosing it is told.

tests/security/test_names.py posts hostile names through the API; these pin the rule itself:
which message a refused name gets (it is the 422's detail), where the limit on combining
marks lies, and that a token's `sub` always makes a name the rule accepts.
"""

from __future__ import annotations

import pytest

from service.domain.names import MAX_MARKS_PER_LETTER, fallback_name, name_problem

CONTROL = "Names cannot contain control characters or line breaks."
INVISIBLE = "Names cannot contain invisible or direction-changing characters."
MARKS = "At most 2 accents or marks on one letter."

ACUTE, CIRCUMFLEX, DOT_BELOW = "\u0301", "\u0302", "\u0323"  # combining marks (Mn)
ENCLOSING_CIRCLE = "\u20dd"  # an enclosing mark (Me)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("esc\x1b[31mred", CONTROL),  # Cc
        ("two\r\nlines", CONTROL),
        ("line\u2028sep", CONTROL),  # Zl
        ("para\u2029sep", CONTROL),  # Zp
        ("zero\u200bwidth", INVISIBLE),  # Cf
        ("evil\u202eedoc", INVISIBLE),
        ("half\ud800pair", INVISIBLE),  # Cs: a lone surrogate
        ("Z" + ACUTE * 3, MARKS),
        ("O" + ENCLOSING_CIRCLE * 3, MARKS),
    ],
)
def test_each_refused_name_is_told_why(name, message):
    assert name_problem(name) == message


def test_two_marks_on_a_letter_are_a_name_three_are_not():
    assert MAX_MARKS_PER_LETTER == 2
    # Vietnamese "ệ" typed decomposed: e + circumflex + dot below.
    assert name_problem("Nghe" + CIRCUMFLEX + DOT_BELOW) is None
    assert name_problem("Nghe" + CIRCUMFLEX + DOT_BELOW + ACUTE) == MARKS
    assert name_problem("O" + ENCLOSING_CIRCLE * 2) is None
    # The count is per letter: one accent on each of many letters is fine.
    assert name_problem(("e" + ACUTE) * 10) is None
    assert name_problem(("e" + CIRCUMFLEX + DOT_BELOW) * 5) is None
    # ... and marks with no letter before them count from zero too.
    assert name_problem(ACUTE * 2 + "a") is None


@pytest.mark.parametrize(
    ("sub", "name"),
    [
        ("user\x1b42", "user42"),
        ("line\u2028sep\u2029x", "linesepx"),
        ("zero\u200bwidth\u202e", "zerowidth"),
        ("half\ud800pair", "halfpair"),
        ("  pat  ", "pat"),
        ("", "Reader"),
        ("\x1b\u202e\u200b", "Reader"),
    ],
)
def test_a_tokens_sub_becomes_a_name_without_what_a_name_may_not_hold(sub, name):
    assert fallback_name(sub) == name


@pytest.mark.parametrize(
    "sub", ["Z" + ACUTE * 5, "a" + ENCLOSING_CIRCLE * 4 + "b", "x\x07" + ACUTE * 3, "ok"]
)
def test_the_fallback_name_is_always_a_name_the_rule_accepts(sub):
    name = fallback_name(sub)
    assert name and name_problem(name) is None
    assert name[0] == sub[0]


def test_a_fallback_name_keeps_a_letters_marks_up_to_the_limit():
    """A `sub` with too many marks on a letter keeps the first two of them, not fewer
    (kills fallback_name's ``kept[: i + 2]``, which judged each character together with the
    next one and so dropped the last allowed mark as well)."""
    assert fallback_name("Nghe" + CIRCUMFLEX + DOT_BELOW + ACUTE) == "Nghe" + CIRCUMFLEX + DOT_BELOW
    assert fallback_name("Z" + ACUTE * 5) == "Z" + ACUTE * 2


def test_a_fallback_name_keeps_what_follows_a_letter_with_too_many_marks():
    """Only the extra marks go: the letters after them stay (the rule was once judged on the
    `sub` so far rather than on the name so far, and everything after a third mark on one
    letter was dropped with it: "Zoe" + 5 accents + " Ng" became "Zoé́")."""
    assert fallback_name("Zoe" + ACUTE * 5 + " Ng") == "Zoe" + ACUTE * 2 + " Ng"
    assert fallback_name("a" + ENCLOSING_CIRCLE * 4 + "b" + ACUTE) == (
        "a" + ENCLOSING_CIRCLE * 2 + "b" + ACUTE
    )


def test_a_fallback_name_may_start_with_marks_up_to_the_limit():
    """Marks before any letter (a `sub` is whatever the identity provider sends) count from
    zero like those on a letter: the limit's worth is kept, the rest goes, and nothing fails
    (mutation testing, #22: ``marks = None`` at the start failed on such a sub, ``marks = 1``
    dropped one mark too many)."""
    acute = "\u0301"
    assert fallback_name(acute * MAX_MARKS_PER_LETTER + "x") == acute * MAX_MARKS_PER_LETTER + "x"
    assert fallback_name(acute * (MAX_MARKS_PER_LETTER + 3) + "x") == (
        acute * MAX_MARKS_PER_LETTER + "x"
    )
