"""Notification e-mails (#15) delivered to a real SMTP server the test starts (aiosmtpd):
who gets one, batching within the interval, the headers (RFC 8058 one-click unsubscribe),
text and HTML with everything escaped, the unsubscribe endpoint, refusals and retries,
several workers at once, and no address in any response or log line."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
import threading
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from service.delivery.email import parse_smtp_url, send_due_emails
from service.extensions import db
from service.models import Notification, ReaderSettings, utcnow
from tests.helpers import auth
from tests.openapi_check import assert_matches_spec
from tests.servers import free_port

ADDRESS = {f"u-{i}": f"reader{i}.secret-address@example.org" for i in range(1, 8)}
PUBLIC = "https://comments.example"
TEMPLATE = "https://news.example/{article_id}#comment-{comment_id}"


class Mailbox:
    """An aiosmtpd handler keeping every message; refuses the addresses in ``refuse``."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


@pytest.fixture
def mailbox(settings: dict[str, Any]) -> Any:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings.update(
        COMMENTS_SMTP_URL=f"smtp://127.0.0.1:{port}",
        COMMENTS_PUBLIC_URL=PUBLIC,
        COMMENTS_PERMALINK_TEMPLATE=TEMPLATE,
        COMMENTS_EMAIL_FROM="Comments <comments@news.example>",
    )
    yield box
    controller.stop()


def service_logs(caplog: Any) -> str:
    """What the service logged (the test's own SMTP server, aiosmtpd, logs addresses as a
    mail server does: its "mail.log" lines are not the service's)."""
    return "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records
        if not r.name.startswith("mail.")
    )


def mail_reader(user: str) -> dict[str, str]:
    return auth(user, name=f"Name {user}", email=ADDRESS[user])


