"""Who is notified, as pure rules without Flask or a database (service/domain/notifications.py,
inbox.py, readers.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from service.domain.errors import RuleError
from service.domain.inbox import excerpt, permalink
from service.domain.notifications import (
    MAX_MENTIONS,
    Published,
    mention_candidates,
    moderation_outcome,
    moderation_recipient,
    recipients,
    resolve_mentions,
)
from service.domain.readers import unsubscribe_subject, unsubscribe_token, usable_address
from service.enums import ModerationOutcome, NotificationKind

REPLY, MENTION, THREAD = NotificationKind.REPLY, NotificationKind.MENTION, NotificationKind.THREAD

PEOPLE = [("u-mei", "Mei", 10), ("u-meil", "Mei Ling", 11), ("u-bob", "Bob", 5)]


def test_candidates_end_at_word_boundaries():
    found = mention_candidates("thanks @Mei Ling, good point")
    assert {"mei", "mei ling", "mei ling,"} <= found
    assert "me" not in found and "mei l" not in found


def test_an_at_sign_inside_a_word_or_address_mentions_nobody():
    assert mention_candidates("write to mei@example.com or foo@@Mei") == set()
    assert resolve_mentions("mail bob@Bob.example", PEOPLE) == []


def test_the_longest_name_after_an_at_sign_wins():
    assert resolve_mentions("@Mei Ling you are right", PEOPLE) == ["u-meil"]
    assert resolve_mentions("@Mei you are right", PEOPLE) == ["u-mei"]
    assert resolve_mentions("@mei ling and @BOB!", PEOPLE) == ["u-meil", "u-bob"]


def test_a_name_is_not_matched_as_the_start_of_a_longer_word():
    assert resolve_mentions("@Bobby said", PEOPLE) == []
    assert resolve_mentions("@Bob's point", PEOPLE) == ["u-bob"]


def test_a_shared_name_goes_to_whoever_wrote_last():
    people = [("u-old", "Sam", 3), ("u-new", "Sam", 9)]
    assert resolve_mentions("@Sam hi", people) == ["u-new"]


def test_mentions_are_bounded_and_deduplicated():
    people = [(f"u-{i}", f"Name{i}", i) for i in range(20)]
    text = " ".join(f"@Name{i}" for i in range(20)) + " @Name0"
    found = resolve_mentions(text, people)
    assert len(found) == MAX_MENTIONS and len(set(found)) == MAX_MENTIONS


def test_reply_beats_mention_beats_thread_and_one_each():
    comment = Published(
        author_id="author",
        shadowed=False,
        parent_author_id="parent",
        mentioned=["parent", "mentioned"],
        followers=["parent", "mentioned", "follower"],
    )
    assert recipients(comment, muted_by=()) == {
        "parent": REPLY,
        "mentioned": MENTION,
        "follower": THREAD,
    }


def test_never_the_author_nor_anyone_who_muted_them():
    comment = Published(
        author_id="author",
        shadowed=False,
        parent_author_id="author",  # a reply to oneself
        mentioned=["author", "muter"],
        followers=["author", "muter", "f"],
    )
    assert recipients(comment, muted_by={"muter"}) == {"f": THREAD}


def test_a_shadow_banned_authors_comment_notifies_nobody():
    comment = Published(author_id="a", shadowed=True, parent_author_id="p", followers=["f"])
    assert recipients(comment, muted_by=()) == {}


def test_a_guest_or_gone_parent_is_nobody_to_notify():
    comment = Published(author_id=None, shadowed=False, parent_author_id=None, followers=["f"])
    assert recipients(comment, muted_by=()) == {"f": THREAD}


@pytest.mark.parametrize(
    ("before", "after", "outcome"),
    [
        ("pending", "published", ModerationOutcome.APPROVED),
        ("hidden", "published", ModerationOutcome.APPROVED),
        ("removed", "published", ModerationOutcome.APPROVED),
        ("published", "removed", ModerationOutcome.REMOVED),
        ("pending", "removed", ModerationOutcome.REMOVED),
        ("published", "deleted", None),
        ("published", "pending", None),
        ("published", "hidden", None),
        ("published", "published", None),
    ],
)
def test_what_a_status_change_tells_the_author(before, after, outcome):
    assert moderation_outcome(before, after) == outcome


def test_a_moderators_decision_on_their_own_comment_or_a_guests_notifies_nobody():
    assert moderation_recipient("u-1", "mod") == "u-1"
    assert moderation_recipient("mod", "mod") is None
    assert moderation_recipient(None, "mod") is None


def test_excerpt_is_text_not_markup_and_cut_at_200():
    assert excerpt("<p>a <strong>b</strong> &amp; c</p><p>d</p>") == "a b & c d"
    long = excerpt("<p>" + "x" * 300 + "</p>")
    assert long is not None and len(long) == 200 and long.endswith("\u2026")
    assert excerpt(None) is None


def test_an_excerpt_of_exactly_200_characters_is_whole_and_a_cut_leaves_no_space():
    """Mutation testing (#22): ``len(text) >= length`` cut a 200-character comment that fits,
    and ``lstrip`` for ``rstrip`` left a space before the ellipsis when the cut fell after a
    word."""
    fits = "y" * 200
    assert excerpt(f"<p>{fits}</p>") == fits
    cut = excerpt("<p>" + "z" * 198 + " and more words</p>")
    assert cut == "z" * 198 + "\u2026" and len(cut) == 199


def test_permalink_fills_the_template_and_escapes_the_article():
    template = "https://news.example/{article_id}#comment-{comment_id}"
    assert permalink(template, "a:b", 7) == "https://news.example/a%3Ab#comment-7"
    assert permalink(None, "a", 7) is None
    # A slash in an article id is escaped too, or the link would point at another path
    # (mutation testing, #22: ``quote(article_id)`` keeps "/" by default).
    assert permalink(template, "news/2026/x", 7) == "https://news.example/news%2F2026%2Fx#comment-7"


@pytest.mark.parametrize(
    ("claim", "usable"),
    [
        ("mei@example.com", "mei@example.com"),
        (" mei@example.com ", "mei@example.com"),
        ("no-at-sign", None),
        ("two@@example.com", None),
        ("@example.com", None),  # nobody before the "@"
        ("mei@", None),  # nowhere after it
        ("line\nbreak@example.com", None),
        ("Mei <mei@example.com>", None),
        ("x" * 320 + "@e.com", None),
        ("a@b", "a@b"),  # the shortest, 3 characters
        ("x" * 314 + "@e.com", "x" * 314 + "@e.com"),  # the longest, 320
        ("x" * 315 + "@e.com", None),  # 321
        (42, None),
        (None, None),
    ],
)
def test_usable_address(claim, usable):
    assert usable_address(claim) == usable


def test_unsubscribe_tokens_are_signed_and_expire():
    token = unsubscribe_token("secret", "u-1")
    assert unsubscribe_subject("secret", token) == "u-1"
    with pytest.raises(RuleError) as other_key:
        unsubscribe_subject("another secret", token)
    assert other_key.value.status == 400
    with pytest.raises(RuleError) as edited:
        unsubscribe_subject("secret", token[:-2] + "xx")
    assert edited.value.status == 400
    with pytest.raises(RuleError) as expired:
        unsubscribe_subject("secret", token, max_age=dt.timedelta(seconds=-1))
    assert "expired" in expired.value.detail


EXPIRED = (
    "This unsubscribe link has expired; turn e-mail off in the comments' settings instead, "
    "or use the link in a newer e-mail."
)
NOT_VALID = "This unsubscribe link is not valid."


@pytest.mark.parametrize(
    "token, secret, max_age, detail",
    [
        (unsubscribe_token("secret", "u-1"), "secret", dt.timedelta(seconds=-1), EXPIRED),
        (unsubscribe_token("secret", "u-1"), "another secret", dt.timedelta(days=1), NOT_VALID),
        ("not-a-token", "secret", dt.timedelta(days=1), NOT_VALID),
        # Signed by us but naming nobody: an empty or non-text subject.
        (unsubscribe_token("secret", ""), "secret", dt.timedelta(days=1), NOT_VALID),
        (unsubscribe_token("secret", 42), "secret", dt.timedelta(days=1), NOT_VALID),  # type: ignore[arg-type]
    ],
)
def test_every_refused_unsubscribe_link_is_a_400_on_the_token(token, secret, max_age, detail):
    """The page shows the detail, and the problem names the token as what is wrong."""
    with pytest.raises(RuleError) as refused:
        unsubscribe_subject(secret, token, max_age=max_age)
    error = refused.value
    assert (error.status, error.detail, error.kind, error.field) == (
        400,
        detail,
        "invalid-token",
        "token",
    )


def test_a_name_is_matched_up_to_80_characters_and_six_words():
    """Mutation testing (#22): the window after an "@" cut to 79 characters, or ``< MAX_NAME``,
    missed a display name of the full 80; a word count starting at 2, counting by 2, or
    stopping at the sixth word missed a six-word name; a count that never grew (``words = 1``,
    ``-= 1``, counting only after a double space or after a word of two letters or more)
    matched a seventh word, past the bound on the work one "@" costs."""
    longest = "Hubert " + "W" * 73
    six = "Ana de la Cruz y Vega"
    seven = "Juan Carlos de la Cruz y Vega"
    people = [("u-long", longest, 1), ("u-six", six, 2), ("u-seven", seven, 3)]
    assert len(longest) == 80
    assert resolve_mentions(f"@{longest} agreed", people) == ["u-long"]
    assert resolve_mentions(f"thanks @{six}, and", people) == ["u-six"]
    assert resolve_mentions(f"thanks @{seven}, and", people) == []
    assert "juan carlos de la cruz y" in mention_candidates(f"@{seven}")
    assert "juan carlos de la cruz y vega" not in mention_candidates(f"@{seven}")


def test_names_of_one_letter_initials_x_and_underscores():
    """Mutation testing (#22): the scan from the second character missed a one-letter name; a
    name ending in an initial ("Jan B") was missed when the character two back was read for
    the one before; "_" taken as the end of a name mentioned Bob in "@Bob_fan"; an "X" taken
    for a line break ended "Li Xu" after "Li"; and a mention followed by a space at the end of
    the text or of the 81-character window raised IndexError with the next character read."""
    people = [("u-q", "Q", 1), ("u-jan", "Jan B", 2), ("u-bob", "Bob", 3), ("u-li", "Li Xu", 4)]
    assert resolve_mentions("@Q thanks", people) == ["u-q"]
    assert resolve_mentions("as @Jan B. said", people) == ["u-jan"]
    assert resolve_mentions("@Bob_fan agrees", people) == []
    assert resolve_mentions("@Li Xu: yes", people) == ["u-li"]
    assert resolve_mentions("thanks @Bob ", people) == ["u-bob"]
    link = "https://example.com/" + "p" * 56  # the space after it is the window's last character
    assert resolve_mentions(f"@Bob {link} more", people) == ["u-bob"]


def test_only_the_first_30_at_signs_are_looked_at():
    """Mutation testing (#22): ``n > MAX_AT_SIGNS`` looked at a 31st "@", and ``return`` for
    ``break`` made mention_candidates answer None for a body with more than 30, which the
    caller took for "no candidates" (so none of its mentions counted)."""
    text = " ".join(f"@n{i}" for i in range(31))
    found = mention_candidates(text)
    assert found is not None and "n29" in found and "n30" not in found
    assert resolve_mentions("@Bob " * 30 + "@Mei", PEOPLE) == ["u-bob"]
