"""/docs: Swagger UI over openapi.yaml, served from the service's own files, on by default
outside production (COMMENTS_API_DOCS). The browser half is tests/browser/test_apidocs.py."""

from __future__ import annotations

import re
from typing import Any

import pytest

from service.apidocs import SWAGGER_UI, SWAGGER_UI_FILES
from service.config import load_config
from tests.api.test_web import fetch

PRODUCTION = {
    "COMMENTS_ENV": "production",
    "COMMENTS_JWT_SECRET": "s" * 48,
    "COMMENTS_SECRET_KEY": "s" * 48,
    "RATELIMIT_STORAGE_URI": "redis://redis:6379/0",
    "COMMENTS_METRICS_PUBLIC": "true",
}


@pytest.mark.parametrize(
    "environ, expected",
    [
        ({}, True),
        ({"COMMENTS_API_DOCS": "false"}, False),
        (PRODUCTION, False),
        ({**PRODUCTION, "COMMENTS_API_DOCS": "true"}, True),
    ],
    ids=["development", "development-off", "production", "production-on"],
)
def test_docs_are_on_by_default_except_in_production(
    environ: dict[str, str], expected: bool, tmp_path: Any
) -> None:
    config = load_config(environ=environ, instance_path=str(tmp_path))
    assert config["COMMENTS_API_DOCS"] is expected


def test_the_page_loads_only_its_own_files_and_no_inline_script(client: Any) -> None:
    response, body = fetch(client, "/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = body.decode()
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts and all('src="/docs/' in attrs for attrs in scripts), scripts
    # Every address the page names is this service's (no CDN, no font service).
    assert re.findall(r'(?:src|href)="([^"]+)"', html) and all(
        url.startswith("/") for url in re.findall(r'(?:src|href)="([^"]+)"', html)
    )
    assert 'data-spec-url="/openapi.yaml"' in html
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe" not in csp
    assert "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("name", sorted(SWAGGER_UI_FILES))
def test_swagger_ui_files_come_from_the_package(client: Any, name: str) -> None:
    response, body = fetch(client, f"/docs/swagger-ui/{name}")
    assert response.status_code == 200
    assert response.mimetype == SWAGGER_UI_FILES[name]
    assert body == (SWAGGER_UI / name).read_bytes()
    assert response.headers["Cache-Control"] == "public, max-age=300"


def test_swagger_ui_is_a_version_that_reads_openapi_3_1() -> None:
    # Swagger UI renders OpenAPI 3.1 from version 5 on; the 4.x bundle shows an error instead.
    major = int(re.search(r"swagger-ui-(\d+)\.", str(SWAGGER_UI)).group(1))  # type: ignore[union-attr]
    assert major >= 5, SWAGGER_UI


@pytest.mark.parametrize(
    "name", ["index.html", "swagger-initializer.js", "../../../__init__.py", "%2e%2e%2fLICENSE"]
)
def test_only_the_listed_files_are_served(client: Any, name: str) -> None:
    response, _ = fetch(client, f"/docs/swagger-ui/{name}")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


@pytest.mark.settings(COMMENTS_API_DOCS=False)
@pytest.mark.parametrize(
    "path", ["/docs", "/docs/apidocs.js", "/docs/swagger-ui/swagger-ui-bundle.js"]
)
def test_switched_off_every_docs_address_is_404(client: Any, path: str) -> None:
    response, _ = fetch(client, path)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    # The contract itself stays available: it is not the interactive page.
    assert client.get("/openapi.yaml").status_code == 200
