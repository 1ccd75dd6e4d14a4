"""Configuration: defaults, overridden by the environment, checked once at start-up.

Nothing here is read at import time: ``load_settings()`` is called by ``create_app`` so
tests (and several apps in one process) can each have their own settings.
The README's configuration table lists every name below; keep the two in step.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from limits import parse_many

DEFAULT_REACTION_KINDS: tuple[str, ...] = (
    "like",
    "dislike",
    "insightful",
    "funny",
    "agree",
    "disagree",
)
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


def _list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


@dataclass(frozen=True)
class Setting:
    """One row of the table: the environment variable, its default, meaning and checks."""

    name: str  # the environment variable (and app.config key)
    attr: str  # the Settings attribute that code reads
    default: Any
    parse: Callable[[str], Any]
    meaning: str
    # secret: the whole value is a credential and is never printed.
    # url: a URL that may carry a password (``scheme://user:password@host``); printed with
    # the password masked. Every setting that can hold a credential is one or the other
    # (tests/unit/test_secrets.py checks the table and check-config's output).
    secret: bool = False
    url: bool = False
    # The setting's own validation: a problem to report, or None when the value is fine.
    check: Callable[[Any], str | None] | None = None


def _row(
    default: Any,
    meaning: str,
    *,
    env: str | None = None,
    check: Callable[[Any], str | None] | None = None,
    secret: bool = False,
    url: bool = False,
) -> Any:
    """A field of Settings and a row of the configuration table at once. ``env``: the
    environment variable when it is not COMMENTS_ + the attribute's name in capitals."""
    meta = {"meaning": meaning, "env": env, "check": check, "secret": secret, "url": url}
    if isinstance(default, list):
        raise TypeError("use a tuple: settings are frozen")
    return field(default=default, metadata=meta)


def _at_least(lowest: int | float, *, more_than: bool = False) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if more_than:
            return None if value > lowest else f"more than {lowest}"
        return None if value >= lowest else f"{lowest} or more"

    return check


def _port(value: Any) -> str | None:
    return None if 1 <= value <= 65_535 else "a port from 1 to 65535"


def _one_of(*choices: str) -> Callable[[Any], str | None]:
    return lambda value: None if value in choices else "one of " + ", ".join(choices)


def _rate_limit(value: Any) -> str | None:
    try:
        parse_many(value)
    except ValueError:
        return f"not a rate limit like '5/minute;100/day': {value!r}"
    return None


def _reaction_kinds(kinds: Any) -> str | None:
    if not kinds or any(not k.isidentifier() or len(k) > 32 for k in kinds):
        return "give comma-separated names like like,insightful"
    return None


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def _origins(origins: Any) -> str | None:
    bad = [o for o in origins if not _ORIGIN.fullmatch(o)]
    if bad:
        return (
            "give exact origins like https://www.example.com "
            "(scheme and host, no path or wildcard): " + ", ".join(bad)
        )
    return None


def _existing_file(path: Any) -> str | None:
    return f"no such file: {path!r}" if path and not os.path.isfile(path) else None


def _cache_url(url: Any) -> str | None:
    if (
        url
        and url not in ("memory://", "off")
        and not url.startswith(("redis://", "rediss://", "unix://"))
    ):
        return "memory://, redis://host:6379/1 or off"
    return None


def _ticker_template(template: Any) -> str | None:
    if not template:
        return None
    if "{symbol}" not in template or not re.match(r"https?://[^/\s]+", template):
        return "give an http(s) URL containing {symbol}, e.g. https://news.example/quote/{symbol}"
    return None


def _smtp_url_problem(url: Any) -> str | None:
    if not url:
        return None
    parts = urlsplit(str(url))
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        return "smtp://user:password@host:587?starttls=true or smtps://user:password@host:465"
    try:
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        return "the port must be a number"
    return None


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _permalink_problem(value: Any) -> str | None:
    if not value:
        return None
    names = set(_PLACEHOLDER.findall(str(value)))
    if not str(value).startswith(("http://", "https://")) or not names <= {
        "article_id",
        "comment_id",
    }:
        return (
            "an http(s) URL with {article_id} and {comment_id}, e.g. "
            "https://news.example/{article_id}#comment-{comment_id}"
        )
    return None


