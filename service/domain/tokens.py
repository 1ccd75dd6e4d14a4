"""Secrets the service hands out once and keeps only as hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

API_KEY_PREFIX = "csk_"


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_edit_token() -> str:
    return secrets.token_urlsafe(24)


def idempotent_edit_token(secret: str, caller_key: str, idempotency_key: str) -> str:
    """A guest's edit token for a post sent with an Idempotency-Key: derived from the key
    (and the caller it is scoped to) with the service's secret, so a replay of the post can
    hand the same token out again; a guest whose first 201 was lost can still edit."""
    digest = hmac.new(
        secret.encode(), f"edit-token|{caller_key}|{idempotency_key}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def secret_matches(stored_hash: str | None, presented: str | None) -> bool:
    if not stored_hash or not presented:
        return False
    return hmac.compare_digest(stored_hash, hash_secret(presented))
