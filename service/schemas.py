"""Shapes in and out: marshmallow for what clients send, plain functions for what we send.

Input schemas reject unknown fields (a typo such as ``parentId`` would otherwise post a
top-level comment instead of a reply). Output shapes are plain functions: a thread page
serialises up to a thousand comments, and these run several times faster than a marshmallow
``dump`` of the same shape. ``tests/api/test_openapi.py`` validates real responses against
``openapi.yaml`` so both stay honest.
"""

from __future__ import annotations

import datetime as dt
import re
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

from .domain import surge
from .domain.names import name_problem
from .enums import TOMBSTONE_STATUSES, ArticleStatus, FlagReason, Sort
from .models import Article, Comment, CommentRevision, utcnow

ARTICLE_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")
ARTICLE_ID_RULE = "1 to 200 characters of A-Z a-z 0-9 . _ : -, other than . and .."


def valid_article_id(value: str) -> bool:
    # "." and ".." are path segments, not names: a URL holding them is rewritten by clients.
    return bool(ARTICLE_ID_RE.fullmatch(value)) and value not in (".", "..")


class StrictBoolean(fields.Boolean):
    """JSON true or false only: marshmallow's Boolean also takes 0, 1, "yes", "on"...,
    so `{"shadow": "on"}` shadow-banned someone (#14 item 18)."""

    default_error_messages = {"invalid": "Not a boolean: use true or false."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class StrictInteger(fields.Integer):
    """A JSON integer only: not "30", 30.5 or true (marshmallow's strict Integer takes
    booleans, which are integers in Python). A number with no fractional part, such as
    30.0, is an integer to JSON Schema (and so to openapi.yaml) and is taken as 30."""

    default_error_messages = {"invalid": "Not an integer."}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return value


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class NewCommentSchema(_Strict):
    body = fields.String(required=True)
    parent_id = StrictInteger(
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1, max=2**31 - 1),
    )
    author_name = fields.String(load_default=None, allow_none=True)
    # {"BABA": "long"}: checked by domain/markets.py (symbols, positions, how many).
    disclosure = fields.Dict(load_default=None, allow_none=True)

    @validates("author_name")
    def _author_name(self, value: str | None, **_: Any) -> None:
        if value is not None and not 1 <= len(value.strip()) <= 80:
            raise ValidationError("Give a name of 1 to 80 characters.")
        if value is not None and (
            "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value)
        ):
            raise ValidationError("The name contains characters that are not allowed.")
        problem = name_problem(value.strip()) if value is not None else None
        if problem:
            raise ValidationError(problem)


class BodySchema(_Strict):
    body = fields.String(required=True)


class EditCommentSchema(_Strict):
    """PATCH: the body, the disclosure or both (a key left out stays as it is; a null
    disclosure withdraws it)."""

    body = fields.String()
    disclosure = fields.Dict(allow_none=True)

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if "body" not in data and "disclosure" not in data:
            raise ValidationError("Send the new body, disclosure or both.", "body")


class ThreadQuerySchema(_Strict):
    sort = fields.Enum(Sort, by_value=True, load_default=Sort.NEWEST)
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, validate=validate.Length(min=1, max=1000))


class PageQuerySchema(_Strict):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, validate=validate.Length(min=1, max=1000))


def load_query(schema: Schema, args: Any) -> dict[str, Any]:
    """Query strings: each name once (``?limit=1&limit=2`` is ambiguous, so refused)."""
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key in args:
        values = args.getlist(key)
        if len(values) > 1:
            errors[key] = ["Give this parameter once."]
        data[key] = values[0]
    if errors:
        raise ValidationError(errors)
    loaded: dict[str, Any] = schema.load(data)
    return loaded


# --- out ----------------------------------------------------------------------------------


def timestamp(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def author_out(comment: Comment) -> dict[str, Any] | None:
    if comment.status in TOMBSTONE_STATUSES:
        return None
    return {
        "id": comment.author_id,
        "name": comment.author_name,
        "is_guest": comment.author_is_guest,
        "is_moderator": comment.author_is_moderator,
    }


def comment_out(
    comment: Comment,
    *,
    reactions: dict[int, dict[str, int]],
    mine: dict[int, list[str]],
    replies: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    tombstone = comment.status in TOMBSTONE_STATUSES
    return {
        "id": comment.id,
        "article_id": comment.article_id,
        "parent_id": comment.parent_id,
        "depth": comment.depth,
        "author": author_out(comment),
        "body": None if tombstone else comment.body,
        "body_html": None if tombstone else comment.body_html,
        "status": comment.status.value,
        "pinned": comment.pinned,
        "created_at": timestamp(comment.created_at),
        "edited_at": timestamp(comment.edited_at),
        "reactions": reactions.get(comment.id, {}),
        "my_reactions": mine.get(comment.id, []),
        "score": comment.score,
        # market features (docs/markets.md): wiped with the text of a tombstone
        "tickers": [] if tombstone else (comment.tickers or []),
        "disclosure": None if tombstone else comment.disclosure,
        "revision_count": 0 if tombstone else comment.revision_count,
        "reply_count": comment.reply_count,
        "replies": replies if replies is not None else [],
    }


def tree_out(
    node: Any, reactions: dict[int, dict[str, int]], mine: dict[int, list[str]]
) -> dict[str, Any]:
    return comment_out(
        node.comment,
        reactions=reactions,
        mine=mine,
        replies=[tree_out(child, reactions, mine) for child in node.replies],
    )


def article_out(
    article_id: str,
    article: Article | None,
    *,
    reactions: dict[str, int],
    mine: list[str],
    visible: bool,
) -> dict[str, Any]:
    status = article.status if article is not None else ArticleStatus.OPEN
    return {
        "id": article_id,
        "status": status.value,
        "comment_count": article.comment_count if article is not None and visible else 0,
        "reactions": reactions if visible else {},
        "my_reactions": mine if visible else [],
        # surge mode: slow_mode_seconds, slow_mode_until, premoderation_until
        **surge.public_fields(article, utcnow()),
    }


class FlagSchema(_Strict):
    reason = fields.Enum(FlagReason, by_value=True, required=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))

    @validates("note")
    def _note(self, value: str | None, **_: Any) -> None:
        if value is not None and (
            "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value)
        ):
            raise ValidationError("The note contains characters that are not allowed.")


# --- market features (docs/markets.md) ----------------------------------------------------


class TickersQuerySchema(_Strict):
    window = fields.String(load_default="24h", validate=validate.OneOf(("1h", "24h", "7d")))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


def revision_out(revision: CommentRevision) -> dict[str, Any]:
    return {
        "body": revision.body,
        "body_html": revision.body_html,
        "disclosure": revision.disclosure,
        "created_at": timestamp(revision.created_at),
    }
