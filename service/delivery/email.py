"""Notification e-mails (#15), sent by a job, never inside a request.

``send_due_emails(app)`` is one pass: for every reader with notifications due for mail
(reply and mention notifications of readers whose setting is ``instant``; see
service/domain/notifications.py) whose last e-mail is at least
``COMMENTS_EMAIL_MIN_INTERVAL_SECONDS`` old, it sends one message holding all of them
(plain text and HTML, each with its excerpt and a link back, and RFC 8058 one-click
``List-Unsubscribe`` headers) and marks them sent. Notifications that arrive in between
wait for the next message: at most one e-mail per reader per interval.

Several workers may run it at once: a reader is claimed by moving their
``last_emailed_at`` to now in a short transaction (on PostgreSQL the candidate row is read
``FOR UPDATE SKIP LOCKED``, so workers pass each other by), and the message is sent after
that commit, with no transaction or lock held while the mail server answers. A worker
that dies after sending and before marking the notifications sent leaves them due: the
reader gets them again with the next e-mail (at least once, never lost).

Addresses are never logged: lines name the reader's id and the server's reply code only.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Sequence
from urllib.parse import parse_qs, unquote, urlsplit

import click
from flask import Flask
from sqlalchemy import func, or_, select, text, update
from sqlalchemy.orm import Session

from .. import services
from ..config import Settings
from ..domain.inbox import excerpt, permalink
from ..domain.readers import unsubscribe_token
from ..enums import CommentStatus, EmailMode, MailState, NotificationKind
from ..extensions import db
from ..models import MAIL_DUE_PREDICATE, Comment, Notification, ReaderSettings, utcnow
from .worker import stop_requested

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 10
RETRY_AFTER = dt.timedelta(seconds=60)  # a mail server that failed is tried again after this
MAX_PER_PASS = 200  # readers mailed in one pass (the worker calls again)
MAX_ITEMS = 50  # notifications listed in one e-mail (the rest: "and N more")


# --- the mail server ----------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool  # smtps://
    starttls: bool


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://user:password@host:587?starttls=true`` or ``smtps://user:password@host:465``
    (user and password percent-encoded; config.py checked the shape at start-up)."""
    parts = urlsplit(url)
    implicit = parts.scheme == "smtps"
    query = parse_qs(parts.query)
    starttls = not implicit and query.get("starttls", ["false"])[-1].lower() in ("1", "true", "yes")
    return SmtpTarget(
        host=parts.hostname or "localhost",
        port=parts.port or (465 if implicit else (587 if starttls else 25)),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=implicit,
        starttls=starttls,
    )


def connect(target: SmtpTarget) -> smtplib.SMTP:
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if target.implicit_tls:
        smtp = smtplib.SMTP_SSL(
            target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
        )
    else:
        smtp = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS)
        if target.starttls:
            smtp.starttls(context=context)
    if target.username:
        smtp.login(target.username, target.password or "")
    return smtp


# --- the message --------------------------------------------------------------------------


@dataclass(frozen=True)
class MailItem:
    """One notification as an e-mail tells it."""

    kind: NotificationKind
    actor: str
    article_id: str
    excerpt: str
    link: str | None


def _line(text: str) -> str:
    """One header-safe line (names cannot hold line breaks, but never trust a header)."""
    return " ".join(text.split())


def _headline(item: MailItem) -> str:
    if item.kind == NotificationKind.MENTION:
        return f"{item.actor} mentioned you in the comments on {item.article_id}"
    return f"{item.actor} replied to your comment on {item.article_id}"


def subject(items: Sequence[MailItem]) -> str:
    if len(items) == 1:
        return _line(_headline(items[0]))
    return f"{len(items)} new replies and mentions in the comments"


