"""The app's own limits on a request's head, below the server's (service/serve.py).

granian refuses request targets over 64 KiB and header blocks over its 408 KiB buffer with
an empty body. Anything smaller reaches the app, and this hook, run before every other
(the rate limiter's included), refuses what is still too big as problem+json: 414 for a
request target over MAX_TARGET bytes, 431 for a header block over MAX_HEADERS bytes. Both
sit well above what the API needs: a 1,000-character cursor of 4-byte characters,
percent-encoded, is 12,000 bytes of query string; a 9,000-byte token is a 401, not a 431.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from .problems import Problem

MAX_TARGET = 16 * 1024
MAX_HEADERS = 32 * 1024


def target_bytes(environ: dict[str, Any]) -> int:
    """Length of the request target as sent (the path is decoded in PATH_INFO, so a
    percent-encoded path counts a little short; the query string is as sent)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return len(raw)
    query = environ.get("QUERY_STRING", "")
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    return len(path.encode("latin-1", "replace")) + (len(query) + 1 if query else 0)


def header_bytes(environ: dict[str, Any]) -> int:
    """Size of the header block as sent: `Name: value\\r\\n` per header."""
    total = 0
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            total += len(key) - 5 + len(value) + 4
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            total += len(key) + len(value) + 4
    return total


def _check() -> None:
    environ = request.environ
    size = target_bytes(environ)
    if size > MAX_TARGET:
        raise Problem(
            414,
            f"The request target is {size:,} bytes; at most {MAX_TARGET:,} are accepted.",
            type_="uri-too-long",
        )
    size = header_bytes(environ)
    if size > MAX_HEADERS:
        raise Problem(
            431,
            f"The request headers are {size:,} bytes together; at most {MAX_HEADERS:,} are "
            "accepted.",
            type_="request-header-fields-too-large",
        )


def init_app(app: Flask) -> None:
    # First of all before_request hooks: a refused head is not counted against a limit.
    app.before_request_funcs.setdefault(None, []).insert(0, _check)
