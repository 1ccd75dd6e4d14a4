"""The README's curl walk-through, run verbatim against `make run`.

The service is started by `make run` itself (so whatever server it starts is what is
tested), with only what a reader's shell would differ in: a free PORT, a database of the
test run (SQLite, or TEST_DATABASE_URL's PostgreSQL) and no stray COMMENTS_* settings.
The README's blocks then run in one bash, with http://127.0.0.1:8000 replaced by that
server's address; tests/readme/test_extractor.py shows the harness fails on a wrong step.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

from service.banner import token_command
from tests.helpers import empty_tables as _empty_tables
from tests.readme.walkthrough import extract, run
from tests.servers import ROOT, base_env, free_port, get

README = ROOT / "README.md"
DEFAULT_BASE = "http://127.0.0.1:8000"
START_SECONDS = 120  # a cold machine installs nothing here (make test did), but may be slow


def _make_env(port: int, database_url: str) -> dict[str, str]:
    env = base_env(PORT=str(port), HOST="127.0.0.1", DATABASE_URL=database_url)
    # A reader's terminal, not a sub-make of `make test`.
    for name in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "PYTHONPATH"):
        env.pop(name, None)
    return env


def _reader_shell_env() -> dict[str, str]:
    """A reader's shell: no test settings, and the system's python3, not the project's venv."""
    env = base_env()
    env["PATH"] = os.environ.get("PATH", "")
    env.pop("PYTHONPATH", None)
    return env


@pytest.fixture
def make_run(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`make run` on a free port; yields its base URL and the file its stdout goes to."""
    _empty_tables(database_url)
    port = free_port()
    out, err = tmp_path / "make-run.out", tmp_path / "make-run.err"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=ROOT,
            env=_make_env(port, database_url),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,  # its own process group: make, the banner, the server
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while "is listening on" not in out.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"make run did not announce {base} (exit status {process.poll()}):\n"
                    + out.read_text()[-2000:]
                    + err.read_text()[-3000:]
                )
            time.sleep(0.2)
        yield base, out
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.mark.slow
def test_readme_walk_through_runs_verbatim_against_make_run(make_run: tuple[str, Path]) -> None:
    base, out = make_run
    banner = out.read_text()
    # What make run prints once it listens: every page it names answers.
    for path in ("/demo", "/admin", "/docs"):
        assert re.search(rf"\s{re.escape(base + path)}\b", banner), banner
        assert get(base + path, timeout=30)[0] == 200, path  # a fresh worker may be slow
    assert token_command(base) in banner

    steps = extract(README.read_text())
    assert len(steps) >= 8, "the README's marked blocks are gone: nothing would be tested"
    report = run(
        steps,
        cwd=ROOT,
        env=_reader_shell_env(),
        replacements={DEFAULT_BASE: base},
        timeout=120,
    )
    assert report is None, "the README's walk-through answered differently:\n" + report


def test_the_walk_through_is_the_readme_curl_section_and_uses_make_runs_token_line() -> None:
    steps = extract(README.read_text())
    commands = [command for step in steps for command in step.commands]
    # The reader's first line is the one make run prints (same persona, same address).
    assert commands[0] == token_command(DEFAULT_BASE)
    for call in ("-X PATCH", "-X DELETE", "-X PUT", "/counts?", "parentId"):
        assert any(call in command for command in commands), call
    assert sum(bool(step.expected) for step in steps) >= 8
