"""/docs in Chromium: Swagger UI renders openapi.yaml from the service's own files, under the
page's Content-Security-Policy, and "Try it out" calls this same service."""

from __future__ import annotations

from typing import Any

from tests.helpers import auth

# Collected before any page script runs: every CSP violation the browser reports.
CSP_WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


def test_docs_page_runs_an_operation_against_this_service(
    browser: Any, live_server: str, client: Any
) -> None:
    posted = client.post(
        "/api/v1/articles/docs-check/comments",
        json={"body": "Written before the docs page asked for it."},
        headers=auth("u-docs", name="Docs Reader"),
    )
    assert posted.status_code == 201, posted.get_data(as_text=True)

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    requests: list[str] = []
    errors: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script(CSP_WATCH)
    try:
        page.goto(live_server + "/docs")
        operation = page.locator("#operations-comments-listThread")
        operation.locator(".opblock-summary").first.click()  # expand it
        operation.get_by_role("button", name="Try it out").click()
        operation.locator("tr[data-param-name='article_id'] input").fill("docs-check")
        operation.get_by_role("button", name="Execute").click()

        status = operation.locator(".live-responses-table tbody .response-col_status").first
        status.wait_for()
        assert status.inner_text().strip() == "200"
        body = operation.locator(".live-responses-table .response-col_description pre").first
        assert "Written before the docs page asked for it." in body.inner_text()
        assert page.evaluate("window.__cspViolations") == []
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    # Everything came from this service: the page, Swagger UI, the document, the call.
    assert live_server + "/openapi.yaml" in requests
    thread = live_server + "/api/v1/articles/docs-check/comments"
    assert any(url == thread or url.startswith(thread + "?") for url in requests), requests
    foreign = [url for url in requests if not url.startswith(live_server + "/")]
    assert not foreign, foreign
