"""The public API's blueprint (/api/v1) and what every one of its requests goes through:
the caller is identified first, public GETs are cached by ETag."""

from __future__ import annotations

from flask import Blueprint, Response, request

from ..auth import current_caller
from ..domain.threads import Viewer

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def viewer() -> Viewer:
    caller = current_caller()
    return Viewer(user_id=caller.user_id, is_moderator=caller.is_moderator)


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
