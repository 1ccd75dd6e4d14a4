"""Start-up as an operator sees it: check-config's output and a refused production start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.servers import STRONG, base_env


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=tmp_path, env=base_env(**env), capture_output=True, text=True, timeout=60
    )


def test_check_config_prints_the_effective_settings_with_secrets_masked(tmp_path: Path) -> None:
    result = _run(
        [sys.executable, "-m", "flask", "--app", "service", "check-config"],
        tmp_path,
        COMMENTS_JWT_SECRET=STRONG,
        WEB_CONCURRENCY="3",
        DATABASE_URL="postgresql+psycopg://app:hunter22@db/comments",
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["COMMENTS_JWT_SECRET"] == "***"
    assert shown["COMMENTS_SECRET_KEY"] == "***"
    assert shown["WEB_CONCURRENCY"] == 3
    assert shown["DATABASE_URL"] == "postgresql+psycopg://app:***@db/comments"
    assert STRONG not in result.stdout and "hunter22" not in result.stdout


def test_a_production_start_with_a_weak_secret_exits_non_zero(tmp_path: Path) -> None:
    env = {
        "COMMENTS_ENV": "production",
        "COMMENTS_JWT_SECRET": "weak",
        "COMMENTS_SECRET_KEY": STRONG,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
    }
    app = _run(
        [sys.executable, "-c", "from service import create_app; create_app()"], tmp_path, **env
    )
    assert app.returncode != 0
    assert "COMMENTS_JWT_SECRET: production needs at least 32 characters" in app.stderr
    preflight = _run([sys.executable, "-m", "service.preflight"], tmp_path, **env)
    assert preflight.returncode == 2
    assert preflight.stderr.startswith("comments: refusing to start: invalid configuration")
    assert "Traceback" not in preflight.stderr
