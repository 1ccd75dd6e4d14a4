"""Comment bodies: checked, rendered from Markdown once at write time, sanitised."""

from __future__ import annotations

import hashlib
import html as html_lib
import re
import unicodedata
from functools import lru_cache

import nh3
from confusable_homoglyphs import confusables
from markdown_it import MarkdownIt

from . import markets

# What a comment may contain after rendering. No images (tracking pixels), no headings
# (a comment should not outshout the article), no raw HTML at all (js-default turns it off;
# nh3 removes anything that would slip through).
ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "strong",
        "em",
        "del",
        "s",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
# The one class a body may carry: the cashtag links the service itself makes (markets.py).
ALLOWED_CLASSES = {"a": {"cashtag"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener noreferrer"


class BodyError(ValueError):
    """A body the service refuses, with a message for the reader."""


# markdown-it's link rule rescans the rest of the paragraph for every "[" that opens no
# link, so a body of 10,000 "[" costs over a second of CPU. Beyond this many brackets a body
# is rendered without link syntax (its brackets stay text); ordinary comments have a few.
MAX_LINK_BRACKETS = 100


@lru_cache(maxsize=2)
def _markdown(links: bool = True) -> MarkdownIt:
    # js-default: CommonMark plus tables and strikethrough, raw HTML off. Bare URLs
    # ("https://example.com/report") become links through linkify-it-py, so they
    # pass the same scheme allow-list and get the same rel as written links, and count
    # toward the link hold (count_links) as they always did in readers' eyes.
    # Images would let a comment load third-party pixels: the syntax stays a plain link.
    md = MarkdownIt("js-default", {"linkify": True}).enable("linkify").disable("image")
    # Only URLs with a scheme: "Alibaba.com" or "www.x.com" in prose stays text.
    md.linkify.set({"fuzzy_link": False, "fuzzy_email": False})  # type: ignore[union-attr]
    if not links:
        md.disable(["link", "reference", "linkify"])
    # Cashtags ($BABA) are found in the parsed text, after links are made (markets.py).
    md.core.ruler.after("linkify", "cashtags", markets.cashtag_rule)
    return md


def clean_body(raw: str, *, max_length: int) -> str:
    """Trim and check a submitted body; raises BodyError with a reader-facing message."""
    if "\x00" in raw:
        raise BodyError("The body must not contain NUL characters.")
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise BodyError("The body contains invalid Unicode (a lone surrogate).") from None
    body = raw.strip()
    if not body:
        raise BodyError("The body must not be empty.")
    if len(body) > max_length:
        raise BodyError(f"The body must be at most {max_length} characters (got {len(body)}).")
    return body


def render(body: str, ticker_url: str = "") -> str:
    """Markdown source → sanitised HTML, the only HTML clients ever insert; cashtags become
    links to ``ticker_url`` (COMMENTS_TICKER_URL_TEMPLATE) when it is set."""
    return render_with_tickers(body, ticker_url)[0]


@lru_cache(maxsize=64)
def render_with_tickers(body: str, ticker_url: str = "") -> tuple[str, tuple[str, ...]]:
    """The sanitised HTML and the symbols of the cashtags in it (first mention first, at
    most markets.MAX_TICKERS), from one parse. A pure function of its arguments,
    remembered for the last few: posting renders a body twice (the link-count rule that
    may hold it, then the stored HTML)."""
    env: dict[str, object] = {markets.ENV_URL: ticker_url}
    html = _markdown(body.count("[") <= MAX_LINK_BRACKETS).render(body, env)
    found = env.get(markets.ENV_TICKERS) or []
    assert isinstance(found, list)
    clean = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        allowed_classes={k: set(v) for k, v in ALLOWED_CLASSES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    ).strip()
    return clean, tuple(found[: markets.MAX_TICKERS])


# Block-level tags separate words; inline ones (strong, em, code, a...) do not: `cas**ino**`
# reads "casino".
_BLOCK_TAG = re.compile(
    r"</?(?:p|br|hr|li|ul|ol|blockquote|pre|table|thead|tbody|tr|th|td)\b[^>]*>", re.IGNORECASE
)
_TAG = re.compile(r"<[^>]*>")


def plain_text(body: str) -> str:
    """The words a reader sees: the rendered body without markup, entities decoded
    (`cas&#105;no`, `_casino_` and `cas**ino**` all read "casino")."""
    html = _BLOCK_TAG.sub(" ", render(body))
    return html_lib.unescape(_TAG.sub("", html))


@lru_cache(maxsize=4096)
def _latin_lookalike(ch: str) -> str:
    """The ASCII letter or digit ``ch`` is confusable with (Cyrillic "а", Greek "ο",
    mathematical "𝐜"...), from Unicode's confusables data via confusable-homoglyphs;
    ``ch`` itself when it resembles none."""
    found = confusables.is_confusable(ch, greedy=True, preferred_aliases=["latin"])
    for entry in found or ():
        for glyph in entry["homoglyphs"]:
            if glyph["c"].isascii() and glyph["c"].isalnum():
                return glyph["c"]  # type: ignore[no-any-return]
    return ch


def fold(text: str) -> str:
    """The form texts are compared in (blocked terms, duplicates): compatibility forms
    decomposed (full-width, stylised letters), combining marks and invisible format
    characters (zero-width spaces, soft hyphens, bidi controls) removed, lookalikes from
    other scripts turned into the Latin letters they imitate, case folded."""
    out = []
    for ch in unicodedata.normalize("NFKD", text):
        if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        out.append(ch if ch.isascii() else _latin_lookalike(ch))
    return unicodedata.normalize("NFKC", "".join(out)).casefold()


def fingerprint(body: str) -> str:
    """Identifies 'the same text' for double-submit detection: the text a reader sees,
    folded (see ``fold``), punctuation dropped and spacing collapsed, so a trailing
    zero-width space, a period, an entity or emphasis make no new comment."""
    folded = "".join(
        " " if unicodedata.category(ch).startswith("P") else ch for ch in fold(plain_text(body))
    )
    return hashlib.sha256(" ".join(folded.split()).encode()).hexdigest()


def count_links(html: str) -> int:
    """Links in rendered HTML, not counting the service's own cashtag links."""
    return html.count("<a ") - html.count('class="cashtag"')
