"""Pages outside the JSON API: the embeddable widget's files and, in demo mode, a demo article.

/embed/comments.js, /embed/comments.css, the widget's language catalogues
/embed/i18n/<lang>.js and the listing pages' /embed/count.js are always served (host pages
load them).
/demo, /demo/token and the redirect from / exist only with COMMENTS_DEMO=true; otherwise
they are the same 404 problem+json as any unknown address.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import (
    Blueprint,
    Response,
    abort,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import RAISE, Schema, fields, validate

from .. import csp
from ..assets import send_asset
from ..extensions import db
from ..http import json_body, settings
from . import demo

STATIC = Path(__file__).resolve().parent / "static"
ASSET_MAX_AGE = 300  # host pages pick up a new widget within five minutes (service/assets.py)

bp = Blueprint("web", __name__, template_folder="templates", cli_group=None)


def _asset(name: str, mimetype: str) -> Response:
    response = send_asset(STATIC, name, mimetype, ASSET_MAX_AGE)
    # Host pages on other origins load these; let pages with COEP embed them too.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@bp.get("/embed/comments.js")
def embed_js() -> Response:
    """The widget script."""
    return _asset("comments.js", "text/javascript")


@bp.get("/embed/comments.css")
def embed_css() -> Response:
    """The widget's stylesheet."""
    return _asset("comments.css", "text/css")


@bp.get("/embed/count.js")
def embed_count_js() -> Response:
    """Count badges for listing pages: fills every [data-comments-count="ARTICLE_ID"]."""
    return _asset("count.js", "text/javascript")


# The widget's other languages, each loaded by the widget only when a page uses it.
CATALOGUES = frozenset(p.stem for p in (STATIC / "i18n").glob("*.js"))


@bp.get("/embed/i18n/<lang>.js")
def embed_catalogue(lang: str) -> Response:
    """One language's strings for the widget (de, fr, es, ja, zh-Hans)."""
    if lang not in CATALOGUES:
        abort(404)
    return _asset(f"i18n/{lang}.js", "text/javascript")


def _require_demo() -> None:
    if not settings().demo:
        abort(404)


@bp.get("/")
def index() -> Any:
    """In demo mode the service's front page is the demo article."""
    _require_demo()
    return redirect(url_for("web.demo_page"))


@bp.get("/demo")
def demo_page() -> Response:
    """A financial news article with the widget at its end and a switch of demo identities
    (``?lang=de``, ``fr``, ``es``, ``ja`` or ``zh-Hans``: the widget in that language).
    Its one inline script and stylesheet run under a nonce new to each response; nothing
    else inline does (service/csp.py)."""
    _require_demo()
    # ?lang=de shows the widget in another of its languages (the page's lang attribute).
    lang = request.args.get("lang", "en")
    if lang not in CATALOGUES:
        lang = "en"
    nonce = csp.new_nonce()
    html = render_template(
        "demo.html", article=demo.ARTICLE, personas=demo.PERSONAS, lang=lang, csp_nonce=nonce
    )
    response = make_response(html)
    response.headers["Cache-Control"] = "no-store"  # a nonce is for one response only
    return csp.locked_down(response, nonce)


class DemoTokenSchema(Schema):
    class Meta:
        unknown = RAISE

    persona = fields.String(required=True, validate=validate.OneOf(list(demo.PERSONAS)))


@bp.post("/demo/token")
def demo_token() -> dict[str, Any]:
    """Mint a short-lived HS256 token for one demo identity (none for the guest)."""
    _require_demo()
    data = json_body(DemoTokenSchema())
    return demo.mint(data["persona"], settings())


@bp.cli.command("seed-demo")
def seed_demo() -> None:
    """Seed the demo article's conversation once (does nothing when it already has one)."""
    if not settings().demo:
        click.echo("demo mode is off (COMMENTS_DEMO); nothing seeded")
        return
    created = demo.seed(db.session(), settings())
    db.session.commit()
    if created:
        click.echo(f"seeded {created} comments on {demo.ARTICLE['id']}")
    else:
        click.echo(f"{demo.ARTICLE['id']} already has comments; nothing seeded")
