"""Walk-throughs of the widget on the demo page, as a reader would use it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from service.extensions import db
from service.web import demo
from tests.conftest import auth

ARTICLE = demo.ARTICLE["id"]
READER_A = demo.PERSONAS["reader-a"]
READER_B = demo.PERSONAS["reader-b"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


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


def test_empty_thread_invites_the_first_comment(open_demo, expect):
    page = open_demo("reader-a")
    empty = page.locator(".cw-empty")
    expect(empty).to_be_visible()
    expect(empty).to_contain_text("Be the first to comment")
    expect(page.locator(".cw")).not_to_contain_text("No comments yet")
    expect(page.get_by_label("Your comment")).to_be_visible()
    expect(page.locator(".cw-count")).to_have_text("")


def test_post_a_comment(open_demo, expect, client):
    page = open_demo("reader-a")
    page.get_by_label("Your comment").fill("Cloud margins matter **more** than model benchmarks.")
    page.get_by_role("button", name="Post comment").click()

    expect(page.locator(".cw-status")).to_have_text("Your comment was posted.")
    posted = thread(client)["items"]
    assert [c["body"] for c in posted] == ["Cloud margins matter **more** than model benchmarks."]
    assert posted[0]["author"]["id"] == READER_A["sub"]
    article = own_article(page, posted[0]["id"])
    expect(article).to_be_focused()  # focus lands on what was just posted
    expect(article.locator(".cw-author")).to_have_text(READER_A["name"])
    expect(article.locator(".cw-body strong")).to_have_text("more")  # the server's body_html
    expect(page.locator(".cw-count")).to_have_text("(1)")
    expect(page.locator(".cw-empty")).to_be_hidden()
    expect(page.get_by_label("Your comment")).to_have_value("")


def test_reply_with_the_keyboard(open_demo, expect, say, client):
    parent = say("Is the capex guidance credible?")
    page = open_demo("reader-a")
    own_article(page, parent["id"]).get_by_role("button", name="Reply").focus()
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


def test_react_and_unreact(open_demo, expect, say, client):
    comment = say("Open weights are a distribution strategy.")
    page = open_demo("reader-a")
    like = own_article(page, comment["id"]).get_by_role("button", name=re.compile(r"^Like "))
    expect(like).to_have_attribute("aria-pressed", "false")

    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    expect(like).to_have_accessible_name("Like (1)")
    mine = thread(client)["items"][0]
    assert mine["reactions"] == {"like": 1} and mine["my_reactions"] == ["like"]

    like.click()
    expect(like).to_have_attribute("aria-pressed", "false")
    expect(like).to_have_accessible_name("Like (0)")
    assert thread(client)["items"][0]["reactions"] == {}


def test_guest_cannot_react_and_is_told_why(open_demo, expect, say):
    comment = say("Visible to everyone.")
    page = open_demo("guest")
    own_article(page, comment["id"]).get_by_role("button", name=re.compile(r"^Like ")).click()
    expect(page.locator(".cw-alert")).to_have_text("Sign in to react to comments.")


def test_edit_own_comment(open_demo, expect, say, client):
    mine = say("Alibaba's cloud grew fast.", who=READER_A)
    theirs = say("Someone else's view.")
    page = open_demo("reader-a")
    expect(own_article(page, theirs["id"]).get_by_role("button", name="Edit")).to_have_count(0)

    own_article(page, mine["id"]).get_by_role("button", name="Edit").click()
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
    open_demo, expect, say, client
):
    lonely = say("Delete me.", who=READER_A)
    answered = say("Answered, then deleted.", who=READER_A)
    reply = say("A reply that keeps the thread.", parent_id=answered["id"])
    page = open_demo("reader-a")
    expect(page.locator(".cw-count")).to_have_text("(3)")

    own_article(page, lonely["id"]).get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Keep it").click()  # changing one's mind changes nothing
    expect(item(page, lonely["id"])).to_be_visible()
    own_article(page, lonely["id"]).get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Yes, delete").click()
    expect(item(page, lonely["id"])).to_have_count(0)

    own_article(page, answered["id"]).get_by_role("button", name="Delete").click()
    page.get_by_role("button", name="Yes, delete").click()
    expect(own_article(page, answered["id"])).to_have_text(
        "This comment was deleted by its author."
    )
    expect(own_article(page, reply["id"])).to_contain_text("A reply that keeps the thread.")
    expect(page.locator(".cw-count")).to_have_text("(1)")
    items = thread(client)["items"]
    assert [(c["id"], c["status"]) for c in items] == [(answered["id"], "deleted")]


def test_flag_a_comment(open_demo, expect, say, app, request):
    if not any(rule.rule.endswith("/flags") for rule in app.url_map.iter_rules()):
        request.node.add_marker(
            pytest.mark.xfail(
                reason="POST /api/v1/comments/{id}/flags is built on another branch; "
                "this walk-through passes once it is merged",
                strict=True,
            )
        )
    comment = say("Buy now, guaranteed 10x, click my link!")
    page = open_demo("reader-a")
    report = own_article(page, comment["id"]).get_by_role("button", name="Report")
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


def test_sort_switch(open_demo, expect, say, client):
    first = say("First and least liked.")
    second = say("Second and most liked.")
    third = say("Third, newest.")
    for user in ("u-1", "u-2"):
        assert (
            client.put(
                f"/api/v1/comments/{second['id']}/reactions/like", headers=auth(user)
            ).status_code
            == 200
        )
    assert (
        client.put(
            f"/api/v1/comments/{first['id']}/reactions/dislike", headers=auth("u-3")
        ).status_code
        == 200
    )

    page = open_demo("reader-a")
    rows = page.locator(".cw-list > .cw-item")
    expect(rows).to_have_count(3)

    def ids() -> list[int]:
        return [
            int(x.removeprefix("comment-")) for x in rows.evaluate_all("els => els.map(e => e.id)")
        ]

    assert ids() == [third["id"], second["id"], first["id"]]
    expect(page.get_by_role("button", name="Newest")).to_have_attribute("aria-pressed", "true")

    page.get_by_role("button", name="Oldest").click()
    expect(rows.first).to_have_id(f"comment-{first['id']}")
    assert ids() == [first["id"], second["id"], third["id"]]
    expect(page.get_by_role("button", name="Oldest")).to_have_attribute("aria-pressed", "true")

    page.get_by_role("button", name="Top").click()
    expect(rows.first).to_have_id(f"comment-{second['id']}")
    assert ids() == [second["id"], third["id"], first["id"]]

    page.get_by_role("button", name="Best").click()
    expect(page.get_by_role("button", name="Best")).to_have_attribute("aria-pressed", "true")
    expect(rows.first).to_have_id(f"comment-{second['id']}")


def test_load_more_comments(open_demo, expect, say):
    posted = [say(f"Comment number {i}.") for i in range(23)]
    page = open_demo("reader-a")
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


def test_show_more_replies_attaches_each_to_its_parent(few_replies, open_demo, expect, say):
    root = say("Root.")
    a = say("Reply A.", parent_id=root["id"])
    b = say("Reply B.", parent_id=root["id"])
    a1 = say("Reply to A.", parent_id=a["id"])
    c = say("Reply C.", parent_id=root["id"])
    page = open_demo("reader-a")
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


@pytest.fixture
def one_comment_a_minute(settings: dict[str, Any]) -> dict[str, Any]:
    settings.update(
        RATELIMIT_ENABLED=True, COMMENTS_LIMIT_COMMENT="1/minute", RATELIMIT_STORAGE_URI="memory://"
    )
    return settings


def test_rate_limited_post_says_when_to_retry(one_comment_a_minute, open_demo, expect):
    page = open_demo("reader-a")
    box = page.get_by_label("Your comment")
    box.fill("First thoughts.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".cw-status")).to_have_text("Your comment was posted.")
    box.fill("Second thoughts, too soon.")
    page.get_by_role("button", name="Post comment").click()
    error = page.locator(".cw-composer .cw-error")
    expect(error).to_have_text(re.compile(r"^Too many comments, try again in \d+ s\.$"))
    expect(box).to_have_value("Second thoughts, too soon.")  # nothing typed is lost
    expect(page.locator(".cw-list > .cw-item")).to_have_count(1)


def test_guest_posts_with_a_name_and_edits_with_the_edit_token(open_demo, expect, client):
    page = open_demo("guest")
    page.get_by_label("Your name").fill("Ana")
    page.get_by_label("Your comment").fill("Guest view: the chip question matters most.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".cw-status")).to_have_text("Your comment was posted.")
    (posted,) = thread(client)["items"]
    assert posted["author"] == {"id": None, "name": "Ana", "is_guest": True, "is_moderator": False}
    article = own_article(page, posted["id"])
    expect(article.locator(".cw-badge")).to_have_text("Guest")

    page.reload()  # the edit token survives in localStorage
    article.get_by_role("button", name="Edit").click()
    page.get_by_label("Edit your comment").fill("Guest view, edited: chips matter most.")
    page.get_by_role("button", name="Save changes").click()
    expect(article.locator(".cw-body")).to_have_text("Guest view, edited: chips matter most.")
    assert thread(client)["items"][0]["body"] == "Guest view, edited: chips matter most."


@pytest.fixture
def premoderated(settings: dict[str, Any]) -> dict[str, Any]:
    settings["COMMENTS_PREMODERATION"] = "all"
    return settings


def test_held_comment_shows_a_notice(premoderated, open_demo, expect):
    page = open_demo("reader-b")
    page.get_by_label("Your comment").fill("This one waits for a moderator.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".cw-status")).to_contain_text("held for review")
    expect(page.locator(".cw-notice")).to_contain_text("only you can see this comment")
    expect(page.locator(".cw-count")).to_have_text("")  # not counted until approved


def test_switching_identity_reloads_the_widget(open_demo, expect, say):
    mine = say("Reader A's comment.", who=READER_A)
    page = open_demo("reader-a")
    expect(own_article(page, mine["id"]).get_by_role("button", name="Delete")).to_be_visible()
    page.get_by_role("radio", name=re.compile("Reader B")).check()
    expect(page.locator("#demo-status")).to_have_text(f"Signed in as {READER_B['name']}")
    expect(own_article(page, mine["id"]).get_by_role("button", name="Delete")).to_have_count(0)
    expect(own_article(page, mine["id"]).get_by_role("button", name="Report")).to_be_visible()
    page.get_by_role("radio", name=re.compile("Moderator")).check()
    expect(own_article(page, mine["id"]).get_by_role("button", name="Remove")).to_be_visible()


def test_screenshots_of_the_demo(app, open_demo, expect):
    with app.app_context():
        assert demo.seed(db.session, app.config) > 0
        db.session.commit()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = open_demo("reader-a", viewport={"width": 1280, "height": 900})
    expect(page.locator(".cw-list > .cw-item").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "demo-desktop.png"), full_page=True)

    phone = open_demo("reader-a", viewport={"width": 390, "height": 844})
    expect(phone.locator(".cw-list > .cw-item").first).to_be_visible()
    top = phone.locator(".comments").bounding_box()
    assert top is not None
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page scrolls sideways on a phone"
    phone.screenshot(
        path=str(SCREENSHOTS / "demo-phone.png"),
        full_page=True,
        clip={"x": 0, "y": max(0, top["y"] - 240), "width": 390, "height": 1600},
    )
