"""Walk-throughs of the widget on the demo page and on host pages, as readers use it.

Each "Why" of issue #17 as it was seen (theming ignored, host styles leaking in, an expired
token hiding the thread, focus lost after a reaction, drafts wiped by signing in, a frozen
429 countdown, CORS reported as a connection problem, clutter, the missing reading and writing
features) is driven here, at desktop and phone widths, light and dark, English and German,
with axe-core checking the page.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import jwt
import pytest
from werkzeug.serving import make_server

from service import services
from service.extensions import db
from service.web import demo
from tests.helpers import JWT_SECRET, MODERATOR, auth

ARTICLE = demo.ARTICLE["id"]
READER_A = demo.PERSONAS["reader-a"]
READER_B = demo.PERSONAS["reader-b"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
EVENTS = ("comments:signin-required", "comments:posted", "comments:count")
# Records the widget's events, as a host page listening on document would see them.
RECORD_EVENTS = "window.__events = [];" + "".join(
    f"document.addEventListener('{name}', e => window.__events.push(['{name}', e.detail]));"
    for name in EVENTS
)


@pytest.fixture
def expect() -> Any:
    from playwright.sync_api import expect as expect_

    return expect_


def as_reader(who: dict[str, Any]) -> dict[str, str]:
    return auth(who["sub"], name=who["name"], roles=who["roles"])


@pytest.fixture
def say(client: Any) -> Any:
    """say(body, who=READER_B, parent_id=None) posts through the API and returns the comment."""

    def _say(
        body: str, who: dict[str, Any] = READER_B, parent_id: int | None = None
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"body": body}
        if parent_id is not None:
            payload["parent_id"] = parent_id
        r = client.post(
            f"/api/v1/articles/{ARTICLE}/comments", json=payload, headers=as_reader(who)
        )
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    return _say


def vote(client: Any, comment_id: int, kind: str, user: str) -> None:
    r = client.put(f"/api/v1/comments/{comment_id}/reactions/{kind}", headers=auth(user))
    assert r.status_code == 200, r.get_json()


def thread(client: Any, who: dict[str, Any] = READER_A, **params: Any) -> dict[str, Any]:
    r = client.get(
        f"/api/v1/articles/{ARTICLE}/comments", query_string=params, headers=as_reader(who)
    )
    assert r.status_code == 200
    return r.get_json()


def item(page: Any, comment_id: int) -> Any:
    return page.locator(f"#comment-{comment_id}")


def own_article(page: Any, comment_id: int) -> Any:
    return page.locator(f"#comment-{comment_id} > article")


def toolbar(page: Any, comment_id: int) -> Any:
    return page.locator(f"#comment-{comment_id} > article > .cw-actions")


def events(page: Any, name: str) -> list[Any]:
    return [detail for kind, detail in page.evaluate("window.__events") if kind == name]


def host_page(body: str, *, head: str = "", lang: str = "en", script: str = "") -> str:
    """An ordinary publisher's page around the widget (script: where comments.js comes from)."""
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>Host page</title>{head}</head><body><main>{body}</main>"
        f'<script src="{script}/embed/comments.js" defer></script></body></html>'
    )


@pytest.fixture
def open_page(browser: Any, live_server: str) -> Iterator[Callable[..., Any]]:
    """open_page(persona="reader-a", viewport=DESKTOP, dark=False, lang=None, touch=False,
    html=None, url=None) -> a page showing /demo (or ``html`` served as the live server's
    /host, or ``url``) with the widget loaded. Records the widget's events, every request
    and console errors; JavaScript errors fail the test."""
    contexts: list[Any] = []
    errors: list[str] = []

    def _open(
        persona: str = "reader-a",
        viewport: dict[str, int] = DESKTOP,
        dark: bool = False,
        lang: str | None = None,
        touch: bool = False,
        html: str | None = None,
        url: str | None = None,
        ready: str = ".cw-composer > *",
        bypass_csp: bool = False,
    ) -> Any:
        context = browser.new_context(
            viewport=viewport,
            color_scheme="dark" if dark else "light",
            has_touch=touch,
            is_mobile=touch,
            bypass_csp=bypass_csp,
        )
        context.add_init_script(f"sessionStorage.setItem('comments-demo:persona', '{persona}')")
        context.add_init_script(RECORD_EVENTS)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.requests = []  # type: ignore[attr-defined]
        page.on("request", lambda r: page.requests.append(r.url))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.logged = []  # type: ignore[attr-defined]
        page.on("console", lambda m: page.logged.append(m.text) if m.type == "error" else None)
        if html is not None:
            url = live_server + "/host"
            page.route(url, lambda route: route.fulfill(body=html, content_type="text/html"))
            page.goto(url)
        elif url is not None:
            page.goto(url)
        else:
            page.goto(live_server + "/demo" + (f"?lang={lang}" if lang else ""))
        if ready:
            page.wait_for_selector(ready)
        return page

    yield _open
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def seed(app: Any) -> None:
    with app.app_context():
        assert demo.seed(db.session, services.of(app).settings) > 0
        db.session.commit()


