"""User ids in admin URLs: any `sub` a token may carry, percent-encoded, `/` included.

Identity providers use URLs and `|` in `sub` (`https://idp.example/users/42`, `auth0|abc`).
A WSGI server hands the app PATH_INFO already percent-decoded, so `evil%2Fuser` arrives as
two segments and no route can hold it. For the user-id segment of /admin/users/... and
/admin/bans/..., ``UserIdPaths`` reads the segment from the raw request URI (gunicorn and
werkzeug pass ``RAW_URI``/``REQUEST_URI``) and puts it back into PATH_INFO percent-encoded,
so it stays one segment; the ``user_id`` converter decodes it for the view.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable
from urllib.parse import quote, unquote, unquote_to_bytes, urlsplit

from werkzeug.routing import BaseConverter, ValidationError

PREFIXES = ("/api/v1/admin/users/", "/api/v1/admin/bans/", "/api/v1/me/muted/")
MAX_USER_ID = 200  # as a token's `sub`


class UserIdConverter(BaseConverter):
    """One percent-encoded path segment (as ``UserIdPaths`` left it) → the user id."""

    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        try:
            user_id = unquote(value, errors="strict")
        except UnicodeDecodeError:
            raise ValidationError() from None
        if not 1 <= len(user_id) <= MAX_USER_ID:
            raise ValidationError()
        return user_id

    def to_url(self, value: str) -> str:
        return quote(value, safe="")


def _user_segment(environ: dict[str, Any], path_info: str, prefix: str) -> tuple[str, str] | None:
    """(the user id, the WSGI-encoded rest of the path) for a path under ``prefix``."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        raw_path = urlsplit(raw).path if "://" in raw.split("?", 1)[0] else raw.split("?", 1)[0]
        raw_path = raw_path.removeprefix(environ.get("SCRIPT_NAME", ""))
        if raw_path.startswith(prefix):
            segment, sep, tail = raw_path[len(prefix) :].partition("/")
            try:
                user_id = unquote_to_bytes(segment).decode("utf-8")
            except UnicodeDecodeError:
                return None
            return user_id, sep + unquote_to_bytes(tail).decode("latin-1")
    # No raw URI (or an unusual spelling of the prefix): the decoded path is all there is.
    segment, sep, tail = path_info[len(prefix) :].partition("/")
    try:
        return segment.encode("latin-1").decode("utf-8"), sep + tail
    except UnicodeError:
        return None


class UserIdPaths:
    """WSGI middleware keeping a percent-encoded user id one path segment (see above)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path_info = environ.get("PATH_INFO", "")
        for prefix in PREFIXES:
            if path_info.startswith(prefix):
                found = _user_segment(environ, path_info, prefix)
                if found is not None:
                    user_id, rest = found
                    environ["PATH_INFO"] = prefix + quote(user_id, safe="") + rest
                break
        return self.app(environ, start_response)
