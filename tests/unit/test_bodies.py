"""Bodies: checked, rendered once, sanitised."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from service.domain.bodies import (
    ALLOWED_TAGS,
    BodyError,
    clean_body,
    count_links,
    fingerprint,
    render,
)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "The body must not be empty."),
        ("   \n\t ", "The body must not be empty."),
        ("a\x00b", "The body must not contain NUL characters."),
        ("bad \ud800 surrogate", "The body contains invalid Unicode (a lone surrogate)."),
        ("x" * 11, "The body must be at most 10 characters (got 11)."),
    ],
)
def test_clean_body_refuses(raw, message):
    """The whole message: readers see it as the problem's detail."""
    with pytest.raises(BodyError) as refused:
        clean_body(raw, max_length=10)
    assert str(refused.value) == message


def test_clean_body_trims_and_counts_after_trimming():
    assert clean_body("  " + "x" * 10 + "\n", max_length=10) == "x" * 10


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[click](vbscript:msgbox(1))",
        '<a href="http://x" onclick="alert(1)">x</a>',
        "![x](http://tracker.example/pixel.png)",
    ],
)
def test_render_leaves_nothing_executable(payload):
    tags = parse(render(payload))
    for tag, attrs in tags:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs:
            assert not name.startswith("on") and name != "style", (tag, name)
            if name == "href":
                assert urlsplit(value or "").scheme in {"http", "https", "mailto"}, value


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def parse(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Collect()
    parser.feed(html)
    return parser.tags


def test_render_markdown_and_safe_links():
    html = render("**bold** and [a link](https://example.com/x?a=1&b=2)")
    assert "<strong>bold</strong>" in html
    assert 'href="https://example.com/x?a=1&amp;b=2"' in html
    assert 'rel="nofollow ugc noopener noreferrer"' in html
    assert count_links(html) == 1


def test_fingerprint_folds_case_and_spacing_only():
    assert fingerprint("Hello   World") == fingerprint("hello world\n")
    assert fingerprint("hello world") != fingerprint("hello there")


def test_fingerprint_is_the_hash_of_the_folded_text():
    """Fingerprints are stored with each comment, so their definition must not drift: the
    SHA-256 of the NFKC, case-folded text with single spaces (kills a changed joiner)."""
    import hashlib

    expected = hashlib.sha256(b"buy the dip 10x").hexdigest()
    assert fingerprint("  Buy\tthe   DIP\n１０x ") == expected


def test_bracket_floods_render_without_link_syntax():
    """Past MAX_LINK_BRACKETS, brackets stay text (markdown-it's link rule is quadratic on
    them); below it, links work as usual."""
    from service.domain.bodies import MAX_LINK_BRACKETS

    linked = "[a](https://x.example) " + "[" * (MAX_LINK_BRACKETS - 1)
    assert "<a " in render(linked)
    flooded = "[a](https://x.example) " + "[" * MAX_LINK_BRACKETS
    html = render(flooded)
    assert "<a " not in html and "[a](https://x.example)" in html


def test_bare_urls_are_linked_with_the_same_rel_and_allow_list():
    html = render("Source: https://example.com/report?q=1 and http://example.org/a.")
    assert (
        '<a href="https://example.com/report?q=1" rel="nofollow ugc noopener noreferrer">'
        "https://example.com/report?q=1</a>"
    ) in html
    assert '<a href="http://example.org/a" rel="nofollow ugc noopener noreferrer">' in html
    assert count_links(html) == 2  # the link hold counts them, as before
    # No scheme, no link: plain words with dots stay text; other schemes never become links.
    assert "<a" not in render("Alibaba.com, www.baba.com and BABA.N rose; javascript:alert(1)")
    assert "<a" not in render("`https://example.com` in code stays code")
