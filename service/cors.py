"""CORS for the public API: exact origins from COMMENTS_CORS_ORIGINS, through flask-cors."""

from __future__ import annotations

from flask import Flask
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
]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def init_app(app: Flask, settings: Settings) -> None:
    """No origins configured: no CORS headers at all (same-origin use only). Origins are
    checked by config.validate to be exact (scheme://host[:port]), so flask-cors compares
    them literally, never as patterns."""
    origins = settings.cors_origins
    if not origins:
        return
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
