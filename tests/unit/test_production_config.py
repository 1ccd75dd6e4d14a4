"""Start-up checks of service.config (no app needed)."""

from __future__ import annotations

import pytest

from service.config import ConfigError, load_config, masked

STRONG = "s" * 48


def _production(**env: str) -> dict[str, str]:
    base = {
        "COMMENTS_ENV": "production",
        "COMMENTS_JWT_SECRET": STRONG,
        "COMMENTS_SECRET_KEY": STRONG,
        "RATELIMIT_STORAGE_URI": "redis://redis:6379/0",
        "DATABASE_URL": "postgresql+psycopg://app@db/comments",
        "COMMENTS_METRICS_TOKEN": STRONG,
    }
    base.update(env)
    return base


def _problems(environ: dict[str, str], tmp_path: object) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(environ=environ, instance_path=str(tmp_path))
    return str(caught.value)


def test_a_sound_production_configuration_loads(tmp_path: object) -> None:
    config = load_config(environ=_production(WEB_CONCURRENCY="4"), instance_path=str(tmp_path))
    assert config["WEB_CONCURRENCY"] == 4


@pytest.mark.parametrize("secret", ["", "short", "x" * 31])
def test_production_refuses_a_missing_or_short_jwt_secret(secret: str, tmp_path: object) -> None:
    message = _problems(_production(COMMENTS_JWT_SECRET=secret), tmp_path)
    assert "COMMENTS_JWT_SECRET: production needs at least 32 characters" in message


def test_production_refuses_demo_mode(tmp_path: object) -> None:
    assert "COMMENTS_DEMO" in _problems(_production(COMMENTS_DEMO="true"), tmp_path)


def test_production_refuses_memory_limits_with_several_workers(tmp_path: object) -> None:
    message = _problems(
        _production(RATELIMIT_STORAGE_URI="memory://", WEB_CONCURRENCY="3"), tmp_path
    )
    assert (
        "RATELIMIT_STORAGE_URI: memory:// keeps separate limits in each of the 3 workers" in message
    )
    # One worker, or rate limiting switched off, is consistent.
    load_config(
        environ=_production(RATELIMIT_STORAGE_URI="memory://", WEB_CONCURRENCY="1"),
        instance_path=str(tmp_path),
    )
    load_config(
        environ=_production(
            RATELIMIT_STORAGE_URI="memory://", WEB_CONCURRENCY="3", RATELIMIT_ENABLED="false"
        ),
        instance_path=str(tmp_path),
    )


def test_development_allows_memory_limits_with_several_workers(tmp_path: object) -> None:
    load_config(
        environ={"RATELIMIT_STORAGE_URI": "memory://", "WEB_CONCURRENCY": "4"},
        instance_path=str(tmp_path),
    )


def test_production_needs_a_shared_secret_key_and_never_generates_one(tmp_path: object) -> None:
    environ = _production()
    del environ["COMMENTS_SECRET_KEY"]
    assert "COMMENTS_SECRET_KEY" in _problems(environ, tmp_path)
    assert not (tmp_path / "secret_key").exists()  # type: ignore[operator]


def test_every_problem_is_reported_at_once(tmp_path: object) -> None:
    message = _problems(
        _production(
            COMMENTS_JWT_SECRET="short",
            COMMENTS_DEMO="1",
            RATELIMIT_STORAGE_URI="memory://",
            WEB_CONCURRENCY="2",
        ),
        tmp_path,
    )
    assert message.count("\n  ") == 3


@pytest.mark.parametrize(
    "origin",
    [
        "*",
        "https://*.example.com",
        "https://example.com/",
        "example.com",
        "https://example.com/path",
        "null",
    ],
)
def test_cors_origins_must_be_exact(origin: str, tmp_path: object) -> None:
    assert "COMMENTS_CORS_ORIGINS" in _problems({"COMMENTS_CORS_ORIGINS": origin}, tmp_path)


def test_masked_hides_secrets_and_passwords_in_urls(tmp_path: object) -> None:
    config = load_config(
        environ=_production(
            DATABASE_URL="postgresql+psycopg://app:db-pass@db/comments",
            RATELIMIT_STORAGE_URI="redis://:redis-pass@redis:6379/0",
        ),
        instance_path=str(tmp_path),
    )
    shown = masked(config)
    text = repr(shown)
    for secret in (STRONG, "db-pass", "redis-pass"):
        assert secret not in text
    assert shown["COMMENTS_JWT_SECRET"] == "***"
    assert shown["DATABASE_URL"] == "postgresql+psycopg://app:***@db/comments"
    assert shown["RATELIMIT_STORAGE_URI"] == "redis://:***@redis:6379/0"
