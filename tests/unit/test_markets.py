"""Cashtags and disclosures (service/domain/markets.py), without Flask or a database."""

from __future__ import annotations

from pathlib import Path

import nh3
import pytest
import yaml

from service.domain import markets
from service.domain.bodies import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_CLASSES,
    ALLOWED_TAGS,
    count_links,
    fingerprint,
    plain_text,
    render,
    render_with_tickers,
)
from service.domain.errors import RuleError
from service.enums import Position

QUOTE = "https://news.example/quote/{symbol}"


def nh3_clean(html: str) -> str:
    """The sanitiser as bodies.render configures it, on HTML markdown-it never makes."""

    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        allowed_classes={k: set(v) for k, v in ALLOWED_CLASSES.items()},
    )


def tickers(body: str) -> list[str]:
    return list(render_with_tickers(body)[1])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Long $BABA into earnings", ["BABA"]),
        ("$9988.HK and $BABA are one company", ["9988.HK", "BABA"]),
        ("Buffett's $BRK.B", ["BRK.B"]),
        ("lower case $baba and $brk.b count too", ["BABA", "BRK.B"]),
        ("($TSLA), $NVDA. $AAPL!", ["TSLA", "NVDA", "AAPL"]),
        ("$BABA again: $BABA, $baba", ["BABA"]),
        ("**$BABA** and _$JD_", ["BABA", "JD"]),
        ("$7203.T and $005930.KS", ["7203.T", "005930.KS"]),
        ("> quoting $PDD\n\n- a list with $BIDU", ["PDD", "BIDU"]),
        ("a table\n\n| t |\n|---|\n| $NIO |", ["NIO"]),
    ],
)
def test_cashtags_found(body, expected):
    assert tickers(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "It costs $5",
        "a $100 bill",
        "$5.50 a share",
        "$1.5B of buybacks, $10M, $2.5bn",
        "US$BABA and A$5",  # glued to a word: not a cashtag
        "$$BABA",
        "$TOOLONGX has seven letters",
        "$BRK.BXYZAB runs on",
        "price in $ and €",
        "mail me at me@$BABA.example",
        "an escaped \\$BABA",
    ],
)
def test_not_cashtags(body):
    assert tickers(body) == []


@pytest.mark.parametrize(
    "body",
    [
        "`$BABA` in a code span",
        "```\n$BABA in a fence\n```",
        "    $BABA in an indented code block",
        "[buy $BABA now](https://example.com/x)",
        "[link](https://example.com/$BABA)",
        "a bare https://example.com/$BABA/quote URL",
        "<https://example.com/$BABA>",
    ],
)
def test_cashtags_in_code_and_links_are_not_parsed(body):
    assert tickers(body) == []
    assert 'class="cashtag"' not in render(body, QUOTE)


def test_cashtags_become_sanitised_links_when_a_template_is_set():
    html, found = render_with_tickers("Long $baba and $9988.HK, not $5", QUOTE)
    assert found == ("BABA", "9988.HK")
    assert (
        '<a href="https://news.example/quote/BABA" class="cashtag" '
        'rel="nofollow ugc noopener noreferrer">$baba</a>'
    ) in html
    assert 'href="https://news.example/quote/9988.HK"' in html
    assert "not $5" in html
    # the service's own links are not links a reader added: the link hold skips them
    assert count_links(html) == 0
    assert count_links(render("$BABA https://example.com", QUOTE)) == 1


def test_a_cashtag_after_a_link_counts():
    """Only the text inside a link is left alone (mutation testing, #22: counting links
    down at ``link_open`` (or up by 2) left the rule "inside a link" for the rest of the
    paragraph, so a cashtag after any link was missed)."""
    assert tickers("[a link](https://a.example) and then $BABA") == ["BABA"]
    assert tickers("[$TSLA](https://a.example) then $BABA, [$NVDA](https://b.example)") == ["BABA"]


