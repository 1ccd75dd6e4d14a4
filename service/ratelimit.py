"""Rate limiting glue: the IETF RateLimit headers and a 429 that tells a person when to retry.

flask-limiter does the counting (per user, or per client IP for guests and reads; see
rate_limit_key below) in the storage named by RATELIMIT_STORAGE_URI, falls back to memory
when that storage is unreachable, and sets X-RateLimit-* and Retry-After itself.
"""

from __future__ import annotations

import time

from flask import Flask, Response
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded

from .auth import client_ip, current_caller
from .observability import metrics
from .observability.requests import route
from .problems import problem_response


def rate_limit_key() -> str:
    """Whom a limit counts: the signed-in user, else the client IP (guests, anonymous)."""
    caller = current_caller()
    if caller.is_authenticated:
        return f"user:{caller.user_id}"
    return f"ip:{client_ip()}"


# Built here, beside its key function, and bound to the app by init_app below together
# with its 429 handler.
limiter = Limiter(key_func=rate_limit_key, headers_enabled=True)


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


def _too_many_requests(exc: RateLimitExceeded) -> Response:
    # flask-limiter adds Retry-After and X-RateLimit-* to this response after the handler;
    # the body says the same in words a widget can show as they are.
    metrics.rate_limited(route())
    seconds = retry_after()
    wait = f" Try again in {seconds} s." if seconds else " Try again later."
    return problem_response(
        429,
        f"Too many requests (limit: {exc.description}).{wait}",
        type_="rate-limited",
        retry_after=seconds,
    )


def _retry_after_only_when_refused(response: Response) -> Response:
    """flask-limiter sets Retry-After on every response under a limit (a 200 said "retry in
    60 s") and overwrote a 503's own. Retry-After belongs to 429 and 503 alone, with the
    number the problem body states (#14 item 13)."""
    if response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
        return response
    body = response.get_json(silent=True) if response.is_json else None
    if isinstance(body, dict) and isinstance(body.get("retry_after"), int):
        response.headers["Retry-After"] = str(body["retry_after"])
    return response


def guard_retry_after(app: Flask) -> None:
    """Register before flask-limiter's init_app: Flask runs after_request functions in
    reverse, so this one sees the limiter's headers."""
    app.after_request(_retry_after_only_when_refused)


def init_app(app: Flask) -> None:
    guard_retry_after(app)
    limiter.init_app(app)
    app.after_request(_ietf_headers)
    app.register_error_handler(429, _too_many_requests)
