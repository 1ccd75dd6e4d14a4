"""What service/domain/readers.py keeps of a reader, on the database: mutes, follows, the
e-mail address and the one-click unsubscribe. Each test was written against a surviving
mutant of that module (docs/reliability.md) and says what a reader would have met."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from service.domain import readers
from service.domain.errors import RuleError
from service.enums import EmailMode, MailState, NotificationKind
from service.extensions import db
from service.models import Article, Ban, Follow, Mute, Notification, ReaderSettings

T0 = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.timezone.utc)
T1 = T0 + dt.timedelta(hours=3)


def _mutes(session: Any) -> set[tuple[str, str]]:
    return set(map(tuple, session.execute(select(Mute.user_id, Mute.muted_id))))


def _follows(session: Any) -> set[tuple[str, str]]:
    return set(map(tuple, session.execute(select(Follow.user_id, Follow.article_id))))


def test_muting_yourself_is_refused_with_the_field_named(db_session: Any) -> None:
    with pytest.raises(RuleError) as refused:
        readers.mute(db_session, user_id="u-1", muted_id="u-1")
    error = refused.value
    assert (error.status, error.detail, error.kind, error.field) == (
        422,
        "You cannot mute yourself.",
        "validation-error",
        "user_id",
    )
    assert _mutes(db_session) == set()


def test_the_mute_limit_counts_only_the_readers_own_mutes(
    db_session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the limit the next mute is a 409 that says what to do; muting someone already
    muted is still fine, and other readers' mutes do not count against this one."""
    for who in ("x-1", "x-2", "x-3"):
        readers.mute(db_session, user_id="u-other", muted_id=who)
    monkeypatch.setattr(readers, "MAX_MUTES", 2)  # lowered after u-other muted three
    readers.mute(db_session, user_id="u-1", muted_id="a")
    readers.mute(db_session, user_id="u-1", muted_id="b")
    readers.mute(db_session, user_id="u-1", muted_id="a")  # again: nothing to refuse
    with pytest.raises(RuleError) as refused:
        readers.mute(db_session, user_id="u-1", muted_id="c")
    error = refused.value
    assert (error.status, error.kind, error.field) == (409, "too-many-mutes", None)
    assert error.detail == ("You have muted 2 people, the most there can be; unmute someone first.")
    assert readers.muted_ids(db_session, "u-1") == {"a", "b"}
    # Another reader with fewer mutes than the limit is not refused because of u-other's.
    readers.mute(db_session, user_id="u-2", muted_id="a")
    readers.mute(db_session, user_id="u-2", muted_id="b")
    assert readers.muted_ids(db_session, "u-2") == {"a", "b"}


def test_a_limit_of_one_mute_allows_one(db_session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "MAX_MUTES", 1)
    readers.mute(db_session, user_id="u-1", muted_id="a")
    with pytest.raises(RuleError):
        readers.mute(db_session, user_id="u-1", muted_id="b")


def test_unmuting_removes_one_readers_one_mute(db_session: Any) -> None:
    for user, muted in (("u-1", "a"), ("u-1", "b"), ("u-2", "a")):
        readers.mute(db_session, user_id=user, muted_id=muted, now=T0)
    readers.unmute(db_session, user_id="u-1", muted_id="a")
    assert _mutes(db_session) == {("u-1", "b"), ("u-2", "a")}
    assert set(db_session.scalars(select(Mute.created_at))) == {T0}


def test_unfollowing_removes_one_readers_one_follow(db_session: Any) -> None:
    for user, article in (("u-1", "a-1"), ("u-1", "a-2"), ("u-2", "a-1")):
        readers.follow(db_session, user_id=user, article_id=article, now=T0)
    readers.follow(db_session, user_id="u-1", article_id="a-1", now=T1)  # again: no change
    readers.unfollow(db_session, user_id="u-1", article_id="a-1")
    assert _follows(db_session) == {("u-1", "a-2"), ("u-2", "a-1")}
    assert not readers.follows(db_session, user_id="u-1", article_id="a-1")
    assert readers.follows(db_session, user_id="u-1", article_id="a-2")
    assert readers.follows(db_session, user_id="u-2", article_id="a-1")
    # The follow keeps the time it was made; following made the article, at that time.
    assert set(db_session.scalars(select(Follow.created_at))) == {T0}
    assert db_session.get(Article, "a-2").created_at == T0


def _instant(session: Any, user_id: str, address: str | None) -> None:
    session.add(
        ReaderSettings(
            user_id=user_id,
            email_mode=EmailMode.INSTANT if address else EmailMode.OFF,
            email_address=address,
            updated_at=T0,
        )
    )
    session.flush()


def _told(
    session: Any, user_id: str, article_id: str, comment_id: int, mail: MailState | None
) -> None:
    """A thread notification for ``user_id``, with its e-mail in state ``mail``."""
    session.add(
        Notification(
            user_id=user_id,
            kind=NotificationKind.THREAD,
            article_id=article_id,
            comment_id=comment_id,
            mail_state=mail.value if mail else None,
        )
    )


def test_a_new_address_in_the_token_replaces_the_stored_one(db_session: Any) -> None:
    """Only for a reader with instant e-mail, only when it changed, and a settings row
    already loaded in the session reads the new address (not a stale copy)."""
    _instant(db_session, "u-1", "old@example.com")
    _instant(db_session, "u-2", "two@example.com")
    _instant(db_session, "u-off", None)
    loaded = db_session.get(ReaderSettings, "u-1")
    assert loaded.email_address == "old@example.com"

    assert readers.remember_address(db_session, user_id="u-1", address="new@example.com", now=T1)
    assert loaded.email_address == "new@example.com" and loaded.updated_at == T1
    # The same address again, no address, a reader without instant e-mail: nothing changes.
    assert not readers.remember_address(db_session, user_id="u-1", address="new@example.com")
    assert not readers.remember_address(db_session, user_id="u-1", address=None)
    assert not readers.remember_address(db_session, user_id="u-off", address="x@example.com")
    rows = {
        r.user_id: (r.email_address, r.updated_at)
        for r in db_session.scalars(select(ReaderSettings))
    }
    assert rows == {
        "u-1": ("new@example.com", T1),
        "u-2": ("two@example.com", T0),
        "u-off": (None, T0),
    }