# --- reading and writing ------------------------------------------------------------------


def test_empty_thread_invites_the_first_comment(open_page, expect):
    page = open_page("reader-a")
    empty = page.locator(".cw-empty")
    expect(empty).to_be_visible()
    expect(empty).to_contain_text("Be the first to comment")
    expect(page.locator(".cw")).not_to_contain_text("No comments yet")
    expect(page.get_by_label("Your comment")).to_be_visible()
    expect(page.locator(".cw-count")).to_have_text("")


def test_post_a_comment_with_preview_counter_and_events(open_page, expect, client, settings):
    page = open_page("reader-a")
    box = page.get_by_label("Your comment")
    box.fill("Cloud margins matter **more** than benchmarks: https://example.com/cloud")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator(".cw-composer .cw-preview")
    expect(preview.locator("strong")).to_have_text("more")  # rendered by the server
    expect(preview.locator("a")).to_have_attribute("rel", "nofollow ugc noopener noreferrer")
    expect(page.locator(".cw-composer .cw-left")).to_be_hidden()  # far from the limit
    page.get_by_role("button", name="Post comment").click()

    expect(page.locator(".cw-status")).to_have_text("Your comment was posted.")
    posted = thread(client)["items"]
    assert [c["author"]["id"] for c in posted] == [READER_A["sub"]]
    article = own_article(page, posted[0]["id"])
    expect(article).to_be_focused()  # focus lands on what was just posted
    expect(article.locator(".cw-body strong")).to_have_text("more")
    link = article.locator(".cw-body a")  # the bare URL, linked by the server
    expect(link).to_have_attribute("href", "https://example.com/cloud")
    expect(link).to_have_attribute("rel", "nofollow ugc noopener noreferrer")
    expect(page.locator(".cw-count")).to_have_text("(1)")
    expect(box).to_have_value("")
    expect(preview).to_be_hidden()
    assert events(page, "comments:posted")[0]["comment"]["id"] == posted[0]["id"]
    assert [e["count"] for e in events(page, "comments:count")] == [0, 1]

    # The counter appears near the limit and counts down with plurals.
    limit = (
        settings.get("COMMENTS_MAX_BODY")
        or client.get("/api/v1/config").get_json()["max_body_length"]
    )
    box.fill("x" * (limit - 1))
    expect(page.locator(".cw-composer .cw-left")).to_have_text("1 character left")
    box.fill("x" * (limit - 5))
    expect(page.locator(".cw-composer .cw-left")).to_have_text("5 characters left")


def test_reply_with_the_keyboard(open_page, expect, say, client):
    parent = say("Is the capex guidance credible?")
    page = open_page("reader-a")
    toolbar(page, parent["id"]).get_by_role("button", name="Reply").focus()
    page.keyboard.press("Enter")
    box = page.get_by_label(f"Reply to {READER_B['name']}")
    expect(box).to_be_focused()
    page.keyboard.type("Only if cloud revenue keeps accelerating.")
    page.keyboard.press("Control+Enter")

    expect(box).to_have_count(0)
    reply = thread(client)["items"][0]["replies"][0]
    assert reply["parent_id"] == parent["id"] and reply["author"]["id"] == READER_A["sub"]
    nested = page.locator(f"#comment-{parent['id']} > .cw-replies > #comment-{reply['id']}")
    expect(nested).to_contain_text("Only if cloud revenue keeps accelerating.")
    expect(own_article(page, reply["id"])).to_be_focused()
    expect(page.locator(".cw-count")).to_have_text("(2)")


def test_voting_is_one_control_exclusive_and_keeps_focus(open_page, expect, say, client):
    """Like and dislike could both be pressed, focus fell to <body> after a reaction, and
    authors could like their own comments."""
    theirs = say("Open weights are a distribution strategy.")
    mine = say("My own view.", who=READER_A)
    page = open_page("reader-a")
    bar = toolbar(page, theirs["id"])
    like = bar.get_by_role("button", name="Like", exact=True)
    dislike = bar.get_by_role("button", name="Dislike", exact=True)
    score = bar.locator(".cw-score")
    expect(like).to_have_attribute("aria-pressed", "false")
    expect(score).to_have_text("Score 0")

    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(score).to_have_text("Score 1")
    expect(like).to_be_focused()  # focus is never lost to <body>
    page.keyboard.press("ArrowRight")  # roving focus inside the toolbar
    expect(dislike).to_be_focused()
    page.keyboard.press("Enter")
    expect(dislike).to_have_attribute("aria-pressed", "true")
    expect(like).to_have_attribute("aria-pressed", "false")  # one vote, not two
    expect(score).to_have_text("Score -1")
    expect(dislike).to_be_focused()
    state = next(c for c in thread(client)["items"] if c["id"] == theirs["id"])
    assert state["reactions"] == {"dislike": 1} and state["my_reactions"] == ["dislike"]

    # One's own comment shows its score but offers no vote (the server says 403 too).
    own = toolbar(page, mine["id"])
    expect(own.locator(".cw-score")).to_have_text("Score 0")
    expect(own.get_by_role("button", name="Like", exact=True)).to_have_count(0)


