"""Walk-throughs of the moderator console (/admin) in Chromium, as a moderator would use it,
checked against what readers then see in the widget on /demo and through the API.

The console reaches everything the admin API can do (issue #17): reporters' notes, one
button per outcome, the comment in its thread, thread switches, bans, a person's page,
bulk decisions, keyboard shortcuts, roles, dark theme, phone widths, axe-core, screenshots."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from service import services
from service.web import demo
from tests.helpers import auth, make_token

ARTICLE = demo.ARTICLE["id"]
READER_A = demo.PERSONAS["reader-a"]
READER_B = demo.PERSONAS["reader-b"]
MODERATOR = demo.PERSONAS["moderator"]
FLAGGERS = ("flagger-1", "flagger-2", "flagger-3")


@pytest.fixture
def expect() -> Any:
    from playwright.sync_api import expect as expect_

    return expect_


def as_reader(who: dict[str, Any]) -> dict[str, str]:
    return auth(who["sub"], name=who["name"], roles=who["roles"])


@pytest.fixture
def say(client: Any) -> Callable[..., dict[str, Any]]:
    """say(body, who=READER_B, article=ARTICLE) posts through the API; returns the comment."""

    def _say(body: str, who: dict[str, Any] = READER_B, article: str = ARTICLE) -> dict[str, Any]:
        r = client.post(
            f"/api/v1/articles/{article}/comments", json={"body": body}, headers=as_reader(who)
        )
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    return _say


@pytest.fixture
def flag(client: Any) -> Callable[..., None]:
    """flag(comment, "spam", "abuse", ...): one reader per reason flags the comment."""

    def _flag(comment: dict[str, Any], *reasons: str) -> None:
        for n, reason in enumerate(reasons):
            r = client.post(
                f"/api/v1/comments/{comment['id']}/flags",
                json={"reason": reason},
                headers=auth(f"flagger-{n + 1}"),
            )
            assert r.status_code == 201, r.get_json()

    return _flag


def comment_status(client: Any, comment_id: int) -> str:
    r = client.get(
        "/api/v1/admin/queue",
        query_string={"state": "all", "limit": 100},
        headers=auth("m-check", roles=["moderator"]),
    )
    for item in r.get_json()["items"]:
        if item["id"] == comment_id:
            return item["status"]
    return "not in the queue"


@pytest.fixture
def pages(browser: Any, live_server: str) -> Iterator[Callable[..., Any]]:
    """pages(path, viewport=..., init_script=...) → a page at ``path`` in a fresh context.
    JavaScript errors on any page fail the test."""
    contexts: list[Any] = []
    errors: list[str] = []

    def _open(
        path: str,
        viewport: dict[str, int] | None = None,
        init_script: str | None = None,
        color_scheme: str = "light",
        bypass_csp: bool = False,
    ) -> Any:
        # bypass_csp: only for axe-core, which the console's CSP would refuse to run.
        context = browser.new_context(
            viewport=viewport or {"width": 1280, "height": 900},
            color_scheme=color_scheme,
            bypass_csp=bypass_csp,
        )
        if init_script:
            context.add_init_script(init_script)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(live_server + path)
        return page

    yield _open
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def open_console(pages: Callable[..., Any], expect: Any) -> Callable[..., Any]:
    """open_console(viewport=...) → the console, signed in with the demo moderator button."""

    def _open(
        viewport: dict[str, int] | None = None,
        color_scheme: str = "light",
        path: str = "/admin",
        bypass_csp: bool = False,
    ) -> Any:
        page = pages(path, viewport=viewport, color_scheme=color_scheme, bypass_csp=bypass_csp)
        page.get_by_role("button", name="Sign in as the demo moderator").click()
        expect(page.locator("#queue-status")).to_contain_text("waiting")
        expect(page.locator("#who")).to_have_text(
            f"Signed in as {MODERATOR['name']} ({MODERATOR['sub']})"
        )
        return page

    return _open


@pytest.fixture
def open_demo(pages: Callable[..., Any]) -> Callable[..., Any]:
    def _open(persona: str = "reader-a") -> Any:
        page = pages(
            "/demo", init_script=f"sessionStorage.setItem('comments-demo:persona', '{persona}')"
        )
        page.wait_for_selector(".cw-composer > *")
        return page

    return _open


def queue_item(page: Any, comment_id: int) -> Any:
    return page.locator(f"#queue-{comment_id}")


def test_approve_a_comment_hidden_by_three_flags(
    open_console, open_demo, expect, say, flag, client
):
    comment = say("Alibaba's cloud margin will **double** next year, mark my words.")
    flag(comment, "spam", "spam", "misinformation")
    assert comment_status(client, comment["id"]) == "hidden"
    reader = open_demo("reader-a")
    expect(reader.locator(f"#comment-{comment['id']}")).to_have_count(0)

    page = open_console()
    item = queue_item(page, comment["id"])
    expect(item).to_be_visible()
    expect(item.locator("h3")).to_contain_text(f"{READER_B['name']} on {ARTICLE}")
    expect(item.locator(".flag-count")).to_have_text("3 flags")
    expect(item.locator(".flags li")).to_have_text(["Spam: 2", "Misinformation: 1"])
    expect(item.locator(".why")).to_contain_text("readers' flags reached the threshold")
    expect(item.locator(".record")).to_have_text(" · 1 comment, 0 removed")
    expect(item.locator(".body strong")).to_have_text("double")  # the server's body_html

    item.get_by_label("Reason (optional)").fill("Opinion, not misinformation.")
    item.get_by_role("button", name="Approve").click()
    expect(item).to_have_count(0)
    expect(page.locator("#queue-status")).to_have_text(
        f"Comment #{comment['id']} approved; it left the queue."
    )
    expect(page.locator("#queue-empty")).to_be_visible()
    assert comment_status(client, comment["id"]) == "not in the queue"

    reader.reload()
    expect(reader.locator(f"#comment-{comment['id']} > article .cw-body")).to_contain_text(
        "Alibaba's cloud margin will double next year"
    )


def test_remove_takes_a_comment_out(open_console, open_demo, expect, say, flag):
    keep = say("A fair question about capex.")
    spam = say("Cheap followers, visit my site!")
    flag(keep, "off_topic")
    flag(spam, "spam")
    page = open_console()
    expect(page.locator(".qi")).to_have_count(2)

    queue_item(page, spam["id"]).get_by_role("button", name="Remove").click()
    expect(queue_item(page, spam["id"])).to_have_count(0)
    expect(page.locator(".qi")).to_have_count(1)
    expect(queue_item(page, keep["id"]).locator("h3")).to_be_focused()  # focus moves on

    reader = open_demo("reader-a")
    expect(reader.locator(f"#comment-{keep['id']}")).to_be_visible()
    expect(reader.locator(f"#comment-{spam['id']}")).to_have_count(0)


def test_pin_puts_a_comment_first_in_the_widget(open_console, open_demo, expect, say, flag):
    older = say("The older comment, worth pinning.")
    newer = say("The newer comment.", who=READER_A)
    flag(older, "other")
    page = open_console()
    item = queue_item(page, older["id"])
    item.get_by_role("button", name="Pin").click()
    # Still flagged, so it stays in the queue, now pinned and offering Unpin.
    expect(item.locator(".act-done")).to_have_text(f"Comment #{older['id']} pinned.")
    expect(item.get_by_role("button", name="Unpin")).to_be_visible()
    expect(item.get_by_role("button", name="Pin", exact=True)).to_have_count(0)
    expect(item.locator(".why")).to_contain_text("Pinned")

    reader = open_demo("reader-a")
    rows = reader.locator(".cw-list > .cw-item")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_id(f"comment-{older['id']}")  # newest first would put it second
    expect(rows.nth(1)).to_have_id(f"comment-{newer['id']}")


def test_ban_makes_the_authors_next_post_fail(open_console, open_demo, expect, say, flag):
    comment = say("Buy now, guaranteed 10x!")
    flag(comment, "spam")
    page = open_console()
    item = queue_item(page, comment["id"])
    item.locator("summary", has_text="Ban the author").click()
    ban = item.get_by_role("button", name=f"Ban {READER_B['name']}")
    ban.click()
    expect(item.locator(".ban-error")).to_have_text("Say why the author is banned.")
    item.get_by_label("Reason for the ban").fill("Repeated spam")
    ban.click()
    expect(item.locator(".ban-done")).to_have_text(f"Banned {READER_B['sub']}.")

    reader = open_demo("reader-b")  # GET /me tells the widget of the ban at once (#15)
    expect(reader.locator(".cw-composer .cw-banned")).to_contain_text("Reason: Repeated spam")
    expect(reader.get_by_label("Your comment")).to_have_count(0)


def test_errors_show_the_problem_detail(open_console, expect, say, flag, client):
    comment = say("Flagged, then removed elsewhere.")
    flag(comment, "abuse")
    page = open_console()
    item = queue_item(page, comment["id"])
    expect(item).to_be_visible()
    # Another moderator removes it meanwhile; this console still offers Pin.
    r = client.post(
        f"/api/v1/admin/comments/{comment['id']}/actions",
        json={"action": "remove"},
        headers=auth("m-other", roles=["moderator"]),
    )
    assert r.status_code == 200
    item.get_by_role("button", name="Pin").click()
    expect(item.locator(".act-error")).to_have_text(re.compile(r"\S"))
    detail = client.post(
        f"/api/v1/admin/comments/{comment['id']}/actions",
        json={"action": "pin"},
        headers=auth("m-other", roles=["moderator"]),
    ).get_json()["detail"]
    expect(item.locator(".act-error")).to_have_text(detail)


def test_audit_log_lists_the_actions(open_console, expect, say, flag):
    approved = say("Approve me.")
    removed = say("Remove me.")
    flag(approved, "spam", "abuse", "hate")
    flag(removed, "spam")
    page = open_console()
    queue_item(page, approved["id"]).get_by_role("button", name="Approve").click()
    expect(queue_item(page, approved["id"])).to_have_count(0)
    item = queue_item(page, removed["id"])
    item.get_by_label("Reason (optional)").fill("Spam link")
    item.get_by_role("button", name="Remove").click()
    expect(item).to_have_count(0)

    tab = page.get_by_role("tab", name="Audit log")
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true")
    rows = page.locator("#audit-rows tr")
    # newest first: remove, approve, then the automatic hide
    expect(rows.locator("td.action")).to_have_text(["remove", "approve", "hide"])
    remove_row = rows.nth(0)
    expect(remove_row.locator("td").nth(1)).to_have_text(MODERATOR["sub"])
    expect(remove_row.locator("td").nth(3)).to_have_text(f"comment {removed['id']}")
    expect(remove_row.locator("td").nth(4)).to_have_text("Spam link")
    expect(remove_row.locator("td.diff")).to_contain_text("status: published → removed")
    expect(rows.nth(1).locator("td.diff")).to_contain_text("status: hidden → published")
    expect(rows.nth(2).locator("td").nth(1)).to_have_text("system")

    page.get_by_label("Action").select_option("approve")
    page.locator("#audit-filters").get_by_role("button", name="Apply filters").click()
    expect(rows.locator("td.action")).to_have_text(["approve"])
    expect(page.locator("#audit-status")).to_have_text("Showing 1 entry.")


def test_load_more_in_the_queue_and_the_audit_log(open_console, expect, say, client):
    comments = [say(f"Comment {i}.") for i in range(22)]
    for c in comments:
        r = client.post(
            f"/api/v1/comments/{c['id']}/flags", json={"reason": "other"}, headers=auth("flagger-1")
        )
        assert r.status_code == 201
    page = open_console()
    expect(page.locator(".qi")).to_have_count(20)
    expect(page.locator("#queue-status")).to_have_text("22 comments waiting; showing 20.")
    page.get_by_role("button", name="Load more comments").click()
    expect(page.locator(".qi")).to_have_count(22)
    expect(page.get_by_role("button", name="Load more comments")).to_be_hidden()

    for c in comments:  # 22 decisions fill more than one page of the audit log
        assert (
            client.post(
                f"/api/v1/admin/comments/{c['id']}/actions",
                json={"action": "dismiss_flags"},
                headers=auth("m-other", roles=["moderator"]),
            ).status_code
            == 200
        )
    page.get_by_role("tab", name="Audit log").click()
    rows = page.locator("#audit-rows tr")
    expect(rows).to_have_count(20)
    page.get_by_role("button", name="Load more entries").click()
    expect(rows).to_have_count(22)
    expect(page.get_by_role("button", name="Load more entries")).to_be_hidden()


def test_queue_filters(open_console, expect, say, flag):
    other = say("On another article.", article="another-story")
    here = say("On the demo article.")
    flag(other, "spam")
    flag(here, "spam")
    page = open_console()
    expect(page.locator(".qi")).to_have_count(2)
    page.get_by_label("Article id").fill("another-story")
    page.locator("#queue-filters").get_by_role("button", name="Apply filters").click()
    expect(page.locator(".qi")).to_have_count(1)
    expect(queue_item(page, other["id"])).to_be_visible()
    page.get_by_label("Article id").fill("")
    page.get_by_label("Which comments").select_option("pending")
    page.locator("#queue-filters").get_by_role("button", name="Apply filters").click()
    expect(page.locator("#queue-empty")).to_be_visible()
    expect(page.locator(".qi")).to_have_count(0)


def test_stats_tab_draws_the_chart(open_console, expect, say, client):
    for i in range(3):
        comment = say(f"Engaging comment {i}.")
    assert (
        client.put(
            f"/api/v1/comments/{comment['id']}/reactions/like", headers=as_reader(READER_A)
        ).status_code
        == 200
    )
    page = open_console()
    page.get_by_role("tab", name="Stats").click()
    chart = page.locator("svg.chart")
    expect(chart).to_be_visible()
    expect(chart).to_have_attribute("role", "img")
    expect(chart.locator("rect.bar.comments")).to_have_count(30)
    expect(chart.locator("rect.bar.reactions")).to_have_count(30)
    expect(chart.locator("desc")).to_contain_text("3 comments and 1 reactions")
    # Today's bars are the last ones, and the comments bar is the tallest of the month.
    heights = chart.locator("rect.bar.comments").evaluate_all(
        "rs => rs.map(r => parseFloat(r.getAttribute('height')))"
    )
    assert heights[-1] > 0 and heights[-1] == max(heights) and heights[:-1] == [0.0] * 29
    expect(page.locator(".figure").first).to_have_text(re.compile(r"Comments, last 30 days\s*3"))
    expect(page.locator("#discussed-title + ol li")).to_have_text([f"{ARTICLE}: 3 comments"])


def test_tabs_work_from_the_keyboard(open_console, expect):
    page = open_console()
    queue_tab = page.get_by_role("tab", name="Queue")
    queue_tab.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    audit_tab = page.get_by_role("tab", name="Audit log")
    expect(audit_tab).to_be_focused()
    expect(audit_tab).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("tabpanel", name="Audit log")).to_be_visible()
    expect(page.locator("#panel-queue")).to_be_hidden()
    page.keyboard.press("End")
    expect(page.get_by_role("tab", name="Stats")).to_be_focused()
    page.keyboard.press("ArrowRight")  # wraps around
    expect(queue_tab).to_be_focused()
    expect(page.get_by_role("tabpanel", name="Queue")).to_be_visible()
    assert (
        queue_tab.get_attribute("tabindex") == "0" and audit_tab.get_attribute("tabindex") == "-1"
    )


def test_a_signed_in_reader_is_told_they_are_not_a_moderator(pages, expect):
    page = pages("/admin")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Moderator token").fill(make_token(READER_A["sub"], name=READER_A["name"]))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#notice")).to_contain_text("not as a moderator")
    expect(page.get_by_label("Moderator token")).to_be_visible()
    expect(page.locator("#console")).to_be_hidden()


def test_a_bad_token_is_refused_and_sign_out_forgets_the_token(pages, expect):
    page = pages("/admin")
    page.get_by_label("Moderator token").fill("not-a-token")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#notice")).to_contain_text("Your sign-in was not accepted")
    page.get_by_label("Moderator token").fill(make_token("m-9", name="Nadia", roles=["moderator"]))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#who")).to_have_text("Signed in as Nadia (m-9)")
    page.reload()  # the pasted token is kept for the tab
    expect(page.locator("#who")).to_have_text("Signed in as Nadia (m-9)")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Moderator token")).to_be_focused()
    page.reload()
    expect(page.get_by_label("Moderator token")).to_be_visible()
    expect(page.locator("#console")).to_be_hidden()


def test_the_hosts_token_callback_signs_the_moderator_in(pages, expect):
    token = make_token("m-host", name="Host Moderator", roles=["moderator"])
    page = pages(
        "/admin",
        init_script=f"window.CommentsAuth = {{ getToken: () => Promise.resolve({token!r}) }};",
    )
    expect(page.locator("#who")).to_have_text("Signed in as Host Moderator (m-host)")
    expect(page.locator("#queue-status")).to_have_text("0 comments waiting; showing 0.")
    expect(page.locator("#signin")).to_be_hidden()


def test_the_demo_moderator_persona_links_to_the_console(open_demo, expect):
    page = open_demo("moderator")
    link = page.get_by_role("link", name="Open the moderator console")
    expect(link).to_be_visible()
    link.click()
    expect(page).to_have_url(re.compile(r"/admin$"))
    expect(page.get_by_role("button", name="Sign in as the demo moderator")).to_be_visible()
    reader = open_demo("reader-a")
    expect(reader.get_by_role("link", name="Open the moderator console")).to_be_hidden()


@pytest.fixture
def no_demo(settings: dict[str, Any]) -> dict[str, Any]:
    settings["COMMENTS_DEMO"] = False
    return settings


def test_without_demo_mode_there_is_no_demo_sign_in(no_demo, pages, expect):
    page = pages("/admin")
    expect(page.get_by_label("Moderator token")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in as the demo moderator")).to_have_count(0)


# --- everything the admin API can do -------------------------------------------------------

MOD = auth("m-check", roles=["moderator"])
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def note_flag(client: Any, comment: dict[str, Any], who: str, reason: str, note: str) -> None:
    r = client.post(
        f"/api/v1/comments/{comment['id']}/flags",
        json={"reason": reason, "note": note},
        headers=auth(who),
    )
    assert r.status_code == 201, r.get_json()


def sign_in_with(pages: Any, expect: Any, token: str, path: str = "/admin", **kw: Any) -> Any:
    page = pages(path, **kw)
    page.get_by_label("Moderator token").fill(token)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#queue-status")).to_contain_text("waiting")
    return page


def test_queue_cards_show_reporters_notes_and_one_button_per_outcome(
    open_console, expect, say, client
):
    comment = say("The margin will double next year.")
    note_flag(client, comment, "f1", "misinformation", "No source for this figure.")
    note_flag(client, comment, "f2", "spam", "Same text on five articles.")
    page = open_console()
    item = queue_item(page, comment["id"])
    notes = item.locator(".notes li")
    expect(notes).to_have_count(2)
    expect(notes.nth(0)).to_contain_text("Spam: Same text on five articles.")
    expect(notes.nth(1)).to_contain_text("Misinformation: No source for this figure.")
    # Seen before: "Approve" and "Dismiss flags" did the same thing on a published comment.
    expect(item.get_by_role("button", name="Dismiss flags")).to_have_count(0)
    expect(item.locator(".buttons button")).to_have_text(["Approve", "Remove", "Pin"])
    item.get_by_role("button", name="Approve").click()
    expect(item).to_have_count(0)
    assert comment_status(client, comment["id"]) == "not in the queue"
    r = client.get(f"/api/v1/comments/{comment['id']}").get_json()
    assert r["status"] == "published"


def test_queue_links_into_the_thread_where_a_comment_is_pinned_and_removed(
    open_console, open_demo, expect, say, flag, client
):
    first = say("First, and worth pinning.")
    replied = say("A reply to the first.", who=READER_A)
    # Mild enough for the spam model to let through (it holds "Visit my site for free
    # money!" at 0.91): this test is about a moderator removing it from the thread.
    spam = say("Off topic: visit my blog about gardening.")
    flag(first, "other")
    page = open_console()
    queue_item(page, first["id"]).get_by_role(
        "link", name=f"Comment #{first['id']} in its thread"
    ).click()
    expect(page).to_have_url(re.compile(rf"/admin\?article={ARTICLE}#comment-{first['id']}$"))
    expect(page.get_by_role("tab", name="Threads")).to_have_attribute("aria-selected", "true")
    target = page.locator(f"#comment-{first['id']}")
    expect(target).to_have_class(re.compile(r"\btarget\b"))
    expect(target.locator("> article")).to_be_focused()
    expect(page.locator("#thread-facts")).to_contain_text("Readers see it open · 3 comments")

    target.get_by_role("button", name="Pin").click()
    expect(target.locator(".act-done")).to_have_text(f"Comment #{first['id']} pinned.")
    expect(target.get_by_role("button", name="Unpin")).to_be_focused()
    expect(target.locator(".badge")).to_have_text("pinned")
    other = page.locator(f"#comment-{spam['id']}")
    other.get_by_role("button", name="Remove").click()
    expect(other.locator(".act-done")).to_have_text(f"Comment #{spam['id']} removed.")
    expect(other.get_by_role("button", name="Restore")).to_be_focused()

    reader = open_demo("reader-a")
    rows = reader.locator(".cw-list > .cw-item")
    expect(rows.first).to_have_id(f"comment-{first['id']}")
    expect(reader.locator(f"#comment-{spam['id']}")).to_have_count(0)
    assert replied["id"]

    # Back goes back to the queue; an audit entry links to the comment as well.
    page.go_back()
    expect(page.get_by_role("tab", name="Queue")).to_have_attribute("aria-selected", "true")
    page.get_by_role("tab", name="Audit log").click()
    page.locator("#audit-rows tr", has_text="remove").get_by_role(
        "link", name=f"comment {spam['id']}"
    ).click()
    expect(page).to_have_url(re.compile(rf"\?article={ARTICLE}#comment-{spam['id']}$"))
    expect(page.locator(f"#comment-{spam['id']} > article")).to_be_focused()


def test_a_held_comment_outside_the_thread_is_shown_and_decided_in_context(
    open_console, expect, say, client
):
    r = client.patch(f"/api/v1/admin/articles/{ARTICLE}", json={"premoderation": True}, headers=MOD)
    assert r.status_code == 200
    held = say("Held for a moderator.")
    assert held["status"] == "pending"
    page = open_console(path=f"/admin?comment={held['id']}")
    target = page.locator(f"#comment-{held['id']}")
    expect(target.locator("> article")).to_be_focused()
    expect(page.locator(".hint", has_text="not among the first comments")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"\?article={ARTICLE}#comment-{held['id']}$"))
    target.get_by_role("button", name="Approve").click()
    expect(target.locator(".act-done")).to_have_text(f"Comment #{held['id']} approved.")
    assert client.get(f"/api/v1/comments/{held['id']}").get_json()["status"] == "published"


def test_thread_controls_close_and_premoderate_an_article(open_console, expect, say, client):
    say("Before the switch.")
    page = open_console()
    page.get_by_role("tab", name="Threads").click()
    page.get_by_label("Article", exact=True).fill(ARTICLE)
    page.get_by_role("button", name="Open the thread").click()
    expect(page.locator("#thread-title")).to_be_focused()
    page.get_by_label("Thread", exact=True).select_option("closed")
    page.get_by_label("Premoderation").select_option("true")
    page.locator("#thread-body").get_by_label("Reason (optional)").fill("Too heated")
    page.get_by_role("button", name="Save thread settings").click()
    expect(page.locator("#thread-saved")).to_have_text(
        "Saved: the thread is closed, premoderation on."
    )
    expect(page.locator("#thread-facts")).to_contain_text("Readers see it closed")
    settings = client.get(f"/api/v1/admin/articles/{ARTICLE}", headers=MOD).get_json()
    assert settings["status"] == "closed" and settings["premoderation"] is True
    r = client.post(
        f"/api/v1/articles/{ARTICLE}/comments", json={"body": "x"}, headers=as_reader(READER_A)
    )
    assert r.status_code == 409, r.get_json()  # closed

    page.get_by_label("Thread", exact=True).select_option("open")
    page.get_by_label("Premoderation").select_option("")
    page.get_by_role("button", name="Save thread settings").click()
    expect(page.locator("#thread-saved")).to_have_text(
        "Saved: the thread is open, premoderation follows the site setting."
    )
    settings = client.get(f"/api/v1/admin/articles/{ARTICLE}", headers=MOD).get_json()
    assert settings["status"] == "open" and settings["premoderation"] is None


def test_bans_list_add_change_the_end_and_unban(open_console, expect, client):
    for user in ("troll-1", "troll-2"):
        r = client.put(f"/api/v1/admin/bans/{user}", json={"reason": "Abuse"}, headers=MOD)
        assert r.status_code == 201
    page = open_console()
    page.get_by_role("tab", name="Bans").click()
    rows = page.locator("#bans-rows tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#bans-status")).to_have_text("2 bans in force.")

    page.get_by_text("Ban someone…").click()
    form = page.locator("#ban-new-form")
    form.get_by_label("User id").fill("spammer-9")
    page.get_by_role("button", name="Ban", exact=True).click()
    expect(page.locator("#ban-new-error")).to_have_text("Say why the author is banned.")
    form.get_by_label("Reason for the ban").fill("Link spam")
    form.get_by_label("Shadow ban").check()
    page.get_by_role("button", name="Ban", exact=True).click()
    expect(page.locator("#bans-status")).to_have_text("3 bans in force.")
    spammer = page.locator('#bans-rows tr[data-user="spammer-9"]')
    expect(spammer.locator("td").nth(2)).to_have_text("shadow")

    row = page.locator('#bans-rows tr[data-user="troll-1"]')
    row.get_by_role("button", name="Change end of troll-1's ban").click()
    row.get_by_label("Ends (empty: never)").fill("2031-05-17T12:30")
    row.get_by_role("button", name="Save").click()
    row = page.locator('#bans-rows tr[data-user="troll-1"]')
    expect(row.locator("td.until time")).to_have_attribute("datetime", re.compile(r"^2031-05-17"))
    expect(row.get_by_role("button", name="Change end of troll-1's ban")).to_be_focused()
    ban = client.get("/api/v1/admin/bans", headers=MOD).get_json()["items"][1]
    assert ban["user_id"] == "troll-1" and ban["expires_at"].startswith("2031-05-17")
    assert ban["reason"] == "Abuse"  # kept

    row.get_by_role("button", name="Unban troll-1").click()
    expect(page.locator("#bans-status")).to_have_text("Lifted the ban on troll-1.")
    expect(rows).to_have_count(2)
    expect(page.get_by_role("button", name="Change end of troll-2's ban")).to_be_focused()
    left = [b["user_id"] for b in client.get("/api/v1/admin/bans", headers=MOD).get_json()["items"]]
    assert left == ["spammer-9", "troll-2"]


def test_a_persons_page_history_ban_export_and_no_erasure_without_admin(
    open_console, expect, say, flag, client
):
    first = say("My first take.")
    say("My second take.")
    flag(first, "spam")
    page = open_console()
    queue_item(page, first["id"]).get_by_role("link", name=READER_B["sub"]).click()
    expect(page).to_have_url(re.compile(rf"\?user={READER_B['sub']}$"))
    expect(page.locator("#user-title")).to_be_focused()
    expect(page.locator("#user-record")).to_have_text("2 comments, 0 removed")
    expect(page.locator("#user-history .hi")).to_have_count(2)
    expect(page.locator("#user-ban")).to_have_text("Not banned.")

    page.locator("#user-body summary", has_text="Ban the author").click()
    page.locator("#user-body").get_by_label("Reason for the ban").fill("Cooling off")
    page.get_by_role("button", name=f"Ban {READER_B['sub']}").click()
    expect(page.locator("#user-ban")).to_have_text(f"Banned {READER_B['sub']}: Cooling off.")
    unban = page.get_by_role("button", name=f"Unban {READER_B['sub']}")
    expect(unban).to_be_focused()
    unban.click()
    expect(page.locator("#user-ban")).to_have_text("Not banned.")
    assert client.get("/api/v1/admin/bans", headers=MOD).get_json()["items"] == []

    with page.expect_download() as download:
        page.get_by_role("button", name="Export everything stored (JSON)").click()
    dump = json.loads(Path(download.value.path()).read_text())
    assert dump["user_id"] == READER_B["sub"] and len(dump["comments"]) == 2
    assert download.value.suggested_filename == f"comments-user-{READER_B['sub']}.json"
    # The demo moderator is no admin: erasure is not offered.
    expect(page.locator("#erase")).to_have_count(0)
    expect(page.locator("#erase-needs-admin")).to_be_visible()


def test_erasure_needs_the_typed_user_id_and_the_admin_role(pages, expect, say, client):
    say("Please forget me.")
    token = make_token("chief", name="Chief", roles=["moderator", "admin"])
    page = sign_in_with(pages, expect, token, path=f"/admin?user={READER_B['sub']}")
    expect(page.locator("#user-record")).to_have_text("1 comment, 0 removed")
    page.get_by_text("Erase this person…").click()
    erase = page.get_by_role("button", name=f"Erase {READER_B['sub']}")
    expect(erase).to_be_disabled()
    page.get_by_label(f"Type {READER_B['sub']} to confirm").fill(READER_B["sub"][:-1])
    expect(erase).to_be_disabled()
    page.get_by_label(f"Type {READER_B['sub']} to confirm").fill(READER_B["sub"])
    expect(erase).to_be_enabled()
    erase.click()
    expect(page.locator("#erase-done")).to_contain_text(f"Erased {READER_B['sub']}")
    expect(page.locator("#erase-done")).to_be_focused()
    history = client.get(f"/api/v1/admin/users/{READER_B['sub']}/comments", headers=MOD).get_json()
    assert history["items"] == []


def test_a_403_on_one_action_keeps_the_moderator_signed_in(pages, expect, say):
    """The hardening work makes erasure admin-only; a token whose roles the server no longer
    honours for it gets a 403 problem, shown beside the form, and the console stays."""
    say("Please forget me.")
    token = make_token("chief", name="Chief", roles=["moderator", "admin"])
    page = sign_in_with(pages, expect, token, path=f"/admin?user={READER_B['sub']}")
    detail = "Erasing a person needs the admin role."
    page.route(
        re.compile(r".*/api/v1/admin/users/[^/?]+(\?.*)?$"),
        lambda route: (
            route.fulfill(
                status=403,
                content_type="application/problem+json",
                body=json.dumps(
                    {"type": "about:blank", "title": "Forbidden", "status": 403, "detail": detail}
                ),
            )
            if route.request.method == "DELETE"
            else route.continue_()
        ),
    )
    page.get_by_text("Erase this person…").click()
    page.get_by_label(f"Type {READER_B['sub']} to confirm").fill(READER_B["sub"])
    page.get_by_role("button", name=f"Erase {READER_B['sub']}").click()
    expect(page.locator("#erase .error")).to_have_text(f"You may not do this: {detail}")
    expect(page.locator("#console")).to_be_visible()
    expect(page.locator("#notice")).to_be_hidden()


def test_bulk_select_approves_and_removes(open_console, expect, say, flag, client):
    comments = [say(f"Bulk comment {i}.") for i in range(4)]
    for c in comments:
        flag(c, "spam")
    page = open_console()
    expect(page.locator(".qi")).to_have_count(4)
    approve = page.get_by_role("button", name="Approve selected")
    expect(approve).to_be_disabled()
    for c in comments[:2]:
        page.get_by_label(f"Select comment #{c['id']}").check()
    expect(page.locator("#bulk-count")).to_have_text("2 comments selected")
    approve.click()
    expect(page.locator("#queue-status")).to_have_text("2 comments approved.")
    expect(page.locator(".qi")).to_have_count(2)
    expect(page.locator(".qi h3").first).to_be_focused()
    page.get_by_label("Select all shown").check()
    expect(page.locator("#bulk-count")).to_have_text("2 comments selected")
    page.get_by_role("button", name="Remove selected").click()
    expect(page.locator("#queue-status")).to_have_text("2 comments removed.")
    expect(page.locator("#queue-empty")).to_be_visible()
    expect(page.get_by_label("Which comments")).to_be_focused()
    statuses = [
        client.get(f"/api/v1/admin/comments/{c['id']}", headers=MOD).get_json()["status"]
        for c in comments
    ]
    assert statuses == ["published", "published", "removed", "removed"]


def test_keyboard_shortcuts_move_decide_select_and_list_themselves(
    open_console, expect, say, flag, client
):
    comments = [say(f"Keyboard comment {i}.") for i in range(3)]
    for c in comments:
        flag(c, "spam")
    page = open_console()
    cards = page.locator(".qi")
    expect(cards).to_have_count(3)
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("j")
    expect(cards.nth(0).locator("h3")).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")  # stays on the last
    expect(cards.nth(2).locator("h3")).to_be_focused()
    page.keyboard.press("k")
    expect(cards.nth(1).locator("h3")).to_be_focused()
    second = cards.nth(1).get_attribute("data-comment-id")
    page.keyboard.press("x")
    expect(page.get_by_label(f"Select comment #{second}")).to_be_checked()
    page.keyboard.press("x")
    expect(page.get_by_label(f"Select comment #{second}")).not_to_be_checked()
    page.keyboard.press("a")
    expect(page.locator("#queue-status")).to_have_text(
        f"Comment #{second} approved; it left the queue."
    )
    expect(cards).to_have_count(2)
    expect(cards.nth(1).locator("h3")).to_be_focused()  # the next one
    third = cards.nth(1).get_attribute("data-comment-id")
    page.keyboard.press("r")
    expect(cards).to_have_count(1)
    expect(cards.nth(0).locator("h3")).to_be_focused()  # no next: the previous one
    assert (
        client.get(f"/api/v1/admin/comments/{third}", headers=MOD).get_json()["status"] == "removed"
    )

    # Typing in a field is typing, not a shortcut.
    cards.nth(0).get_by_label("Reason (optional)").press("a")
    expect(cards).to_have_count(1)

    cards.nth(0).locator("h3").focus()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog.locator("dt")).to_have_text(["j", "k", "a", "r", "x", "o", "?", "Esc"])
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(cards.nth(0).locator("h3")).to_be_focused()
    page.keyboard.press("o")
    expect(page.get_by_role("tab", name="Threads")).to_have_attribute("aria-selected", "true")


def test_the_theme_follows_the_system_and_the_choice_is_kept(open_console, expect):
    page = open_console(color_scheme="dark")
    paper = "getComputedStyle(document.documentElement).backgroundColor"
    dark = page.evaluate(paper)
    page.get_by_label("Theme").select_option("light")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    light = page.evaluate(paper)
    assert dark != light and light == "rgb(246, 247, 249)"
    page.reload()
    expect(page.get_by_label("Theme")).to_have_value("light")
    assert page.evaluate(paper) == light


def _busy_console(app: Any, client: Any, say: Any, flag: Any) -> dict[str, Any]:
    """The demo thread plus a queue worth looking at: a comment hidden by three flags with
    readers' notes, a flagged reply, a ban."""
    from service.extensions import db

    with app.app_context():
        demo.seed(db.session, services.of(app).settings)
        db.session.commit()
    held = say(
        "Honestly the **capex** numbers look like a scam. Sell everything, "
        "I've got a [better tip](https://example.com) for you.",
        who=READER_B,
    )
    note_flag(client, held, "flagger-1", "spam", "Links to a paid tips channel.")
    note_flag(client, held, "flagger-2", "spam", "Same post under three articles today.")
    note_flag(client, held, "flagger-3", "misinformation", "Calls the results a scam.")
    chips = client.get(
        f"/api/v1/articles/{ARTICLE}/comments", query_string={"sort": "oldest"}
    ).get_json()
    parent = next(c for c in chips["items"] if c["body"].startswith("Nobody has mentioned export"))
    r = client.post(
        f"/api/v1/articles/{ARTICLE}/comments",
        headers=as_reader(READER_A),
        json={"body": "Export controls will finish them within a year.", "parent_id": parent["id"]},
    )
    assert r.status_code == 201
    flag(r.get_json(), "misinformation")
    assert (
        client.put(
            "/api/v1/admin/bans/pump-bot-77",
            json={"reason": "Coordinated ticker pumping", "expires_at": "2031-01-01T00:00:00Z"},
            headers=MOD,
        ).status_code
        == 201
    )
    return {"held": held, "reply": r.get_json()}