def test_unsubscribing_drops_only_that_readers_due_mail(app: Any, post: Any) -> None:
    comment = post("mail-a", "something to be told of").get_json()["id"]
    with app.app_context():
        session = db.session
        _instant(session, "u-1", "one@example.com")
        _instant(session, "u-2", "two@example.com")
        for user, state in (
            ("u-1", MailState.DUE),
            ("u-1", MailState.SENT),
            ("u-1", None),
            ("u-2", MailState.DUE),
        ):
            _told(session, user, "mail-a", comment, state)
        session.commit()
        readers.unsubscribe(session, user_id="u-1", now=T1)
        states = sorted(
            (user, state or "")
            for user, state in session.execute(
                select(Notification.user_id, Notification.mail_state)
            )
        )
        assert states == [
            ("u-1", ""),
            ("u-1", MailState.DROPPED.value),
            ("u-1", MailState.SENT.value),
            ("u-2", MailState.DUE.value),
        ]
        one = session.get(ReaderSettings, "u-1")
        assert (one.email_mode, one.email_address, one.updated_at) == (EmailMode.OFF, None, T1)
        assert session.get(ReaderSettings, "u-2").email_address == "two@example.com"


def test_instant_e_mail_is_refused_with_the_reason_on_the_email_field(db_session: Any) -> None:
    refusals = []
    for available, address in ((False, "mei@example.com"), (True, None)):
        with pytest.raises(RuleError) as refused:
            readers.update_settings(
                db_session,
                user_id="u-1",
                email=EmailMode.INSTANT,
                address=address,
                email_available=available,
            )
        error = refused.value
        refusals.append((error.status, error.detail, error.kind, error.field))
    assert refusals == [
        (422, "This site does not send notification e-mails.", "validation-error", "email"),
        (
            422,
            "Your sign-in does not include an e-mail address, so there is nowhere to send "
            "notifications; sign in again through the site once it has your address.",
            "validation-error",
            "email",
        ),
    ]
    assert db_session.get(ReaderSettings, "u-1") is None  # nothing stored


def test_a_first_setting_keeps_the_defaults_of_the_others(db_session: Any) -> None:
    """A reader's first change creates their settings: the rest stay as the defaults."""
    changed = readers.update_settings(
        db_session, user_id="u-1", email=EmailMode.OFF, address=None, email_available=True, now=T0
    )
    assert changed == readers.Settings(email=EmailMode.OFF, follow_on_post=True)
    changed = readers.update_settings(
        db_session, user_id="u-2", follow_on_post=False, address=None, email_available=True, now=T0
    )
    assert changed == readers.Settings(email=EmailMode.OFF, follow_on_post=False)
    row = db_session.get(ReaderSettings, "u-2")
    assert (row.email_address, row.updated_at) == (None, T0)


def test_turning_e_mail_off_forgets_the_address_and_drops_only_this_readers_due_mail(
    app: Any, post: Any
) -> None:
    comment = post("mail-b", "something to be told of").get_json()["id"]
    with app.app_context():
        session = db.session
        _instant(session, "u-1", "one@example.com")
        _instant(session, "u-2", "two@example.com")
        for user in ("u-1", "u-2"):
            _told(session, user, "mail-b", comment, MailState.DUE)
        session.commit()

        def states() -> dict[str, str | None]:
            return dict(
                map(tuple, session.execute(select(Notification.user_id, Notification.mail_state)))
            )

        # Staying on instant e-mail (a new address) drops nothing.
        readers.update_settings(
            session,
            user_id="u-2",
            email=EmailMode.INSTANT,
            address="new@example.com",
            email_available=True,
        )
        assert states() == {"u-1": "due", "u-2": "due"}
        readers.update_settings(
            session,
            user_id="u-1",
            email=EmailMode.OFF,
            address="one@example.com",  # the token still carries it; it is not kept
            email_available=True,
            now=T1,
        )
        assert states() == {"u-1": "dropped", "u-2": "due"}
        one = session.get(ReaderSettings, "u-1")
        assert (one.email_mode, one.email_address, one.updated_at) == (EmailMode.OFF, None, T1)


def test_a_ban_as_its_reader_sees_it(db_session: Any) -> None:
    """An open ban with its end; none once it has ended (at its very end too), and never a
    shadow ban."""
    db_session.add_all(
        Ban(
            user_id=user,
            reason=reason,
            expires_at=ends,
            shadow=shadow,
            created_by="mod-1",
            created_at=T0,
        )
        for user, reason, ends, shadow in (
            ("timed", "heated", T1, False),
            ("ever", None, None, False),
            ("shade", "spam", None, True),
        )
    )
    db_session.flush()
    assert readers.own_ban(db_session, "timed", now=T0) == readers.OwnBan("heated", T1)
    assert readers.own_ban(db_session, "timed", now=T1) is None
    assert readers.own_ban(db_session, "ever") == readers.OwnBan(None, None)
    assert readers.own_ban(db_session, "shade") is None
    assert readers.own_ban(db_session, "nobody") is None
    # Without a time given, it is now: a ban that ends tomorrow is still on.
    db_session.get(Ban, "timed").expires_at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(
        days=1
    )
    assert readers.own_ban(db_session, "timed") is not None