def _public_url_problem(value: Any) -> str | None:
    if value and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", str(value)):
        return "an http(s) URL such as https://comments.example"
    return None


def _redis_url(url: Any) -> str | None:
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        return "redis://host:6379/2 (or rediss://, unix://)"
    return None


@dataclass(frozen=True)
class Settings:
    """Every setting, typed and frozen, built once by load_settings() in create_app. Code
    reads attributes (``settings.max_depth``); this class is also the README's table."""

    database_url: str | None = _row(
        None,
        "SQLAlchemy URL. Default: a SQLite file `instance/comments.db`. "
        "PostgreSQL: `postgresql+psycopg://user@host/db`.",
        env="DATABASE_URL",
        url=True,
    )
    env: str = _row(
        "development",
        "`development` or `production`; production refuses unsafe settings at start-up.",
        check=_one_of("development", "production"),
    )
    secret_key: str | None = _row(
        None,
        "Signs pagination cursors. Default: generated once into `instance/secret_key`.",
        secret=True,
    )
    jwt_secret: str | None = _row(None, "HS256 shared secret for readers' tokens.", secret=True)
    jwt_public_key: str | None = _row(
        None, "PEM public key (or a path to one) for RS256/ES256 tokens."
    )
    jwt_issuer: str | None = _row(None, "When set, tokens must carry this `iss`.")
    jwt_audience: str | None = _row(None, "When set, tokens must carry this `aud`.")
    jwt_leeway_seconds: int = _row(
        60, "Clock skew allowed on `exp`/`nbf`/`iat`.", check=_at_least(0)
    )
    allow_guests: bool = _row(False, "Let callers without a token post with `author_name`.")
    max_depth: int = _row(
        5,
        "Deepest reply level (top level is 0); deeper replies attach to the parent's parent.",
        check=_at_least(0),
    )
    replies_per_thread: int = _row(
        50,
        "Replies nested under each top-level comment in a listing; the rest via /replies.",
        check=_at_least(1),
    )
    edit_window_seconds: int = _row(
        900, "How long an author may edit a comment (0: no editing).", check=_at_least(0)
    )
    max_body: int = _row(10_000, "Longest comment body, in characters.", check=_at_least(1))
    reaction_kinds: tuple[str, ...] = _row(
        DEFAULT_REACTION_KINDS,
        "Comma-separated reaction kinds; `like`/`dislike` drive the score.",
        check=_reaction_kinds,
    )
    idempotency_ttl_seconds: int = _row(
        86_400, "How long an `Idempotency-Key` is remembered.", check=_at_least(1)
    )
    duplicate_window_seconds: int = _row(
        300,
        "The same body from the same author on the same article within this window is 409 "
        "(0: no such check).",
        check=_at_least(0),
    )
    premoderation: str = _row(
        "off",
        "`off`, `all`, `guests` or `first_comment`: which new comments wait for a moderator.",
        check=_one_of(*PREMODERATION_MODES),
    )
    flag_hide_threshold: float = _row(
        3.0,
        "Weighted flags that hide a comment until a moderator decides.",
        check=_at_least(0, more_than=True),
    )
    flag_trust_hours: int = _row(
        24,
        "A flagger's flags weigh 0.25 until they have a published comment this many hours "
        "old; after that 0.25 to 2.0 by their upheld/dismissed record (0: trust everyone).",
        check=_at_least(0),
    )
    max_pinned: int = _row(3, "Pinned comments per article.", check=_at_least(0))
    max_links: int = _row(3, "More links than this holds a comment for review.", check=_at_least(0))
    blocked_terms_file: str | None = _row(
        None,
        "A UTF-8 file of blocked terms or phrases, one per line (`#` starts a comment line); "
        "a whole-word match (case-insensitive, after NFKC) holds the comment for review. "
        "Re-read when it changes.",
        check=_existing_file,
    )
    auto_close_days: int = _row(
        0,
        "Close threads whose first comment is older than this many days (0: never).",
        check=_at_least(0),
    )
    trusted_proxies: int = _row(
        0,
        "Proxies in front of the service whose `X-Forwarded-For` entry is trusted.",
        check=_at_least(0),
    )
    cors_origins: tuple[str, ...] = _row(
        (),
        "Comma-separated exact origins (`https://www.example.com`) allowed to call the API "
        "from a browser; no wildcards. Empty: no CORS headers.",
        check=_origins,
    )
    demo: bool = _row(
        False,
        "Serve /demo and its token minting (never in production). Demo tokens are signed "
        "with a generated secret of their own, never `COMMENTS_JWT_SECRET`, and accepted "
        "only while demo mode is on. On a non-loopback `HOST` the operator must set it.",
    )
    demo_set_by: str | None = _row(
        None,
        "`make` when `make run` turned demo mode on by default: then a non-loopback `HOST` "
        "refuses to start (set `COMMENTS_DEMO` yourself to serve the demo there).",
    )
    api_docs: bool | None = _row(
        None,
        "Serve interactive API documentation at /docs (Swagger UI from the "
        'swagger-ui-bundle-v2 package, rendered from `openapi.yaml`, with "try it" '
        "against this service). Default: on, but off with `COMMENTS_ENV=production`.",
    )
    limit_comment: str = _row(
        "5/minute;100/day", "Posting comments, per user or guest IP.", check=_rate_limit
    )
    limit_edit: str = _row(
        "30/minute", "Editing and deleting, per user or guest IP.", check=_rate_limit
    )
    limit_reaction: str = _row(
        "60/minute", "Adding and removing reactions, per user.", check=_rate_limit
    )
    limit_flag: str = _row("20/hour", "Flagging, per user.", check=_rate_limit)
    limit_write_per_ip: str = _row(
        "60/minute",
        "All public writes (posts, edits, reactions, flags) from one client IP together, "
        "whoever is signed in: many accounts behind one address share it.",
        check=_rate_limit,
    )
    limit_read: str = _row("600/minute", "Reads, per client IP.", check=_rate_limit)
    limit_admin: str = _row("1200/minute", "Moderator endpoints, per moderator.", check=_rate_limit)
    ratelimit_enabled: bool = _row(
        True, "Switch rate limiting off (tests of other things).", env="RATELIMIT_ENABLED"
    )
    ratelimit_storage_uri: str = _row(
        "memory://",
        "flask-limiter storage; `redis://host:6379/0` shares limits between instances.",
        env="RATELIMIT_STORAGE_URI",
        url=True,
    )
    log_level: str = _row("INFO", "Log level of the JSON logs.")
    # Read by service/serve.py (and checked here, so a bad combination fails at start-up).
    host: str = _row(
        "127.0.0.1", "Address the server binds (`0.0.0.0` in the container).", env="HOST"
    )
    port: int = _row(8000, "Port the server binds.", env="PORT", check=_port)
    web_concurrency: int = _row(
        2,
        "Worker processes (`make run`: 1 while rate limits are counted in memory, so the "
        "documented limits hold exactly).",
        env="WEB_CONCURRENCY",
        check=_at_least(1),
    )
    server: str = _row(
        "granian",
        "The HTTP server `python -m service.serve` runs: `granian` (Rust; the throughput and "
        "slow-client figures in docs/performance.md) or `uvicorn` (uvloop + httptools: about a "
        "third of granian's memory per open event stream, for an instance that holds many; "
        "docs/production.md).",
        check=_one_of("granian", "uvicorn"),
    )
    web_threads: int = _row(
        4, "Threads per worker process that run the app.", env="WEB_THREADS", check=_at_least(1)
    )
    worker_timeout: int = _row(
        30,
        "Seconds a request may run before its worker is ended and replaced (0: never).",
        env="WORKER_TIMEOUT",
        check=_at_least(0),
    )
    prometheus_multiproc_dir: str | None = _row(
        None,
        "Where worker processes share metrics. Default: a fresh temporary directory made "
        "by service/serve.py at start-up (stale files in a given directory are removed).",
        env="PROMETHEUS_MULTIPROC_DIR",
    )
    cache_url: str | None = _row(
        None,
        "Public thread pages, keyed by the article's version: unset or `memory://` caches "
        "in each worker, `redis://host:6379/1` shares between instances, `off` disables.",
        url=True,
        check=_cache_url,
    )
    # --- operational endpoints (#14 item 17) ---
    metrics_token: str | None = _row(
        None,
        "When set, /metrics answers only requests with `Authorization: Bearer <this token>` "
        "(401 otherwise). Production requires it unless `COMMENTS_METRICS_PUBLIC=true`.",
        secret=True,
    )
    metrics_public: bool = _row(
        False,
        "Production only: serve /metrics without a token (when a private network already "
        "keeps it from the public). Ignored when `COMMENTS_METRICS_TOKEN` is set.",
    )
    counts_cache_seconds: int = _row(
        1,
        "`/counts` answers are kept this long in the same cache (a listing page asks for "
        "the same ids for every reader; they are sent with `max-age=30` anyway); 0: "
        "always read the database.",
        check=_at_least(0),
    )
    # --- market features (issue #18, docs/markets.md) ---
    ticker_url_template: str | None = _row(
        None,
        "Quote page that cashtags (`$BABA`) link to, `{symbol}` standing for the URL-encoded "
        "symbol, e.g. `https://news.example/quote/{symbol}`. Unset: cashtags stay plain text "
        "(they are still stored and counted). Applies to comments written after it is set.",
        check=_ticker_template,
        url=True,
    )
    require_disclosure: bool = _row(
        False,
        "A comment that mentions a cashtag must carry a `disclosure` of the author's "
        "positions (else 422).",
    )
    # --- market features: hot sort, surge mode, spam model (issue #18) ---
    hot_gravity: float = _row(
        1.8,
        "`sort=hot`'s exponent: (score + 1) / (age_hours + 2) ^ gravity; larger sinks old "
        "comments faster.",
        check=_at_least(0, more_than=True),
    )
    surge_comments_per_minute: int = _row(
        0,
        "Automatic surge: more comments than this on one article within a minute turns on "
        "slow mode there (0: off).",
        check=_at_least(0),
    )
    surge_slow_mode_seconds: int = _row(
        30,
        "The slow mode an automatic surge turns on: one comment per user per this many "
        "seconds in that thread (moderators exempt).",
        check=_at_least(1),
    )
    surge_minutes: int = _row(
        15, "How long an automatic surge's slow mode lasts.", check=_at_least(1)
    )
    spam_hold_score: float = _row(
        0.9,
        "New comments the spam model scores at least this high (0 to 1) are held for review "
        "(reason `spam_score`); above 1: never.",
        check=_at_least(0),
    )

    # --- notifications and e-mail (#15) ---
    smtp_url: str | None = _row(
        None,
        "Send notification e-mails through this server: `smtp://user:password@host:587"
        "?starttls=true` or `smtps://user:password@host:465`. Unset: no e-mail (in-app "
        "notifications only).",
        url=True,
        check=_smtp_url_problem,
    )
    email_from: str = _row("comments@localhost", "The `From` address of notification e-mails.")
    email_min_interval_seconds: int = _row(
        900,
        "At most one notification e-mail per reader this often; what happens in between is "
        "batched into the next one.",
        check=_at_least(0),
    )
    permalink_template: str | None = _row(
        None,
        "Where a comment lives on the site, for e-mails and the widget's notification "
        "links: `https://news.example/{article_id}#comment-{comment_id}`.",
        check=_permalink_problem,
    )
    public_url: str | None = _row(
        None,
        "This service's address as readers reach it (`https://comments.example`): the "
        "base of the one-click unsubscribe links in e-mails. Production needs it with "
        "`COMMENTS_SMTP_URL`; elsewhere it defaults to `http://HOST:PORT`.",
        url=True,
        check=_public_url_problem,
    )
    # --- webhooks and the delivery worker (issue #15; service/delivery/) ------------------
    webhook_allow_private: bool = _row(
        False,
        "Let webhook endpoints be on loopback, private, link-local or other non-public "
        "addresses (tests, private networks). Off: such URLs are refused when registered "
        "and again at every delivery (DNS rebinding).",
    )
    webhook_connect_timeout_seconds: float = _row(
        3.0,
        "Seconds a webhook delivery may take to connect.",
        check=_at_least(0, more_than=True),
    )
    webhook_timeout_seconds: float = _row(
        10.0,
        "Seconds a webhook endpoint may take to answer once connected (else the attempt "
        "failed and is retried).",
        check=_at_least(0, more_than=True),
    )
    webhook_retry_hours: int = _row(
        24,
        "A webhook delivery is retried (exponential backoff with jitter) for this long, then "
        "marked failed; an endpoint failing continuously this long is disabled (audited).",
        check=_at_least(1),
    )
    webhook_retention_days: int = _row(
        7,
        "Delivered and failed webhook deliveries are kept this long (the deliveries list), "
        "then removed by the worker.",
        check=_at_least(1),
    )
    delivery_worker: bool = _row(
        True,
        "`python -m service.serve` (so `make run` and the container) also starts one "
        "delivery worker (`flask --app service worker`) and stops it with the server; "
        "false when workers run as their own processes (docker-compose's `worker`).",
    )
    delivery_concurrency: int = _row(
        8,
        "Requests one delivery worker has in flight at once (a slow endpoint holds one).",
        check=_at_least(1),
    )
    delivery_idle_seconds: float = _row(
        1.0,
        "How long a delivery worker sleeps when it found nothing to send.",
        check=_at_least(0, more_than=True),
    )

    # --- live updates (issue 16): the event stream, GET /articles/{id}/events ------------
    redis_url: str | None = _row(
        None,
        "Redis for the live event stream (`redis://host:6379/2`): fan-out between workers "
        "and instances by pub/sub, and the replay buffer. Unset: the cache's or the rate "
        "limiter's Redis when either is one; without any, events fan out inside each "
        "worker process (run one worker, or give a Redis).",
        url=True,
        check=_redis_url,
    )
    sse_max_per_ip: int = _row(
        20,
        "Open event streams one client IP may hold at once (per worker process); more is 429.",
        check=_at_least(1),
    )
    sse_heartbeat_seconds: float = _row(
        15.0,
        "Seconds between heartbeat comment lines (`: ping`) on an idle event stream.",
        check=_at_least(0, more_than=True),
    )
    sse_retry_ms: int = _row(
        3000,
        "The `retry:` an event stream tells clients to wait before reconnecting.",
        check=_at_least(0),
    )
    sse_buffer: int = _row(
        200,
        "Events kept per article for `Last-Event-ID` replay; an older id gets `reset`.",
        check=_at_least(1),
    )

    # Derived, not set by anyone (no row in the table): the demo's own token secret, None
    # unless demo mode is on (see load_settings).
    demo_jwt_secret: str | None = field(default=None, metadata={"derived": True})

    def as_config(self) -> dict[str, Any]:
        """The settings under their environment names, for app.config (flask-limiter reads
        RATELIMIT_* there; lists stay lists, as the environment gave them before)."""
        out: dict[str, Any] = {}
        for setting in SETTINGS:
            value = getattr(self, setting.attr)
            out[setting.name] = list(value) if isinstance(value, tuple) else value
        out[DEMO_JWT_SECRET] = self.demo_jwt_secret
        return out


