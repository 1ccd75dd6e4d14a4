"""Operational endpoints outside /api/v1: liveness, readiness, metrics, the OpenAPI document."""

from __future__ import annotations

import hmac
import json
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Callable

from flask import Blueprint, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import case, func, select, text
from sqlalchemy.engine import Engine

from .config import DEFAULT_REACTION_KINDS
from .delivery import queue_depths
from .delivery.metrics import QueueCollector
from .enums import CommentStatus
from .extensions import db
from .http import read_limit, services, settings
from .models import Comment
from .observability import metrics_text
from .problems import problem_response

bp = Blueprint("ops", __name__)

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"
# A readiness probe must answer before the balancer gives up: each check gets this long,
# whatever the driver's own timeouts do (a server that accepts but never answers).
CHECK_DEADLINE_SECONDS = 1.5


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive (no dependencies checked)."""
    return {"status": "ok"}


def _database_ok(engine: Engine) -> bool:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        if conn.dialect.name == "sqlite":
            # A read-only file answers SELECT 1 but refuses every write: try one (a no-op
            # rewrite of Alembic's row, rolled back) so /readyz tells (#14 item 12).
            try:
                conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
            finally:
                conn.rollback()
    return True


def readiness_checks() -> dict[str, Callable[[], bool]]:
    """The checks, bound to this app's pooled probe engine and Redis client (they run in
    the probe threads, outside the app context)."""
    s = services()
    engine, client = s.probe_engine, s.probe_redis
    checks: dict[str, Callable[[], bool]] = {"database": lambda: _database_ok(engine)}
    if client is not None:
        checks["redis"] = lambda: bool(client.ping())
    return checks


def _outcome(name: str, future: Future[bool], deadline: float) -> str:
    try:
        return "ok" if future.result(timeout=max(0.0, deadline - time.monotonic())) else "down"
    except FutureTimeout:
        future.cancel()  # still queued behind a stuck check: never run it
        current_app.logger.warning("readiness check %s timed out", name)
    except Exception as exc:  # any driver error means "not ready"
        current_app.logger.warning("readiness check %s failed: %s", name, exc.__class__.__name__)
    return "down"


@bp.get("/readyz")
@read_limit()
def readyz() -> Response | dict[str, str]:
    """Ready to serve: the database answers and, when limits live in Redis, Redis does,
    each within CHECK_DEADLINE_SECONDS, over connections kept between probes. 503
    problem+json naming what is down otherwise. Rate limited per client IP like reads."""
    runner = services().probe_runner
    deadline = time.monotonic() + CHECK_DEADLINE_SECONDS  # the checks run side by side
    futures = {name: runner.submit(check) for name, check in readiness_checks().items()}
    results = {name: _outcome(name, future, deadline) for name, future in futures.items()}
    down = [name for name, state in results.items() if state != "ok"]
    if down:
        return problem_response(
            503,
            f"Not ready: {' and '.join(down)} not reachable.",
            type_="not-ready",
            headers={"Retry-After": "5"},
            checks=results,
        )
    return {"status": "ready", **results}


def moderation_queue_sizes() -> dict[str, int]:
    """pending, hidden, and published-but-flagged comments, in one query."""
    state = case(
        (Comment.status == CommentStatus.PENDING, "pending"),
        (Comment.status == CommentStatus.HIDDEN, "hidden"),
        else_="flagged",
    )
    waiting = Comment.status.in_((CommentStatus.PENDING, CommentStatus.HIDDEN)) | (
        (Comment.status == CommentStatus.PUBLISHED) & (Comment.flag_count > 0)
    )
    sizes = {"pending": 0, "hidden": 0, "flagged": 0}
    try:
        rows = db.session.execute(select(state, func.count()).where(waiting).group_by(state))
        sizes.update({name: n for name, n in rows})
    finally:
        db.session.rollback()
    return sizes


def _metrics_caller_ok(token: str) -> bool:
    """``Authorization: Bearer <token>``, compared in constant time (as bytes: a WSGI header
    is the raw bytes read as Latin-1)."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("latin-1", "replace"), token.encode("utf-8")
    )


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format, summed over every worker process. With
    COMMENTS_METRICS_TOKEN set, only for ``Authorization: Bearer <token>`` (401 otherwise)."""
    token = settings().metrics_token
    if token and not _metrics_caller_ok(token):
        return problem_response(
            401,
            "/metrics needs 'Authorization: Bearer <COMMENTS_METRICS_TOKEN>'.",
            type_="unauthorized",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return current_app.response_class(
        metrics_text(moderation_queue_sizes, QueueCollector(queue_depths)),
        content_type=CONTENT_TYPE_LATEST,
    )


@bp.get("/openapi.yaml")
def openapi() -> Response:
    """This service's contract, as OpenAPI 3.1."""
    return current_app.response_class(
        served_openapi(settings().reaction_kinds), mimetype="application/yaml"
    )


DEFAULT_KINDS_ENUM = "enum: [" + ", ".join(DEFAULT_REACTION_KINDS) + "]"


def served_openapi(kinds: tuple[str, ...]) -> bytes:
    """openapi.yaml with the reaction kinds this service is configured with: the file lists
    the default set as the `kind` parameter's enum, so that clients and fuzzers see the
    kinds that really are accepted (another kind is 422)."""
    text = OPENAPI_PATH.read_text(encoding="utf-8")
    if kinds != DEFAULT_REACTION_KINDS:
        quoted = ", ".join(json.dumps(kind) for kind in kinds)
        text = text.replace(DEFAULT_KINDS_ENUM, f"enum: [{quoted}]")
    return text.encode("utf-8")