TABS = ("Queue", "Threads", "Bans", "People", "Audit log", "Stats")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_on_any_tab(
    scheme, open_console, expect, say, flag, client, app, axe_violations
):
    made = _busy_console(app, client, say, flag)
    page = open_console(color_scheme=scheme, path=f"/admin?user={READER_B['sub']}", bypass_csp=True)
    expect(page.locator("#user-history .hi").first).to_be_visible()
    problems = {"People": axe_violations(page)}
    page.get_by_role("tab", name="Queue").click()
    expect(page.locator(".qi .notes")).to_have_count(1)
    problems["Queue"] = axe_violations(page)
    page.get_by_role("link", name=f"Comment #{made['reply']['id']} in its thread").click()
    expect(page.locator(f"#comment-{made['reply']['id']}")).to_be_visible()
    problems["Threads"] = axe_violations(page)
    for tab, ready in (
        ("Bans", "#bans-rows tr"),
        ("Audit log", "#audit-rows tr"),
        ("Stats", "svg.chart"),
    ):
        page.get_by_role("tab", name=tab).click()
        expect(page.locator(ready).first).to_be_visible()
        problems[tab] = axe_violations(page)
    page.keyboard.press("?")
    expect(page.get_by_role("dialog")).to_be_visible()
    problems["shortcuts"] = axe_violations(page)
    found = {
        k: [(v["id"], v["help"], len(v["nodes"])) for v in vs] for k, vs in problems.items() if vs
    }
    assert not found, found


