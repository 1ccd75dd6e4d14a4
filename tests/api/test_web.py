"""The widget's files, demo mode's pages and token minting, and the seed-demo command."""

from __future__ import annotations

import gzip
import os
import re
import stat
import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from service.config import DEMO_JWT_SECRET, ConfigError, load_config
from service.web import demo
from tests.helpers import JWT_SECRET, reconfigure

WIDGET_BUDGET = 30 * 1024  # bytes, gzipped: docs/widget.md "Budget"


def fetch(client: Any, path: str) -> tuple[Any, bytes]:
    """GET a file response and close it (send_file streams from an open file)."""
    response = client.get(path)
    try:
        return response, response.get_data()
    finally:
        response.close()


def assert_not_found(response: Any) -> None:
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404


@pytest.mark.parametrize(
    "path, mimetype",
    [
        ("/embed/comments.js", "text/javascript"),
        ("/embed/comments.css", "text/css"),
    ],
)
def test_widget_files_are_served_cacheable(client, path, mimetype):
    r, _ = fetch(client, path)
    assert r.status_code == 200
    assert r.mimetype == mimetype
    assert r.headers["Cache-Control"] == "public, max-age=300"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cross-Origin-Resource-Policy"] == "cross-origin"


def widget_gzipped(client: Any) -> int:
    """What a reader downloads for an English page: comments.js + comments.css, gzipped
    (level 9, as `gzip -9`). Other languages' catalogues load only where used."""
    return sum(
        len(gzip.compress(fetch(client, path)[1], compresslevel=9, mtime=0))
        for path in ("/embed/comments.js", "/embed/comments.css")
    )


def test_widget_stays_within_its_budget_and_the_docs_say_its_size(client):
    size = widget_gzipped(client)
    assert size <= WIDGET_BUDGET, f"{size} bytes gzipped; the budget is {WIDGET_BUDGET}"
    line = f"Measured by `tests/api/test_web.py`: **{size / 1024:.1f} KB** gzipped"
    text = (Path(__file__).resolve().parents[2] / "docs" / "widget.md").read_text("utf-8")
    assert line in text, f"docs/widget.md should say the widget's current size: {line!r}"


def test_widget_inserts_html_only_from_body_html(client):
    """innerHTML is only ever fed the server-sanitised body_html (a comment's, a preview's
    or an earlier version's, #18)."""
    js = fetch(client, "/embed/comments.js")[1].decode()
    assignments = [line.strip() for line in js.splitlines() if "innerHTML" in line]
    assert assignments, "the widget renders comments somehow"
    assert all(re.search(r"\.innerHTML = (c|r\.data|v)\.body_html\b", a) for a in assignments)
    assert len(assignments) == 3
    assert "insertAdjacentHTML" not in js and "outerHTML" not in js and "document.write" not in js


@pytest.fixture
def demo_on(settings: dict[str, Any]) -> dict[str, Any]:
    settings["COMMENTS_DEMO"] = True
    return settings


@pytest.fixture
def demo_off(settings: dict[str, Any]) -> dict[str, Any]:
    settings["COMMENTS_DEMO"] = False
    return settings


def test_demo_routes_are_404_problems_when_demo_mode_is_off(demo_off, client):
    assert_not_found(client.get("/demo"))
    assert_not_found(client.get("/"))
    assert_not_found(client.post("/demo/token", json={"persona": "reader-a"}))


def test_front_page_redirects_to_the_demo(demo_on, client):
    r = client.get("/")
    assert r.status_code == 302
    assert r.headers["Location"] == "/demo"


def test_demo_page_embeds_the_widget_on_the_article(demo_on, client):
    r = client.get("/demo")
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert f'<comments-thread class="comments" article-id="{demo.ARTICLE["id"]}"' in page
    assert 'src="/embed/comments.js"' in page  # the element loads its own stylesheet
    assert '<html lang="en">' in page
    assert '<html lang="de">' in client.get("/demo?lang=de").get_data(as_text=True)
    assert '<html lang="en">' in client.get("/demo?lang=xx").get_data(as_text=True)
    assert demo.ARTICLE["title"] in page
    for persona in demo.PERSONAS:
        assert f'value="{persona}"' in page


