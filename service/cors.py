"""CORS for the public API: exact origins from COMMENTS_CORS_ORIGINS, through flask-cors."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_cors import CORS

from .config import Settings

# What a browser script may read from our responses: where a new comment lives, the rate
# limit it is under, the cache validator and the id to quote in a support request.
EXPOSE_HEADERS = [
    "Location",
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit",
    "RateLimit-Policy",
    "ETag",
    "X-Request-ID",
]
ALLOW_HEADERS = [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "X-Edit-Token",
    "If-None-Match",
    "Last-Event-ID",  # a reconnecting event stream (or a fetch-based reader) sends it
]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def init_app(app: Flask, settings: Settings) -> None:
    """No origins configured: no CORS headers at all (same-origin use only). Origins are
    checked by config.validate to be exact (scheme://host[:port]), so flask-cors compares
    them literally, never as patterns."""
    origins = settings.cors_origins
    if not origins:
        return
    allowed = frozenset(origins)

    # Registered before flask-cors's own hook, so it runs after it (Flask runs after_request
    # functions in reverse). flask-cors sends a single configured origin to every request,
    # Origin or not, and without Vary: a CDN could store that answer (Cache-Control: public)
    # and serve it to the real site, or the reverse (#14 item 6).
    @app.after_request
    def _vary_on_origin(response: Response) -> Response:
        if not request.path.startswith("/api/v1/"):
            return response
        response.vary.add("Origin")
        if request.headers.get("Origin") not in allowed:
            for name in [
                h for h in response.headers.keys() if h.lower().startswith("access-control-")
            ]:
                del response.headers[name]
        return response

    CORS(
        app,
        resources={r"/api/v1/*": {"origins": list(origins)}},
        expose_headers=EXPOSE_HEADERS,
        allow_headers=ALLOW_HEADERS,
        methods=METHODS,
        supports_credentials=False,  # bearer tokens, not cookies
        max_age=600,
        vary_header=True,
    )
