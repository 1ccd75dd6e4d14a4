"""Comment bodies: checked, rendered from Markdown once at write time, sanitised."""

from __future__ import annotations

import hashlib
import unicodedata
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

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


@lru_cache(maxsize=64)
def render(body: str) -> str:
    """Markdown source → sanitised HTML, the only HTML clients ever insert. A pure function
    of the body, remembered for the last few: posting renders a body twice (the link-count
    rule that may hold it, then the stored HTML)."""
    html = _markdown(body.count("[") <= MAX_LINK_BRACKETS).render(body)
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    ).strip()


def fingerprint(body: str) -> str:
    """Identifies 'the same text' for double-submit detection: case and spacing folded."""
    folded = " ".join(unicodedata.normalize("NFKC", body).casefold().split())
    return hashlib.sha256(folded.encode()).hexdigest()


def count_links(html: str) -> int:
    return html.count("<a ")