_PARSERS: dict[str, Callable[[str], Any]] = {
    "bool": _bool,
    "bool | None": _bool,
    "int": _int,
    "float": float,
    "str": _str,
    "str | None": _str,
    "tuple[str, ...]": _list,
}


def _table() -> tuple[Setting, ...]:
    rows = []
    for f in fields(Settings):
        meta = f.metadata
        if meta.get("derived"):
            continue
        rows.append(
            Setting(
                name=meta["env"] or "COMMENTS_" + f.name.upper(),
                attr=f.name,
                default=f.default,
                parse=_PARSERS[str(f.type)],
                meaning=meta["meaning"],
                secret=meta["secret"],
                url=meta["url"],
                check=meta["check"],
            )
        )
    return tuple(rows)


# One row per setting: the README's configuration table is generated from the same facts.
SETTINGS: tuple[Setting, ...] = _table()
_BY_NAME = {s.name: s for s in SETTINGS}
# Derived, not set by anyone: the demo's own token secret (see load_settings).
DEMO_JWT_SECRET = "DEMO_JWT_SECRET"
DEMO_KEY_ID = "demo"  # the `kid` header of tokens the demo mints
LOOPBACK_HOSTS = frozenset({"localhost", "ip6-localhost"})
LIMIT_SETTINGS = tuple(s.name for s in SETTINGS if s.name.startswith("COMMENTS_LIMIT_"))


