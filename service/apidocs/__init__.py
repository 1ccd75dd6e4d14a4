"""Interactive API documentation at /docs: Swagger UI rendered from openapi.yaml.

Swagger UI's files come from the swagger-ui-bundle-v2 package (Swagger UI 5, which reads
OpenAPI 3.1) and are served by this service, so the page loads nothing from elsewhere. Its
"Try it out" calls this same service (openapi.yaml's server is `/`). On by default, off in
production unless COMMENTS_API_DOCS says otherwise; when off, every /docs address is the same
404 problem+json as any unknown one.
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    make_response,
    render_template,
    send_from_directory,
)
from swagger_ui_bundle import swagger_ui_path

from .. import csp
from ..http import settings

STATIC = Path(__file__).resolve().parent / "static"
SWAGGER_UI = Path(str(swagger_ui_path))
ASSET_MAX_AGE = 300
# Only what the page uses (and the source maps a browser's developer tools ask for); the
# package's index.html and its inline-script initialiser are not served.
SWAGGER_UI_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-bundle.js.map": "application/json",
    "swagger-ui.css": "text/css",
    "swagger-ui.css.map": "application/json",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}

# Nothing inline and nothing from another origin: the page's own script starts Swagger UI.
# Swagger UI's stylesheet draws its icons as data: SVGs, and "try it" calls this origin:
# service/csp.py's policy, as on every page of the service.

bp = Blueprint("apidocs", __name__, url_prefix="/docs", template_folder="templates")


@bp.before_request
def _require_enabled() -> None:
    if not settings().api_docs:
        abort(404)


_locked_down = csp.locked_down


@bp.get("")
def page() -> Response:
    """The documentation page (static HTML; its script loads /openapi.yaml)."""
    response = make_response(render_template("apidocs.html"))
    response.headers["Cache-Control"] = "no-cache"
    return _locked_down(response)


@bp.get("/apidocs.js")
def script() -> Response:
    """Starts Swagger UI on the page."""
    return _locked_down(
        send_from_directory(STATIC, "apidocs.js", mimetype="text/javascript", max_age=ASSET_MAX_AGE)
    )


@bp.get("/swagger-ui/<name>")
def swagger_ui_asset(name: str) -> Response:
    """One of Swagger UI's own files, as the swagger-ui-bundle-v2 package ships it."""
    mimetype = SWAGGER_UI_FILES.get(name)
    if mimetype is None:
        abort(404)
    return _locked_down(
        send_from_directory(SWAGGER_UI, name, mimetype=mimetype, max_age=ASSET_MAX_AGE)
    )
