"""No credential leaves through `flask check-config`: every setting that can hold one is
flagged in the table, and the command's output never contains it."""

from __future__ import annotations

from pathlib import Path

import pytest

from service import create_app
from service.config import SETTINGS, masked_url

PASSWORD = "pw-Zq8vX3-do-not-print"

# Every setting that can hold a credential, with a value carrying one. A new setting that
# looks like a credential (by name) or holds a URL must be added here: see the test below.
CREDENTIALS = {
    "COMMENTS_SECRET_KEY": PASSWORD * 2,
    "COMMENTS_JWT_SECRET": PASSWORD * 2,
    "DATABASE_URL": f"postgresql+psycopg://app:{PASSWORD}@127.0.0.1:1/comments",
    "RATELIMIT_STORAGE_URI": f"redis://app:{PASSWORD}@127.0.0.1:1/0",
    "COMMENTS_CACHE_URL": f"redis://:{PASSWORD}@127.0.0.1:1/1",
    "COMMENTS_METRICS_TOKEN": PASSWORD * 2,
    "COMMENTS_TICKER_URL_TEMPLATE": f"https://app:{PASSWORD}@news.example/quote/{{symbol}}",
    "COMMENTS_SMTP_URL": f"smtp://mailer:{PASSWORD}@127.0.0.1:1?starttls=true",
    "COMMENTS_PUBLIC_URL": f"https://user:{PASSWORD}@comments.example",
    "COMMENTS_REDIS_URL": f"redis://:{PASSWORD}@127.0.0.1:1/2",
}

_CREDENTIAL_WORDS = ("SECRET", "PASSWORD", "TOKEN", "_KEY", "_URL", "_URI", "DSN")


def test_every_setting_that_looks_like_a_credential_is_covered() -> None:
    looks_like_one = {
        s.name
        for s in SETTINGS
        if any(word in s.name for word in _CREDENTIAL_WORDS)
        and s.name != "COMMENTS_JWT_PUBLIC_KEY"  # a public key: nothing to hide
    }
    flagged = {s.name for s in SETTINGS if getattr(s, "secret", False) or getattr(s, "url", False)}
    assert looks_like_one <= set(CREDENTIALS), "add the new setting to CREDENTIALS"
    assert flagged == set(CREDENTIALS)


@pytest.mark.parametrize("name", sorted(CREDENTIALS))
def test_check_config_never_prints_a_credential(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # check-config opens no connection, so the URLs need not answer.
    monkeypatch.chdir(tmp_path)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/c.db", name: CREDENTIALS[name]})
    result = app.test_cli_runner().invoke(args=["check-config"])
    assert result.exit_code == 0, result.output
    assert name in result.output
    assert PASSWORD not in result.output


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://app:hunter2@db:5432/c", "postgresql+psycopg://app:***@db:5432/c"),
        ("redis://:pw@redis:6379/0", "redis://:***@redis:6379/0"),
        ("redis://app:p/w@d@redis/1", "redis://app:***@redis/1"),
        ("rediss://redis:6379/0?password=pw&db=1", "rediss://redis:6379/0?password=***&db=1"),
        ("redis://user@redis/0", "redis://user@redis/0"),
        ("memory://", "memory://"),
    ],
)
def test_masked_url(url: str, shown: str) -> None:
    assert masked_url(url) == shown
