"""`flask banner`: what `make run` prints once the server answers (tests/readme/ checks it
under a real `make run`)."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest
from werkzeug.serving import make_server

from service.banner import banner_text, base_url, token_command
from service.config import Settings
from tests.helpers import reconfigure
from tests.servers import free_port


def banner(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["banner", *args])


@pytest.fixture
def live_port(app: Any) -> Iterator[int]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.mark.settings(COMMENTS_DEMO=True, PORT=8123)
def test_demo_mode_names_every_page_and_a_token_command(app: Any) -> None:
    out = banner(app).output
    for line in (
        "demo article        http://127.0.0.1:8123/demo",
        "moderator console   http://127.0.0.1:8123/admin",
        "API docs            http://127.0.0.1:8123/docs",
        token_command("http://127.0.0.1:8123"),
    ):
        assert line in out, out


@pytest.mark.settings(COMMENTS_DEMO=False, COMMENTS_API_DOCS=False)
def test_pages_that_are_off_are_not_announced(app: Any) -> None:
    out = banner(app).output
    assert "/demo" not in out and "TOKEN" not in out and "/docs" not in out, out
    assert "http://127.0.0.1:8000/admin" in out
    assert "http://127.0.0.1:8000/openapi.yaml" in out


@pytest.mark.parametrize(
    "host, url",
    [
        ("0.0.0.0", "http://127.0.0.1:80"),
        ("::", "http://127.0.0.1:80"),
        ("::1", "http://[::1]:80"),
        ("comments.internal", "http://comments.internal:80"),
    ],
)
def test_base_url_is_one_a_browser_on_this_machine_can_open(host: str, url: str) -> None:
    assert base_url(host, 80) == url


@pytest.mark.settings(COMMENTS_DEMO=True)
def test_the_token_command_mints_a_token_that_the_api_accepts(
    app: Any, live_port: int, settings: dict[str, Any]
) -> None:
    base = f"http://127.0.0.1:{live_port}"
    script = f'{token_command(base)}\ncurl -s -o /dev/null -w "%{{http_code}}" ' + (
        f'-H "Authorization: Bearer $TOKEN" -X PUT {base}/api/v1/articles/a-1/reactions/like'
    )
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True
    )
    assert done.stdout in ("200", "201"), (done.stdout, done.stderr)  # 401 without a token


def test_waits_for_the_server_then_says_it_is_listening(app: Any, live_port: int) -> None:
    reconfigure(app, PORT=live_port)
    result = banner(app, "--wait", "10")
    assert result.exit_code == 0, result.output
    # (the output also holds the server's log line of the /healthz request)
    assert f"The comments service is listening on http://127.0.0.1:{live_port}\n" in result.output


def test_gives_up_when_nothing_answers(app: Any) -> None:
    reconfigure(app, PORT=free_port())
    result = banner(app, "--wait", "0.5")
    assert result.exit_code == 1
    assert "nothing answered" in result.output and "listening" not in result.output


def test_the_readme_shows_what_make_run_prints() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    settings = Settings(host="127.0.0.1", port=8000, demo=True, api_docs=True)
    assert f"```text\n{banner_text(settings)}\n```" in readme