class Seen:
    """Every response body the test received, to grep for addresses."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.bodies: list[str] = []

    def __call__(self, method: str, path: str, **kwargs: Any) -> Any:
        r = self.client.open(path, method=method, **kwargs)
        self.bodies.append(r.get_data(as_text=True) + str(dict(r.headers)))
        return r


def instant(seen: Seen, user: str) -> None:
    r = seen("PATCH", "/api/v1/me/settings", json={"email": "instant"}, headers=mail_reader(user))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["settings"]["email"] == "instant"


def comment(seen: Seen, user: str, article: str, body: str, parent: int | None = None) -> int:
    payload: dict[str, Any] = {"body": body}
    if parent is not None:
        payload["parent_id"] = parent
    r = seen(
        "POST", f"/api/v1/articles/{article}/comments", json=payload, headers=mail_reader(user)
    )
    assert r.status_code == 201, r.get_json()
    return int(r.get_json()["id"])


def later(minutes: int) -> dt.datetime:
    return utcnow() + dt.timedelta(minutes=minutes)


def test_reply_mail_headers_text_html_and_batching(mailbox, app, client, caplog):
    caplog.set_level(logging.DEBUG)
    seen = Seen(client)
    instant(seen, "u-1")
    parent = comment(seen, "u-1", "mail-1", "What about margins?")
    reply = comment(seen, "u-2", "mail-1", "<script>alert(1)</script> & **margins** grew", parent)

    assert send_due_emails(app) == 1
    assert send_due_emails(app) == 0  # nothing new, and the interval has not passed
    (message,) = mailbox.messages
    assert mailbox.envelopes == [("comments@news.example", [ADDRESS["u-1"]])]
    assert message["To"] == ADDRESS["u-1"]
    assert message["Subject"] == "Name u-2 replied to your comment on mail-1"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{PUBLIC}/api/v1/unsubscribe?token=") and unsubscribe[-1] == ">"
    assert message["Auto-Submitted"] == "auto-generated" and message["Message-ID"]
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    page = message.get_body(preferencelist=("html",)).get_content()
    link = f"https://news.example/mail-1#comment-{reply}"
    assert "<script>alert(1)</script> & margins grew" in text and link in text
    assert unsubscribe[1:-1] in text
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; margins" in page
    assert f'href="{link}"' in page

    # Two more within the interval: no mail now, one mail with both once it has passed.
    no_follow = mail_reader("u-3")
    seen("PATCH", "/api/v1/me/settings", json={"follow_on_post": False}, headers=no_follow)
    comment(seen, "u-3", "mail-1", "second reply", parent)
    comment(seen, "u-3", "mail-1", "@Name u-1 a mention")
    assert send_due_emails(app) == 0
    assert send_due_emails(app, now=later(16)) == 1
    batch = mailbox.messages[-1]
    assert batch["Subject"] == "2 new replies and mentions in the comments"
    body = batch.get_body(preferencelist=("plain",)).get_content()
    assert "second reply" in body and "@Name u-1 a mention" in body
    assert "Name u-3 mentioned you" in body
    assert send_due_emails(app, now=later(40)) == 0  # each notification mailed once

    # The address never leaves: not in any response, not in any log line.
    seen("GET", "/api/v1/me", headers=mail_reader("u-1"))
    seen("GET", "/api/v1/me/notifications", headers=mail_reader("u-1"))
    seen("GET", "/api/v1/articles/mail-1/comments", headers=mail_reader("u-1"))
    seen("GET", f"/api/v1/comments/{parent}", headers=mail_reader("u-1"))
    logged = service_logs(caplog)
    for address in ADDRESS.values():
        assert not any(address in body for body in seen.bodies)
        assert address not in logged
    assert "notification e-mail sent to reader u-1" in logged


def test_only_replies_and_mentions_of_readers_who_chose_instant_are_mailed(mailbox, app, client):
    seen = Seen(client)
    instant(seen, "u-1")
    parent_off = comment(seen, "u-4", "mail-2", "u-4 has e-mail off")
    comment(seen, "u-2", "mail-2", "reply to u-4", parent_off)
    comment(seen, "u-1", "mail-2", "u-1 follows by posting")
    comment(seen, "u-5", "mail-2", "a new comment: a thread notification, never mailed")
    own = comment(seen, "u-1", "mail-3", "u-1's own")
    comment(seen, "u-1", "mail-3", "replying to myself", own)
    assert send_due_emails(app) == 0
    assert mailbox.messages == []


def test_only_the_readers_a_comment_tells_are_looked_up_for_mail(mailbox, app, client):
    """notifications._mailable answers for the readers it is asked about, not every reader
    with instant e-mail, whose settings a post would otherwise read in full (mutation
    testing, #22: without ``user_id IN`` the answer held them all; the flags written were
    the same, as only the comment's readers are checked against it)."""
    from service.domain import notifications

    seen = Seen(client)
    for user in ("u-1", "u-2", "u-3"):
        instant(seen, user)
    with app.app_context():
        assert notifications._mailable(db.session, ["u-1", "u-4"]) == {"u-1"}


def test_one_click_unsubscribe(mailbox, app, client):
    seen = Seen(client)
    instant(seen, "u-1")
    parent = comment(seen, "u-1", "mail-4", "hello")
    comment(seen, "u-2", "mail-4", "hi", parent)
    assert send_due_emails(app) == 1
    url = urlsplit(mailbox.messages[0]["List-Unsubscribe"][1:-1])
    path = f"{url.path}?{url.query}"

    page = client.get(path)  # opening the link unsubscribes nobody
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert_matches_spec("GET", "/api/v1/unsubscribe", page)
    me = client.get("/api/v1/me", headers=mail_reader("u-1")).get_json()
    assert me["settings"]["email"] == "instant"

    r = client.post(path, data={"List-Unsubscribe": "One-Click"})  # as a mail client sends it
    assert r.status_code == 200 and r.get_json() == {"email": "off"}
    assert_matches_spec("POST", "/api/v1/unsubscribe", r)
    me = client.get("/api/v1/me", headers=mail_reader("u-1")).get_json()
    assert me["settings"]["email"] == "off"
    with app.app_context():
        assert db.session.scalars(select(ReaderSettings.email_address)).all() == [None]
    comment(seen, "u-2", "mail-4", "after unsubscribing", parent)
    assert send_due_emails(app, now=later(60)) == 0
    assert len(mailbox.messages) == 1

    assert client.post(path).status_code == 200  # again, and with no body: still fine
    for bad in (path[:-3] + "abc", url.path, url.path + "?token="):
        r = client.post(bad, data={"List-Unsubscribe": "One-Click"})
        assert r.status_code == 400, bad
        assert_matches_spec("POST", "/api/v1/unsubscribe", r)
    r = client.post(path, data={"List-Unsubscribe": "Other"})
    assert r.status_code == 422
    r = client.post(path, data="x", content_type="text/plain")
    assert r.status_code == 415
    assert_matches_spec("POST", "/api/v1/unsubscribe", r)


def test_a_refused_address_is_dropped_and_never_logged(mailbox, app, client, caplog):
    caplog.set_level(logging.DEBUG)
    seen = Seen(client)
    for user in ("u-1", "u-6"):
        instant(seen, user)
    mailbox.refuse.add(ADDRESS["u-6"])
    for user in ("u-1", "u-6"):
        parent = comment(seen, user, "mail-5", f"{user} writes")
        comment(seen, "u-2", "mail-5", f"reply to {user}", parent)
    assert send_due_emails(app) == 1
    assert [m["To"] for m in mailbox.messages] == [ADDRESS["u-1"]]
    with app.app_context():
        rows = db.session.execute(select(Notification.user_id, Notification.mail_state)).all()
    states = {user: state for user, state in rows if state is not None}
    assert states == {"u-1": "sent", "u-6": "dropped"}
    logged = service_logs(caplog)
    assert "reader u-6 failed (SMTPRecipientsRefused)" in logged
    assert ADDRESS["u-6"] not in logged


def test_an_unreachable_server_is_retried_soon_not_dropped(mailbox, app, client, settings):
    seen = Seen(client)
    instant(seen, "u-1")
    parent = comment(seen, "u-1", "mail-6", "hello")
    comment(seen, "u-2", "mail-6", "hi", parent)
    from tests.helpers import reconfigure

    reconfigure(app, COMMENTS_SMTP_URL=f"smtp://127.0.0.1:{free_port()}")
    assert send_due_emails(app) == 0
    assert send_due_emails(app, now=later(0)) == 0  # not again at once
    reconfigure(app, COMMENTS_SMTP_URL=settings["COMMENTS_SMTP_URL"])
    assert send_due_emails(app, now=later(2)) == 1  # a minute later it goes
    assert len(mailbox.messages) == 1


def test_several_workers_at_once_send_each_mail_once(mailbox, app, client):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite runs one worker (docs/notifications.md); this is PostgreSQL's test")
    seen = Seen(client)
    readers = ["u-1", "u-3", "u-4", "u-5", "u-6", "u-7"]
    for user in readers:
        instant(seen, user)
        parent = comment(seen, user, "mail-7", f"{user} writes")
        comment(seen, "u-2", "mail-7", f"reply to {user}", parent)
    results: list[int] = []
    barrier = threading.Barrier(3)

    def work() -> None:
        barrier.wait()
        results.append(send_due_emails(app))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == len(readers)
    assert sorted(m["To"] for m in mailbox.messages) == sorted(ADDRESS[u] for u in readers)


def test_without_an_smtp_server_nothing_is_sent(app):
    assert send_due_emails(app) == 0


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail:25", ("mail", 25, None, None, False, False)),
        ("smtp://u%40x:p%2Fw@mail:587?starttls=true", ("mail", 587, "u@x", "p/w", False, True)),
        ("smtps://u:p@mail", ("mail", 465, "u", "p", True, False)),
    ],
)
def test_smtp_urls(url, expected):
    t = parse_smtp_url(url)
    assert (t.host, t.port, t.username, t.password, t.implicit_tls, t.starttls) == expected
