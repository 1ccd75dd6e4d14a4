"""#14 item 4, end to end: `make run` (demo mode by default) on a non-loopback HOST stops
before it serves anything, unless the operator set COMMENTS_DEMO themselves."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _make_run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COMMENTS_", "MAKE", "MFLAGS")) and k not in ("HOST", "PORT")
    }
    environ.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}", PORT="1", COMMENTS_ENV="development"
    )
    environ.update(env)
    return subprocess.run(
        ["make", "-s", "run", "BIN=.venv/bin", "HOST=0.0.0.0"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_make_run_refuses_default_demo_mode_on_a_public_address(tmp_path):
    result = _make_run(tmp_path)
    assert result.returncode != 0
    assert "COMMENTS_DEMO" in result.stderr + result.stdout
    assert "HOST=0.0.0.0" in result.stderr + result.stdout
    assert not (tmp_path / "run.db").exists()  # refused before migrating anything