def default_database_url(instance_path: str) -> str:
    return "sqlite:///" + str(Path(instance_path) / "comments.db")


def load_settings(
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
    instance_path: str = "instance",
) -> Settings:
    """Defaults, then the environment, then ``overrides`` (tests, by environment name);
    every setting checked by its own rule, then the rules that span settings."""
    environ = dict(os.environ if environ is None else environ)
    overrides = overrides or {}
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        value = setting.default
        raw = environ.get(setting.name)
        if raw is not None and raw != "":
            try:
                value = setting.parse(raw)
            except ValueError as exc:
                raise ConfigError(f"{setting.name}: {exc}") from None
        if setting.name in overrides:
            value = overrides[setting.name]
            if isinstance(value, list):
                value = tuple(value)
        values[setting.attr] = value
    if not values["database_url"]:
        values["database_url"] = default_database_url(instance_path)
    if not values["secret_key"] and values["env"] != "production":
        # Production must give one key shared by every instance (validate says so); a
        # generated per-container key would make one instance's cursors 400 on the next.
        values["secret_key"] = _instance_secret(instance_path)
    if values["api_docs"] is None:
        # A newcomer's `make run` shows the docs; production exposes them only when asked.
        values["api_docs"] = values["env"] != "production"
    values["demo_jwt_secret"] = None
    if values["demo"] and values["env"] != "production":
        # The demo mints HS256 tokens with its own generated secret, never the site's
        # COMMENTS_JWT_SECRET (a demo on a reachable address would mint real moderators),
        # and every worker must verify what another signed. Demo tokens are
        # accepted only while demo mode is on: without it this key is None.
        values["demo_jwt_secret"] = _instance_secret(instance_path, "demo_jwt_secret")
    settings = Settings(**values)
    validate(settings)
    return settings


