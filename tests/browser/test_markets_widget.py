"""The widget's market features (#18), as a reader on a phone and on a desktop uses them:
cashtag links, the disclosure badge, the composer's disclosure picker (required here) and
"(edited)" opening the earlier versions. axe-core checks the widget with all of it open."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from service.web import demo
from tests.helpers import auth

ARTICLE = demo.ARTICLE["id"]
READER_B = demo.PERSONAS["reader-b"]
QUOTE = "https://news.example/quote/{symbol}"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {
        **settings,
        "COMMENTS_TICKER_URL_TEMPLATE": QUOTE,
        "COMMENTS_REQUIRE_DISCLOSURE": True,
    }


@pytest.fixture
def expect() -> Any:
    from playwright.sync_api import expect as expect_

    return expect_


def edited_comment(client: Any) -> dict[str, Any]:
    """Reader B's comment naming $BABA with a disclosure, edited once (a price target)."""
    who = auth(READER_B["sub"], name=READER_B["name"])
    r = client.post(
        f"/api/v1/articles/{ARTICLE}/comments",
        json={"body": "Target **$90** for $BABA by March.", "disclosure": {"BABA": "long"}},
        headers=who,
    )
    assert r.status_code == 201, r.get_json()
    c = r.get_json()
    r = client.patch(
        f"/api/v1/comments/{c['id']}",
        json={"body": "Target **$120** for $BABA by March.", "disclosure": {"BABA": "long"}},
        headers=who,
    )
    assert r.status_code == 200 and r.get_json()["revision_count"] == 1
    return r.get_json()


def shoot(page: Any, name: str, tmp_path: Path) -> Path:
    target = Path(os.environ.get("COMMENTS_SCREENSHOT_DIR") or tmp_path)
    path = target / f"markets-{name}.png"
    page.locator("comments-thread").screenshot(path=str(path))
    return path


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_cashtags_disclosures_and_edit_history(
    client, open_demo, expect, axe_violations, viewport, tmp_path
):
    c = edited_comment(client)
    page = open_demo("reader-a", viewport=viewport)
    article = page.locator(f"#comment-{c['id']} > article")

    # The cashtag is a link to the site's quote page; "$120" is money, not a cashtag.
    link = article.locator(".cw-body a.cashtag")
    expect(link).to_have_count(1)
    expect(link).to_have_text("$BABA")
    expect(link).to_have_attribute("href", "https://news.example/quote/BABA")
    expect(link).to_have_attribute("rel", "nofollow ugc noopener noreferrer")
    expect(article.locator(".cw-disclosure")).to_have_text("Discloses: long BABA")

    # "(edited)" opens what the comment said before.
    edited = article.get_by_role("button", name="(edited)")
    expect(edited).to_have_attribute("aria-expanded", "false")
    edited.click()
    expect(edited).to_have_attribute("aria-expanded", "true")
    history = article.get_by_role("region", name="Edit history")
    expect(history.locator("li")).to_have_count(1)
    expect(history.locator("li .cw-body")).to_contain_text("Target $90 for $BABA")
    expect(history.locator(".cw-version-when")).to_contain_text("Version of")

    # The composer asks for a position once the draft names a stock (required here).
    box = page.get_by_label("Your comment")
    picker = page.locator(".cw-composer .cw-disclose")
    expect(picker).to_be_hidden()
    box.fill("Tencent's $0700.HK is the better cloud bet than $JD. `$NOPE` is code.")
    expect(picker).to_be_visible()
    expect(picker.locator("legend")).to_have_text("Your position (required)")
    expect(picker.locator("label")).to_have_text(["$0700.HK", "$JD"])
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".cw-composer .cw-error")).to_have_text(
        "Disclose your position in the stocks you mention."
    )
    expect(page.get_by_label("$0700.HK")).to_be_focused()
    page.get_by_label("$0700.HK").select_option("short")
    page.get_by_label("$JD").select_option("none")
    assert not axe_violations(page, "comments-thread")
    shoot(page, "composer-" + ("phone" if viewport is PHONE else "desktop"), tmp_path)
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".cw-status")).to_have_text("Your comment was posted.")
    posted = client.get(f"/api/v1/articles/{ARTICLE}/comments").get_json()["items"][0]
    mine = page.locator(f"#comment-{posted['id']} > article")
    expect(mine.locator(".cw-disclosure")).to_have_text("Discloses: short 0700.HK, none JD")
    expect(mine.locator(".cw-body a.cashtag")).to_have_count(2)
    expect(picker).to_be_hidden()  # the composer starts afresh
    assert posted["tickers"] == ["0700.HK", "JD"]
    assert posted["disclosure"] == {"0700.HK": "short", "JD": "none"}
    edited.scroll_into_view_if_needed()
    shoot(page, "thread-" + ("phone" if viewport is PHONE else "desktop"), tmp_path)
    assert not axe_violations(page, "comments-thread")


def test_editing_keeps_the_disclosure_and_adds_a_version(client, open_demo, expect):
    page = open_demo("reader-a")
    box = page.get_by_label("Your comment")
    box.fill("Holding $BABA through earnings.")
    page.get_by_label("$BABA").select_option("long")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".cw-status")).to_have_text("Your comment was posted.")
    posted = client.get(f"/api/v1/articles/{ARTICLE}/comments").get_json()["items"][0]
    mine = page.locator(f"#comment-{posted['id']}")
    mine.get_by_role("button", name="Edit", exact=True).click()
    form = mine.locator(".cw-edit-form")
    expect(form.get_by_label("$BABA")).to_have_value("long")
    form.get_by_label("Edit your comment").fill("Holding $BABA through earnings, adding on dips.")
    form.get_by_role("button", name="Save changes").click()
    expect(page.locator(".cw-status")).to_have_text("Your changes were saved.")
    article = page.locator(f"#comment-{posted['id']} > article")
    expect(article.locator(".cw-disclosure")).to_have_text("Discloses: long BABA")
    article.get_by_role("button", name="(edited)").click()
    expect(article.locator(".cw-history li .cw-body")).to_have_text(
        "Holding $BABA through earnings."
    )
