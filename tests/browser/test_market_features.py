"""Issue #18 in the browser: the widget's hot sort and slow-mode notice (phone and desktop),
and the console's spam scores and per-article surge controls."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from service.extensions import db
from service.models import Comment
from tests.browser import test_console as _console
from tests.browser import test_widget as _widget
from tests.browser.test_widget import ARTICLE, DESKTOP, PHONE, READER_B, as_reader
from tests.helpers import auth

MOD = auth("mod-9", roles=["moderator"], name="Mod")
# The fixtures these walk-throughs share with the widget's and the console's.
expect, open_page, say = _widget.expect, _widget.open_page, _widget.say
pages, open_console = _console.pages, _console.open_console
SHOTS = os.environ.get("COMMENTS_TEST_SHOTS")  # a folder: also save screenshots there


@pytest.fixture(autouse=True)
def _trained_seed() -> None:
    """Build the spam model's seed before a page waits on the first post (`flask migrate`
    does it in a deployment; a process without the artefact trains it at its first scored
    comment, which on a loaded machine can outlast the page's timeout)."""
    from service.spam import seed

    seed.seed_weights()


def _shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=True)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_slow_mode_notice_and_countdown(open_page, expect, client, viewport):
    r = client.patch(
        f"/api/v1/admin/articles/{ARTICLE}", json={"slow_mode_seconds": 120}, headers=MOD
    )
    assert r.status_code == 200
    page = open_page("reader-a", viewport=viewport)
    notice = page.locator(".cw-slow-mode")
    expect(notice).to_have_text(
        "Slow mode is on: each reader may post one comment every 120 seconds."
    )
    box = page.get_by_label("Your comment")
    box.fill("A first thought on the cloud numbers.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".cw-status")).to_have_text("Your comment was posted.")
    box.fill("And a second one, too soon.")
    page.get_by_role("button", name="Post comment").click()
    error = page.locator(".cw-composer .cw-error")
    pattern = re.compile(r"^Slow mode: you can post again in (\d+) seconds?\.$")
    expect(error).to_have_text(pattern)
    first = int(pattern.match(error.inner_text()).group(1))  # type: ignore[union-attr]
    assert 100 <= first <= 120
    page.wait_for_timeout(1200)
    later = int(pattern.match(error.inner_text()).group(1))  # type: ignore[union-attr]
    assert later < first
    expect(box).to_have_value("And a second one, too soon.")
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= viewport["width"]  # nothing pushes the page sideways
    _shot(page, f"slow-mode-{'phone' if viewport is PHONE else 'desktop'}.png")


def test_no_notice_without_slow_mode_and_for_moderators(open_page, expect, client):
    page = open_page("reader-a")
    expect(page.locator(".cw-slow-mode")).to_have_count(0)
    client.patch(f"/api/v1/admin/articles/{ARTICLE}", json={"slow_mode_seconds": 30}, headers=MOD)
    mod = open_page("moderator")
    expect(mod.get_by_label("Your comment")).to_be_visible()
    expect(mod.locator(".cw-slow-mode")).to_have_count(0)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_hot_sort_button(open_page, expect, say, app, viewport):
    old = say("An older comment that many liked.")
    new = say("A newer comment nobody voted on yet.")
    with app.app_context():
        db.session.execute(update(Comment).where(Comment.id == old["id"]).values(score=9))
        db.session.commit()
    page = open_page("reader-a", viewport=viewport)
    rows = page.locator(".cw-list > .cw-item")
    expect(rows.first).to_have_attribute("id", f"comment-{new['id']}")  # newest first
    if viewport is PHONE:  # a select there (test_the_sort_fits_one_row_on_a_phone)
        choice = page.get_by_role("combobox", name="Sort comments")
        choice.select_option("hot")
        expect(choice).to_have_value("hot")
    else:
        hot = page.get_by_role("button", name="Hot")
        hot.click()
        expect(hot).to_have_attribute("aria-pressed", "true")
    expect(rows.first).to_have_attribute("id", f"comment-{old['id']}")
    assert "sort=hot" in " ".join(page.requests)  # type: ignore[attr-defined]
    _shot(page, f"hot-{'phone' if viewport is PHONE else 'desktop'}.png")


def _box(locator: Any) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None
    return dict(box)


def test_the_sort_fits_one_row_on_a_phone(open_page, expect, say, axe_violations):
    """Six sort buttons took two rows on a phone, "Hot" alone on the second: a select
    there, one row, the same six choices under the same accessible name."""
    say("Something to sort.")
    page = open_page("reader-a", viewport=PHONE)
    expect(page.get_by_role("toolbar", name="Sort comments")).to_be_hidden()
    choice = page.get_by_role("combobox", name="Sort comments")
    expect(choice).to_be_visible()
    expect(choice.locator("option")).to_have_text(
        ["Newest", "Oldest", "Top", "Best", "Controversial", "Hot"]
    )
    expect(choice).to_have_value("newest")
    box = _box(choice)
    title = _box(page.locator(".cw-title"))
    assert box["height"] < 2 * title["height"] + 8, (box, title)  # one row, not two
    assert box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert not axe_violations(page, "comments-thread")
    _shot(page, "sort-phone.png")
    # The desktop keeps the buttons, and the select is out of the accessibility tree.
    page.set_viewport_size(DESKTOP)
    bar = page.get_by_role("toolbar", name="Sort comments")
    expect(bar).to_be_visible()
    expect(page.get_by_role("combobox", name="Sort comments")).to_have_count(0)
    buttons = bar.get_by_role("button")
    tops = {round(_box(buttons.nth(i))["y"]) for i in range(buttons.count())}
    assert len(tops) == 1, tops  # one row there too
    bar.get_by_role("button", name="Hot").click()
    page.set_viewport_size(PHONE)
    expect(page.get_by_role("combobox", name="Sort comments")).to_have_value("hot")
    _shot(page, "sort-phone-hot.png")
    if SHOTS:  # the header alone, at the phone's size
        page.locator(".cw-head").screenshot(path=str(Path(SHOTS) / "sort-phone-head.png"))


SPAMMY = "DM me on Telegram for signals, my VIP group made 400% on $BABA: t.me/babavipcalls"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_console_shows_spam_scores_and_sets_surge_controls(open_console, expect, client, viewport):
    r = client.post(
        f"/api/v1/articles/{ARTICLE}/comments",
        json={"body": SPAMMY},
        headers=as_reader(READER_B),
    )
    held = r.get_json()
    assert held["status"] == "pending"
    page = open_console(viewport=viewport)
    card = page.locator(f"#queue-{held['id']}")
    expect(card.locator(".why")).to_contain_text("spam model")
    score = card.locator(".spam-score")
    expect(score).to_have_text(re.compile(r"^(9\d|100)%$"))
    expect(score).to_have_class(re.compile(r"\bhigh\b"))
    _shot(page, f"console-spam-{'phone' if viewport is PHONE else 'desktop'}.png")

    page.get_by_role("tab", name="Threads").click()
    page.get_by_label("Article", exact=True).fill(ARTICLE)
    page.get_by_role("button", name="Open the thread").click()
    page.get_by_label("Slow mode (seconds between a reader's comments, 0: off)").fill("45")
    page.get_by_label("Hold new comments until (empty: no)").fill("2030-01-02T03:04")
    page.get_by_role("button", name="Save thread settings").click()
    expect(page.locator("#thread-facts")).to_contain_text("slow mode: one comment per 45 s")
    expect(page.locator("#thread-facts")).to_contain_text("premoderated until")
    settings = client.get(f"/api/v1/admin/articles/{ARTICLE}", headers=MOD).get_json()
    assert settings["slow_mode_seconds"] == 45
    assert settings["premoderation_until"].startswith("2030-01-0")
    public = client.get(f"/api/v1/articles/{ARTICLE}").get_json()
    assert public["slow_mode_seconds"] == 45
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= viewport["width"]
    _shot(page, f"console-surge-{'phone' if viewport is PHONE else 'desktop'}.png")
    # Turning both off again.
    page.get_by_label("Slow mode (seconds between a reader's comments, 0: off)").fill("0")
    page.get_by_label("Hold new comments until (empty: no)").fill("")
    page.get_by_role("button", name="Save thread settings").click()
    expect(page.locator("#thread-facts")).not_to_contain_text("slow mode")
    settings = client.get(f"/api/v1/admin/articles/{ARTICLE}", headers=MOD).get_json()
    assert settings["slow_mode_seconds"] == 0 and settings["premoderation_until"] is None
