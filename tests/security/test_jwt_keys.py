"""Issue #14 items 3 and 5: a key that cannot verify a token is the caller's problem (401),
and a key that cannot load at all is the operator's (start-up refuses, naming the setting)."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from service import create_app
from service.config import ConfigError, load_config
from tests.helpers import reconfigure

API = "/api/v1"


def _pair(kind: str) -> tuple[bytes, str]:
    key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if kind == "RS256"
        else ec.generate_private_key(ec.SECP256R1())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()


@pytest.mark.parametrize(("configured", "sent"), [("RS256", "ES256"), ("ES256", "RS256")])
def test_a_token_for_the_other_key_type_is_401_on_every_route(app, client, configured, sent):
    """Item 3: jwt.InvalidKeyError used to escape as a 500 with a traceback."""
    _, public = _pair(configured)
    other_private, _ = _pair(sent)
    reconfigure(app, COMMENTS_JWT_PUBLIC_KEY=public)
    token = jwt.encode({"sub": "u", "exp": int(time.time()) + 60}, other_private, algorithm=sent)
    headers = {"Authorization": f"Bearer {token}"}
    for method, path in [
        ("get", f"{API}/articles/a1/comments"),
        ("post", f"{API}/articles/a1/comments"),
        ("get", f"{API}/counts?article_id=a1"),
        ("get", f"{API}/admin/queue"),
    ]:
        r = getattr(client, method)(
            path, headers=headers, json={"body": "x"} if method == "post" else None
        )
        assert r.status_code == 401, (path, r.status_code)
        assert r.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "value",
    [
        "/nonexistent/key.pem",
        "-----BEGIN PUBLIC KEY-----\\nZ2FyYmFnZQ==\\n-----END PUBLIC KEY-----",
    ],
)
@pytest.mark.parametrize("env", ["development", "production"])
def test_a_public_key_that_does_not_load_stops_start_up(tmp_path, value, env):
    """Item 5: a missing file or a garbage PEM named the setting only as 500s, later."""
    environ = {
        "COMMENTS_ENV": env,
        "COMMENTS_JWT_PUBLIC_KEY": value,
        "COMMENTS_SECRET_KEY": "k" * 40,
        "RATELIMIT_STORAGE_URI": "redis://redis:6379/0",
    }
    with pytest.raises(ConfigError, match="COMMENTS_JWT_PUBLIC_KEY"):
        load_config(environ=environ, instance_path=str(tmp_path))


def test_a_garbage_key_file_stops_start_up(tmp_path):
    path = tmp_path / "key.pem"
    path.write_text("not a key\n")
    with pytest.raises(ConfigError, match="COMMENTS_JWT_PUBLIC_KEY"):
        load_config(environ={"COMMENTS_JWT_PUBLIC_KEY": str(path)}, instance_path=str(tmp_path))


def test_a_readable_key_file_loads(tmp_path, database_url):
    _, public = _pair("ES256")
    path = tmp_path / "key.pem"
    path.write_text(public)
    app = create_app({"DATABASE_URL": database_url, "COMMENTS_JWT_PUBLIC_KEY": str(path)})
    assert app.config["COMMENTS_JWT_PUBLIC_KEY"] == str(path)


def test_a_whitespace_jwt_secret_is_refused_in_production(tmp_path):
    environ = {
        "COMMENTS_ENV": "production",
        "COMMENTS_JWT_SECRET": " " * 40,
        "COMMENTS_SECRET_KEY": "k" * 40,
        "RATELIMIT_STORAGE_URI": "redis://redis:6379/0",
    }
    with pytest.raises(ConfigError, match="COMMENTS_JWT_SECRET"):
        load_config(environ=environ, instance_path=str(tmp_path))