def test_other_reactions_sit_behind_one_labelled_picker(open_page, expect, say, client):
    """Six emoji buttons under every comment, meanings only in tooltips."""
    comment = say("Efficiency under constraint is a moat of its own.")
    vote(client, comment["id"], "agree", "u-9")
    page = open_page("reader-a")
    bar = toolbar(page, comment["id"])
    # Only kinds with counts show, each with a visible label.
    expect(bar.locator(".cw-chip")).to_have_count(1)
    expect(bar.locator(".cw-chip")).to_have_text(re.compile(r"Agree\s+1"))
    expect(bar.get_by_role("button", name=re.compile("Funny"))).to_have_count(0)

    react = bar.get_by_role("button", name="React")
    expect(react).to_have_attribute("aria-expanded", "false")
    react.click()
    picker = page.get_by_role("group", name="Add a reaction")
    expect(picker).to_be_visible()
    expect(picker.get_by_role("button")).to_have_text(
        [re.compile(k) for k in ("Insightful", "Funny", "Agree", "Disagree")]
    )
    expect(picker.get_by_role("button", name=re.compile("Insightful"))).to_be_focused()
    page.keyboard.press("Escape")
    expect(picker).to_have_count(0)
    expect(react).to_be_focused()

    react.click()
    picker.get_by_role("button", name=re.compile("Insightful")).click()
    expect(picker).to_have_count(0)
    expect(react).to_be_focused()
    chip = bar.get_by_role("button", name=re.compile("Insightful"))
    expect(chip).to_have_attribute("aria-pressed", "true")
    expect(chip).to_have_text(re.compile(r"Insightful\s+1"))
    chip.click()  # un-react from the chip: it goes, focus moves to React, not <body>
    expect(chip).to_have_count(0)
    expect(react).to_be_focused()
    assert thread(client)["items"][0]["reactions"] == {"agree": 1}


def test_guest_reacting_is_told_next_to_the_comment(open_page, expect, say):
    """The message was shown at the top of the widget, 2,757 px above a phone reader."""
    for i in range(6):
        say(f"Filler comment {i}.")
    comment = say("Visible to everyone.")
    page = open_page("guest", viewport=PHONE)
    bar = toolbar(page, comment["id"])
    page.locator(".cw-list > .cw-item").last.scroll_into_view_if_needed()
    like = bar.get_by_role("button", name="Like", exact=True)
    like.click()
    message = page.locator(f"#comment-{comment['id']} > article > .cw-error")
    expect(message).to_have_text("Sign in to vote or react.")
    said, pressed = message.bounding_box(), like.bounding_box()
    assert said and pressed and 0 < said["y"] - pressed["y"] < 100  # right under the button
    expect(like).to_be_focused()
    assert events(page, "comments:signin-required") == [{"articleId": ARTICLE, "reason": "react"}]


def test_edit_own_comment(open_page, expect, say, client):
    mine = say("Alibaba's cloud grew fast.", who=READER_A)
    theirs = say("Someone else's view.")
    page = open_page("reader-a")
    expect(toolbar(page, theirs["id"]).get_by_role("button", name="Edit")).to_have_count(0)

    toolbar(page, mine["id"]).get_by_role("button", name="Edit").click()
    box = page.get_by_label("Edit your comment")
    expect(box).to_have_value("Alibaba's cloud grew fast.")
    box.fill("Alibaba's cloud grew faster than expected.")
    page.get_by_role("button", name="Save changes").click()

    article = own_article(page, mine["id"])
    expect(article.locator(".cw-body")).to_have_text("Alibaba's cloud grew faster than expected.")
    expect(article.locator(".cw-edited")).to_have_text("(edited)")
    expect(article).to_be_focused()
    edited = next(c for c in thread(client)["items"] if c["id"] == mine["id"])
    assert edited["body"] == "Alibaba's cloud grew faster than expected." and edited["edited_at"]


