"""Content-Security-Policy for the service's own HTML pages (/docs, /admin, /demo), in one
place: the same locked-down policy everywhere, and per-response nonces where a page keeps an
inline script or stylesheet.

Nothing inline and nothing from another origin runs unless the policy names it: pages load
their own script and stylesheet; Swagger UI and the console draw icons as data: images;
"try it", the console and the widget call this origin. No page can be framed.
"""

from __future__ import annotations

import secrets

from flask import Response

NONCE_BYTES = 16  # 128 bits, fresh for every response (CSP 3 asks for at least 128)


def new_nonce() -> str:
    return secrets.token_urlsafe(NONCE_BYTES)


def policy(nonce: str | None = None) -> str:
    """The policy; with ``nonce``, inline ``<script>``/``<style>`` elements carrying it run
    too (never inline event handlers or ``style`` attributes)."""
    extra = f" 'nonce-{nonce}'" if nonce else ""
    return (
        f"default-src 'none'; script-src 'self'{extra}; style-src 'self'{extra}; "
        "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def locked_down(response: Response, nonce: str | None = None) -> Response:
    """The policy and its companions (no framing, no referrer) on ``response``."""
    response.headers["Content-Security-Policy"] = policy(nonce)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
