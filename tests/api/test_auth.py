"""Who is calling: host-site JWTs, API keys, and the tokens we refuse."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from service.domain.tokens import hash_secret
from service.extensions import db
from service.models import ApiKey, utcnow
from tests.helpers import JWT_SECRET, auth, make_token, reconfigure

API = "/api/v1"


def _pem_pair(kind: str) -> tuple[bytes, str]:
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


def _claims(**extra):
    return {"sub": "u-7", "name": "Seven", "exp": int(time.time()) + 600, **extra}


def _post(client, token):
    return client.post(
        f"{API}/articles/a1/comments",
        json={"body": "hi"},
        headers={"Authorization": f"Bearer {token}"},
    )


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_asymmetric_tokens_verify_with_the_public_key(app, client, alg):
    private, public = _pem_pair(alg)
    reconfigure(app, COMMENTS_JWT_PUBLIC_KEY=public)
    r = _post(client, jwt.encode(_claims(), private, algorithm=alg))
    assert r.status_code == 201
    assert r.get_json()["author"]["name"] == "Seven"
    _, other_public = _pem_pair(alg)
    reconfigure(app, COMMENTS_JWT_PUBLIC_KEY=other_public)
    assert _post(client, jwt.encode(_claims(), private, algorithm=alg)).status_code == 401


def test_hs256_signed_with_the_public_key_is_refused(app, client):
    """The classic algorithm-confusion attack: the public key used as an HMAC secret."""
    _, public = _pem_pair("RS256")
    reconfigure(app, COMMENTS_JWT_PUBLIC_KEY=public)
    reconfigure(app, COMMENTS_JWT_SECRET=None)
    header = _b64({"alg": "HS256", "typ": "JWT"})
    payload = _b64(_claims())
    import hashlib
    import hmac

    signature = base64.urlsafe_b64encode(
        hmac.new(public.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    ).rstrip(b"=")
    assert _post(client, f"{header}.{payload}.{signature.decode()}").status_code == 401


@pytest.mark.parametrize(
    ("token_factory", "detail"),
    [
        (lambda: f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.", "'none'"),
        (lambda: make_token(expires_in=-3600), "expired"),
        (lambda: make_token(secret="another-secret-of-sufficient-length-000000"), "signature"),
        (
            lambda: jwt.encode(
                {"sub": "u", "nbf": int(time.time()) + 3600, "exp": int(time.time()) + 7200},
                JWT_SECRET,
                algorithm="HS256",
            ),
            "not valid yet",
        ),
        (lambda: jwt.encode({"sub": "u"}, JWT_SECRET, algorithm="HS256"), "'exp'"),
        (
            lambda: jwt.encode({"exp": int(time.time()) + 60}, JWT_SECRET, algorithm="HS256"),
            "'sub'",
        ),
        (
            lambda: jwt.encode(
                {"sub": 42, "exp": int(time.time()) + 60}, JWT_SECRET, algorithm="HS256"
            ),
            "sub",
        ),
        (lambda: "not.a.jwt", "malformed"),
        (lambda: "x" * 9000, "too large"),
    ],
)
def test_bad_tokens_are_401_never_a_guest(client, token_factory, detail):
    r = _post(client, token_factory())
    assert r.status_code == 401, r.get_json()
    assert r.content_type == "application/problem+json"
    assert detail in r.get_json()["detail"]
    assert r.headers["WWW-Authenticate"] == "Bearer"
    # even on reads: a broken token is an error, not an anonymous view
    r = client.get(
        f"{API}/articles/a1/comments", headers={"Authorization": f"Bearer {token_factory()}"}
    )
    assert r.status_code == 401


def test_expired_within_leeway_still_works(client):
    assert _post(client, make_token(expires_in=-30)).status_code == 201


def test_a_token_is_verified_once_and_still_expires_on_time(app, client, monkeypatch):
    """Verified tokens are remembered (service/auth.py), and what they lose is the signature
    check, never the expiry check or the settings that decided them."""
    from service import auth as auth_module

    calls = []
    real_decode = jwt.decode
    monkeypatch.setattr(
        auth_module.jwt, "decode", lambda *a, **k: calls.append(1) or real_decode(*a, **k)
    )
    token = make_token("u-cached", expires_in=120)
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(3):
        assert client.get(f"{API}/config", headers=headers).status_code == 200
    assert len(calls) == 1
    # 61 s after exp (the leeway is 60 s), the remembered token is expired like any other
    monkeypatch.setattr(auth_module, "_now", lambda: time.time() + 120 + 61)
    r = client.get(f"{API}/config", headers=headers)
    assert r.status_code == 401 and "expired" in r.get_json()["detail"]
    monkeypatch.undo()
    # a rotated secret: the token remembered under the old one no longer passes
    reconfigure(app, COMMENTS_JWT_SECRET="a-rotated-secret-that-is-long-enough-0123456")
    r = client.get(f"{API}/config", headers=headers)
    assert r.status_code == 401 and "signature" in r.get_json()["detail"]


def test_non_bearer_scheme_is_401(client):
    r = client.get(f"{API}/config", headers={"Authorization": "Basic dTpw"})
    assert r.status_code == 401


def test_issuer_and_audience_are_checked_when_configured(app, client):
    reconfigure(app, COMMENTS_JWT_ISSUER="https://news.example")
    reconfigure(app, COMMENTS_JWT_AUDIENCE="comments")
    good = jwt.encode(
        _claims(iss="https://news.example", aud="comments"), JWT_SECRET, algorithm="HS256"
    )
    assert _post(client, good).status_code == 201
    for claims, detail in [
        ({"iss": "https://evil.example", "aud": "comments"}, "issued"),
        ({"iss": "https://news.example", "aud": "other"}, "audience"),
        ({"aud": "comments"}, "iss"),
    ]:
        r = _post(client, jwt.encode(_claims(**claims), JWT_SECRET, algorithm="HS256"))
        assert r.status_code == 401 and detail in r.get_json()["detail"]


def test_api_keys_authenticate_until_revoked(app, client):
    key = "csk_test_key_0123456789"
    with app.app_context():
        db.session.add(
            ApiKey(name="bot", role="moderator", key_hash=hash_secret(key), created_at=utcnow())
        )
        db.session.commit()
    headers = {"Authorization": f"Bearer {key}"}
    r = client.post(f"{API}/articles/a1/comments", json={"body": "from a bot"}, headers=headers)
    assert r.status_code == 201
    assert r.get_json()["author"] == {
        "id": "apikey:bot",
        "name": "bot",
        "is_guest": False,
        "is_moderator": True,
    }
    with app.app_context():
        db.session.query(ApiKey).update({"revoked_at": utcnow()})
        db.session.commit()
    assert client.get(f"{API}/config", headers=headers).status_code == 401
    assert (
        client.get(f"{API}/config", headers={"Authorization": "Bearer csk_nope"}).status_code == 401
    )


def test_cli_creates_and_revokes_api_keys(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-api-key", "--name", "ops", "--role", "admin"])
    assert result.exit_code == 0, result.output
    key = result.output.strip()
    assert key.startswith("csk_")
    with app.app_context():
        row = db.session.query(ApiKey).one()
        assert row.key_hash == hash_secret(key) and key not in (row.key_hash, row.name)
    assert runner.invoke(args=["create-api-key", "--name", "ops"]).exit_code != 0
    assert runner.invoke(args=["revoke-api-key", "--name", "ops"]).exit_code == 0
    client = app.test_client()
    assert (
        client.get(f"{API}/config", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    )


def test_roles_and_name_come_from_the_token(client):
    r = client.post(
        f"{API}/articles/a1/comments",
        json={"body": "modded"},
        headers=auth("m-1", name="Maria", roles=["moderator"]),
    )
    assert r.get_json()["author"] == {
        "id": "m-1",
        "name": "Maria",
        "is_guest": False,
        "is_moderator": True,
    }
