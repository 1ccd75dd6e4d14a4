"""Live threads in the browser (#16), as readers on a desktop and on a phone use them.

- Another reader posts (through the API, from the test): the open page does not move; a
  polite "1 new comment · Show" bar appears and is announced, the header count moves;
  "Show" inserts the comments and moves focus to the first of them. Reactions, edits and
  removals apply in place; the reader's own comment is never "new".
- A page opened at #comment-{id} for a reply at depth 3 whose thread is not on the first
  page fetches its branch, scrolls to it, highlights and focuses it.
- "Copy link", with the Clipboard API, with the older copy command, and with neither.
- Comments since the reader's last visit are marked "New" (localStorage, bounded).
- count.js fills 250 badges on a listing page with three /counts requests.

The stream is the real one (service/api/events.py). Under the test's plain WSGI server it
answers each connection with what was missed since Last-Event-ID and ends; the browser
reconnects after ``retry`` (short here), so these tests see events within a second.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from service.web import demo
from tests.browser import test_widget as widget
from tests.browser.test_widget import (
    DESKTOP,
    PHONE,
    READER_A,
    READER_B,
    as_reader,
    item,
    own_article,
    seed,
    toolbar,
)
from tests.helpers import MODERATOR, auth

# The widget walk-throughs' fixtures, shared rather than copied.
open_page, expect, say = widget.open_page, widget.expect, widget.say

ARTICLE = demo.ARTICLE["id"]
SHOTS = Path("/tmp/livewidget-shots")
VIEWPORTS = [pytest.param(DESKTOP, id="desktop"), pytest.param(PHONE, id="phone")]


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    # The browser reconnects this soon after each answer of the plain WSGI server.
    return {**settings, "COMMENTS_SSE_RETRY_MS": 300}


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def stream_answered(page: Any) -> None:
    """Wait until the widget's event stream has answered once: from then on it resumes
    from the newest event id, so whatever the test posts next reaches the page."""
    # the widget's "open" listener resets its failure count when the stream answers
    page.wait_for_function("() => document.querySelector('comments-thread').cw.failures === 0")


def thread_count(page: Any) -> Any:
    return page.locator(".cw-count")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_new_comments_wait_behind_a_bar_and_show_moves_focus(
    app, open_page, expect, say, client, axe_violations, viewport
):
    seed(app)
    page = open_page("reader-a", viewport=viewport)
    stream_answered(page)
    before = client.get(f"/api/v1/articles/{ARTICLE}").get_json()["comment_count"]
    expect(thread_count(page)).to_have_text(f"({before})")
    first_top = page.locator(".cw-list > .cw-item").first
    first_id = first_top.get_attribute("id")

    one = say("Buying the dip here: the cloud numbers carry it.", who=READER_B)
    bar = page.locator(".cw-new")
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("1 new comment")
    expect(thread_count(page)).to_have_text(f"({before + 1})")
    expect(item(page, one["id"])).to_have_count(0)  # nothing moved under the reader's eyes
    assert page.locator(".cw-list > .cw-item").first.get_attribute("id") == first_id
    # announced once the burst settles, through a polite live region
    expect(page.locator(".cw-new + .cw-sr[role=status]")).to_have_text("1 new comment")

    parent = page.locator(".cw-list > .cw-item").nth(1).get_attribute("id")
    assert parent and parent.startswith("comment-")
    two = say("Margins matter more than revenue.", who=READER_B)
    reply = say("Agreed, watch the capex line.", who=READER_B, parent_id=int(parent[8:]))
    expect(bar).to_contain_text("3 new comments")
    expect(page.locator(".cw-new + .cw-sr[role=status]")).to_have_text("3 new comments")
    expect(thread_count(page)).to_have_text(f"({before + 3})")
    # Deep in the thread, the bar stays in view at the top of the screen (sticky).
    page.locator(".cw-list > .cw-item").nth(4).scroll_into_view_if_needed()
    box = bar.bounding_box()
    assert box is not None and 0 <= box["y"] < 60, box
    shot(page, f"new-bar-{viewport['width']}")
    assert not axe_violations(page)

    bar.get_by_role("button", name="Show").click()
    expect(bar).to_be_hidden()
    for c in (one, two, reply):
        expect(item(page, c["id"])).to_be_visible()
        expect(own_article(page, c["id"]).locator(".cw-badge-new")).to_have_text("New")
    # newest first: the newest top-level comment is the first new one on the page
    assert page.evaluate(
        "([a, b]) => !!(document.querySelector('comments-thread').shadowRoot"
        ".getElementById(a).compareDocumentPosition(document.querySelector('comments-thread')"
        ".shadowRoot.getElementById(b)) & Node.DOCUMENT_POSITION_FOLLOWING)",
        [f"comment-{two['id']}", f"comment-{one['id']}"],
    )
    expect(own_article(page, two["id"])).to_be_focused()
    expect(page.locator(f"#{parent} > .cw-replies > #comment-{reply['id']}")).to_have_count(1)
    expect(thread_count(page)).to_have_text(f"({before + 3})")
    shot(page, f"new-shown-{viewport['width']}")
    assert not axe_violations(page)  # the "New" badges too

    # The reader's own comment, posted in the widget, is not "new" and counts once.
    page.get_by_label("Your comment").fill("My own take: hold.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".cw-status")).to_have_text("Your comment was posted.")
    expect(thread_count(page)).to_have_text(f"({before + 4})")
    page.wait_for_timeout(1500)  # several reconnects of the stream
    expect(bar).to_be_hidden()
    expect(thread_count(page)).to_have_text(f"({before + 4})")
    mine = page.locator(".cw-list > .cw-item", has_text="My own take: hold.")
    expect(mine.locator("> article .cw-badge-new")).to_have_count(0)


def test_reactions_edits_and_removals_apply_in_place(app, open_page, expect, say, client):
    page = open_page("reader-a")
    theirs = say("Revenue guidance looks too rosy.", who=READER_B)
    other = say("Second thought from Daniel.", who=READER_B)
    page.reload()
    page.wait_for_selector(".cw-composer > *")
    stream_answered(page)
    expect(item(page, theirs["id"])).to_be_visible()
    expect(thread_count(page)).to_have_text("(2)")
    score = toolbar(page, theirs["id"]).locator(".cw-score")
    expect(score).to_contain_text("0")

    # Focus sits on another comment's button: live updates must not take it away.
    toolbar(page, other["id"]).get_by_role("button", name="Reply").focus()
    for user in ("u-7", "u-8"):
        r = client.put(f"/api/v1/comments/{theirs['id']}/reactions/like", headers=auth(user))
        assert r.status_code == 200
    expect(score).to_contain_text("2")
    r = client.patch(
        f"/api/v1/comments/{theirs['id']}",
        json={"body": "Revenue guidance looks **far** too rosy."},
        headers=as_reader(READER_B),
    )
    assert r.status_code == 200
    body = own_article(page, theirs["id"]).locator(".cw-body")
    expect(body.locator("strong")).to_have_text("far")
    expect(own_article(page, theirs["id"]).locator(".cw-edited")).to_be_visible()
    expect(toolbar(page, other["id"]).get_by_role("button", name="Reply")).to_be_focused()

    r = client.delete(f"/api/v1/comments/{theirs['id']}", headers=auth("m-1", **MODERATOR))
    assert r.status_code == 204
    expect(item(page, theirs["id"])).to_have_count(0)
    expect(thread_count(page)).to_have_text("(1)")
    expect(toolbar(page, other["id"]).get_by_role("button", name="Reply")).to_be_focused()


def test_the_stream_closes_with_the_widget_and_is_not_needed(open_page, expect, say, browser):
    page = open_page("reader-a")
    stream_answered(page)
    assert page.evaluate("document.querySelector('comments-thread').cw.source !== null")
    closed = page.evaluate(
        "() => { window.__thread = document.querySelector('comments-thread');"
        " window.__thread.remove(); return window.__thread.cw.source === null; }"
    )
    assert closed
    # What happened meanwhile is caught up when the element comes back (the same path as
    # a page shown again after a long time hidden, a refused stream, or a `reset`).
    missed = [say(f"Said while the widget was away {i}.", who=READER_B) for i in range(2)]
    page.evaluate("document.querySelector('main').append(window.__thread)")
    bar = page.locator(".cw-new")
    expect(bar).to_contain_text("2 new comments")
    expect(page.locator(".cw-count")).to_have_text("(2)")
    assert page.evaluate("document.querySelector('comments-thread').cw.source !== null")
    bar.get_by_role("button", name="Show").click()
    expect(own_article(page, missed[1]["id"])).to_be_focused()
    # A browser without EventSource reads the thread without live updates.
    context = browser.new_context()
    context.add_init_script("delete window.EventSource")
    bare = context.new_page()
    requests: list[str] = []
    bare.on("request", lambda r: requests.append(r.url))
    bare.goto(page.url)
    bare.wait_for_selector("comments-thread .cw-composer > *")
    assert not [u for u in requests if "/events" in u]
    context.close()


SET_HIDDEN = """(hidden) => {
    Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
    document.dispatchEvent(new Event('visibilitychange'));
}"""


def test_a_page_hidden_for_long_closes_its_stream_and_catches_up_when_shown(open_page, expect, say):
    page = open_page("reader-a")
    stream_answered(page)
    page.clock.install()  # the widget's timers from here on run on the test's clock
    source = "document.querySelector('comments-thread').cw.source"
    page.evaluate(SET_HIDDEN, True)
    page.clock.run_for("04:50")
    assert page.evaluate(f"{source} !== null")  # a short absence keeps the stream
    page.clock.run_for("00:20")
    assert page.evaluate(f"{source} === null")  # five minutes hidden: closed
    missed = say("Posted while the page was hidden.", who=READER_B)
    page.evaluate(SET_HIDDEN, False)
    assert page.evaluate(f"{source} !== null")
    expect(page.locator(".cw-new")).to_contain_text("1 new comment")
    expect(item(page, missed["id"])).to_have_count(0)


@pytest.mark.settings(COMMENTS_REPLIES_PER_THREAD=2)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_deep_link_to_a_reply_at_depth_3_not_on_the_first_page(
    open_page, expect, say, live_server, axe_violations, viewport
):
    root = say("An early comment that the first page will not show.", who=READER_B)
    for i in range(3):  # the listing nests two replies: these, not the branch
        say(f"An early reply {i}.", who=READER_A, parent_id=root["id"])
    chain = [root]
    for depth in (1, 2, 3):
        chain.append(say(f"Depth {depth} of the branch.", who=READER_B, parent_id=chain[-1]["id"]))
    target = chain[-1]
    assert target["depth"] == 3
    for i in range(22):  # newer top-level comments fill the first page (20)
        say(f"Newer comment {i}.", who=READER_A if i % 2 else READER_B)

    page = open_page(
        "reader-a", viewport=viewport, url=f"{live_server}/demo#comment-{target['id']}"
    )
    art = own_article(page, target["id"])
    expect(art).to_be_visible()
    expect(art).to_be_focused()
    expect(art).to_have_class(re.compile(r"\bcw-target\b"))
    expect(art).to_be_in_viewport()
    assert any(f"/comments/{target['id']}/context" in u for u in page.requests)
    # the branch is in place: each ancestor holds the next
    path = " > .cw-replies > ".join(f"#comment-{c['id']}" for c in chain)
    expect(page.locator(path)).to_have_count(1)
    expect(page.locator(".cw-list > .cw-item")).to_have_count(21)  # the page, then the branch
    shot(page, f"deep-link-{viewport['width']}")
    assert not axe_violations(page)
    expect(art).not_to_have_class(re.compile(r"\bcw-target\b"), timeout=6000)
    # "Load more" brings the rest without a second copy of the branch.
    page.get_by_role("button", name="Load more comments").click()
    expect(page.locator(f"#comment-{root['id']}")).to_have_count(1)
    expect(page.locator(".cw-list > .cw-item")).to_have_count(23)


def test_a_link_to_a_comment_that_is_gone_says_so(open_page, expect, live_server):
    page = open_page("reader-a", url=f"{live_server}/demo#comment-987654")
    expect(page.locator(".cw-alert")).to_have_text(
        "The comment this link points to is not available."
    )


def test_copy_link_with_the_clipboard_api(browser, open_page, expect, say, live_server):
    comment = say("Link me.", who=READER_B)
    page = open_page("reader-a")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    button = toolbar(page, comment["id"]).get_by_role("button", name="Copy link")
    button.click()
    expect(page.locator(".cw-status")).to_have_text("Link copied.")
    expect(button).to_be_focused()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == f"{live_server}/demo#comment-{comment['id']}"


@pytest.mark.parametrize("command_works", [True, False], ids=["copy-command", "by-hand"])
def test_copy_link_without_the_clipboard_api(open_page, expect, say, live_server, command_works):
    comment = say("Link me.", who=READER_B)
    page = open_page("reader-a")
    # An older browser: no Clipboard API; record what the copy command was given.
    page.evaluate(
        """(works) => {
            Object.defineProperty(navigator, 'clipboard', {value: undefined});
            document.execCommand = (cmd) => {
                const inner = document.querySelector('comments-thread').shadowRoot.activeElement;
                window.__copied = [cmd, inner && inner.value];
                return works;
            };
        }""",
        command_works,
    )
    url = f"{live_server}/demo#comment-{comment['id']}"
    button = toolbar(page, comment["id"]).get_by_role("button", name="Copy link")
    button.click()
    assert page.evaluate("window.__copied") == ["copy", url]
    expect(button).to_be_focused()
    if command_works:
        expect(page.locator(".cw-status")).to_have_text("Link copied.")
    else:
        expect(own_article(page, comment["id"]).locator(".cw-error")).to_have_text(
            f"Copy the link yourself: {url}"
        )


def test_comments_since_the_last_visit_are_marked_new(open_page, expect, say):
    old = say("Before the reader's first visit.", who=READER_B)
    page = open_page("reader-a")
    expect(item(page, old["id"])).to_be_visible()
    expect(page.locator(".cw-badge-new")).to_have_count(0)  # a first visit marks nothing
    # Many other articles read before: the memory stays bounded.
    page.evaluate(
        """() => {
            const seen = JSON.parse(localStorage.getItem('comments-widget:seen'));
            for (let i = 0; i < 250; i++) seen['x|other-' + i] = [i + 1, i];
            localStorage.setItem('comments-widget:seen', JSON.stringify(seen));
        }"""
    )
    later = say("Posted while the reader was away.", who=READER_B)
    own = say("The reader's own, from another device.", who=READER_A)
    page.reload()
    page.wait_for_selector(".cw-composer > *")
    expect(own_article(page, later["id"]).locator(".cw-badge-new")).to_have_text("New")
    expect(own_article(page, old["id"]).locator(".cw-badge-new")).to_have_count(0)
    expect(own_article(page, own["id"]).locator(".cw-badge-new")).to_have_count(0)
    seen = page.evaluate("JSON.parse(localStorage.getItem('comments-widget:seen'))")
    assert len(seen) == 200
    assert [k for k in seen if k.endswith(f"|{ARTICLE}")], seen.keys()
    assert max(v[0] for k, v in seen.items() if k.endswith(f"|{ARTICLE}")) == own["id"]
    page.reload()  # seen now: no longer new
    page.wait_for_selector(".cw-composer > *")
    expect(page.locator(".cw-badge-new")).to_have_count(0)


# --- count badges on a listing page ------------------------------------------------------------


def listing_page(live_server: str, ids: list[str]) -> str:
    rows = "".join(
        f'<li><a href="/story/{i}">Story {i}</a> · '
        f'<a class="count" href="/story/{i}#comments" data-comments-count="{i}">Comments</a></li>'
        for i in ids
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Markets</title><style>body{font:16px system-ui,sans-serif;margin:1rem}"
        ".count{color:#0b4f8a}</style></head><body><main><h1>Markets</h1>"
        f"<ul>{rows}</ul>"
        '<p lang="de">Auf Deutsch: <span data-comments-count="story-1">Kommentare</span></p>'
        '<p>Not an article id: <span data-comments-count="bad id!">Comments</span></p>'
        f'</main><script src="{live_server}/embed/count.js" defer></script></body></html>'
    )


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_count_badges_fill_in_with_one_request_per_100_ids(
    browser, live_server, post, axe_violations, expect, viewport
):
    ids = [f"story-{i}" for i in range(250)]
    for i, n in ((1, 1), (2, 12), (249, 3)):
        for k in range(n):
            assert post(ids[i], f"comment {k} on {ids[i]}", user=f"u-{k}").status_code == 201
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(10_000)
    page = context.new_page()
    counts: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: counts.append(r.url) if "/api/v1/counts" in r.url else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    url = live_server + "/listing"
    page.route(
        url,
        lambda route: route.fulfill(body=listing_page(live_server, ids), content_type="text/html"),
    )
    page.goto(url)
    badge = page.locator('a[data-comments-count="story-249"]')
    expect(badge).to_have_text("3 comments")
    expect(page.locator('a[data-comments-count="story-0"]')).to_have_text("No comments")
    expect(page.locator('a[data-comments-count="story-1"]')).to_have_text("1 comment")
    expect(page.locator('a[data-comments-count="story-2"]')).to_have_text("12 comments")
    expect(page.locator('span[data-comments-count="story-1"]')).to_have_text("1 Kommentar")
    expect(page.locator('span[data-comments-count="bad id!"]')).to_have_text("Comments")
    expect(badge).to_have_attribute("href", "/story/story-249#comments")
    expect(badge).to_have_attribute("data-comments-counted", "3")
    assert len(counts) == 3, counts  # 100 + 100 + 50 ids
    asked = [re.findall(r"article_id=([^&]+)", u) for u in counts]
    assert sorted(len(a) for a in asked) == [50, 100, 100]
    assert sorted(sum(asked, [])) == sorted(ids)
    assert "Comments" not in page.locator("a.count").all_inner_texts()
    shot(page, f"count-badges-{viewport['width']}")
    assert not axe_violations(page)
    # Stories added later: CommentsCount.refresh().
    page.evaluate(
        """() => { const li = document.createElement('li');
                   li.innerHTML = '<a class="late" data-comments-count="story-2">Comments</a>';
                   document.querySelector('ul').append(li);
                   return CommentsCount.refresh(li); }"""
    )
    expect(page.locator("a.late")).to_have_text("12 comments")
    assert len(counts) == 4
    assert not errors
    context.close()
