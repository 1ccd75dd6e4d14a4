"""Settings: parsed from the environment, refused when unsafe, documented in the README."""

from pathlib import Path

import pytest

from service.config import ConfigError, load_config, markdown_table, masked

ROOT = Path(__file__).resolve().parents[2]


def test_readme_configuration_table_is_current():
    readme = (ROOT / "README.md").read_text()
    start = readme.index("<!-- config-table:start -->") + len("<!-- config-table:start -->")
    end = readme.index("<!-- config-table:end -->")
    assert readme[start:end].strip() == markdown_table()


def test_environment_values_are_parsed(tmp_path):
    config = load_config(
        environ={
            "COMMENTS_MAX_DEPTH": "3",
            "COMMENTS_ALLOW_GUESTS": "yes",
            "COMMENTS_REACTION_KINDS": "like, dislike ,wow",
            "COMMENTS_SECRET_KEY": "s",
        },
        instance_path=str(tmp_path),
    )
    assert config["COMMENTS_MAX_DEPTH"] == 3
    assert config["COMMENTS_ALLOW_GUESTS"] is True
    assert config["COMMENTS_REACTION_KINDS"] == ["like", "dislike", "wow"]
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path}/comments.db"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"COMMENTS_MAX_DEPTH": "deep"}, "COMMENTS_MAX_DEPTH"),
        ({"COMMENTS_ALLOW_GUESTS": "perhaps"}, "COMMENTS_ALLOW_GUESTS"),
        ({"COMMENTS_LIMIT_COMMENT": "lots"}, "COMMENTS_LIMIT_COMMENT"),
        ({"COMMENTS_PREMODERATION": "sometimes"}, "COMMENTS_PREMODERATION"),
        ({"COMMENTS_REACTION_KINDS": "like,thumbs up"}, "COMMENTS_REACTION_KINDS"),
        ({"COMMENTS_ENV": "production", "COMMENTS_JWT_SECRET": "short"}, "at least 32"),
        (
            {
                "COMMENTS_ENV": "production",
                "COMMENTS_JWT_SECRET": "x" * 40,
                "COMMENTS_DEMO": "true",
            },
            "COMMENTS_DEMO",
        ),
    ],
)
def test_bad_settings_stop_the_service_with_a_clear_message(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        load_config(environ={"COMMENTS_SECRET_KEY": "s", **env}, instance_path=str(tmp_path))


def test_generated_secret_is_shared_by_every_worker(tmp_path):
    first = load_config(environ={}, instance_path=str(tmp_path))["COMMENTS_SECRET_KEY"]
    second = load_config(environ={}, instance_path=str(tmp_path))["COMMENTS_SECRET_KEY"]
    assert first == second and len(first) > 40


def test_masked_hides_secrets_and_passwords(tmp_path):
    config = load_config(
        environ={
            "COMMENTS_JWT_SECRET": "super-secret",
            "COMMENTS_SECRET_KEY": "cursor",
            "DATABASE_URL": "postgresql+psycopg://app:hunter2@db:5432/comments",
        },
        instance_path=str(tmp_path),
    )
    shown = masked(config)
    assert shown["COMMENTS_JWT_SECRET"] == "***" and shown["COMMENTS_SECRET_KEY"] == "***"
    assert "hunter2" not in shown["DATABASE_URL"] and "app" in shown["DATABASE_URL"]


def test_settings_are_typed_frozen_and_one_row_each(tmp_path):
    import dataclasses

    from service.config import SETTINGS, Settings, load_settings

    settings = load_settings(
        environ={"COMMENTS_MAX_DEPTH": "3", "COMMENTS_CORS_ORIGINS": "https://a.example"},
        instance_path=str(tmp_path),
    )
    assert settings.max_depth == 3 and settings.cors_origins == ("https://a.example",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.max_depth = 4  # type: ignore[misc]
    names = [s.name for s in SETTINGS]
    rows = [f for f in dataclasses.fields(Settings) if not f.metadata.get("derived")]
    assert len(names) == len(set(names)) == len(rows)
    assert settings.as_config()["COMMENTS_CORS_ORIGINS"] == ["https://a.example"]


def test_every_problem_is_reported_at_once(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(
            environ={"COMMENTS_MAX_PINNED": "-1", "WEB_CONCURRENCY": "0", "COMMENTS_ENV": "x"},
            instance_path=str(tmp_path),
        )
    message = str(caught.value)
    for name in ("COMMENTS_MAX_PINNED: 0 or more", "WEB_CONCURRENCY: 1 or more", "COMMENTS_ENV"):
        assert name in message


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("COMMENTS_EDIT_WINDOW_SECONDS", "-1", "0 or more"),
        ("COMMENTS_JWT_LEEWAY_SECONDS", "-5", "0 or more"),
        ("COMMENTS_IDEMPOTENCY_TTL_SECONDS", "0", "1 or more"),
        ("COMMENTS_DUPLICATE_WINDOW_SECONDS", "-300", "0 or more"),
        ("COMMENTS_MAX_LINKS", "-1", "0 or more"),
        ("COMMENTS_TRUSTED_PROXIES", "-1", "0 or more"),
        ("COMMENTS_SSE_RETRY_MS", "-1", "0 or more"),
        ("PORT", "0", "a port from 1 to 65535"),
        ("PORT", "65536", "a port from 1 to 65535"),
    ],
)
def test_a_number_out_of_its_range_is_refused_by_name(tmp_path, name, value, message):
    """A negative edit window once started a service on which nobody could edit, with no
    word why; every number now has its range, and the service says which one is wrong."""
    with pytest.raises(ConfigError, match=f"{name}: {message}"):
        load_config(environ={name: value}, instance_path=str(tmp_path))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("COMMENTS_EDIT_WINDOW_SECONDS", "0"),  # no editing
        ("COMMENTS_DUPLICATE_WINDOW_SECONDS", "0"),  # no duplicate check
        ("COMMENTS_JWT_LEEWAY_SECONDS", "0"),
        ("COMMENTS_IDEMPOTENCY_TTL_SECONDS", "1"),
        ("COMMENTS_MAX_LINKS", "0"),  # any link holds the comment
        ("COMMENTS_TRUSTED_PROXIES", "0"),
        ("COMMENTS_SSE_RETRY_MS", "0"),
        ("PORT", "1"),
        ("PORT", "65535"),
    ],
)
def test_the_edge_of_each_range_is_accepted(tmp_path, name, value):
    assert load_config(environ={name: value}, instance_path=str(tmp_path))[name] == int(value)


def test_every_numeric_setting_has_a_range():
    """So a new number cannot arrive without one (the rows above were found without)."""
    from service.config import SETTINGS

    unchecked = [
        s.name
        for s in SETTINGS
        if isinstance(s.default, (int, float)) and not isinstance(s.default, bool) and not s.check
    ]
    assert unchecked == []
