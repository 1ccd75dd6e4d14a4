"""Browser walk-throughs: the demo page and widget in headless Chromium (Debian's package,
driven by Playwright for Python) against a real HTTP server on 127.0.0.1.

One browser per session; each test gets a fresh app (its own settings), server, and browser
context (empty localStorage). Without /usr/bin/chromium or the playwright package every test
here is skipped with one reason, shown in pytest's summary.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from typing import Any, Callable, Iterator

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("COMMENTS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -r requirements.lock)"
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    return None


SKIP_REASON = _missing()

# axe-core, installed from the npm registry by `make test` (tests/browser/package.json).
AXE_JS = os.path.join(os.path.dirname(__file__), "node_modules", "axe-core", "axe.min.js")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if SKIP_REASON is None:
        return
    marker = pytest.mark.skip(reason=f"BROWSER TESTS NOT RUN: {SKIP_REASON}")
    for item in items:
        if "tests/browser/" in item.nodeid:
            item.add_marker(marker)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The shared test settings, in demo mode (the walk-throughs drive /demo)."""
    return {**settings, "COMMENTS_DEMO": True}


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def open_demo(browser: Any, live_server: str) -> Iterator[Callable[..., Any]]:
    """open_demo(persona="reader-a", viewport=...) → a page showing /demo with the widget
    loaded. JavaScript errors on the page fail the test."""
    contexts: list[Any] = []
    errors: list[str] = []

    def _open(persona: str = "reader-a", viewport: dict[str, int] | None = None) -> Any:
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
        context.add_init_script(f"sessionStorage.setItem('comments-demo:persona', '{persona}')")
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(live_server + "/demo")
        page.wait_for_selector(".cw-composer > *")
        return page

    yield _open
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def axe_violations() -> Callable[..., list[dict[str, Any]]]:
    """axe_violations(page, context=None) -> the serious and critical axe-core violations on
    the page (or inside the element matched by ``context``), each as axe reports it."""
    if not os.path.exists(AXE_JS):
        pytest.fail(
            f"{AXE_JS} is missing: run `make test` (it installs tests/browser/package.json)"
        )

    def _check(page: Any, context: str | None = None) -> list[dict[str, Any]]:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated through the DevTools protocol, not added as a <script>: pages with a
            # nonce-based CSP (/demo, #14) refuse inline scripts, and the test must not need
            # the page to weaken its policy.
            with open(AXE_JS, encoding="utf-8") as f:
                page.evaluate(f.read())
        result = page.evaluate(
            "async (ctx) => (await axe.run(ctx ? document.querySelector(ctx) : document))",
            context,
        )
        return [v for v in result["violations"] if v.get("impact") in ("serious", "critical")]

    return _check
