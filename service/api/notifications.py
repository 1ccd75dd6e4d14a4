"""The signed-in reader's own endpoints (#15): who am I, settings, notifications, read
marks, following threads, muting people, and the one-click unsubscribe of an e-mail."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from markupsafe import escape

from ..auth import Caller, require_user
from ..domain import inbox, readers
from ..domain.threads import article_visible
from ..extensions import db
from ..http import (
    checked_article_id,
    cursors,
    decode_cursor,
    json_body,
    read_limit,
    settings,
    write_limit,
)
from ..models import Article
from ..problems import Problem
from ..schemas import load_query
from .blueprint import bp, viewer
from .notification_schemas import (
    MarkReadSchema,
    NotificationQuerySchema,
    SettingsPatchSchema,
    me_out,
    notification_out,
)

SETTINGS_PATCH, QUERY, MARK_READ = (
    SettingsPatchSchema(),
    NotificationQuerySchema(),
    MarkReadSchema(),
)


def _reader() -> Caller:
    """A reader signed in with a token: guests and anonymous callers are 401; API keys
    (service accounts) have no inbox."""
    caller = require_user()
    if caller.via_api_key:
        raise Problem(
            403, "Notifications belong to readers signed in with a token.", type_="forbidden"
        )
    return caller


def _email_available(caller: Caller) -> bool:
    return bool(settings().smtp_url) and caller.email is not None


def _me(caller: Caller) -> dict[str, Any]:
    user_id = caller.user_id or ""
    return me_out(
        user_id=user_id,
        name=caller.name or user_id,
        unread=inbox.unread_count(db.session(), user_id),
        settings=readers.settings_of(db.session(), user_id),
        ban=readers.own_ban(db.session(), user_id),
        email_available=_email_available(caller),
    )


@bp.get("/me")
@read_limit()
def get_me() -> dict[str, Any]:
    """Who the caller is, their unread count, settings and (open) ban. A reader with instant
    e-mail whose token carries a new address has it updated here."""
    caller = _reader()
    if readers.remember_address(db.session(), user_id=caller.user_id or "", address=caller.email):
        db.session.commit()
    return _me(caller)


@bp.patch("/me/settings")
@write_limit(lambda s: s.limit_edit)
def patch_settings() -> dict[str, Any]:
    """Change e-mail and follow-on-post settings; answers as GET /me."""
    caller = _reader()
    data = json_body(SETTINGS_PATCH)
    readers.update_settings(
        db.session(),
        user_id=caller.user_id or "",
        email=data.get("email"),
        follow_on_post=data.get("follow_on_post"),
        address=caller.email,
        email_available=bool(settings().smtp_url),
    )
    db.session.commit()
    return _me(caller)


@bp.get("/me/notifications")
@read_limit()
def list_notifications() -> dict[str, Any]:
    """The caller's notifications, newest first (``?unread=true``: unread ones only)."""
    caller = _reader()
    user_id = caller.user_id or ""
    args = load_query(QUERY, request.args)
    scope = f"notifications:{user_id}:{int(args['unread'])}"
    after = decode_cursor(args["cursor"], scope, (int,))
    limit = args["limit"]
    items = inbox.list_notifications(
        db.session(),
        user_id=user_id,
        limit=limit,
        before_id=after[0] if after else None,
        unread_only=args["unread"],
    )
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        next_cursor = cursors().encode(scope, [items[-1].id])
    template = settings().permalink_template
    return {
        "items": [notification_out(item, template) for item in items],
        "next_cursor": next_cursor,
        "unread": inbox.unread_count(db.session(), user_id),
    }


@bp.post("/me/notifications/read")
@write_limit(lambda s: s.limit_reaction)
def mark_read() -> dict[str, Any]:
    """Mark notifications read: all up to an id, or the ones listed. Answers the unread count."""
    caller = _reader()
    data = json_body(MARK_READ)
    unread = inbox.mark_read(
        db.session(), user_id=caller.user_id or "", up_to=data.get("up_to"), ids=data.get("ids")
    )
    db.session.commit()
    return {"unread": unread}


ARTICLE_SUBSCRIPTION = "/articles/<article_id>/subscription"