def render(
    *,
    items: Sequence[MailItem],
    more: int,
    sender: str,
    recipient: str,
    unsubscribe_url: str,
    now: dt.datetime,
) -> EmailMessage:
    """The e-mail: plain text and HTML alternatives (every reader-written string escaped in
    the HTML), and the RFC 8058 one-click unsubscribe headers."""
    message = EmailMessage()
    message["Subject"] = subject(items)
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    message["Auto-Submitted"] = "auto-generated"
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"

    text = []
    for item in items:
        text.append(_headline(item) + ":")
        text.append("")
        text.extend("  > " + line for line in item.excerpt.splitlines() or [""])
        if item.link:
            text.append("")
            text.append("Read it and reply: " + item.link)
        text.append("")
        text.append("")
    if more:
        text.append(f"... and {more} more in your notifications.")
        text.append("")
    text.append("-- ")
    text.append("You get these e-mails because you turned on e-mail notifications.")
    text.append("Unsubscribe: " + unsubscribe_url)
    message.set_content("\n".join(text) + "\n")

    esc = html.escape
    parts = []
    for item in items:
        link = f'<p><a href="{esc(item.link)}">Read it and reply</a></p>' if item.link else ""
        parts.append(
            f'<h2 style="font-size:1.05em">{esc(_headline(item))}</h2>'
            f'<blockquote style="margin:0 0 0 .5em;padding-left:.75em;border-left:3px solid '
            f'#ccc;color:#333">{esc(item.excerpt)}</blockquote>{link}'
        )
    if more:
        parts.append(f"<p>&hellip; and {more} more in your notifications.</p>")
    body = (
        '<!doctype html><html><body style="font-family:system-ui,sans-serif;'
        'line-height:1.5;max-width:40em">'
        + "".join(parts)
        + '<hr><p style="font-size:.85em;color:#555">You get these e-mails because you '
        f'turned on e-mail notifications. <a href="{esc(unsubscribe_url)}">Unsubscribe</a>'
        "</p></body></html>"
    )
    message.add_alternative(body, subtype="html")
    return message


# --- one pass -----------------------------------------------------------------------------


def _settings(app: Flask) -> Settings:
    return services.of(app).settings


def public_base(settings: Settings) -> str:
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return f"http://{settings.host}:{settings.port}"


@dataclass(frozen=True)
class Claim:
    user_id: str
    address: str
    ids: list[int]
    items: list[MailItem]
    more: int
    dropped: list[int]


