"""Walk-throughs of the moderator console (/admin) in Chromium, as a moderator would use it,
checked against what readers then see in the widget on /demo."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from service.web import demo
from tests.conftest import auth, make_token

ARTICLE = demo.ARTICLE["id"]
READER_A = demo.PERSONAS["reader-a"]
READER_B = demo.PERSONAS["reader-b"]
MODERATOR = demo.PERSONAS["moderator"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
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
        f"/api/v1/admin/queue",
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

    reader = open_demo("reader-b")
    reader.get_by_label("Your comment").fill("Another great opportunity!")
    reader.get_by_role("button", name="Post comment").click()
    expect(reader.locator(".cw-composer .cw-error")).to_have_text("You are banned from commenting.")


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
        init_script=("window.CommentsAuth = { getToken: () => Promise.resolve(%r) };" % token),
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
