"""Shapes of the reader's own endpoints (#15): /me, settings, notifications, read marks."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from ..domain.inbox import MAX_IDS, Item, permalink
from ..domain.readers import OwnBan, Settings
from ..enums import EmailMode
from ..schemas import StrictBoolean, StrictInteger, timestamp

MAX_ID = 2**31 - 1


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class SettingsPatchSchema(_Strict):
    email = fields.Enum(EmailMode, by_value=True)
    follow_on_post = StrictBoolean()

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("Give email, follow_on_post or both.", field_name="_schema")


class NotificationQuerySchema(_Strict):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, validate=validate.Length(min=1, max=1000))
    unread = fields.Boolean(load_default=False, truthy={"true"}, falsy={"false"})


class MarkReadSchema(_Strict):
    up_to = StrictInteger(validate=validate.Range(min=1, max=MAX_ID))
    ids = fields.List(
        StrictInteger(validate=validate.Range(min=1, max=MAX_ID)),
        validate=validate.Length(min=1, max=MAX_IDS),
    )

    @validates_schema
    def _one_of(self, data: dict[str, Any], **_: Any) -> None:
        if ("up_to" in data) == ("ids" in data):
            raise ValidationError("Give either up_to or ids.", field_name="_schema")


def me_out(
    *,
    user_id: str,
    name: str,
    unread: int,
    settings: Settings,
    ban: OwnBan | None,
    email_available: bool,
) -> dict[str, Any]:
    return {
        "user": {"id": user_id, "name": name},
        "unread_notifications": unread,
        "settings": {"email": settings.email.value, "follow_on_post": settings.follow_on_post},
        "ban": None
        if ban is None
        else {"reason": ban.reason, "expires_at": timestamp(ban.expires_at), "shadow": False},
        "email_available": email_available,
    }


def notification_out(item: Item, template: str | None) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind.value,
        "created_at": timestamp(item.created_at),
        "read": item.read,
        "article_id": item.article_id,
        "comment_id": item.comment_id,
        "actor": None if item.actor is None else {"id": item.actor.id, "name": item.actor.name},
        "excerpt": item.excerpt,
        "outcome": item.outcome.value if item.outcome else None,
        "url": permalink(template, item.article_id, item.comment_id),
    }
