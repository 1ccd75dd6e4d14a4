"""#14 item 8: blocked terms and duplicate detection see the text a reader sees, with
lookalike letters, combining marks and invisible characters folded away (no app needed)."""

from __future__ import annotations

import pytest

from service.domain import bodies
from service.domain.moderation import HELD_BLOCKED_TERM, AutoRules, compile_terms

RULES = AutoRules(blocked=compile_terms(["casino", "buy now"]), max_links=3)

EVASIONS = [
    "casino",
    "CASINO",
    "cas&#105;no",
    "cas&#x69;no",
    "_casino_",
    "*casino*",
    "cas**ino**",
    "c*asi*no",
    "~~casino~~",
    "`casino`",
    "[casino](https://example.com)",
    "visit the [place](https://casino.example)",
    "cas\u200bino",
    "cas\u00adino",
    "cas\u2060ino",
    "ｃａｓｉｎｏ",
    "\U0001d41c\U0001d41a\U0001d42c\U0001d422\U0001d427\U0001d428",  # mathematical bold
    "\u0441\u0430\u0455\u0456n\u043e",  # Cyrillic с а ѕ і о
    "casin\u03bf",  # Greek omicron
    "c\u0430sino",  # one Cyrillic а
    "c\u0300a\u0301s\u0302i\u0303n\u0304o\u0305",  # combining marks
    "cásíñó",
    "buy  now",
    "buy\nnow",
    "bu\u0443 n\u043ew",  # Cyrillic у and о
    "**buy** now",
    "# casino",
    "> casino",
    "- casino",
    "casino!",
    "(casino)",
]


@pytest.mark.parametrize("body", EVASIONS)
def test_blocked_terms_are_found_however_they_are_dressed(body):
    assert RULES.hold_reason(body) == HELD_BLOCKED_TERM, bodies.plain_text(body)


@pytest.mark.parametrize(
    "body", ["casinos are big", "occasional", "buy nothing now", "c a s i n o"]
)
def test_whole_words_only(body):
    assert RULES.hold_reason(body) is None


@pytest.mark.parametrize(
    "variant",
    [
        "The Fed will cut rates.\u200b",
        "The Fed will cut rates",
        "The Fed will cut rates..",
        "The Fed will *cut* rates.",
        "The Fed will cut r&#97;tes.",
        "the fed  will cut rates.",
        "The F\u0435d will cut rates.",  # Cyrillic е
    ],
)
def test_duplicates_are_found_however_they_are_dressed(variant):
    assert bodies.fingerprint(variant) == bodies.fingerprint("The Fed will cut rates.")


def test_different_texts_differ():
    assert bodies.fingerprint("The Fed will cut rates.") != bodies.fingerprint(
        "The Fed will raise rates."
    )
