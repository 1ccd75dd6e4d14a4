"""What a signed-in reader keeps for themselves (#15): settings, followed threads, muted
people, and what the right to erasure removes of them.

E-mail addresses come only from the reader's token and are stored only while their e-mail
setting is ``instant`` (the job that sends needs one); turning e-mail off, an unsubscribe
link, or erasure wipes the address.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from ..enums import EmailMode, MailState
from ..models import Ban, Follow, Mute, Notification, ReaderSettings, utcnow
from .comments import ensure_article
from .errors import RuleError
from .notifications import _insert

MAX_MUTES = 500  # bounds what every listing reads of a reader's mutes
MAX_ADDRESS = 320
UNSUBSCRIBE_TTL = dt.timedelta(days=60)  # how long an e-mail's unsubscribe link works
_UNSUBSCRIBE_SALT = "comments-unsubscribe-v1"


@dataclass(frozen=True)
class Settings:
    email: EmailMode = EmailMode.OFF
    follow_on_post: bool = True


def settings_of(session: Session, user_id: str) -> Settings:
    row = session.get(ReaderSettings, user_id)
    if row is None:
        return Settings()
    return Settings(email=EmailMode(row.email_mode), follow_on_post=row.follow_on_post)


def usable_address(claim: Any) -> str | None:
    """A token's ``email`` claim, if it can be an address to send to (one line, one "@",
    at most 320 characters); None otherwise. Nothing else is checked: the host site vouches
    for its readers' addresses."""
    if not isinstance(claim, str):
        return None
    address: str = claim.strip()
    if (
        not 3 <= len(address) <= MAX_ADDRESS
        or address.count("@") != 1
        or address.startswith("@")
        or address.endswith("@")
        or any(ch.isspace() or ord(ch) < 32 or ch in '<>,;"\\' for ch in address)
    ):
        return None
    return address


def _row(session: Session, user_id: str, now: dt.datetime) -> ReaderSettings:
    row = session.get(ReaderSettings, user_id)
    if row is None:
        session.execute(
            _insert(session, ReaderSettings)
            .values(
                user_id=user_id,
                email_mode=EmailMode.OFF,
                follow_on_post=True,
                email_address=None,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["user_id"])
        )
        row = session.get(ReaderSettings, user_id)
        assert row is not None
    return row


def update_settings(
    session: Session,
    *,
    user_id: str,
    email: EmailMode | None = None,
    follow_on_post: bool | None = None,
    address: str | None,
    email_available: bool,
    now: dt.datetime | None = None,
) -> Settings:
    """Change a reader's settings. ``address``: the usable address of the caller's token
    (None when it carries none); ``email_available``: whether this service sends e-mail."""
    now = now or utcnow()
    if email == EmailMode.INSTANT:
        if not email_available:
            raise RuleError(
                422,
                "This site does not send notification e-mails.",
                kind="validation-error",
                field="email",
            )
        if address is None:
            raise RuleError(
                422,
                "Your sign-in does not include an e-mail address, so there is nowhere to send "
                "notifications; sign in again through the site once it has your address.",
                kind="validation-error",
                field="email",
            )
    row = _row(session, user_id, now)
    if follow_on_post is not None:
        row.follow_on_post = follow_on_post
    if email is not None:
        row.email_mode = email
        row.email_address = address if email == EmailMode.INSTANT else None
        if email == EmailMode.OFF:
            _drop_due_mail(session, user_id)
    row.updated_at = now
    session.flush()
    return settings_of(session, user_id)


def remember_address(
    session: Session, *, user_id: str, address: str | None, now: dt.datetime | None = None
) -> bool:
    """Keep the address current for a reader with instant e-mail (their token carries the
    site's latest one); True when it changed. Nothing is stored for anyone else."""
    if address is None:
        return False
    result = session.execute(
        update(ReaderSettings)
        .where(
            ReaderSettings.user_id == user_id,
            ReaderSettings.email_mode == EmailMode.INSTANT,
            ReaderSettings.email_address.is_distinct_from(address),
        )
        .values(email_address=address, updated_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    _expire(session, user_id)
    return bool(getattr(result, "rowcount", 0))


def _expire(session: Session, user_id: str) -> None:
    """After a Core UPDATE: a loaded settings row reads the database again."""
    loaded = session.identity_map.get(identity_key(ReaderSettings, user_id))
    if loaded is not None:
        session.expire(loaded)


def _drop_due_mail(session: Session, user_id: str) -> None:
    session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.mail_state == MailState.DUE.value)
        .values(mail_state=MailState.DROPPED.value)
        .execution_options(synchronize_session=False)
    )


def unsubscribe_token(secret: str, user_id: str) -> str:
    """The signed, expiring token of an e-mail's one-click unsubscribe link."""
    return URLSafeTimedSerializer(secret, salt=_UNSUBSCRIBE_SALT).dumps(user_id)


