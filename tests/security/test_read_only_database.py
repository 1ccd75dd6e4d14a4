"""#14 item 12: a read-only SQLite database makes writes 503 (not 500) and /readyz 503."""

from __future__ import annotations

import os

import pytest

from service import create_app
from service.migrate import upgrade
from tests.helpers import JWT_SECRET, auth


@pytest.fixture
def read_only_app(tmp_path):
    return make_read_only_app(tmp_path)


def make_read_only_app(tmp_path, **settings):
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        pytest.skip("a SQLite file's read-only mode")
    path = tmp_path / "ro.db"
    upgrade(f"sqlite:///{path}")
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///file:{path}?mode=ro&uri=true",
            "COMMENTS_JWT_SECRET": JWT_SECRET,
            "COMMENTS_SECRET_KEY": "k",
            "RATELIMIT_ENABLED": False,
            **settings,
        }
    )
    app.config["TESTING"] = True
    return app


def test_writes_to_a_read_only_database_are_503(read_only_app):
    client = read_only_app.test_client()
    assert client.get("/api/v1/articles/a1/comments").status_code == 200  # reads still work
    r = client.post("/api/v1/articles/a1/comments", json={"body": "hi"}, headers=auth("u-1"))
    assert r.status_code == 503, r.get_json()
    assert r.mimetype == "application/problem+json"
    assert r.headers["Retry-After"] == str(r.get_json()["retry_after"])


def test_readyz_says_a_read_only_database_is_not_ready(read_only_app):
    r = read_only_app.test_client().get("/readyz")
    assert r.status_code == 503
    assert r.get_json()["checks"]["database"] == "down"
