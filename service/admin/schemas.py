"""Shapes the moderators' endpoints accept."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates,
    validates_schema,
)

from ..domain.moderation import ACTIONS, QUEUE_STATES
from ..enums import ArticleStatus
from ..schemas import ARTICLE_ID_RULE, StrictBoolean, StrictInteger, valid_article_id

TARGET_TYPES = ("comment", "article", "user", "webhook")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def _no_nul(value: str | None) -> None:
    """Free text may hold newlines, but not NUL or lone surrogates."""
    if value is not None and any(c == "\x00" or 0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ValidationError("The text contains characters that are not allowed.")


def printable(value: str | None) -> None:
    """No NUL, control characters or lone surrogates (PostgreSQL refuses NUL in text)."""
    if value is not None and any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ValidationError("Control characters are not allowed.")


def _text(max_length: int, required: bool = False) -> fields.String:
    if required:
        return fields.String(required=True, validate=validate.Length(min=1, max=max_length))
    return fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=max_length)
    )


class _Page(_Strict):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, validate=validate.Length(min=1, max=1000))


class QueueQuerySchema(_Page):
    state = fields.String(load_default="all", validate=validate.OneOf(QUEUE_STATES))
    article_id = fields.String(load_default=None)

    @validates("article_id")
    def _article(self, value: str | None, **_: Any) -> None:
        if value is not None and not valid_article_id(value):
            raise ValidationError(ARTICLE_ID_RULE)


class ActionSchema(_Strict):
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    reason = _text(500)

    @validates("reason")
    def _reason(self, value: str | None, **_: Any) -> None:
        _no_nul(value)


def _timestamp_range(value: dt.datetime | None) -> None:
    if value is not None and not 2000 <= value.year <= 9000:
        raise ValidationError("Give a date between the years 2000 and 9000.")


SURGE_FIELDS = ("slow_mode_seconds", "slow_mode_until", "premoderation_until")


class ArticlePatchSchema(_Strict):
    status = fields.Enum(ArticleStatus, by_value=True)
    premoderation = StrictBoolean(allow_none=True)
    # surge mode (domain/surge.py)
    slow_mode_seconds = StrictInteger(validate=validate.Range(min=0, max=86_400))
    slow_mode_until = fields.AwareDateTime(allow_none=True, validate=_timestamp_range)
    premoderation_until = fields.AwareDateTime(allow_none=True, validate=_timestamp_range)
    reason = _text(500)

    @validates("reason")
    def _reason(self, value: str | None, **_: Any) -> None:
        _no_nul(value)

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if not {"status", "premoderation", *SURGE_FIELDS} & set(data):
            raise ValidationError(
                "Give status, premoderation, slow_mode_seconds, slow_mode_until or "
                "premoderation_until."
            )


class BanSchema(_Strict):
    reason = _text(500, required=True)
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True)
    shadow = StrictBoolean(load_default=False)

    @validates("reason")
    def _reason(self, value: str, **_: Any) -> None:
        if not value.strip():
            raise ValidationError("Say why.")
        _no_nul(value)

    @validates("expires_at")
    def _expires(self, value: dt.datetime | None, **_: Any) -> None:
        if value is not None and not 2000 <= value.year <= 9000:
            raise ValidationError("Give a date between the years 2000 and 9000.")


class AuditQuerySchema(_Page):
    actor = fields.String(load_default=None, validate=[validate.Length(min=1, max=200), printable])
    action = fields.String(load_default=None, validate=[validate.Length(min=1, max=64), printable])
    target_type = fields.String(load_default=None, validate=validate.OneOf(TARGET_TYPES))
    target_id = fields.String(
        load_default=None, validate=[validate.Length(min=1, max=200), printable]
    )


class PageQuerySchema(_Page):
    pass


class StatsQuerySchema(_Strict):
    days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=365))


class EraseQuerySchema(_Strict):
    """``DELETE /admin/users/{user_id}?reason=``: the reason goes into the audit entry."""

    reason = fields.String(load_default=None, validate=[validate.Length(max=500), _no_nul])


# --- webhooks (issue #15) -----------------------------------------------------------------


class _Events(fields.List[str]):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            fields.String(validate=validate.Length(min=1, max=64)),
            validate=validate.Length(min=1, max=32),
            **kwargs,
        )


class WebhookCreateSchema(_Strict):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    events = _Events(load_default=lambda: ["*"])


class WebhookPatchSchema(_Strict):
    url = fields.String(validate=validate.Length(min=1, max=2000))
    events = _Events()
    enabled = StrictBoolean()

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("Give url, events, enabled or several of them.")


class DeliveriesQuerySchema(_Page):
    status = fields.String(
        load_default=None, validate=validate.OneOf(("pending", "delivered", "failed"))
    )