def test_delete_own_comments_leaves_a_tombstone_only_where_replies_remain(
    open_page, expect, say, client
):
    lonely = say("Delete me.", who=READER_A)
    answered = say("Answered, then deleted.", who=READER_A)
    reply = say("A reply that keeps the thread.", parent_id=answered["id"])
    page = open_page("reader-a")
    expect(page.locator(".cw-count")).to_have_text("(3)")

    delete = toolbar(page, lonely["id"]).get_by_role("button", name="Delete")
    delete.click()
    page.get_by_role("button", name="Keep it").click()  # changing one's mind changes nothing
    expect(item(page, lonely["id"])).to_be_visible()
    expect(delete).to_be_focused()
    delete.click()
    page.get_by_role("button", name="Yes, delete").click()
    expect(item(page, lonely["id"])).to_have_count(0)
    expect(page.locator(".cw-title")).to_be_focused()

    toolbar(page, answered["id"]).get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Yes, delete").click()
    expect(own_article(page, answered["id"]).locator(".cw-tombstone")).to_have_text(
        "This comment was deleted by its author."
    )
    expect(own_article(page, reply["id"])).to_contain_text("A reply that keeps the thread.")
    expect(page.locator(".cw-count")).to_have_text("(1)")
    items = thread(client)["items"]
    assert [(c["id"], c["status"]) for c in items] == [(answered["id"], "deleted")]


# The spam model would hold this comment (issue #18); readers report what gets past it.
@pytest.mark.settings(COMMENTS_SPAM_HOLD_SCORE=1.01)
def test_flag_a_comment(open_page, expect, say):
    comment = say("Buy now, guaranteed 10x, click my link!")
    page = open_page("reader-a")
    report = toolbar(page, comment["id"]).get_by_role("button", name="Report")
    report.click()
    dialog = page.get_by_role("dialog", name="Report this comment")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(report).to_be_focused()

    report.click()
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.locator(".cw-error")).to_have_text("Choose a reason.")
    dialog.get_by_label("Spam or advertising").check()
    dialog.get_by_label("Anything else a moderator should know? (optional)").fill("Link farm.")
    dialog.get_by_role("button", name="Send report").click()
    expect(page.locator(".cw-status")).to_have_text(
        "Thank you. A moderator will review this comment."
    )
    expect(dialog).to_be_hidden()


def ids(rows: Any) -> list[int]:
    return [int(x.removeprefix("comment-")) for x in rows.evaluate_all("els => els.map(e => e.id)")]


def test_every_sort_and_a_new_comment_placed_where_the_sort_puts_it(open_page, expect, say, client):
    """The controversial sort was missing; a new comment went to the top under "Oldest"."""
    first = say("First and disputed.")
    second = say("Second and most liked.")
    third = say("Third, newest.")
    for user in ("u-1", "u-2"):
        vote(client, second["id"], "like", user)
    vote(client, first["id"], "like", "u-3")
    vote(client, first["id"], "dislike", "u-4")
    vote(client, third["id"], "dislike", "u-5")

    page = open_page("reader-a")
    rows = page.locator(".cw-list > .cw-item")
    expect(rows).to_have_count(3)
    assert ids(rows) == [third["id"], second["id"], first["id"]]
    sorts = page.get_by_role("toolbar", name="Sort comments")
    expect(sorts.get_by_role("button")).to_have_text(
        ["Newest", "Oldest", "Top", "Best", "Controversial", "Hot"]
    )
    expect(sorts.get_by_role("button", name="Newest")).to_have_attribute("aria-pressed", "true")

    sorts.get_by_role("button", name="Controversial").click()
    expect(rows.first).to_have_id(f"comment-{first['id']}")
    sorts.get_by_role("button", name="Top").click()
    expect(rows.first).to_have_id(f"comment-{second['id']}")
    assert ids(rows) == [second["id"], first["id"], third["id"]]
    # Posted under "Top" with score 0: after the liked one, before the disliked one, and
    # as the newest before the other score-0 comment, exactly where a reload would show it.
    page.get_by_label("Your comment").fill("A new take under Top.")
    page.get_by_role("button", name="Post comment").click()
    expect(rows).to_have_count(4)
    new = thread(client, sort="newest")["items"][0]["id"]
    assert ids(rows) == [second["id"], new, first["id"], third["id"]]
    assert ids(rows) == [c["id"] for c in thread(client, sort="top")["items"]]

    sorts.get_by_role("button", name="Oldest").click()
    expect(rows.first).to_have_id(f"comment-{first['id']}")
    page.get_by_label("Your comment").fill("A new take under Oldest.")
    page.get_by_role("button", name="Post comment").click()
    expect(rows).to_have_count(5)
    newest = thread(client, sort="newest")["items"][0]["id"]
    assert ids(rows)[-1] == newest  # the end of the thread, where "Oldest" puts it
    expect(sorts.get_by_role("button", name="Oldest")).to_have_attribute("aria-pressed", "true")


def test_load_more_comments(open_page, expect, say):
    posted = [say(f"Comment number {i}.") for i in range(23)]
    page = open_page("reader-a")
    rows = page.locator(".cw-list > .cw-item")
    expect(rows).to_have_count(20)
    expect(page.locator(".cw-count")).to_have_text("(23)")
    more = page.get_by_role("button", name="Load more comments")
    more.click()
    expect(rows).to_have_count(23)
    expect(more).to_be_hidden()
    expect(own_article(page, posted[2]["id"])).to_be_focused()  # the first of the new page