@pytest.mark.parametrize("persona", ["reader-a", "reader-b", "moderator"])
def test_demo_token_is_short_lived_and_verifies(demo_on, app, client, persona):
    before = int(time.time())
    r = client.post("/demo/token", json={"persona": persona})
    assert r.status_code == 200
    body = r.get_json()
    claims = jwt.decode(body["token"], app.config[DEMO_JWT_SECRET], algorithms=["HS256"])
    who = demo.PERSONAS[persona]
    assert claims["sub"] == who["sub"] and claims["name"] == who["name"]
    assert claims["roles"] == who["roles"]
    assert before + 3600 <= claims["exp"] <= int(time.time()) + 3600
    assert body["expires_in"] == 3600
    assert body["user"] == {"id": who["sub"], "name": who["name"], "roles": who["roles"]}
    # ...and the API takes it.
    r = client.post(
        f"/api/v1/articles/{demo.ARTICLE['id']}/comments",
        json={"body": "hi"},
        headers={"Authorization": f"Bearer {body['token']}"},
    )
    assert r.status_code == 201
    assert r.get_json()["author"]["is_moderator"] is (persona == "moderator")


def test_demo_guest_gets_no_token(demo_on, client):
    r = client.post("/demo/token", json={"persona": "guest"})
    assert r.status_code == 200
    assert r.get_json()["token"] is None


