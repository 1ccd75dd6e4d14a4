"""Operational endpoints outside /api/v1: liveness, readiness, the OpenAPI document."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app
from sqlalchemy import text

from .errors import problem_response
from .extensions import db

bp = Blueprint("ops", __name__)

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive (no dependencies checked)."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz() -> Response | dict[str, str]:
    """Ready to serve: the database answers. 503 problem+json otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception as exc:  # any driver error means "not ready"
        current_app.logger.warning("readiness check failed: %s", exc.__class__.__name__)
        db.session.rollback()
        return problem_response(503, "The database is not reachable.", type_="not-ready",
                                headers={"Retry-After": "5"})
    return {"status": "ready", "database": "ok"}


@bp.get("/openapi.yaml")
def openapi() -> Response:
    """This service's contract, as OpenAPI 3.1."""
    return current_app.response_class(OPENAPI_PATH.read_bytes(), mimetype="application/yaml")
