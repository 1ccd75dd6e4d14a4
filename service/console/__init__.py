"""The moderator console: one public HTML page at /admin with its script and stylesheet.

The page holds no data and needs no session: its script signs the moderator in with a bearer
token (from the host's window.CommentsAuth.getToken(), a pasted token, or in demo mode the
demo moderator's) and talks only to the /api/v1/admin JSON API. See docs/moderation.md.
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    make_response,
    render_template,
)

from .. import csp
from ..assets import send_asset
from ..http import settings

STATIC = Path(__file__).resolve().parent / "static"
ASSET_MAX_AGE = 300

# The console shows reader-written HTML (sanitised by the server) to people with power over
# it, so the page allows nothing but its own script and stylesheet and cannot be framed
# (service/csp.py).

bp = Blueprint("console", __name__, url_prefix="/admin", template_folder="templates")

_locked_down = csp.locked_down


@bp.get("")
def page() -> Response:
    """The console page (static HTML; demo mode adds the demo moderator's sign-in button)."""
    html = render_template("console.html", demo=bool(settings().demo))
    response = make_response(html)
    response.headers["Cache-Control"] = "no-cache"
    return _locked_down(response)


@bp.get("/console.js")
def script() -> Response:
    """The console's script."""
    return _locked_down(send_asset(STATIC, "console.js", "text/javascript", ASSET_MAX_AGE))


@bp.get("/console.css")
def stylesheet() -> Response:
    """The console's stylesheet."""
    return _locked_down(send_asset(STATIC, "console.css", "text/css", ASSET_MAX_AGE))