def _claim(session: Session, settings: Settings, now: dt.datetime) -> Claim | None | bool:
    """In one short transaction: pick a reader with mail due and not mailed within the
    interval, move their ``last_emailed_at`` to now (the claim), and read what to tell
    them. None: nobody is due; False: another worker took the reader first."""
    cutoff = now - dt.timedelta(seconds=settings.email_min_interval_seconds)
    due = select(Notification.user_id).where(text(MAIL_DUE_PREDICATE))  # the partial index
    query = (
        select(ReaderSettings.user_id)
        .where(
            ReaderSettings.user_id.in_(due),
            or_(ReaderSettings.last_emailed_at.is_(None), ReaderSettings.last_emailed_at <= cutoff),
        )
        .order_by(ReaderSettings.last_emailed_at.asc().nulls_first(), ReaderSettings.user_id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    user_id = session.scalar(query)
    if user_id is None:
        return None
    claimed = session.execute(
        update(ReaderSettings)
        .where(
            ReaderSettings.user_id == user_id,
            or_(ReaderSettings.last_emailed_at.is_(None), ReaderSettings.last_emailed_at <= cutoff),
        )
        .values(last_emailed_at=now)
        .returning(ReaderSettings.email_mode, ReaderSettings.email_address)
        .execution_options(synchronize_session=False)
    ).first()
    if claimed is None:
        return False
    rows = session.execute(
        select(
            Notification.id,
            Notification.kind,
            Notification.article_id,
            Notification.comment_id,
            Comment.author_name,
            Comment.status,
            Comment.shadowed,
            Comment.body_html,
        )
        .join(Comment, Comment.id == Notification.comment_id)
        .where(Notification.user_id == user_id, text(MAIL_DUE_PREDICATE))
        .order_by(Notification.id)
    ).all()
    mode, address = claimed
    if EmailMode(mode) != EmailMode.INSTANT or not address:
        return Claim(user_id, "", [], [], 0, [r.id for r in rows])
    shown, dropped = [], []
    for r in rows:
        if CommentStatus(r.status) == CommentStatus.PUBLISHED and not r.shadowed and r.author_name:
            shown.append(r)
        else:
            dropped.append(r.id)  # hidden, held again or gone since: not worth a mail now
    items = [
        MailItem(
            kind=NotificationKind(r.kind),
            actor=r.author_name,
            article_id=r.article_id,
            excerpt=excerpt(r.body_html) or "",
            link=permalink(settings.permalink_template, r.article_id, r.comment_id),
        )
        for r in shown[-MAX_ITEMS:]
    ]
    return Claim(
        user_id,
        str(address),
        [r.id for r in shown],
        items,
        max(0, len(shown) - MAX_ITEMS),
        dropped,
    )


def _mark(session: Session, ids: Sequence[int], state: MailState) -> None:
    if ids:
        session.execute(
            update(Notification)
            .where(Notification.id.in_(list(ids)), Notification.mail_state == MailState.DUE.value)
            .values(mail_state=state.value)
            .execution_options(synchronize_session=False)
        )


def _retry_soon(session: Session, user_id: str, now: dt.datetime, settings: Settings) -> None:
    """Let the next pass after RETRY_AFTER (not a whole interval) try this reader again."""
    interval = dt.timedelta(seconds=settings.email_min_interval_seconds)
    session.execute(
        update(ReaderSettings)
        .where(ReaderSettings.user_id == user_id)
        .values(last_emailed_at=now - interval + RETRY_AFTER)
        .execution_options(synchronize_session=False)
    )


def _permanent(exc: Exception) -> bool:
    """A refusal that will not change on retry: the address, or a 5xx for this message."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return True
    code = getattr(exc, "smtp_code", None)
    return (
        isinstance(code, int)
        and 500 <= code < 600
        and not isinstance(exc, (smtplib.SMTPAuthenticationError, smtplib.SMTPSenderRefused))
    )


def send_due_emails(app: Flask, *, now: dt.datetime | None = None) -> int:
    """One pass of the e-mail job; returns how many e-mails were sent. Safe to run from
    several workers at once (see the module's docstring); does nothing when
    COMMENTS_SMTP_URL is unset."""
    settings = _settings(app)
    if not settings.smtp_url:
        return 0
    target = parse_smtp_url(settings.smtp_url)
    sent = 0
    smtp: smtplib.SMTP | None = None
    with app.app_context():
        session = db.session()
        try:
            for _ in range(MAX_PER_PASS):
                if stop_requested():  # the worker is stopping: the rest waits for the next
                    break
                moment = now or utcnow()
                claim = _claim(session, settings, moment)
                if claim is None:
                    session.rollback()
                    break
                if claim is False:
                    session.rollback()
                    continue
                assert isinstance(claim, Claim)
                _mark(session, claim.dropped, MailState.DROPPED)
                session.commit()
                if not claim.items:
                    continue
                message = render(
                    items=claim.items,
                    more=claim.more,
                    sender=settings.email_from,
                    recipient=claim.address,
                    unsubscribe_url=f"{public_base(settings)}/api/v1/unsubscribe?token="
                    + unsubscribe_token(settings.secret_key or "", claim.user_id),
                    now=moment,
                )
                try:
                    if smtp is None:
                        smtp = connect(target)
                    smtp.send_message(message)
                except Exception as exc:  # noqa: BLE001 (smtplib and socket errors alike)
                    permanent = _permanent(exc)
                    log.warning(
                        "notification e-mail to reader %s failed (%s%s); %s",
                        claim.user_id,
                        type(exc).__name__,
                        f" {getattr(exc, 'smtp_code', '')}".rstrip(),
                        "dropped" if permanent else "will retry",
                    )
                    if permanent:
                        _mark(session, claim.ids, MailState.DROPPED)
                    else:
                        _retry_soon(session, claim.user_id, moment, settings)
                    session.commit()
                    if not permanent:
                        _close(smtp)
                        smtp = None
                        break  # the server is unwell: the next pass tries again
                    continue
                _mark(session, claim.ids, MailState.SENT)
                session.commit()
                sent += 1
                log.info(
                    "notification e-mail sent to reader %s (%d notifications)",
                    claim.user_id,
                    len(claim.ids),
                )
        finally:
            session.rollback()
            _close(smtp)
    return sent


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except Exception:  # noqa: BLE001 (closing a connection that failed)
        smtp.close()


def queue_depth(session: Session, now: dt.datetime | None = None) -> tuple[int, float]:
    """(notifications waiting for an e-mail, age of the oldest in seconds), for the
    worker's queue-depth metrics."""
    count, oldest = session.execute(
        select(func.count(), func.min(Notification.created_at)).where(text(MAIL_DUE_PREDICATE))
    ).one()
    if not count or oldest is None:
        return 0, 0.0
    if oldest.tzinfo is None:  # SQLite's min() reads back naive (UTC by construction)
        oldest = oldest.replace(tzinfo=dt.timezone.utc)
    return int(count), max(0.0, ((now or utcnow()) - oldest).total_seconds())


def init_app(app: Flask) -> None:
    """``flask send-emails``: one pass by hand (the worker runs it continually)."""

    @app.cli.command("send-emails")
    def send_emails_command() -> None:
        """Send the notification e-mails that are due (one pass)."""
        click.echo(f"sent {send_due_emails(app)} e-mail(s)")


__all__ = [
    "MailItem",
    "SmtpTarget",
    "connect",
    "queue_depth",
    "init_app",
    "parse_smtp_url",
    "render",
    "send_due_emails",
    "subject",
]