def test_the_text_around_a_linked_cashtag_is_kept_whole():
    """Mutation testing (#22): with ``last = 1`` in _linked the text before the first
    cashtag of a text run lost its first letter ("ong $BABA"), which the substring checks
    above could not see."""
    html, _ = render_with_tickers("Long $BABA now", QUOTE)
    assert html == (
        '<p>Long <a href="https://news.example/quote/BABA" class="cashtag" '
        'rel="nofollow ugc noopener noreferrer">$BABA</a> now</p>'
    )


def test_cashtag_positions_follow_the_character_before_the_text():
    """``before`` is the character before ``text`` (the end of the previous token); empty
    means the text starts the block. Positions are always within ``text`` (mutation testing,
    #22: shifting by one whatever ``before`` is, or prefixing its last two characters)."""
    assert markets.cashtags("$BABA up", before="") == [(0, 5, "BABA")]
    # without a before, the text is read as after a space (mutation testing, #22: the
    # default was excused as "a space either way", but "XX XX" ends in an X)
    assert markets.cashtags("$BABA up") == [(0, 5, "BABA")]
    assert markets.cashtags("$BABA up", before="x ") == [(0, 5, "BABA")]
    assert markets.cashtags("$BABA up", before="x") == []  # x$BABA is no cashtag


def test_an_escaped_character_is_the_character_before_the_next_text():
    """An escaped character (``\\$``, ``\\_``) is a token of its own, and it is what the
    reader sees before the next text: ``\\$$BABA`` shows "$$BABA" and ``\\_$BABA`` shows
    "_$BABA", neither of them a cashtag. Mutation testing (#22): forgetting that character
    (``previous`` set to nothing or a space, or read as ``content[1:]``) made both a link."""
    for body in ("\\$$BABA", "\\_$BABA", "1\\$$BABA"):
        assert tickers(body) == []
        assert 'class="cashtag"' not in render(body, QUOTE)


def test_a_dollar_that_names_nothing_leaves_the_rest_of_the_paragraph_alone():
    """Mutation testing (#22): stopping at the first text with a "$" but no cashtag in it
    (``break`` for ``continue``) dropped everything after it from the paragraph."""
    assert (
        render("It costs $5, *really*, see $BABA.")
        == "<p>It costs $5, <em>really</em>, see $BABA.</p>"
    )
    assert tickers("It costs $5, *really*, see $BABA.") == ["BABA"]


def test_a_cashtag_right_after_a_code_span_or_emphasis_counts():
    """A token that is not text (a code span, the end of emphasis) ends a word, as a space
    does: "`x`$BABA" names BABA. Mutation testing (#22): taking the last character of any
    token's content read the code span's "x" as the letter before the "$"."""
    assert tickers("`x`$BABA") == ["BABA"]
    assert tickers("**b**$BABA and `c`$TSLA") == ["BABA", "TSLA"]


def test_without_a_template_cashtags_stay_plain_text():
    html, found = render_with_tickers("Long $BABA")
    assert found == ("BABA",)
    assert html == "<p>Long $BABA</p>"


def test_the_symbol_is_url_encoded_into_the_template():
    assert markets.ticker_url("https://x.example/q?s={symbol}&x=1", "BRK.B") == (
        "https://x.example/q?s=BRK.B&x=1"
    )
    assert markets.ticker_url("https://x.example/{symbol}", "A/B") == "https://x.example/A%2FB"


def test_only_the_services_class_survives_sanitising():
    """Raw HTML is text (js-default), and nh3 allows one class on links: the service's."""
    for body in ('<a class="cashtag" href="https://e.example">x</a>', "[x](https://e.example)"):
        html = render(body, QUOTE)
        assert "<a " in html and 'class="cashtag"' not in html.replace("&lt;a class", "")
    sanitised = nh3_clean(
        '<a class="cashtag evil" href="https://e.example">x</a><p class="x">y</p>'
    )
    assert 'class="x"' not in sanitised and "evil" not in sanitised