def load_config(
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | None = None,
    instance_path: str = "instance",
) -> dict[str, Any]:
    """load_settings() as a dict under the environment names (app.config's shape)."""
    return load_settings(overrides, environ, instance_path).as_config()


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


def validate(settings: Settings) -> None:
    problems: list[str] = []
    for setting in SETTINGS:
        problem = setting.check(getattr(settings, setting.attr)) if setting.check else None
        if problem:
            problems.append(f"{setting.name}: {problem}")
    problems.extend(_spanning_problems(settings))
    problems.extend(_production_problems(settings))
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))


def _spanning_problems(s: Settings) -> list[str]:
    """The rules that span settings, in every environment."""
    problems = []
    if s.demo and s.demo_set_by == "make" and not is_loopback(str(s.host)):
        problems.append(
            f"COMMENTS_DEMO: make run turns demo mode on by default, and demo mode mints "
            f"tokens for anyone who can reach HOST={s.host}; set COMMENTS_DEMO=true "
            "yourself to serve the demo there, or COMMENTS_DEMO=false"
        )
    key_problem = public_key_problem(s.jwt_public_key)
    if key_problem:
        problems.append(f"COMMENTS_JWT_PUBLIC_KEY: {key_problem}")
    token = s.metrics_token
    if token is not None and token != "" and not token.strip():
        problems.append(
            "COMMENTS_METRICS_TOKEN: only whitespace; give a real token or leave it unset"
        )
    secret = s.jwt_secret
    if secret is not None and secret != "" and not secret.strip():
        problems.append(
            "COMMENTS_JWT_SECRET: only whitespace; give a real secret or leave it unset"
        )
    return problems


