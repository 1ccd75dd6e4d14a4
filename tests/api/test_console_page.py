"""The moderator console's files, without a browser (tests/browser/test_console.py drives it)."""

from __future__ import annotations

from typing import Any

import pytest


def test_console_page_is_locked_down(client: Any) -> None:
    r = client.get("/admin")
    assert r.status_code == 200 and r.mimetype == "text/html"
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    html = r.get_data(as_text=True)
    assert '<script src="/admin/console.js" defer></script>' in html
    assert "<script>" not in html  # no inline script: the policy would block it
    assert "Sign in as the demo moderator" not in html  # demo mode is off


@pytest.mark.settings(COMMENTS_DEMO=True)
def test_demo_mode_offers_the_demo_moderator(client: Any) -> None:
    html = client.get("/admin").get_data(as_text=True)
    assert "Sign in as the demo moderator" in html
    assert 'data-demo="true"' in html and 'data-demo-token="/demo/token"' in html
    assert 'href="/admin"' in client.get("/demo").get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "mimetype"),
    [("/admin/console.js", "text/javascript"), ("/admin/console.css", "text/css")],
)
def test_console_assets(client: Any, path: str, mimetype: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and r.mimetype == mimetype
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    r.close()


def test_console_script_inserts_only_body_html_as_html(client: Any) -> None:
    r = client.get("/admin/console.js")
    script = r.get_data(as_text=True)
    r.close()
    assert script.count("innerHTML") == 1 and "bodyNode.innerHTML = html" in script
    assert "/api/v1/admin" in script and "http://" not in script.replace(
        "http://www.w3.org/2000/svg", ""
    )
