"""Operational endpoints outside /api/v1: liveness, readiness, metrics, the OpenAPI document."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import redis
from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import case, func, select, text

from .delivery import queue_depths
from .delivery.metrics import QueueCollector
from .enums import CommentStatus
from .extensions import db
from .http import services, settings
from .models import Comment
from .observability import metrics_text
from .problems import problem_response

bp = Blueprint("ops", __name__)

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"
CHECK_TIMEOUT_SECONDS = 1  # a readiness probe must answer before the balancer gives up


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive (no dependencies checked)."""
    return {"status": "ok"}


def _database_ok() -> bool:
    with services().probe_engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        if conn.dialect.name == "sqlite":
            # A read-only file answers SELECT 1 but refuses every write: try one (a no-op
            # rewrite of Alembic's row, rolled back) so /readyz tells (#14 item 12).
            try:
                conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
            finally:
                conn.rollback()
    return True


def _redis_ok() -> bool:
    client = redis.Redis.from_url(
        settings().ratelimit_storage_uri,
        socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
        socket_timeout=CHECK_TIMEOUT_SECONDS,
    )
    try:
        return bool(client.ping())
    finally:
        client.close()


def readiness_checks() -> dict[str, Callable[[], bool]]:
    checks: dict[str, Callable[[], bool]] = {"database": _database_ok}
    if str(settings().ratelimit_storage_uri).startswith(("redis://", "rediss://")):
        checks["redis"] = _redis_ok
    return checks


@bp.get("/readyz")
def readyz() -> Response | dict[str, str]:
    """Ready to serve: the database answers and, when limits live in Redis, Redis does.
    503 problem+json naming what is down otherwise."""
    results: dict[str, str] = {}
    for name, check in readiness_checks().items():
        try:
            results[name] = "ok" if check() else "down"
        except Exception as exc:  # any driver error means "not ready"
            current_app.logger.warning(
                "readiness check %s failed: %s", name, exc.__class__.__name__
            )
            results[name] = "down"
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


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format, summed over every worker process."""
    return current_app.response_class(
        metrics_text(moderation_queue_sizes, QueueCollector(queue_depths)),
        content_type=CONTENT_TYPE_LATEST,
    )


@bp.get("/openapi.yaml")
def openapi() -> Response:
    """This service's contract, as OpenAPI 3.1."""
    return current_app.response_class(OPENAPI_PATH.read_bytes(), mimetype="application/yaml")
