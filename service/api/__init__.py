"""The public API blueprint (/api/v1): one module per resource, thin views."""

from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, Response, current_app, request
from marshmallow import Schema, ValidationError
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from ..auth import client_ip, current_caller
from ..cache import PageCache
from ..cache import from_url as cache_from_url
from ..domain.comments import Rules
from ..domain.moderation import AutoRules, TermsCache
from ..domain.threads import Cursors, Viewer
from ..errors import Problem
from ..extensions import limiter
from ..schemas import ARTICLE_ID_RULE, valid_article_id

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_ID = 2**31 - 1  # comment ids are 32-bit integers on every database


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
    return schema.load(data)


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


def viewer() -> Viewer:
    caller = current_caller()
    return Viewer(user_id=caller.user_id, is_moderator=caller.is_moderator)


def rules() -> Rules:
    rules_ = current_app.extensions.get("comments_rules")
    if rules_ is None:
        rules_ = current_app.extensions["comments_rules"] = Rules.from_config(current_app.config)
    return rules_


def auto_rules() -> AutoRules:
    """The automatic holds (blocked terms, too many links); the terms file is re-read when
    it changes."""
    terms = current_app.extensions.setdefault("comments_terms", TermsCache())
    return AutoRules(
        blocked=terms.pattern(current_app.config["COMMENTS_BLOCKED_TERMS_FILE"]),
        max_links=current_app.config["COMMENTS_MAX_LINKS"],
    )


def cursors() -> Cursors:
    return current_app.extensions["comments_cursors"]


def page_cache() -> PageCache | None:
    """The public page cache (COMMENTS_CACHE_URL), built on first use in each worker."""
    ext = current_app.extensions
    if "comments_page_cache" not in ext:
        ext["comments_page_cache"] = cache_from_url(current_app.config["COMMENTS_CACHE_URL"])
    return ext["comments_page_cache"]


def _limit_from(setting: str) -> Callable[[], str]:
    return lambda: current_app.config[setting]


def write_limit(setting: str) -> Any:
    """Writes: per signed-in user, per client IP for guests (the limiter's key function);
    public writes also share one ceiling per client IP whoever signs them (#14 item 9)."""
    per_caller = limiter.limit(_limit_from(setting))
    if setting == "COMMENTS_LIMIT_ADMIN":
        return per_caller
    per_ip = limiter.shared_limit(
        _limit_from("COMMENTS_LIMIT_WRITE_PER_IP"),
        scope="write-per-ip",
        key_func=lambda: f"ip:{client_ip()}",
    )
    return lambda view: per_ip(per_caller(view))


def read_limit() -> Any:
    """Reads: per client IP."""
    return limiter.limit(_limit_from("COMMENTS_LIMIT_READ"), key_func=lambda: f"ip:{client_ip()}")


@bp.before_request
def _identify_caller() -> None:
    """Resolve the caller up front: a bad token is a 401 on every route, reads included."""
    current_caller()


@bp.after_request
def _http_caching(response: Response) -> Response:
    """Public GETs carry an ETag and answer If-None-Match with 304. What a signed-in caller
    sees includes their own reactions and pending comments, so it is cached privately."""
    if request.method == "GET" and response.status_code == 200 and response.is_json:
        if request.headers.get("Authorization"):
            response.headers["Cache-Control"] = "private, no-cache"
        else:
            max_age = 30 if request.endpoint == "api.counts" else 5
            response.headers["Cache-Control"] = f"public, max-age={max_age}"
        response.vary.add("Authorization")
        response.add_etag()
        # Without a conditional header there is nothing to decide (and werkzeug's parsing
        # of none cost as much as the rest of this hook)
        if any(name in request.environ for name in _CONDITIONAL_HEADERS):
            response.make_conditional(request)
    return response


_CONDITIONAL_HEADERS = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_IF_RANGE",
)


from . import articles, comments, counts, flags, meta, preview, reactions  # noqa: E402,F401  (routes)
