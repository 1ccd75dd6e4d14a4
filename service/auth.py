"""Who is calling: a JWT from the host site, an API key, or nobody (anonymous or guest).

A token that is present but bad is always a 401, never a silent downgrade to anonymous.
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from flask import current_app, g, request
from jwt.types import Options
from sqlalchemy import select

from . import services
from .config import DEMO_KEY_ID, Settings
from .domain.names import fallback_name, name_problem
from .domain.readers import usable_address
from .domain.tokens import API_KEY_PREFIX, hash_secret, secret_matches
from .extensions import db
from .models import ApiKey
from .problems import Problem

MODERATOR_ROLES = frozenset({"moderator", "admin"})
MAX_TOKEN_BYTES = 8192
ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")


@dataclass(frozen=True)
class Caller:
    """The caller of one request. ``user_id`` is None for anonymous callers and guests."""

    user_id: str | None = None
    name: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    via_api_key: bool = False
    # The token's `email` claim when usable (domain/readers.py): only to store for sending
    # notification e-mails; never shown, never logged (kept out of repr).
    email: str | None = field(default=None, repr=False)

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    @property
    def is_moderator(self) -> bool:
        return bool(self.roles & MODERATOR_ROLES)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


ANONYMOUS = Caller()


def _unauthorized(detail: str) -> Problem:
    return Problem(401, detail, type_="unauthorized", headers={"WWW-Authenticate": "Bearer"})


def _public_key(settings: Settings) -> str | None:
    raw = settings.jwt_public_key
    if not raw:
        return None
    if "-----BEGIN" in raw:
        return raw.replace("\\n", "\n")
    try:
        return _read_key(raw, os.stat(raw).st_mtime_ns)  # a replaced key file is read again
    except OSError:
        # Start-up checked the file; it vanished since. The caller is not at fault.
        raise Problem(
            503, "The token verification key is unavailable; try again later.", type_="unavailable"
        ) from None


@functools.lru_cache(maxsize=8)
def _read_key(path: str, _mtime_ns: int) -> str:
    return Path(path).read_text()


# A reader sends the same token with every request of a page view and for as long as it is
# valid; verifying it (a signature and a dozen claim checks) cost more than the rest of a
# cached thread page. A token verified once is remembered, keyed by the token and every
# setting that decided its verification, until it expires: what a later request re-checks
# is the clock. Failures are never remembered (lru_cache does not store exceptions).
VERIFIED_TOKENS = 1024  # x at most MAX_TOKEN_BYTES: a bounded few MB per worker


def _now() -> float:
    return time.time()


def decode_jwt(token: str, settings: Settings, public_key: str | None) -> Caller:
    """Verify a host-site token and turn its claims into a Caller (raises Problem 401)."""
    leeway = settings.jwt_leeway_seconds
    caller, expires = _verified(
        token,
        settings.jwt_secret,
        public_key,
        settings.jwt_issuer,
        settings.jwt_audience,
        leeway,
        settings.demo_jwt_secret if settings.demo else None,
    )
    if _now() >= expires + leeway:  # as PyJWT: expired once exp <= now - leeway
        raise _unauthorized("The bearer token has expired; sign in again.")
    return caller


@functools.lru_cache(maxsize=VERIFIED_TOKENS)
def _verified(
    token: str,
    secret: str | None,
    public_key: str | None,
    issuer: str | None,
    audience: str | None,
    leeway: int,
    demo_secret: str | None = None,
) -> tuple[Caller, float]:
    """(the Caller, its token's ``exp``) for a token that verifies now; raises Problem 401."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise _unauthorized("The bearer token is malformed.") from None
    alg = header.get("alg")
    # The key follows from the algorithm, and each algorithm only from its own allow-list,
    # so an HS256 token "signed" with the public key, or alg=none, never verifies.
    if header.get("kid") == DEMO_KEY_ID:
        # Minted by /demo/token with the demo's own secret: valid only while demo mode is on.
        if alg != "HS256" or not demo_secret:
            raise _unauthorized("Demo tokens are accepted only while demo mode is on.")
        key: Any = demo_secret
    elif alg == "HS256" and secret:
        key = secret
    elif alg in ASYMMETRIC_ALGORITHMS and public_key:
        key = public_key
    else:
        raise _unauthorized(f"Tokens signed with {alg!r} are not accepted here.")
    options: Options = {"require": ["exp", "sub"]}
    kwargs: dict[str, Any] = {}
    if issuer:
        kwargs["issuer"] = issuer
        options["require"].append("iss")
    if audience:
        kwargs["audience"] = audience
        options["require"].append("aud")
    try:
        claims = jwt.decode(token, key, algorithms=[alg], options=options, leeway=leeway, **kwargs)
    except jwt.ExpiredSignatureError:
        raise _unauthorized("The bearer token has expired; sign in again.") from None
    except jwt.ImmatureSignatureError:
        raise _unauthorized("The bearer token is not valid yet.") from None
    except jwt.InvalidIssuerError:
        raise _unauthorized("The bearer token was issued by someone else.") from None
    except jwt.InvalidAudienceError:
        raise _unauthorized("The bearer token is meant for another audience.") from None
    except jwt.exceptions.InvalidSubjectError:
        raise _unauthorized("The token's 'sub' must be a string of 1 to 200 characters.") from None
    except jwt.MissingRequiredClaimError as exc:
        raise _unauthorized(f"The bearer token lacks the {exc.claim!r} claim.") from None
    except jwt.InvalidTokenError:
        raise _unauthorized("The bearer token's signature does not verify.") from None
    except jwt.InvalidKeyError:
        # An ES256 token against an RSA key (or RS256 against an EC key): the caller's
        # token does not fit the configured key, which is a 401, never a 500.
        raise _unauthorized(
            f"Tokens signed with {alg!r} do not match the configured key."
        ) from None
    sub = claims.get("sub")
    if not isinstance(sub, str) or not 1 <= len(sub) <= 200:
        raise _unauthorized("The token's 'sub' must be a string of 1 to 200 characters.")
    if not _storable(sub):
        raise _unauthorized("The token's 'sub' must not contain NUL or lone surrogates.")
    name = claims.get("name")
    if isinstance(name, str) and not _storable(name):
        raise _unauthorized("The token's 'name' must not contain NUL or lone surrogates.")
    if not isinstance(name, str) or not name.strip():
        name = fallback_name(sub)
    elif name_problem(name.strip()):
        raise _unauthorized(f"The token's 'name' cannot be shown: {name_problem(name.strip())}")
    roles = claims.get("roles") or []
    if isinstance(roles, str):
        roles = [roles]
    if not isinstance(roles, list):
        raise _unauthorized("The token's 'roles' claim must be a list.")
    caller = Caller(
        user_id=sub,
        name=name.strip()[:80],
        roles=frozenset(r for r in roles if isinstance(r, str)),
        email=usable_address(claims.get("email")),
    )
    return caller, float(claims["exp"])


def _storable(text: str) -> bool:
    """Text a database can hold: no NUL (PostgreSQL refuses it), no lone surrogate (not
    encodable as UTF-8)."""
    return "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def _api_key_caller(token: str) -> Caller:
    row = db.session.execute(
        select(ApiKey).where(ApiKey.key_hash == hash_secret(token), ApiKey.revoked_at.is_(None))
    ).scalar_one_or_none()
    if row is None:
        raise _unauthorized("The API key is unknown or revoked.")
    return Caller(
        user_id=f"apikey:{row.name}", name=row.name, roles=frozenset({row.role}), via_api_key=True
    )


def resolve_caller() -> Caller:
    header = request.headers.get("Authorization")
    if not header:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized("Use 'Authorization: Bearer <token>'.")
    if len(token) > MAX_TOKEN_BYTES:
        raise _unauthorized("The bearer token is too large.")
    if token.startswith(API_KEY_PREFIX):
        return _api_key_caller(token)
    settings = services.of(current_app).settings
    return decode_jwt(token, settings, _public_key(settings))


def current_caller() -> Caller:
    """The caller of this request, resolved once."""
    if "caller" not in g:
        g.caller = resolve_caller()
    caller: Caller = g.caller
    return caller


def require_user() -> Caller:
    caller = current_caller()
    if not caller.is_authenticated:
        raise _unauthorized("Sign in to do this.")
    return caller


def require_moderator() -> Caller:
    caller = require_user()
    if not caller.is_moderator:
        raise Problem(403, "Only moderators may do this.", type_="forbidden")
    return caller


def require_admin() -> Caller:
    """Irreversible or powerful acts (erasing a person, API keys) need the ``admin`` role;
    a moderator is 403 (#14 item 19)."""
    caller = require_moderator()
    if not caller.is_admin:
        raise Problem(403, "Only admins may do this.", type_="forbidden")
    return caller


def guest_token_matches(stored_hash: str | None) -> bool:
    """Does this request's X-Edit-Token open the guest comment with ``stored_hash``?"""
    return secret_matches(stored_hash, request.headers.get("X-Edit-Token"))


def client_ip() -> str:
    # ProxyFix (COMMENTS_TRUSTED_PROXIES) has already replaced remote_addr where it may.
    return request.remote_addr or "unknown"