def _production_problems(s: Settings) -> list[str]:
    """The rules that span settings: what production refuses to start with."""
    if s.env != "production":
        return []
    problems = []
    if not s.jwt_public_key and (not s.jwt_secret or len(s.jwt_secret.strip()) < 32):
        problems.append(
            "COMMENTS_JWT_SECRET: production needs at least 32 characters "
            "(or COMMENTS_JWT_PUBLIC_KEY)"
        )
    if not s.secret_key or len(s.secret_key) < 32:
        problems.append(
            "COMMENTS_SECRET_KEY: production needs at least 32 characters, the "
            "same on every instance (it signs pagination cursors)"
        )
    if s.demo:
        problems.append("COMMENTS_DEMO: demo mode mints tokens and is never allowed in production")
    problems.extend(_metrics_problems(s))
    if s.smtp_url and not (s.public_url and s.permalink_template):
        problems.append(
            "COMMENTS_SMTP_URL: e-mails link back to the comment and carry an unsubscribe "
            "link; set COMMENTS_PERMALINK_TEMPLATE and COMMENTS_PUBLIC_URL too"
        )
    if (
        s.ratelimit_enabled
        and str(s.ratelimit_storage_uri).startswith("memory://")
        and s.web_concurrency > 1
    ):
        problems.append(
            f"RATELIMIT_STORAGE_URI: memory:// keeps separate limits in each of the "
            f"{s.web_concurrency} workers (WEB_CONCURRENCY), so every limit is "
            "multiplied; use redis://host:6379/0 in production"
        )
    return problems


