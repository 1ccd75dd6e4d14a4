"""Configuration: defaults, overridden by the environment, checked once at start-up.

Nothing here is read at import time: ``load_config()`` is called by ``create_app`` so
tests (and several apps in one process) can each have their own settings.
The README's configuration table lists every name below; keep the two in step.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from limits import parse_many

DEFAULT_REACTION_KINDS = ("like", "dislike", "insightful", "funny", "agree", "disagree")
PREMODERATION_MODES = ("off", "all", "guests", "first_comment")


class ConfigError(ValueError):
    """A setting that the service refuses to start with."""


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {raw!r}")


def _int(raw: str) -> int:
    return int(raw.strip())


def _str(raw: str) -> str:
    return raw


def _list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    parse: Callable[[str], Any]
    meaning: str
    secret: bool = False


# One row per setting: the README's configuration table is generated from the same facts.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        None,
        _str,
        "SQLAlchemy URL. Default: a SQLite file `instance/comments.db`. "
        "PostgreSQL: `postgresql+psycopg://user@host/db`.",
    ),
    Setting(
        "COMMENTS_ENV",
        "development",
        _str,
        "`development` or `production`; production refuses unsafe settings at start-up.",
    ),
    Setting(
        "COMMENTS_SECRET_KEY",
        None,
        _str,
        "Signs pagination cursors. Default: generated once into `instance/secret_key`.",
        secret=True,
    ),
    Setting(
        "COMMENTS_JWT_SECRET", None, _str, "HS256 shared secret for readers' tokens.", secret=True
    ),
    Setting(
        "COMMENTS_JWT_PUBLIC_KEY",
        None,
        _str,
        "PEM public key (or a path to one) for RS256/ES256 tokens.",
    ),
    Setting("COMMENTS_JWT_ISSUER", None, _str, "When set, tokens must carry this `iss`."),
    Setting("COMMENTS_JWT_AUDIENCE", None, _str, "When set, tokens must carry this `aud`."),
    Setting("COMMENTS_JWT_LEEWAY_SECONDS", 60, _int, "Clock skew allowed on `exp`/`nbf`/`iat`."),
    Setting(
        "COMMENTS_ALLOW_GUESTS",
        False,
        _bool,
        "Let callers without a token post with `author_name`.",
    ),
    Setting(
        "COMMENTS_MAX_DEPTH",
        5,
        _int,
        "Deepest reply level (top level is 0); deeper replies attach to the parent's parent.",
    ),
    Setting(
        "COMMENTS_REPLIES_PER_THREAD",
        50,
        _int,
        "Replies nested under each top-level comment in a listing; the rest via /replies.",
    ),
    Setting("COMMENTS_EDIT_WINDOW_SECONDS", 900, _int, "How long an author may edit a comment."),
    Setting("COMMENTS_MAX_BODY", 10_000, _int, "Longest comment body, in characters."),
    Setting(
        "COMMENTS_REACTION_KINDS",
        list(DEFAULT_REACTION_KINDS),
        _list,
        "Comma-separated reaction kinds; `like`/`dislike` drive the score.",
    ),
    Setting(
        "COMMENTS_IDEMPOTENCY_TTL_SECONDS",
        86_400,
        _int,
        "How long an `Idempotency-Key` is remembered.",
    ),
    Setting(
        "COMMENTS_DUPLICATE_WINDOW_SECONDS",
        300,
        _int,
        "The same body from the same author on the same article within this window is 409.",
    ),
    Setting(
        "COMMENTS_PREMODERATION",
        "off",
        _str,
        "`off`, `all`, `guests` or `first_comment`: which new comments wait for a moderator.",
    ),
    Setting(
        "COMMENTS_FLAG_HIDE_THRESHOLD",
        3.0,
        float,
        "Weighted flags that hide a comment until a moderator decides.",
    ),
    Setting(
        "COMMENTS_FLAG_TRUST_HOURS",
        24,
        _int,
        "A flagger's flags weigh 0.25 until they have a published comment this many hours "
        "old; after that 0.25 to 2.0 by their upheld/dismissed record (0: trust everyone).",
    ),
    Setting("COMMENTS_MAX_PINNED", 3, _int, "Pinned comments per article."),
    Setting("COMMENTS_MAX_LINKS", 3, _int, "More links than this holds a comment for review."),
    Setting(
        "COMMENTS_BLOCKED_TERMS_FILE",
        None,
        _str,
        "A UTF-8 file of blocked terms or phrases, one per line (`#` starts a comment line); "
        "a whole-word match (case-insensitive, after NFKC) holds the comment for review. "
        "Re-read when it changes.",
    ),
    Setting(
        "COMMENTS_AUTO_CLOSE_DAYS",
        0,
        _int,
        "Close threads whose first comment is older than this many days (0: never).",
    ),
    Setting(
        "COMMENTS_TRUSTED_PROXIES",
        0,
        _int,
        "Proxies in front of the service whose `X-Forwarded-For` entry is trusted.",
    ),
    Setting(
        "COMMENTS_CORS_ORIGINS",
        [],
        _list,
        "Comma-separated exact origins (`https://www.example.com`) allowed to call the API "
        "from a browser; no wildcards. Empty: no CORS headers.",
    ),
    Setting(
        "COMMENTS_DEMO",
        False,
        _bool,
        "Serve /demo and its token minting (never in production). Demo tokens are signed "
        "with a generated secret of their own, never `COMMENTS_JWT_SECRET`, and accepted "
        "only while demo mode is on. On a non-loopback `HOST` the operator must set it.",
    ),
    Setting(
        "COMMENTS_DEMO_SET_BY",
        None,
        _str,
        "`make` when `make run` turned demo mode on by default: then a non-loopback `HOST` "
        "refuses to start (set `COMMENTS_DEMO` yourself to serve the demo there).",
    ),
    Setting(
        "COMMENTS_API_DOCS",
        None,
        _bool,
        "Serve interactive API documentation at /docs (Swagger UI from the "
        'swagger-ui-bundle-v2 package, rendered from `openapi.yaml`, with "try it" '
        "against this service). Default: on, but off with `COMMENTS_ENV=production`.",
    ),
    Setting(
        "COMMENTS_LIMIT_COMMENT",
        "5/minute;100/day",
        _str,
        "Posting comments, per user or guest IP.",
    ),
    Setting(
        "COMMENTS_LIMIT_EDIT", "30/minute", _str, "Editing and deleting, per user or guest IP."
    ),
    Setting(
        "COMMENTS_LIMIT_REACTION", "60/minute", _str, "Adding and removing reactions, per user."
    ),
    Setting("COMMENTS_LIMIT_FLAG", "20/hour", _str, "Flagging, per user."),
    Setting(
        "COMMENTS_LIMIT_WRITE_PER_IP",
        "60/minute",
        _str,
        "All public writes (posts, edits, reactions, flags) from one client IP together, "
        "whoever is signed in: many accounts behind one address share it.",
    ),
    Setting("COMMENTS_LIMIT_READ", "600/minute", _str, "Reads, per client IP."),
    Setting("COMMENTS_LIMIT_ADMIN", "1200/minute", _str, "Moderator endpoints, per moderator."),
    Setting("RATELIMIT_ENABLED", True, _bool, "Switch rate limiting off (tests of other things)."),
    Setting(
        "RATELIMIT_STORAGE_URI",
        "memory://",
        _str,
        "flask-limiter storage; `redis://host:6379/0` shares limits between instances.",
    ),
    Setting("COMMENTS_LOG_LEVEL", "INFO", _str, "Log level of the JSON logs."),
    # Read by service/serve.py (and checked here, so a bad combination fails at start-up).
    Setting("HOST", "127.0.0.1", _str, "Address the server binds (`0.0.0.0` in the container)."),
    Setting("PORT", 8000, _int, "Port the server binds."),
    Setting(
        "WEB_CONCURRENCY",
        2,
        _int,
        "Worker processes (`make run`: 1 while rate limits are counted in memory, so the "
        "documented limits hold exactly).",
    ),
    Setting("WEB_THREADS", 4, _int, "Threads per worker process that run the app."),
    Setting(
        "WORKER_TIMEOUT",
        30,
        _int,
        "Seconds a request may run before its worker is ended and replaced (0: never).",
    ),
    Setting(
        "PROMETHEUS_MULTIPROC_DIR",
        None,
        _str,
        "Where worker processes share metrics. Default: a fresh temporary directory made "
        "by service/serve.py at start-up (stale files in a given directory are removed).",
    ),
    Setting(
        "COMMENTS_CACHE_URL",
        None,
        _str,
        "Public thread pages, keyed by the article's version: unset or `memory://` caches "
        "in each worker, `redis://host:6379/1` shares between instances, `off` disables.",
    ),
    Setting(
        "COMMENTS_COUNTS_CACHE_SECONDS",
        1,
        _int,
        "`/counts` answers are kept this long in the same cache (a listing page asks for "
        "the same ids for every reader; they are sent with `max-age=30` anyway); 0: "
        "always read the database.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}
# Derived, not set by anyone: the demo's own token secret (see load_config).
DEMO_JWT_SECRET = "DEMO_JWT_SECRET"
DEMO_KEY_ID = "demo"  # the `kid` header of tokens the demo mints
LOOPBACK_HOSTS = frozenset({"localhost", "ip6-localhost"})
LIMIT_SETTINGS = tuple(s.name for s in SETTINGS if s.name.startswith("COMMENTS_LIMIT_"))


def default_database_url(instance_path: str) -> str:
    return "sqlite:///" + str(Path(instance_path) / "comments.db")


def load_config(
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
    instance_path: str = "instance",
) -> dict[str, Any]:
    """Defaults, then the environment, then ``overrides`` (tests); validated."""
    environ = dict(os.environ if environ is None else environ)
    config: dict[str, Any] = {}
    for setting in SETTINGS:
        value = setting.default
        raw = environ.get(setting.name)
        if raw is not None and raw != "":
            try:
                value = setting.parse(raw)
            except ValueError as exc:
                raise ConfigError(f"{setting.name}: {exc}") from None
        config[setting.name] = value
    config.update(overrides or {})
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = default_database_url(instance_path)
    if not config["COMMENTS_SECRET_KEY"] and config["COMMENTS_ENV"] != "production":
        # Production must give one key shared by every instance (validate says so); a
        # generated per-container key would make one instance's cursors 400 on the next.
        config["COMMENTS_SECRET_KEY"] = _instance_secret(instance_path)
    if config["COMMENTS_API_DOCS"] is None:
        # A newcomer's `make run` shows the docs; production exposes them only when asked.
        config["COMMENTS_API_DOCS"] = config["COMMENTS_ENV"] != "production"
    config[DEMO_JWT_SECRET] = None
    if config["COMMENTS_DEMO"] and config["COMMENTS_ENV"] != "production":
        # The demo mints HS256 tokens with its own generated secret, never the site's
        # COMMENTS_JWT_SECRET (a demo on a reachable address would mint real moderators),
        # and every worker must verify what another signed. Demo tokens are
        # accepted only while demo mode is on: without it this key is None.
        config[DEMO_JWT_SECRET] = _instance_secret(instance_path, "demo_jwt_secret")
    validate(config)
    return config


def _instance_secret(instance_path: str, name: str = "secret_key") -> str:
    """A per-installation secret, generated once, so every worker signs cursors alike."""
    path = Path(instance_path) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]")
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_key_problem(value: str | None) -> str | None:
    """Why COMMENTS_JWT_PUBLIC_KEY (a PEM, or a path to one) cannot verify tokens, or None.

    Checked at start-up in every environment: a key that does not load would otherwise
    turn every signed-in request into a 500."""
    if not value:
        return None
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    if "-----BEGIN" in value:
        pem = value.replace("\\n", "\n")
    else:
        try:
            pem = Path(value).read_text()
        except (OSError, UnicodeDecodeError) as exc:
            return f"cannot read the key file {value!r}: {exc.__class__.__name__}"
    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as exc:
        return f"not a PEM public key ({exc.__class__.__name__})"
    if not isinstance(key, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
        return "give an RSA (RS256) or EC (ES256) public key"
    return None


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def validate(config: dict[str, Any]) -> None:
    problems: list[str] = []
    bad_origins = [o for o in config["COMMENTS_CORS_ORIGINS"] if not _ORIGIN.fullmatch(o)]
    if bad_origins:
        problems.append(
            "COMMENTS_CORS_ORIGINS: give exact origins like https://www.example.com "
            "(scheme and host, no path or wildcard): " + ", ".join(bad_origins)
        )
    if config["WEB_CONCURRENCY"] < 1:
        problems.append("WEB_CONCURRENCY: 1 or more")
    if config["WEB_THREADS"] < 1:
        problems.append("WEB_THREADS: 1 or more")
    if config["WORKER_TIMEOUT"] < 0:
        problems.append("WORKER_TIMEOUT: 0 (never) or more seconds")
    kinds = config["COMMENTS_REACTION_KINDS"]
    if not kinds or any(not k.isidentifier() or len(k) > 32 for k in kinds):
        problems.append("COMMENTS_REACTION_KINDS: give comma-separated names like like,insightful")
    if config["COMMENTS_PREMODERATION"] not in PREMODERATION_MODES:
        problems.append("COMMENTS_PREMODERATION: one of " + ", ".join(PREMODERATION_MODES))
    if config["COMMENTS_MAX_DEPTH"] < 0:
        problems.append("COMMENTS_MAX_DEPTH: 0 or more")
    for name in ("COMMENTS_REPLIES_PER_THREAD", "COMMENTS_MAX_BODY"):
        if config[name] < 1:
            problems.append(f"{name}: 1 or more")
    for name in LIMIT_SETTINGS:
        try:
            parse_many(config[name])
        except ValueError:
            problems.append(f"{name}: not a rate limit like '5/minute;100/day': {config[name]!r}")
    terms = config["COMMENTS_BLOCKED_TERMS_FILE"]
    if terms and not os.path.isfile(terms):
        problems.append(f"COMMENTS_BLOCKED_TERMS_FILE: no such file: {terms!r}")
    if config["COMMENTS_FLAG_HIDE_THRESHOLD"] <= 0:
        problems.append("COMMENTS_FLAG_HIDE_THRESHOLD: more than 0")
    if config["COMMENTS_COUNTS_CACHE_SECONDS"] < 0:
        problems.append("COMMENTS_COUNTS_CACHE_SECONDS: 0 or more")
    if config["COMMENTS_FLAG_TRUST_HOURS"] < 0:
        problems.append("COMMENTS_FLAG_TRUST_HOURS: 0 or more")
    if config["COMMENTS_MAX_PINNED"] < 0 or config["COMMENTS_AUTO_CLOSE_DAYS"] < 0:
        problems.append("COMMENTS_MAX_PINNED and COMMENTS_AUTO_CLOSE_DAYS: 0 or more")
    cache_url = config.get("COMMENTS_CACHE_URL")
    if (
        cache_url
        and cache_url not in ("memory://", "off")
        and not cache_url.startswith(("redis://", "rediss://", "unix://"))
    ):
        problems.append("COMMENTS_CACHE_URL: memory://, redis://host:6379/1 or off")
    if (
        config["COMMENTS_DEMO"]
        and config.get("COMMENTS_DEMO_SET_BY") == "make"
        and not is_loopback(str(config["HOST"]))
    ):
        problems.append(
            f"COMMENTS_DEMO: make run turns demo mode on by default, and demo mode mints "
            f"tokens for anyone who can reach HOST={config['HOST']}; set COMMENTS_DEMO=true "
            "yourself to serve the demo there, or COMMENTS_DEMO=false"
        )
    if config["COMMENTS_ENV"] not in ("development", "production"):
        problems.append("COMMENTS_ENV: development or production")
    key_problem = public_key_problem(config["COMMENTS_JWT_PUBLIC_KEY"])
    if key_problem:
        problems.append(f"COMMENTS_JWT_PUBLIC_KEY: {key_problem}")
    secret = config["COMMENTS_JWT_SECRET"]
    if secret is not None and secret != "" and not secret.strip():
        problems.append(
            "COMMENTS_JWT_SECRET: only whitespace; give a real secret or leave it unset"
        )
    if config["COMMENTS_ENV"] == "production":
        if not config["COMMENTS_JWT_PUBLIC_KEY"] and (not secret or len(secret.strip()) < 32):
            problems.append(
                "COMMENTS_JWT_SECRET: production needs at least 32 characters "
                "(or COMMENTS_JWT_PUBLIC_KEY)"
            )
        key = config["COMMENTS_SECRET_KEY"]
        if not key or len(key) < 32:
            problems.append(
                "COMMENTS_SECRET_KEY: production needs at least 32 characters, the "
                "same on every instance (it signs pagination cursors)"
            )
        if config["COMMENTS_DEMO"]:
            problems.append(
                "COMMENTS_DEMO: demo mode mints tokens and is never allowed in production"
            )
        storage = str(config["RATELIMIT_STORAGE_URI"])
        if (
            config["RATELIMIT_ENABLED"]
            and storage.startswith("memory://")
            and config["WEB_CONCURRENCY"] > 1
        ):
            problems.append(
                f"RATELIMIT_STORAGE_URI: memory:// keeps separate limits in each of the "
                f"{config['WEB_CONCURRENCY']} workers (WEB_CONCURRENCY), so every limit is "
                "multiplied; use redis://host:6379/0 in production"
            )
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))


URL_SETTINGS = ("DATABASE_URL", "RATELIMIT_STORAGE_URI")  # may carry a password


def masked(config: dict[str, Any]) -> dict[str, Any]:
    """The effective settings with secrets hidden, for `flask check-config`."""
    out = {}
    for setting in SETTINGS:
        value = config.get(setting.name)
        if setting.secret and value:
            value = "***"
        elif setting.name in URL_SETTINGS and value and "@" in str(value):
            scheme, _, rest = str(value).partition("://")
            creds, _, host = rest.rpartition("@")
            user = creds.split(":", 1)[0]
            value = f"{scheme}://{user}:***@{host}" if ":" in creds else value
        out[setting.name] = value
    return out


def _shown(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(value) if value else "(empty)"
    return str(value)


def markdown_table() -> str:
    """The README's configuration table (tests/unit/test_config.py keeps the README in step)."""
    lines = ["| name | default | meaning |", "| --- | --- | --- |"]
    for s in SETTINGS:
        lines.append(f"| `{s.name}` | `{_shown(s.default)}` | {s.meaning} |")
    return "\n".join(lines)
