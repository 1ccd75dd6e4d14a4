"""Shapes the moderators' endpoints accept."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates, validates_schema

from ..domain.moderation import ACTIONS, QUEUE_STATES
from ..enums import ArticleStatus
from ..schemas import valid_article_id, ARTICLE_ID_RULE

TARGET_TYPES = ("comment", "article", "user")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def _text(max_length: int, required: bool = False) -> fields.String:
    if required:
        return fields.String(required=True, validate=validate.Length(min=1, max=max_length))
    return fields.String(load_default=None, allow_none=True,
                         validate=validate.Length(max=max_length))


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


class ArticlePatchSchema(_Strict):
    status = fields.Enum(ArticleStatus, by_value=True)
    premoderation = fields.Boolean(allow_none=True)
    reason = _text(500)

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if "status" not in data and "premoderation" not in data:
            raise ValidationError("Give status, premoderation or both.")


class BanSchema(_Strict):
    reason = _text(500, required=True)
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True)
    shadow = fields.Boolean(load_default=False)

    @validates("reason")
    def _reason(self, value: str, **_: Any) -> None:
        if not value.strip():
            raise ValidationError("Say why.")


class AuditQuerySchema(_Page):
    actor = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    action = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    target_type = fields.String(load_default=None, validate=validate.OneOf(TARGET_TYPES))
    target_id = fields.String(load_default=None, validate=validate.Length(min=1, max=200))


class PageQuerySchema(_Page):
    pass


class StatsQuerySchema(_Strict):
    days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=365))