def test_demo_token_honours_issuer_and_audience(demo_on, settings, client):
    settings.update(COMMENTS_JWT_ISSUER="https://news.example", COMMENTS_JWT_AUDIENCE="comments")
    token = client.post("/demo/token", json={"persona": "reader-a"}).get_json()["token"]
    r = client.get(
        f"/api/v1/articles/{demo.ARTICLE['id']}/comments",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200


@pytest.mark.parametrize(
    "kwargs, status",
    [
        ({"json": {"persona": "admin"}}, 422),
        ({"json": {"persona": "reader-a", "roles": ["admin"]}}, 422),
        ({"json": {}}, 422),
        ({"data": "persona=reader-a"}, 415),
    ],
)
def test_demo_token_refuses_what_it_does_not_know(demo_on, client, kwargs, status):
    r = client.post("/demo/token", **kwargs)
    assert r.status_code == status
    assert r.mimetype == "application/problem+json"


def test_demo_is_refused_in_production(tmp_path):
    with pytest.raises(ConfigError, match="COMMENTS_DEMO"):
        load_config(
            {"COMMENTS_ENV": "production", "COMMENTS_DEMO": True, "COMMENTS_JWT_SECRET": "x" * 40},
            environ={},
            instance_path=str(tmp_path),
        )
    with pytest.raises(ConfigError, match="COMMENTS_DEMO"):
        load_config(
            environ={
                "COMMENTS_ENV": "production",
                "COMMENTS_DEMO": "true",
                "COMMENTS_JWT_SECRET": "x" * 40,
            },
            instance_path=str(tmp_path),
        )
    assert not (tmp_path / "demo_jwt_secret").exists()


def test_demo_generates_one_jwt_secret_per_instance(tmp_path):
    first = load_config({"COMMENTS_DEMO": True}, environ={}, instance_path=str(tmp_path))
    again = load_config({"COMMENTS_DEMO": True}, environ={}, instance_path=str(tmp_path))
    secret = first[DEMO_JWT_SECRET]
    assert secret and len(secret) >= 32
    assert again[DEMO_JWT_SECRET] == secret  # every worker verifies every token
    assert first["COMMENTS_JWT_SECRET"] is None  # the site's secret is not invented
    path = tmp_path / "demo_jwt_secret"
    assert path.read_text().strip() == secret
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_no_demo_means_no_generated_secret(tmp_path):
    off = load_config(environ={}, instance_path=str(tmp_path))
    assert off["COMMENTS_JWT_SECRET"] is None and off[DEMO_JWT_SECRET] is None
    assert not (tmp_path / "demo_jwt_secret").exists()


def test_demo_never_signs_with_the_configured_jwt_secret(demo_on, app, client):
    """#14 item 4: a demo started with the site's real secret minted real moderator tokens."""
    body = client.post("/demo/token", json={"persona": "moderator"}).get_json()
    assert app.config["COMMENTS_JWT_SECRET"] == JWT_SECRET
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(body["token"], JWT_SECRET, algorithms=["HS256"])
    assert app.config[DEMO_JWT_SECRET] != JWT_SECRET


def test_demo_tokens_are_accepted_only_while_demo_mode_is_on(demo_on, app, client):
    token = client.post("/demo/token", json={"persona": "moderator"}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/admin/queue", headers=headers).status_code == 200
    reconfigure(app, COMMENTS_DEMO=False)
    r = client.get("/api/v1/admin/queue", headers=headers)
    assert r.status_code == 401 and "demo mode" in r.get_json()["detail"]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.7", "::", "comments.example.com"])
def test_make_runs_default_demo_refuses_a_non_loopback_host(tmp_path, host):
    environ = {"COMMENTS_DEMO": "true", "COMMENTS_DEMO_SET_BY": "make", "HOST": host}
    with pytest.raises(ConfigError, match="COMMENTS_DEMO"):
        load_config(environ=environ, instance_path=str(tmp_path))
    # The operator's own COMMENTS_DEMO=true is an explicit choice.
    del environ["COMMENTS_DEMO_SET_BY"]
    assert load_config(environ=environ, instance_path=str(tmp_path))["COMMENTS_DEMO"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_make_runs_default_demo_starts_on_loopback(tmp_path, host):
    environ = {"COMMENTS_DEMO": "true", "COMMENTS_DEMO_SET_BY": "make", "HOST": host}
    assert load_config(environ=environ, instance_path=str(tmp_path))["COMMENTS_DEMO"]


def test_seed_demo_seeds_once(demo_on, app, client):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert f"seeded {len(demo.CONVERSATION)} comments" in first.output
    thread = client.get(f"/api/v1/articles/{demo.ARTICLE['id']}/comments?sort=oldest").get_json()
    total = thread["total"]
    assert total == len(demo.CONVERSATION) - len(demo.DELETED)
    statuses = {c["status"] for c in thread["items"]}
    assert statuses == {"published", "deleted"}  # the deleted comment with a reply stays
    assert any(c["replies"] and c["replies"][0]["replies"] for c in thread["items"])  # threaded
    capex = thread["items"][0]
    assert capex["reactions"]["like"] == 5 and capex["score"] == 5

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0
    assert "nothing seeded" in again.output
    assert client.get(f"/api/v1/articles/{demo.ARTICLE['id']}").get_json()["comment_count"] == total


def test_seed_demo_does_nothing_outside_demo_mode(demo_off, app, client):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0
    assert "demo mode is off" in result.output
    assert client.get(f"/api/v1/articles/{demo.ARTICLE['id']}").get_json()["comment_count"] == 0


def test_preview_renders_a_draft_as_posting_would_and_stores_nothing(client):
    r = client.post("/api/v1/preview", json={"body": "**Bold** take: https://example.com/x"})
    assert r.status_code == 200
    assert r.get_json() == {
        "body_html": '<p><strong>Bold</strong> take: <a href="https://example.com/x" '
        'rel="nofollow ugc noopener noreferrer">https://example.com/x</a></p>',
        "links": 1,
    }
    r = client.post("/api/v1/preview", json={"body": "   "})
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert r.get_json()["errors"] == {"body": ["The body must not be empty."]}
    assert client.post("/api/v1/preview", data="x").status_code == 415
    assert client.get("/api/v1/counts?article_id=a1").get_json()["counts"]["a1"]["comments"] == 0


def test_language_catalogues_are_served_like_the_widget(client):
    for lang in ("de", "fr", "es", "ja", "zh-Hans"):
        r, data = fetch(client, f"/embed/i18n/{lang}.js")
        assert r.status_code == 200 and r.mimetype == "text/javascript"
        # registered for the widget and for count.js, whichever is on the page
        assert f'}})("{lang}", {{'.encode() in data
        assert r.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert client.get("/embed/i18n/xx.js").status_code == 404
    assert client.get("/embed/i18n/..%2Fcomments.js").status_code == 404


def catalogue_keys(text: str) -> set[str]:
    plural = {"zero", "one", "two", "few", "many", "other"}
    return set(re.findall(r"\b([a-z_]+): [\"{]", text)) - plural


def test_every_catalogue_translates_every_english_string(client):
    js = fetch(client, "/embed/comments.js")[1].decode()
    english = catalogue_keys(js[js.index("var EN = {") : js.index("var CATALOGUES")])
    count_js = fetch(client, "/embed/count.js")[1].decode()  # the badges' strings (#16)
    start = count_js.index("var EN = {")
    english |= catalogue_keys(count_js[start : count_js.index("};", start)])
    assert len(english) > 90
    for lang in ("de", "fr", "es", "ja", "zh-Hans"):
        keys = catalogue_keys(fetch(client, f"/embed/i18n/{lang}.js")[1].decode())
        assert keys == english, (lang, sorted(english - keys), sorted(keys - english))
