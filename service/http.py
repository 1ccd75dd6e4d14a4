"""What every blueprint shares: reading a JSON body, rate limits, signed cursors, the
long-lived services, and the limits of a path's ids.

The public API, the moderators' API, the web pages and the operational endpoints import
from here, never from one another.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol, TypeVar, cast

from flask import current_app, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from .auth import client_ip
from .cache import PageCache
from .config import Settings
from .domain.comments import Rules
from .domain.moderation import AutoRules
from .domain.threads import CursorError, Cursors
from .problems import Problem
from .ratelimit import limiter
from .schemas import ARTICLE_ID_RULE, valid_article_id
from .services import Services, of

MAX_ID = 2**31 - 1  # comment ids are 32-bit integers on every database


def services() -> Services:
    """This app's services (built in create_app)."""
    return of(current_app)


def settings() -> Settings:
    """This app's settings, typed and frozen."""
    return services().settings


def rules() -> Rules:
    return services().rules


def cursors() -> Cursors:
    return services().cursors


def page_cache() -> PageCache | None:
    """The public page cache (COMMENTS_CACHE_URL); None when it is off."""
    return services().page_cache


def auto_rules() -> AutoRules:
    """The automatic holds (blocked terms, too many links); the terms file is re-read when
    it changes."""
    s = services()
    return AutoRules(
        blocked=s.terms.pattern(s.settings.blocked_terms_file),
        max_links=s.settings.max_links,
    )


def json_body(schema: Schema) -> dict[str, Any]:
    """The request's JSON object, validated: 415 if it is not JSON, 400 if malformed."""
    if not request.is_json:
        raise Problem(
            415, "Send the request body as application/json.", type_="unsupported-media-type"
        )
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if request.content_length is None and limit:
        # A chunked body has no Content-Length: Werkzeug stops reading at the limit and the
        # cut JSON looked malformed (400). It is too large: 413 (#14 item 19).
        if len(request.get_data(cache=True)) >= limit:
            raise RequestEntityTooLarge()
    try:
        data = request.get_json()  # larger than MAX_CONTENT_LENGTH: 413 from Werkzeug
    except BadRequest:
        raise Problem(400, "The request body is not valid JSON.", type_="malformed-json") from None
    if not isinstance(data, dict):
        raise ValidationError({"_schema": ["The request body must be a JSON object."]})
    loaded: dict[str, Any] = schema.load(data)
    return loaded


def checked_article_id(article_id: str) -> str:
    if not valid_article_id(article_id):
        raise Problem(
            422,
            f"article_id must be {ARTICLE_ID_RULE}.",
            type_="validation-error",
            title="Invalid request",
            errors={"article_id": [ARTICLE_ID_RULE]},
        )
    return article_id


def bad_cursor(exc: CursorError) -> Problem:
    return Problem(400, str(exc), type_="invalid-cursor", errors={"cursor": [str(exc)]})


def decode_cursor(
    token: str | None, scope: str, checks: tuple[type | tuple[type, ...], ...]
) -> list[Any] | None:
    """A signed cursor for ``scope`` whose values have the expected types (None: page 1)."""
    if token is None:
        return None
    try:
        values = cursors().decode(token, scope, len(checks))
    except CursorError as exc:
        raise bad_cursor(exc) from None
    for value, kind in zip(values, checks, strict=False):
        if isinstance(value, bool) or not isinstance(value, kind):
            raise bad_cursor(CursorError("The cursor is malformed."))
    return values


LimitChoice = Callable[[Settings], str]
View = TypeVar("View", bound=Callable[..., Any])


class Decorator(Protocol):
    """A view decorator that keeps the view's signature (flask-limiter's are untyped)."""

    def __call__(self, view: View, /) -> View: ...


def _limit_from(choose: LimitChoice) -> Callable[[], str]:
    return lambda: choose(settings())


def write_limit(choose: LimitChoice, *, per_ip: bool = True) -> Decorator:
    """Writes: per signed-in user, per client IP for guests (the limiter's key function);
    public writes also share one ceiling per client IP whoever signs them (#14 item 9;
    moderators' endpoints pass ``per_ip=False``). ``choose`` picks the limit:
    ``write_limit(lambda s: s.limit_comment)``."""
    per_caller = limiter.limit(_limit_from(choose))
    if not per_ip:
        return cast(Decorator, per_caller)
    per_ip_limit = limiter.shared_limit(
        _limit_from(lambda s: s.limit_write_per_ip),
        scope="write-per-ip",
        key_func=lambda: f"ip:{client_ip()}",
    )

    def both(view: View) -> View:
        return cast(View, per_ip_limit(per_caller(view)))

    return both


def read_limit() -> Decorator:
    """Reads: per client IP."""
    return cast(
        Decorator,
        limiter.limit(_limit_from(lambda s: s.limit_read), key_func=lambda: f"ip:{client_ip()}"),
    )
