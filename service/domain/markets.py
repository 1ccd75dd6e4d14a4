"""Market features of a comment: cashtags in its body and the author's disclosure.

Pure functions, free of the database: which securities a body names (``$BABA``,
``$9988.HK``, ``$BRK.B``), the markdown-it rule that finds them in the parsed body (so code
and links are left alone) and links them to the site's quote pages, and the checks of a
disclosure (``{"BABA": "long"}``). The stored side lives in ``tickers.py`` and
``revisions.py``.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence
from urllib.parse import quote

from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from ..enums import Position
from .errors import RuleError

# A symbol as stored and shown: upper case, no "$". Letters with an optional class or
# exchange suffix (BRK.B, BABA.HK, RDS.A), or an exchange-numbered listing (9988.HK, 7203.T).
SYMBOL = re.compile(r"[A-Z]{1,6}(?:\.[A-Z0-9]{1,4})?|[0-9]{1,6}\.[A-Z]{1,4}")
SYMBOL_RULE = (
    "a ticker symbol such as BABA, BRK.B or 9988.HK: 1 to 6 letters with an optional "
    "suffix of . and 1 to 4 letters or digits, or 1 to 6 digits, . and 1 to 4 letters"
)
# A cashtag in running text. Not after a word character, "$", "/", "." or "@" (US$BABA,
# $$, paths, e-mail-like text), and not running on into more letters, digits or a further
# suffix ($BABAXYZQ, $BRK.BXYZAB are no symbols, rather than a shorter one). "$5", "$100" and
# "$5.50" never match: a numbered listing needs letters after its dot.
CASHTAG = re.compile(
    r"(?<![\w$/.@])\$([A-Za-z]{1,6}(?:\.[A-Za-z0-9]{1,4})?|[0-9]{1,6}\.[A-Za-z]{1,4})"
    r"(?![A-Za-z0-9]|\.[A-Za-z0-9])"
)
# Symbols stored per comment (the rest of a long list still renders as links): enough
# for any real comment, and a bound on what one post writes.
MAX_TICKERS = 20
MAX_DISCLOSURE = 5
TEMPLATE_FIELD = "{symbol}"
# markdown-it's env keys: the quote page template in, the symbols found out.
ENV_URL = "ticker_url"
ENV_TICKERS = "tickers"
POSITIONS = frozenset(p.value for p in Position)


# ECMAScript's \s (what `\s` means in a JSON Schema pattern): the white space and line
# terminator characters.
SPACES = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def normalise_symbol(raw: str) -> str | None:
    """``raw`` as a stored symbol (upper case), or None when it is not one. A leading "$"
    is not part of a symbol."""
    # Spaces around it are ignored, as openapi.yaml's pattern says (`\s*`, JSON Schema's
    # ECMAScript whitespace). str.strip() alone also dropped U+0085 and U+001C-U+001F,
    # which that pattern refuses: "m\x85" answered for M (found by the contract fuzzer).
    symbol = raw.strip(SPACES)
    # ASCII only: "ı".upper() is "I" and "ﬀ".upper() is "FF", so upper-casing first let
    # letters that are not A-Z through (openapi.yaml's pattern says A-Z a-z).
    if not symbol.isascii():
        return None
    symbol = symbol.upper()
    return symbol if SYMBOL.fullmatch(symbol) else None


def cashtags(text: str, before: str = " ") -> list[tuple[int, int, str]]:
    """(start, end, symbol) of each cashtag in plain ``text``; ``before`` is the character
    that precedes it (the end of the previous text token), for the boundary rule."""
    found = []
    for match in CASHTAG.finditer(before[-1:] + text if before else text):
        shift = 1 if before else 0
        found.append((match.start() - shift, match.end() - shift, match.group(1).upper()))
    return [(start, end, symbol) for start, end, symbol in found if start >= 0]


def ticker_url(template: str, symbol: str) -> str:
    """The quote page of ``symbol``: COMMENTS_TICKER_URL_TEMPLATE with ``{symbol}`` replaced
    by the URL-encoded symbol."""
    return template.replace(TEMPLATE_FIELD, quote(symbol, safe=""))


# --- the markdown-it rule -----------------------------------------------------------------

_TEXT = ("text", "text_special")


def cashtag_rule(state: StateCore) -> None:
    """A core rule (after linkify): finds cashtags in the text tokens of every inline
    block, collects their symbols into ``env["tickers"]`` (first mention first) and, when
    ``env["ticker_url"]`` is set, turns each into a link to its quote page.

    Working on tokens rather than on the source is what keeps code spans and code blocks
    (``code_inline``, ``fence``: not text tokens) and links (text between ``link_open``
    and ``link_close``, addresses in attributes) out of it. An escaped dollar (``\\$BABA``)
    is a ``text_special`` token of its own, so it names nothing."""
    env = state.env
    found: list[str] = env.setdefault(ENV_TICKERS, [])
    template = env.get(ENV_URL) or ""
    for block in state.tokens:
        if block.type != "inline" or not block.children or "$" not in block.content:
            continue
        children: list[Token] = []
        in_link = 0
        previous = " "
        for token in block.children:
            if token.type == "link_open":
                in_link += 1
            elif token.type == "link_close":
                in_link -= 1
            if token.type != "text" or in_link or "$" not in token.content:
                children.append(token)
                previous = token.content[-1:] if token.type in _TEXT and token.content else " "
                continue
            text = token.content
            matches = cashtags(text, previous)
            previous = text[-1:] or " "
            if not matches:
                children.append(token)
                continue
            for _start, _end, symbol in matches:
                if symbol not in found:
                    found.append(symbol)
            if not template:
                children.append(token)
                continue
            children.extend(_linked(text, matches, template, token.level))
        block.children = children


def _linked(
    text: str, matches: Sequence[tuple[int, int, str]], template: str, level: int
) -> list[Token]:
    out: list[Token] = []
    last = 0
    for start, end, symbol in matches:
        if start > last:
            out.append(_text(text[last:start], level))
        link = Token("link_open", "a", 1)
        link.attrSet("href", ticker_url(template, symbol))
        link.attrSet("class", "cashtag")
        link.level = level
        link.markup = "cashtag"
        out.append(link)
        out.append(_text(text[start:end], level + 1))
        close = Token("link_close", "a", -1)
        close.level = level
        close.markup = "cashtag"
        out.append(close)
        last = end
    if last < len(text):
        out.append(_text(text[last:], level))
    return out


def _text(content: str, level: int) -> Token:
    token = Token("text", "", 0)
    token.content = content
    token.level = level
    return token


# --- disclosures --------------------------------------------------------------------------


def parse_disclosure(raw: Mapping[str, Any] | None) -> dict[str, str] | None:
    """A submitted disclosure, checked: symbols upper-cased, at most MAX_DISCLOSURE of
    them, each ``long``, ``short`` or ``none``. An empty object is no disclosure (None).
    Raises RuleError 422 (``errors.disclosure``) with a message for the reader."""
    if raw is None:
        return None
    if len(raw) > MAX_DISCLOSURE:
        raise _bad(
            f"A disclosure names at most {MAX_DISCLOSURE} symbols (this one names {len(raw)})."
        )
    out: dict[str, str] = {}
    for key, value in raw.items():
        symbol = normalise_symbol(key) if isinstance(key, str) else None
        if symbol is None:
            raise _bad(f"{str(key)[:20]!r} is not {SYMBOL_RULE}.")
        if symbol in out:
            raise _bad(f"{symbol} is disclosed twice.")
        if not isinstance(value, str) or value not in POSITIONS:
            raise _bad(f"{symbol}: say long, short or none (got {str(value)[:20]!r}).")
        out[symbol] = value
    return out or None


def check_required(
    tickers: Sequence[str], disclosure: Mapping[str, str] | None, *, required: bool
) -> None:
    """COMMENTS_REQUIRE_DISCLOSURE: a comment that names a security must say what its
    author holds (any disclosure will do; "none" is an answer)."""
    if not required or not tickers or disclosure:
        return
    named = ", ".join(f"${symbol}" for symbol in tickers[:MAX_DISCLOSURE])
    raise _bad(
        f"Disclose your position in {named} before posting: this site asks everyone who "
        "mentions a stock to say whether they are long, short or hold none of it."
    )


def _bad(detail: str) -> RuleError:
    return RuleError(422, detail, kind="invalid-disclosure", field="disclosure")


__all__ = [
    "CASHTAG",
    "MAX_DISCLOSURE",
    "MAX_TICKERS",
    "POSITIONS",
    "SYMBOL",
    "SYMBOL_RULE",
    "cashtag_rule",
    "cashtags",
    "check_required",
    "normalise_symbol",
    "parse_disclosure",
    "ticker_url",
]
