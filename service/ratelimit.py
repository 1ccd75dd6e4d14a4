"""Rate limiting glue: the IETF RateLimit headers and a 429 that tells a person when to retry.

flask-limiter does the counting (per user, or per client IP for guests and reads; see
auth.rate_limit_key) in the storage named by RATELIMIT_STORAGE_URI, falls back to memory
when that storage is unreachable, and sets X-RateLimit-* and Retry-After itself.
"""

from __future__ import annotations

import time

from flask import Flask, Response

from .extensions import limiter


def _seconds_left(reset_at: float) -> int:
    # The same rounding as flask-limiter's Retry-After, so header and body agree.
    return max(1, int(reset_at - time.time()))


def retry_after() -> int | None:
    """Seconds until the limit that this request hit resets (None when no limit applied)."""
    current = limiter.current_limit
    if current is None:
        return None
    try:
        return _seconds_left(current.reset_at)
    except Exception:  # storage unreachable: flask-limiter has already fallen back
        return None


def _ietf_headers(response: Response) -> Response:
    """RateLimit and RateLimit-Policy, as draft-ietf-httpapi-ratelimit-headers spells them."""
    current = limiter.current_limit
    if current is None:
        return response
    try:
        item = current.limit
        window = item.get_expiry()
        remaining = max(0, current.remaining)
        reset = _seconds_left(current.reset_at)
    except Exception:  # storage unreachable: answer without the headers
        return response
    name = f"{item.amount}-per-{window}s"
    response.headers["RateLimit-Policy"] = f'"{name}";q={item.amount};w={window}'
    response.headers["RateLimit"] = f'"{name}";r={remaining};t={reset}'
    return response


def init_app(app: Flask) -> None:
    app.after_request(_ietf_headers)