def unsubscribe_subject(secret: str, token: str, *, max_age: dt.timedelta = UNSUBSCRIBE_TTL) -> str:
    """The reader an unsubscribe token names; 400 when it is not one of ours or expired."""
    serializer = URLSafeTimedSerializer(secret, salt=_UNSUBSCRIBE_SALT)
    try:
        user_id = serializer.loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired:
        raise RuleError(
            400,
            "This unsubscribe link has expired; turn e-mail off in the comments' settings "
            "instead, or use the link in a newer e-mail.",
            kind="invalid-token",
            field="token",
        ) from None
    except BadSignature:
        raise RuleError(
            400, "This unsubscribe link is not valid.", kind="invalid-token", field="token"
        ) from None
    if not isinstance(user_id, str) or not user_id:
        raise RuleError(
            400, "This unsubscribe link is not valid.", kind="invalid-token", field="token"
        )
    return user_id


def unsubscribe(session: Session, *, user_id: str, now: dt.datetime | None = None) -> None:
    """The one-click unsubscribe of an e-mail: e-mail off, the address forgotten."""
    now = now or utcnow()
    session.execute(
        update(ReaderSettings)
        .where(ReaderSettings.user_id == user_id)
        .values(email_mode=EmailMode.OFF, email_address=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    _expire(session, user_id)
    _drop_due_mail(session, user_id)


# --- follows ------------------------------------------------------------------------------


def follow(
    session: Session, *, user_id: str, article_id: str, now: dt.datetime | None = None
) -> None:
    now = now or utcnow()
    ensure_article(session, article_id, now)
    session.execute(
        _insert(session, Follow)
        .values(article_id=article_id, user_id=user_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["article_id", "user_id"])
    )


def unfollow(session: Session, *, user_id: str, article_id: str) -> None:
    session.execute(
        delete(Follow).where(Follow.article_id == article_id, Follow.user_id == user_id)
    )


def follows(session: Session, *, user_id: str, article_id: str) -> bool:
    return (
        session.execute(
            select(Follow.user_id).where(Follow.article_id == article_id, Follow.user_id == user_id)
        ).first()
        is not None
    )


# --- mutes --------------------------------------------------------------------------------


def mute(session: Session, *, user_id: str, muted_id: str, now: dt.datetime | None = None) -> None:
    if muted_id == user_id:
        raise RuleError(422, "You cannot mute yourself.", kind="validation-error", field="user_id")
    if session.get(Mute, (user_id, muted_id)) is not None:
        return
    count = session.scalar(select(func.count()).select_from(Mute).where(Mute.user_id == user_id))
    if (count or 0) >= MAX_MUTES:
        raise RuleError(
            409,
            f"You have muted {MAX_MUTES} people, the most there can be; unmute someone first.",
            kind="too-many-mutes",
        )
    session.execute(
        _insert(session, Mute)
        .values(user_id=user_id, muted_id=muted_id, created_at=now or utcnow())
        .on_conflict_do_nothing(index_elements=["user_id", "muted_id"])
    )


def unmute(session: Session, *, user_id: str, muted_id: str) -> None:
    session.execute(delete(Mute).where(Mute.user_id == user_id, Mute.muted_id == muted_id))


def muted_ids(session: Session, user_id: str | None) -> set[str]:
    if user_id is None:
        return set()
    return set(session.scalars(select(Mute.muted_id).where(Mute.user_id == user_id)))


# --- bans as the reader sees them ---------------------------------------------------------


@dataclass(frozen=True)
class OwnBan:
    reason: str | None
    expires_at: dt.datetime | None


def own_ban(session: Session, user_id: str, now: dt.datetime | None = None) -> OwnBan | None:
    """The reader's ban, as GET /me tells it: an active, open ban; never a shadow ban."""
    now = now or utcnow()
    ban = session.get(Ban, user_id)
    if ban is None or ban.shadow or (ban.expires_at is not None and ban.expires_at <= now):
        return None
    return OwnBan(ban.reason, ban.expires_at)


# --- erasure ------------------------------------------------------------------------------


def erase_reader(session: Session, *, user_id: str) -> dict[str, int]:
    """Everything this module keeps of a person: their notifications, follows, mutes (theirs
    and others' of them) and settings with any stored address. Counts by kind."""

    def gone(statement: Any) -> int:
        result = session.execute(statement.execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)

    counts = {
        "notifications": gone(delete(Notification).where(Notification.user_id == user_id)),
        "follows": gone(delete(Follow).where(Follow.user_id == user_id)),
        "mutes": gone(delete(Mute).where((Mute.user_id == user_id) | (Mute.muted_id == user_id))),
        "settings": gone(delete(ReaderSettings).where(ReaderSettings.user_id == user_id)),
    }
    session.expire_all()
    return counts


__all__ = [
    "MAX_MUTES",
    "OwnBan",
    "Settings",
    "erase_reader",
    "follow",
    "follows",
    "mute",
    "muted_ids",
    "own_ban",
    "remember_address",
    "settings_of",
    "unfollow",
    "unmute",
    "unsubscribe",
    "unsubscribe_subject",
    "unsubscribe_token",
    "update_settings",
    "usable_address",
]