METRICS_TOKEN_MIN = 32


def _metrics_problems(s: Settings) -> list[str]:
    """Production: /metrics (every route's traffic, queue sizes) is not for the public, and
    each scrape costs real work; a token is required unless the operator says it is public."""
    token = (s.metrics_token or "").strip()
    if not token:
        if s.metrics_public:
            return []
        return [
            "COMMENTS_METRICS_TOKEN: production needs a token for /metrics (Prometheus sends "
            "it as `Authorization: Bearer <token>`), or COMMENTS_METRICS_PUBLIC=true to "
            "serve /metrics without one (only where a private network keeps it in)"
        ]
    if len(token) < METRICS_TOKEN_MIN:
        return [f"COMMENTS_METRICS_TOKEN: production needs at least {METRICS_TOKEN_MIN} characters"]
    return []


_PASSWORD_PARAM = re.compile(r"(?i)([?&](?:password|passwd|pass|secret|token)=)[^&]*")


def masked_url(value: str) -> str:
    """``value`` with the password of its user part and any password-like query parameter
    replaced by ``***``; the user name and host stay, so an operator can still check them."""
    scheme, sep, rest = value.partition("://")
    # The last "@" ends the user part (SQLAlchemy reads an unencoded "/" in a password as
    # part of it); an "@" later in the URL only makes more of it masked, never less.
    creds, at, host = rest.rpartition("@")
    if sep and at and ":" in creds:
        rest = f"{creds.split(':', 1)[0]}:***@{host}"
    return _PASSWORD_PARAM.sub(r"\1***", f"{scheme}{sep}{rest}")


def masked(config: dict[str, Any]) -> dict[str, Any]:
    """The effective settings with secrets hidden, for `flask check-config`."""
    out = {}
    for setting in SETTINGS:
        value = config.get(setting.name)
        if setting.secret and value:
            value = "***"
        elif setting.url and value:
            value = masked_url(str(value))
        out[setting.name] = value
    return out


def _shown(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(value) if value else "(empty)"
    return str(value)


def markdown_table() -> str:
    """The README's configuration table (tests/unit/test_config.py keeps the README in step)."""
    lines = ["| name | default | meaning |", "| --- | --- | --- |"]
    for s in SETTINGS:
        lines.append(f"| `{s.name}` | `{_shown(s.default)}` | {s.meaning} |")
    return "\n".join(lines)
