"""#14 item 19 in Chromium: the demo page runs under a Content-Security-Policy with
per-response nonces, and the widget keeps a guest's edit tokens only while the edit window
is open."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TOKENS_KEY = "comments-widget:edit-tokens"
# Collected before any page script runs: every CSP violation the browser reports.
CSP_WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


@pytest.fixture
def expect() -> Any:
    from playwright.sync_api import expect as expect_

    return expect_


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """new_page(persona, viewport, *init_scripts) -> a page in a fresh context; JavaScript
    errors on it fail the test."""
    contexts: list[Any] = []
    errors: list[str] = []

    def _new(persona: str, viewport: dict[str, int] = DESKTOP, *scripts: str) -> Any:
        context = browser.new_context(viewport=viewport)
        context.set_default_timeout(10_000)
        context.add_init_script(f"sessionStorage.setItem('comments-demo:persona', '{persona}')")
        for script in scripts:
            context.add_init_script(script)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield _new
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_demo_works_under_its_content_security_policy(
    new_page: Any, live_server: str, expect: Any, viewport: dict[str, int], tmp_path: Path
) -> None:
    page = new_page("reader-a", viewport, CSP_WATCH)
    response = page.goto(live_server + "/demo")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "'nonce-" in policy
    page.wait_for_selector(".cw-composer > *")

    # The inline stylesheet applied (the dark demo bar) and the inline script ran (the
    # identity switch signs in and the widget posts with its token).
    bar = page.evaluate("getComputedStyle(document.querySelector('.demo-bar')).backgroundColor")
    assert bar == "rgb(32, 36, 43)"
    page.get_by_label("Your comment").fill("Posted from a page under a strict policy.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".cw-status")).to_have_text("Your comment was posted.")
    page.locator("label", has_text="Moderator").click()
    expect(page.locator("#demo-status")).to_have_text("Signed in as Desk Moderator")
    expect(page.locator("#demo-console")).to_be_visible()
    page.screenshot(path=str(tmp_path / "demo-csp.png"), full_page=False)

    # Another language loads its catalogue script (same origin) under the same policy.
    page.goto(live_server + "/demo?lang=de")
    page.wait_for_selector(".cw-composer > *")
    expect(page.locator(".cw-title")).to_contain_text("Kommentare")
    assert page.evaluate("window.__csp") == []


def _tokens(page: Any) -> Any:
    return page.evaluate(f"JSON.parse(localStorage.getItem('{TOKENS_KEY}'))")


def test_guest_edit_tokens_live_only_as_long_as_the_edit_window(
    new_page: Any, live_server: str, expect: Any, app: Any
) -> None:
    window = app.config["COMMENTS_EDIT_WINDOW_SECONDS"]
    # Left by an earlier visit: a token whose window has closed, and one from before the
    # widget stored times. Seeded once, before the first load.
    seed = (
        "if (!sessionStorage.getItem('seeded')) { sessionStorage.setItem('seeded', '1');"
        f" localStorage.setItem('{TOKENS_KEY}', JSON.stringify({{"
        "'901': {token: 'lapsed', until: Date.now() - 1000}, '902': 'from-before'})); }"
    )
    page = new_page("guest", DESKTOP, seed)
    page.goto(live_server + "/demo")
    page.wait_for_selector(".cw-composer > *")
    assert _tokens(page) is None  # pruned on load

    page.get_by_label("Your name").fill("Ana")
    page.get_by_label("Your comment").fill("A guest's note, editable for a while.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".cw-status")).to_have_text("Your comment was posted.")
    tokens = _tokens(page)
    ((comment_id, entry),) = tokens.items()
    left = page.evaluate(f"{entry['until']} - Date.now()")
    assert window * 1000 - 30_000 < left <= window * 1000

    # While the window is open the token survives a reload and opens the comment.
    page.reload()
    actions = page.locator(f"#comment-{comment_id} > article > .cw-actions")
    expect(actions.get_by_role("button", name="Edit")).to_be_visible()

    # Once it has closed (moved into the past here), the next load forgets the token.
    page.evaluate(
        f"""() => {{
          const t = JSON.parse(localStorage.getItem('{TOKENS_KEY}'));
          for (const id in t) t[id].until = Date.now() - 1;
          localStorage.setItem('{TOKENS_KEY}', JSON.stringify(t));
        }}"""
    )
    page.reload()
    page.wait_for_selector(f"#comment-{comment_id}")
    assert _tokens(page) is None
    expect(actions.get_by_role("button", name="Edit")).to_have_count(0)
    expect(actions.get_by_role("button", name="Delete")).to_have_count(0)