@pytest.fixture
def few_replies(settings: dict[str, Any]) -> dict[str, Any]:
    settings["COMMENTS_REPLIES_PER_THREAD"] = 2
    return settings


def test_more_replies_and_collapsing_a_branch(few_replies, open_page, expect, say):
    root = say("Root.")
    a = say("Reply A.", parent_id=root["id"])
    b = say("Reply B.", parent_id=root["id"])
    a1 = say("Reply to A.", parent_id=a["id"])
    c = say("Reply C.", parent_id=root["id"])
    page = open_page("reader-a")
    more = page.get_by_role("button", name="Show 2 more replies")
    expect(more).to_be_visible()
    expect(item(page, a1["id"])).to_have_count(0)
    more.click()
    expect(page.locator(f"#comment-{a['id']} > .cw-replies > #comment-{a1['id']}")).to_be_visible()
    expect(
        page.locator(f"#comment-{root['id']} > .cw-replies > #comment-{c['id']}")
    ).to_be_visible()
    expect(more).to_be_hidden()
    order = page.locator(f"#comment-{root['id']} > .cw-replies > .cw-item").evaluate_all(
        "els => els.map(e => e.id)"
    )
    assert order == [f"comment-{x['id']}" for x in (a, b, c)]

    fold = toolbar(page, root["id"]).get_by_role("button", name="Hide replies")
    expect(fold).to_have_attribute("aria-expanded", "true")
    fold.click()
    expect(item(page, a["id"])).to_be_hidden()
    shown = toolbar(page, root["id"]).get_by_role("button", name="Show 4 replies")
    expect(shown).to_have_attribute("aria-expanded", "false")
    expect(shown).to_be_focused()
    shown.click()
    expect(item(page, a1["id"])).to_be_visible()


@pytest.fixture
def one_comment_a_minute(settings: dict[str, Any]) -> dict[str, Any]:
    settings.update(
        RATELIMIT_ENABLED=True, COMMENTS_LIMIT_COMMENT="1/minute", RATELIMIT_STORAGE_URI="memory://"
    )
    return settings


