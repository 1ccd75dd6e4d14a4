"""The widget's notifications (#15) as readers use them, on a desktop and a phone: the bell
and its panel (keyboard, screen-reader labels, axe), following a notification to its
comment, "Follow thread", "Mute" in a comment's toolbar, and a banned reader told why."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from service.extensions import db
from service.models import Ban
from tests.browser import test_widget as widget
from tests.browser.test_widget import (
    ARTICLE,
    DESKTOP,
    PHONE,
    READER_A,
    READER_B,
    as_reader,
    own_article,
    toolbar,
)
from tests.helpers import auth

# The widget walk-throughs' fixtures, shared by name.
open_page, expect, say = widget.open_page, widget.expect, widget.say
SHOTS = os.environ.get("COMMENTS_SCREENSHOT_DIR")


def shot(page: Any, name: str, tmp_path: Path) -> None:
    """Keep a screenshot: in COMMENTS_SCREENSHOT_DIR (make screenshots), else beside the test."""
    target = Path(SHOTS) if SHOTS else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    page.locator("comments-thread").first.screenshot(path=str(target / f"{name}.png"))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_bell_panel_and_following_a_notification(
    open_page, expect, say, client, axe_violations, viewport, tmp_path
):
    mine = say("Margins will compress next quarter.", who=READER_A)
    reply = say("I doubt it: pricing power is intact.", parent_id=mine["id"])
    say(
        f"@{READER_A['name']} what about the cloud unit?",
        who={**READER_B, "sub": "u-3", "name": "Ana"},
    )
    page = open_page("reader-a", viewport=viewport)
    expect(page.get_by_role("button", name="Notifications, 2 unread")).to_be_visible()
    bell = page.locator(".cw-bell")
    expect(bell).to_have_attribute("aria-expanded", "false")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    bell.focus()
    page.keyboard.press("Enter")
    panel = page.locator(".cw-notes")
    expect(panel).to_be_visible()
    expect(bell).to_have_attribute("aria-expanded", "true")
    expect(panel.locator(".cw-notes-title")).to_be_focused()
    notes = panel.locator("a.cw-note")
    expect(notes).to_have_count(2)
    expect(notes.nth(0)).to_contain_text("Ana mentioned you")
    expect(notes.nth(1)).to_contain_text(f"{READER_B['name']} replied to your comment")
    expect(notes.nth(1)).to_contain_text("pricing power is intact")
    expect(notes.nth(1)).to_have_attribute("href", f"#comment-{reply['id']}")
    expect(panel.locator(".cw-unread")).to_have_count(2)
    assert axe_violations(page) == []
    shot(page, f"notifications-{'phone' if viewport is PHONE else 'desktop'}", tmp_path)

    notes.nth(1).click()  # marks it read and shows the reply
    expect(panel).to_be_hidden()
    expect(own_article(page, reply["id"])).to_be_focused()
    expect(page.get_by_role("button", name="Notifications, 1 unread")).to_be_visible()
    assert page.evaluate("location.hash") == f"#comment-{reply['id']}"
    unread = client.get("/api/v1/me", headers=as_reader(READER_A)).get_json()
    assert unread["unread_notifications"] == 1

    bell.click()
    expect(panel).to_be_visible()
    panel.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_role("button", name="Notifications", exact=True)).to_be_visible()
    expect(panel.locator(".cw-unread")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(page.get_by_role("button", name="Notifications", exact=True)).to_be_focused()


def test_follow_thread_toggle(open_page, expect, client):
    page = open_page("reader-a")
    follow = page.get_by_role("button", name="Follow thread")
    expect(follow).to_have_attribute("aria-pressed", "false")
    follow.click()
    following = page.get_by_role("button", name="Following thread")
    expect(following).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".cw-status")).to_contain_text("You follow this thread")
    article = client.get(f"/api/v1/articles/{ARTICLE}", headers=as_reader(READER_A)).get_json()
    assert article["subscribed"] is True
    following.click()
    expect(page.get_by_role("button", name="Follow thread")).to_have_attribute(
        "aria-pressed", "false"
    )
    article = client.get(f"/api/v1/articles/{ARTICLE}", headers=as_reader(READER_A)).get_json()
    assert article["subscribed"] is False


def test_mute_collapses_and_show_reveals(open_page, expect, say, client, tmp_path):
    theirs = say("Buy the dip, obviously.")
    page = open_page("reader-a")
    toolbar(page, theirs["id"]).get_by_role("button", name="Mute").click()
    article = own_article(page, theirs["id"])
    expect(article).to_contain_text(f"You muted {READER_B['name']}.")
    expect(article.locator(".cw-body")).to_have_count(0)
    expect(toolbar(page, theirs["id"]).get_by_role("button", name="Unmute")).to_be_focused()
    shot(page, "notifications-muted", tmp_path)

    page.reload()  # the service remembers: the comment arrives with "muted": true
    page.wait_for_selector(".cw-composer > *")
    article = own_article(page, theirs["id"])
    expect(article).to_contain_text(f"You muted {READER_B['name']}.")
    article.get_by_role("button", name="Show comment").click()
    expect(article.locator(".cw-body")).to_contain_text("Buy the dip")
    expect(article.locator(".cw-body")).to_be_focused()

    toolbar(page, theirs["id"]).get_by_role("button", name="Unmute").click()
    # The button flips back only once the DELETE has answered; the note was already gone
    # (the comment was shown), so it proves nothing about the service on its own.
    expect(toolbar(page, theirs["id"]).get_by_role("button", name="Mute")).to_be_visible()
    expect(article.locator(".cw-muted-note")).to_have_count(0)
    r = client.get(f"/api/v1/articles/{ARTICLE}/comments", headers=as_reader(READER_A))
    assert "muted" not in r.get_json()["items"][0]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_banned_reader_sees_why_instead_of_the_composer(
    app, open_page, expect, axe_violations, viewport, tmp_path
):
    with app.app_context():
        db.session.add(
            Ban(user_id=READER_A["sub"], created_by="m", reason="Repeated spam links", shadow=False)
        )
        db.session.commit()
    page = open_page("reader-a", viewport=viewport)
    banned = page.locator(".cw-banned")
    expect(banned).to_contain_text("You cannot comment here.")
    expect(banned).to_contain_text("Reason: Repeated spam links")
    expect(page.get_by_label("Your comment")).to_have_count(0)
    assert axe_violations(page) == []
    shot(page, f"notifications-banned-{'phone' if viewport is PHONE else 'desktop'}", tmp_path)


def test_a_link_to_a_comment_not_on_the_first_page_shows_it(
    open_page, expect, say, client, live_server
):
    first = say("The oldest comment.")
    for i in range(25):
        client.post(
            f"/api/v1/articles/{ARTICLE}/comments",
            json={"body": f"filler {i}"},
            headers=auth(f"filler-{i}", name=f"Filler {i}"),
        )
    page = open_page("reader-a", url=f"{live_server}/demo#comment-{first['id']}")
    expect(own_article(page, first["id"])).to_be_focused()
    expect(own_article(page, first["id"])).to_contain_text("The oldest comment.")