SHOTS = os.environ.get("COMMENTS_SCREENSHOT_DIR")
# The ones docs/console.md shows (every variant is still checked for sideways scrolling).
DOCUMENTED = {
    "console.png",
    "console-phone.png",
    "console-dark.png",
    "console-phone-dark.png",
    "console-thread-dark.png",
    "console-user.png",
    "console-bans.png",
    "console-audit.png",
    "console-stats.png",
}


@pytest.mark.screenshots
@pytest.mark.parametrize(
    "width,scheme",
    [("desktop", "light"), ("desktop", "dark"), ("phone", "light"), ("phone", "dark")],
)
def test_every_tab_fits_and_screenshots(
    width, scheme, open_console, expect, say, flag, client, app
):
    """No tab scrolls sideways at 1,280 or 390 px; under `make screenshots` the tabs are
    written to COMMENTS_SCREENSHOT_DIR (console[-tab][-phone][-dark].png, those in
    DOCUMENTED)."""
    made = _busy_console(app, client, say, flag)
    page = open_console(viewport=DESKTOP if width == "desktop" else PHONE, color_scheme=scheme)
    expect(page.locator(".qi")).to_have_count(2)
    expect(page.locator(".qi .parent")).to_contain_text("Nobody has mentioned export controls")
    suffix = ("" if width == "desktop" else "-phone") + ("" if scheme == "light" else "-dark")

    def check(tab: str, name: str) -> None:
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{tab}: the page scrolls sideways by {overflow}px ({width})"
        file = f"console{name}{suffix}.png"
        if SHOTS and file in DOCUMENTED:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(SHOTS) / file))

    check("Queue", "")
    page.get_by_role("link", name=f"Comment #{made['reply']['id']} in its thread").click()
    expect(page.locator(f"#comment-{made['reply']['id']} > article")).to_be_focused()
    page.evaluate("window.scrollTo(0, 0)")
    check("Threads", "-thread")
    page.goto(page.url.split("?")[0] + f"?user={READER_B['sub']}")
    expect(page.locator("#user-history .hi").first).to_be_visible()
    check("People", "-user")
    for tab, ready, name in (
        ("Bans", "#bans-rows tr", "-bans"),
        ("Audit log", "#audit-rows tr", "-audit"),
        ("Stats", "svg.chart", "-stats"),
    ):
        page.get_by_role("tab", name=tab).click()
        expect(page.locator(ready).first).to_be_visible()
        check(tab, name)