def test_rate_limited_post_counts_down(one_comment_a_minute, open_page, expect):
    """The stale "Your comment was posted." stayed beside "try again in 46 s", which never
    moved."""
    page = open_page("reader-a")
    box = page.get_by_label("Your comment")
    box.fill("First thoughts.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".cw-status")).to_have_text("Your comment was posted.")
    box.fill("Second thoughts, too soon.")
    page.get_by_role("button", name="Post comment").click()
    error = page.locator(".cw-composer .cw-error")
    pattern = re.compile(r"^Too many attempts\. Try again in (\d+) seconds?\.$")
    expect(error).to_have_text(pattern)
    expect(page.locator(".cw-status")).to_be_hidden()  # no stale success beside it
    first = int(pattern.match(error.inner_text()).group(1))  # type: ignore[union-attr]
    page.wait_for_timeout(2200)
    later = int(pattern.match(error.inner_text()).group(1))  # type: ignore[union-attr]
    assert later <= first - 2  # it counts
    expect(box).to_have_value("Second thoughts, too soon.")  # nothing typed is lost
    expect(page.locator(".cw-list > .cw-item")).to_have_count(1)


def test_guest_posts_with_a_name_and_edits_with_the_edit_token(open_page, expect, client):
    page = open_page("guest")
    page.get_by_label("Your name").fill("Ana")
    page.get_by_label("Your comment").fill("Guest view: the chip question matters most.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".cw-status")).to_have_text("Your comment was posted.")
    (posted,) = thread(client)["items"]
    assert posted["author"] == {"id": None, "name": "Ana", "is_guest": True, "is_moderator": False}
    article = own_article(page, posted["id"])
    expect(article.locator(".cw-badge")).to_have_text("Guest")

    page.reload()  # the edit token survives in localStorage
    toolbar(page, posted["id"]).get_by_role("button", name="Edit").click()
    page.get_by_label("Edit your comment").fill("Guest view, edited: chips matter most.")
    page.get_by_role("button", name="Save changes").click()
    expect(article.locator(".cw-body")).to_have_text("Guest view, edited: chips matter most.")
    assert thread(client)["items"][0]["body"] == "Guest view, edited: chips matter most."


@pytest.fixture
def premoderated(settings: dict[str, Any]) -> dict[str, Any]:
    settings["COMMENTS_PREMODERATION"] = "all"
    return settings


def test_held_comment_shows_a_notice(premoderated, open_page, expect):
    page = open_page("reader-b")
    page.get_by_label("Your comment").fill("This one waits for a moderator.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".cw-status")).to_contain_text("held for review")
    expect(page.locator(".cw-notice")).to_contain_text("only you can see this comment")
    expect(page.locator(".cw-count")).to_have_text("")  # not counted until approved


def test_drafts_survive_signing_in_and_reloading(open_page, expect, say):
    """Signing in wiped open drafts, although the docs promised nothing typed is lost."""
    parent = say("What would change your mind?")
    mine = say("Reader A's comment.", who=READER_A)
    page = open_page("reader-a")
    page.get_by_label("Your comment").fill("A top-level draft.")
    toolbar(page, parent["id"]).get_by_role("button", name="Reply").click()
    page.get_by_label(f"Reply to {READER_B['name']}").fill("A reply draft.")

    page.get_by_role("radio", name=re.compile("Reader B")).check()
    expect(page.locator("#demo-status")).to_have_text(f"Signed in as {READER_B['name']}")
    expect(toolbar(page, mine["id"]).get_by_role("button", name="Delete")).to_have_count(0)
    expect(toolbar(page, mine["id"]).get_by_role("button", name="Report")).to_be_visible()
    expect(page.get_by_label("Your comment")).to_have_value("A top-level draft.")
    expect(page.get_by_label(f"Reply to {READER_B['name']}")).to_have_value("A reply draft.")

    page.reload()
    page.wait_for_selector(".cw-composer > *")
    expect(page.get_by_label("Your comment")).to_have_value("A top-level draft.")
    expect(page.get_by_label(f"Reply to {READER_B['name']}")).to_have_value("A reply draft.")
    page.get_by_role("radio", name=re.compile("Moderator")).check()
    expect(toolbar(page, mine["id"]).get_by_role("button", name="Remove")).to_be_visible()


def expired_token() -> str:
    now = int(time.time())
    claims = {"sub": READER_A["sub"], "name": READER_A["name"], "iat": now - 7200}
    return jwt.encode({**claims, "exp": now - 3600}, JWT_SECRET, algorithm="HS256")


@pytest.mark.parametrize("token", ["expired", "garbage"])
def test_a_bad_token_degrades_to_a_readable_thread(open_page, expect, say, token):
    """An expired token hid the whole public thread, with no way to sign in."""
    comment = say("Still readable.")
    value = expired_token() if token == "expired" else "not-a-jwt"
    page = open_page(
        html=host_page(
            f'<comments-thread article-id="{ARTICLE}" token="{value}"></comments-thread>'
        )
    )
    expect(own_article(page, comment["id"])).to_contain_text("Still readable.")
    expect(page.locator(".cw-alert")).to_be_hidden()
    prompt = page.locator(".cw-signin")
    expect(prompt).to_contain_text("Your sign-in has expired or is not valid")
    prompt.get_by_role("button", name="Sign in to comment").click()
    assert events(page, "comments:signin-required") == [{"articleId": ARTICLE, "reason": "comment"}]


@pytest.fixture
def other_origin() -> Iterator[Callable[[str], str]]:
    """other_origin(html) -> the address of a page on another origin (a second server on
    127.0.0.1) that the comments service has not been told about."""
    pages: dict[str, str] = {}

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [pages["html"].encode()]

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def _page(html: str) -> str:
        pages["html"] = html
        return f"http://127.0.0.1:{server.server_port}/article"

    yield _page
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_cors_misconfiguration_is_named_as_such(open_page, expect, live_server, say, other_origin):
    """Without CORS configured the reader was told to "check your connection"."""
    say("Invisible from a page the service does not allow.")
    url = other_origin(
        host_page(f'<comments-thread article-id="{ARTICLE}"></comments-thread>', script=live_server)
    )
    page = open_page(url=url, ready="")
    expect(page.locator(".cw-alert")).to_have_text("Comments are unavailable on this site.")
    assert any("CORS" in m and "COMMENTS_CORS_ORIGINS" in m for m in page.logged), page.logged


def test_a_banned_reader_is_told_instead_of_a_composer(open_page, expect, client):
    r = client.put(
        f"/api/v1/admin/bans/{READER_A['sub']}",
        json={"reason": "spam"},
        headers=auth("m-1", **MODERATOR),
    )
    assert r.status_code == 201, r.get_json()  # a new ban
    # GET /me tells the widget of the ban (#15): told before typing, with the reason.
    page = open_page("reader-a")
    notice = page.locator(".cw-composer .cw-banned")
    expect(notice).to_contain_text("You cannot comment here.")
    expect(notice).to_contain_text("Reason: spam")
    expect(page.get_by_label("Your comment")).to_have_count(0)
    page.reload()
    page.wait_for_selector(".cw-composer > *")
    expect(notice).to_contain_text("Reason: spam")
    expect(page.get_by_label("Your comment")).to_have_count(0)


# --- the element: theming, host styles, events, languages, accessibility -----------------


HOSTILE = """<style>
  body { background: #10141a; color: #f4f4f4; font-family: Georgia, serif; }
  header { background: #0a2540; color: #fff; padding: 40px; }
  h2 { font-size: 60px; color: red; text-transform: uppercase; }
  article { border: 5px solid lime; } button { background: hotpink; }
  .dark-host { --cw-accent: rgb(255, 136, 0); --cw-accent-text: rgb(0, 0, 0); }
  comments-thread::part(title) { letter-spacing: 3px; }
</style>"""


def test_host_styles_stay_out_and_theming_goes_in(open_page, expect, say):
    """--cw-* on an ancestor was overridden, a host `header` rule turned the sort bar dark
    on navy, and a dark host page made the text unreadable."""
    comment = say("Styled by the widget, themed by the host.")
    page = open_page(
        "reader-a",
        html=host_page(
            '<div class="dark-host">'
            f'<comments-thread article-id="{ARTICLE}" theme="dark"></comments-thread></div>'
            f'<div class="old" data-comments-article="{ARTICLE}" data-theme="light"></div>',
            head=HOSTILE,
        ),
    )
    dark, light = page.locator("comments-thread").first, page.locator("comments-thread").nth(1)
    expect(page.locator(".old comments-thread")).to_have_count(1)  # the older markup works
    expect(light.locator(f"#comment-{comment['id']}")).to_be_visible()
    # Host rules for header, h2, article and button do not reach inside.
    expect(dark.locator(".cw-head")).to_have_css("background-color", "rgba(0, 0, 0, 0)")
    expect(dark.locator(".cw-title")).not_to_have_css("color", "rgb(255, 0, 0)")
    expect(dark.locator(".cw-title")).to_have_css("text-transform", "none")
    expect(dark.locator(".cw-title")).to_have_css("letter-spacing", "3px")  # ::part() does
    expect(dark.locator(".cw-comment").first).to_have_css("border-top-width", "0px")
    expect(dark.locator(".cw-sort-btn").first).not_to_have_css(
        "background-color", "rgb(255, 105, 180)"
    )
    # The ancestor's --cw-accent reaches the primary button; dark text is light.
    primary = dark.get_by_role("button", name="Post comment")
    expect(primary).to_have_css("background-color", "rgb(255, 136, 0)")
    expect(primary).to_have_css("color", "rgb(0, 0, 0)")
    expect(dark.locator(".cw-author").first).to_have_css("color", "rgb(232, 234, 237)")
    expect(light.locator(".cw-author").first).to_have_css("color", "rgb(29, 29, 31)")
    expect(dark.locator(".cw-body").first).to_have_css("font-family", "Georgia, serif")
    # theme can change on the fly.
    page.locator("comments-thread").first.evaluate("e => e.setAttribute('theme', 'light')")
    expect(dark.locator(".cw-author").first).to_have_css("color", "rgb(29, 29, 31)")


def test_keyboard_one_tab_stop_per_comment_and_a_skip_link(open_page, expect, app):
    """183 tab stops for 22 comments, and no skip link."""
    seed(app)
    page = open_page("reader-a")
    expect(page.locator(".cw-list > .cw-item").first).to_be_visible()
    bars = page.locator(".cw-actions")
    counts = bars.evaluate_all(
        "bars => bars.map(b => [...b.querySelectorAll('button')].filter(x => x.tabIndex === 0)"
        ".length)"
    )
    assert counts and set(counts) == {1}, counts
    stops = page.locator(".cw-list").evaluate(
        "l => [...l.querySelectorAll('button, a[href], [tabindex]')]"
        ".filter(e => e.tabIndex >= 0 && e.checkVisibility()).length"
    )
    comments = page.locator(".cw-comment").count()
    assert stops <= comments + 3, (stops, comments)  # toolbars, plus "Show replies" buttons

    skip = page.get_by_role("link", name="Skip past the comments")
    skip.focus()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator(".cw-end")).to_be_focused()
    page.keyboard.press("Shift+Tab")  # back into the thread, not to the top of the page
    assert page.evaluate("() => document.activeElement.tagName === 'COMMENTS-THREAD'"), (
        "focus left the widget"
    )


def test_dates_are_readable_in_full_and_coarse_pointers_get_44px_targets(open_page, expect, say):
    comment = say("Touch me.")
    page = open_page("reader-b", viewport=PHONE, touch=True)
    time_el = own_article(page, comment["id"]).locator("time")
    expect(time_el.locator(".cw-sr")).to_have_text(re.compile(r"^\w+ \d{1,2}, \d{4}"))
    expect(time_el.locator("[aria-hidden=true]")).to_have_text("just now")
    sizes = page.locator(".cw button:visible").evaluate_all(
        "bs => bs.map(b => { const r = b.getBoundingClientRect(); return [r.width, r.height] })"
    )
    assert sizes and all(h >= 44 and w >= 44 for w, h in sizes), sizes
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_german_page_gets_german_strings_dates_and_plurals(open_page, expect, say, client):
    parent = say("Was denken Sie?")
    for i in range(2):
        say(f"Antwort {i}", parent_id=parent["id"])
    page = open_page("reader-a", lang="de")
    expect(page.locator(".cw-title")).to_contain_text("Kommentare")
    expect(page.locator(".cw-count")).to_have_text("(3)")
    expect(page.get_by_role("toolbar", name="Kommentare sortieren")).to_be_visible()
    expect(page.get_by_label("Ihr Kommentar")).to_be_visible()
    expect(
        toolbar(page, parent["id"]).get_by_role("button", name="Antworten ausblenden")
    ).to_be_visible()
    full = own_article(page, parent["id"]).locator("time .cw-sr")
    expect(full).to_have_text(re.compile(r"^\d{1,2}\. \w+ \d{4}"))  # "29. November 2026 …"
    expect(own_article(page, parent["id"]).locator("time [aria-hidden=true]")).to_have_text(
        "gerade eben"
    )
    toolbar(page, parent["id"]).get_by_role("button", name="Antworten ausblenden").click()
    expect(
        toolbar(page, parent["id"]).get_by_role("button", name="2 Antworten zeigen")
    ).to_be_visible()
    catalogues = [u for u in page.requests if "/embed/i18n/" in u]
    assert [u.rsplit("/", 1)[1] for u in catalogues] == ["de.js"]


def test_english_loads_no_catalogue_and_nothing_third_party_and_no_cookies(
    open_page, expect, live_server, app
):
    seed(app)
    page = open_page("reader-a")
    expect(page.locator(".cw-list > .cw-item").first).to_be_visible()
    assert not [u for u in page.requests if "/embed/i18n/" in u]
    foreign = [u for u in page.requests if not u.startswith(live_server)]
    assert not foreign, foreign
    assert page.evaluate("document.cookie") == ""
    assert page.context.cookies() == []


@pytest.mark.parametrize(
    ("viewport", "dark", "lang"),
    [(DESKTOP, False, None), (DESKTOP, True, "de"), (PHONE, True, None), (PHONE, False, "ja")],
    ids=["desktop-light-en", "desktop-dark-de", "phone-dark-en", "phone-light-ja"],
)
def test_axe_finds_nothing_serious(open_page, expect, app, axe_violations, viewport, dark, lang):
    seed(app)
    page = open_page("reader-a", viewport=viewport, dark=dark, lang=lang)
    expect(page.locator(".cw-list > .cw-item").first).to_be_visible()
    toolbar_ = page.locator(".cw-actions").first
    toolbar_.get_by_role("button", name=re.compile("React|Reagieren|リアクション")).click()
    assert axe_violations(page) == []


# --- screenshots for docs/widget.md (make screenshots) -------------------------------------


@pytest.mark.screenshots
def test_screenshots_of_the_demo(app, open_page, expect):
    seed(app)
    target = os.environ.get("COMMENTS_SCREENSHOT_DIR")
    for name, viewport, dark in (
        ("demo-desktop", DESKTOP, False),
        ("demo-desktop-dark", DESKTOP, True),
        ("demo-phone", PHONE, False),
        ("demo-phone-dark", PHONE, True),
    ):
        page = open_page("reader-a", viewport=viewport, dark=dark)
        expect(page.locator(".cw-list > .cw-item").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        top = page.locator(".comments").bounding_box()
        assert top is not None
        if target:
            Path(target).mkdir(parents=True, exist_ok=True)
            page.screenshot(
                path=str(Path(target) / f"{name}.png"),
                full_page=True,
                clip={
                    "x": 0,
                    "y": max(0, top["y"] - 200),
                    "width": viewport["width"],
                    "height": 1500 if viewport is PHONE else 1300,
                },
            )


def test_moderators_pin_and_ban_in_context(open_page, expect, say, client):
    comment = say("Pin-worthy analysis.")
    page = open_page("moderator")
    bar = toolbar(page, comment["id"])
    bar.get_by_role("button", name="Pin").click()
    expect(own_article(page, comment["id"]).locator(".cw-badge-pin")).to_have_text("Pinned")
    unpin = bar.get_by_role("button", name="Unpin")
    expect(unpin).to_be_focused()
    assert thread(client)["items"][0]["pinned"] is True

    bar.get_by_role("button", name="Ban author").click()
    reason = page.get_by_label("Reason")
    expect(reason).to_be_focused()
    reason.fill("Spam links")
    page.get_by_role("button", name="Yes, ban").click()
    expect(page.locator(".cw-status")).to_have_text(f"{READER_B['name']} is banned.")
    expect(bar.get_by_role("button", name="Ban author")).to_be_focused()
    r = client.post(
        f"/api/v1/articles/{ARTICLE}/comments", json={"body": "x"}, headers=as_reader(READER_B)
    )
    assert r.status_code == 403