@bp.put(ARTICLE_SUBSCRIPTION)
@write_limit(lambda s: s.limit_reaction)
def follow_thread(article_id: str) -> Any:
    """Follow the article's thread: its new comments notify the caller. Idempotent."""
    checked_article_id(article_id)
    caller = _reader()
    if not article_visible(db.session.get(Article, article_id), viewer()):
        raise Problem(409, "Comments on this article are not available.", type_="article-hidden")
    readers.follow(db.session(), user_id=caller.user_id or "", article_id=article_id)
    db.session.commit()
    return "", 204


@bp.delete(ARTICLE_SUBSCRIPTION)
@write_limit(lambda s: s.limit_reaction)
def unfollow_thread(article_id: str) -> Any:
    """Stop following the article's thread. Idempotent."""
    checked_article_id(article_id)
    caller = _reader()
    readers.unfollow(db.session(), user_id=caller.user_id or "", article_id=article_id)
    db.session.commit()
    return "", 204


MUTED = "/me/muted/<user_id:user_id>"


@bp.put(MUTED)
@write_limit(lambda s: s.limit_reaction)
def mute_user(user_id: str) -> Any:
    """Mute a person: their comments arrive collapsed (``muted: true``) and never notify."""
    caller = _reader()
    readers.mute(db.session(), user_id=caller.user_id or "", muted_id=user_id)
    db.session.commit()
    return "", 204


@bp.delete(MUTED)
@write_limit(lambda s: s.limit_reaction)
def unmute_user(user_id: str) -> Any:
    """Unmute a person. Idempotent."""
    caller = _reader()
    readers.unmute(db.session(), user_id=caller.user_id or "", muted_id=user_id)
    db.session.commit()
    return "", 204


# --- the e-mail's unsubscribe link: no sign-in, the token says who -------------------------


def _token_subject() -> str:
    token = request.args.get("token", "")
    if not token or len(token) > 1000 or len(request.args.getlist("token")) != 1:
        raise Problem(
            400,
            "Give the token of the unsubscribe link (?token=...).",
            type_="invalid-token",
            errors={"token": ["The unsubscribe link's token."]},
        )
    return readers.unsubscribe_subject(settings().secret_key or "", token)


@bp.post("/unsubscribe")
@write_limit(lambda s: s.limit_edit)
def unsubscribe() -> Any:
    """RFC 8058 one-click unsubscribe: turn the token's reader's e-mail off. Mail clients
    POST ``List-Unsubscribe=One-Click`` as a form; JSON or no body are accepted too."""
    if request.mimetype == "application/x-www-form-urlencoded":
        value = request.form.get("List-Unsubscribe")
        if value is not None and value != "One-Click":
            raise Problem(
                422,
                "List-Unsubscribe must be One-Click (RFC 8058).",
                type_="validation-error",
                title="Invalid request",
                errors={"List-Unsubscribe": ["Send One-Click."]},
            )
    elif request.content_length and not request.is_json:
        raise Problem(
            415,
            "Send application/x-www-form-urlencoded List-Unsubscribe=One-Click, or nothing.",
            type_="unsupported-media-type",
        )
    user_id = _token_subject()
    readers.unsubscribe(db.session(), user_id=user_id)
    db.session.commit()
    return {"email": "off"}


UNSUBSCRIBE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Unsubscribe from comment notifications</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto;
padding: 0 1rem">
<h1 style="font-size: 1.4rem">Stop notification e-mails?</h1>
<p>You will still see notifications next to the comments when you are signed in.</p>
<form method="post" action="{action}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit" style="font: inherit; padding: 0.5em 1em">Unsubscribe</button>
</form></body></html>
"""


@bp.get("/unsubscribe")
@read_limit()
def unsubscribe_page() -> Any:
    """A page with one button for readers who open the link in a browser: following a
    link (or a mail scanner fetching it) never unsubscribes anyone by itself."""
    _token_subject()
    action = escape(request.script_root + request.full_path)
    return current_app.response_class(
        UNSUBSCRIBE_PAGE.replace("{action}", str(action)),
        mimetype="text/html",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