def test_stored_tickers_are_bounded():
    body = " ".join(f"${chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(40))
    html, found = render_with_tickers(body, QUOTE)
    assert len(found) == markets.MAX_TICKERS
    assert html.count('class="cashtag"') == 40  # every one still links


def test_plain_text_and_fingerprints_ignore_the_template():
    assert plain_text("Long $BABA").strip() == "Long $BABA"
    assert fingerprint("Long $BABA") == fingerprint("long  $baba")


@pytest.mark.parametrize(
    ("raw", "symbol"),
    [
        ("baba", "BABA"),
        ("BRK.B", "BRK.B"),
        ("9988.hk", "9988.HK"),
        ("BABA.HK", "BABA.HK"),
        ("$BABA", None),
        ("5", None),
        ("5.50", None),
        ("TOOLONGX", None),
        ("BA BA", None),
        ("", None),
        ("m\x85", None),  # U+0085 (next line): str.strip() made it "M"; the spec's \s does not
        ("BABA\x1f", None),
        (" BABA", "BABA"),  # spaces around it are ignored, as openapi.yaml says
        ("\u00a0baba\n", "BABA"),
    ],
)
def test_normalise_symbol(raw, symbol):
    assert markets.normalise_symbol(raw) == symbol


# --- disclosures --------------------------------------------------------------------------


def test_a_disclosure_is_normalised():
    assert markets.parse_disclosure({"baba": "long", "9988.HK": "none"}) == {
        "BABA": "long",
        "9988.HK": "none",
    }
    assert markets.parse_disclosure({}) is None
    assert markets.parse_disclosure(None) is None
    # five is the limit, not one too many (mutation testing, #22: ``>=`` refused five)
    five = {s: "long" for s in ("A", "B", "C", "D", "E")}
    assert markets.parse_disclosure(five) == five


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"$5": "long"}, "'$5' is not a ticker symbol"),
        ({"BABA": "maybe"}, "BABA: say long, short or none (got 'maybe')."),
        ({"BABA": "LONG"}, "BABA: say long, short or none"),
        ({"BABA": 1}, "BABA: say long, short or none (got '1')."),
        ({"BABA": "long", "baba": "short"}, "BABA is disclosed twice."),
        (
            {s: "long" for s in ("A", "B", "C", "D", "E", "F")},
            "A disclosure names at most 5 symbols (this one names 6).",
        ),
        # a long key or value is quoted by its first 20 characters (mutation testing, #22)
        ({"ABCDEFGHIJKLMNOPQRSTUVWXYZ": "long"}, "'ABCDEFGHIJKLMNOPQRST' is not a ticker"),
        ({"BABA": "long" * 10}, "BABA: say long, short or none (got 'longlonglonglonglong')."),
    ],
)
def test_bad_disclosures_are_422_with_a_readable_message(raw, message):
    with pytest.raises(RuleError) as refused:
        markets.parse_disclosure(raw)
    assert refused.value.status == 422
    assert refused.value.field == "disclosure"
    assert message in refused.value.detail


def test_required_disclosure():
    markets.check_required(["BABA"], None, required=False)
    markets.check_required([], None, required=True)
    markets.check_required(["BABA"], {"TSLA": "none"}, required=True)
    with pytest.raises(RuleError) as refused:
        markets.check_required(["BABA", "9988.HK"], None, required=True)
    assert refused.value.status == 422 and refused.value.field == "disclosure"
    assert refused.value.detail == (
        "Disclose your position in $BABA, $9988.HK before posting: this site asks everyone who "
        "mentions a stock to say whether they are long, short or hold none of it."
    )


def test_positions_are_the_ones_openapi_publishes():
    spec = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())
    assert spec["components"]["schemas"]["Position"]["enum"] == [p.value for p in Position]
    assert markets.POSITIONS == {p.value for p in Position}
