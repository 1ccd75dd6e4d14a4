"""Every error leaves as RFC 9457 problem details (application/problem+json)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, request
from marshmallow import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from .domain.errors import RuleError
from .extensions import db
from .problems import PROBLEM_BASE, PROBLEM_JSON, Problem, problem_response

__all__ = ["PROBLEM_BASE", "PROBLEM_JSON", "Problem", "init_app", "problem_response"]

log = logging.getLogger(__name__)


def _flatten(messages: Any) -> dict[str, list[str]]:
    """marshmallow's nested messages → {"field": ["message", ...]}."""
    if isinstance(messages, list):
        return {"_schema": [str(m) for m in messages]}
    out: dict[str, list[str]] = {}
    for field, value in messages.items():
        if isinstance(value, dict):
            for sub, msgs in _flatten(value).items():
                out[f"{field}.{sub}"] = msgs
        else:
            out[str(field)] = [str(m) for m in (value if isinstance(value, list) else [value])]
    return out


def _handle_problem(exc: Problem) -> Response:
    return problem_response(
        exc.status,
        exc.detail,
        type_=exc.type_,
        title=exc.title,
        errors=exc.errors,
        headers=exc.headers,
        **exc.extra,
    )


def _handle_validation(exc: ValidationError) -> Response:
    errors = _flatten(exc.messages)
    fields = ", ".join(sorted(errors))
    return problem_response(
        422,
        f"The request has invalid fields: {fields}.",
        type_="validation-error",
        title="Invalid request",
        errors=errors,
    )


_DETAILS = {
    400: "The request could not be understood.",
    404: "There is nothing at this address.",
    405: "This method is not allowed here.",
    413: "The request body is larger than the service accepts (64 KiB).",
    415: "Send the request body as application/json.",
}


def _methods_that_route(methods: list[str]) -> list[str]:
    """Werkzeug answers 405 when a rule for another method matched the path's shape, even
    if that rule's converter then refused the value (``/comments/99999999999``: too large
    for ``int(max=...)``). Only methods whose rule accepts this very path count; none means
    there is nothing at this address: 404."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in methods:
        try:
            adapter.match(method=method)
        except HTTPException as exc:
            if exc.code not in (404, 405):  # a redirect: the path does exist
                allowed.append(method)
            continue
        allowed.append(method)
    return allowed


def _handle_http(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status >= 500:
        return _handle_unexpected(exc)
    detail = (
        exc.description
        if exc.description and status not in _DETAILS
        else _DETAILS.get(status, exc.description or "")
    )
    headers = {}
    if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        allowed = _methods_that_route(exc.valid_methods)  # type: ignore[attr-defined]
        if not allowed:
            return problem_response(404, _DETAILS[404])
        headers["Allow"] = ", ".join(allowed)
    return problem_response(status, detail, headers=headers)


def _handle_unexpected(exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):
        log.exception("unhandled error", exc_info=exc)
    try:
        db.session.rollback()
    except Exception:  # pragma: no cover - the session may be unusable; nothing more to do
        log.exception("rollback after an unhandled error failed")
    return problem_response(
        500,
        "Something went wrong on our side; nothing was saved. Try again shortly.",
        type_="internal-error",
    )


DATABASE_RETRY_AFTER_SECONDS = 5


def _handle_database_unavailable(exc: Exception) -> Response:
    """The database cannot be reached (connection refused or cut, pool exhausted, server
    shutting down): 503 with Retry-After, nothing saved. Other database errors stay 500."""
    if not isinstance(exc, PoolTimeout) and not (
        isinstance(exc, DBAPIError)
        and (exc.connection_invalidated or _is_connection_error(exc) or _is_read_only_error(exc))
    ):
        return _handle_unexpected(exc)
    log.warning("database unavailable: %s", exc.__class__.__name__)
    try:
        db.session.rollback()
    except Exception:  # the connection is gone; the pool discards it
        log.debug("rollback after a lost connection failed", exc_info=True)
    return problem_response(
        503,
        "The service cannot reach its database just now; nothing was saved. Try again shortly.",
        type_="database-unavailable",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        retry_after=DATABASE_RETRY_AFTER_SECONDS,
    )


def _is_connection_error(exc: Any) -> bool:
    """psycopg's OperationalError covers lost and refused connections (SQLSTATE class 08,
    admin shutdown 57P01-57P03, or none at all when the socket died); SQLite's
    OperationalError is a locked or unreadable file, which a retry may also cure."""
    if not isinstance(exc, OperationalError):
        return False
    if type(exc.orig).__module__.startswith("sqlite3"):
        message = str(exc.orig)
        # "readonly database": a read-only file or mount; writes wait for an operator, and
        # the answer says so with a 503 rather than a 500 (#14 item 12).
        return "locked" in message or "unable to open" in message or "readonly" in message
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in {"57P01", "57P02", "57P03"}


def _is_read_only_error(exc: Any) -> bool:
    """PostgreSQL in read-only mode (a standby, default_transaction_read_only): 25006."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) == "25006"


def _handle_rule(exc: RuleError) -> Response:
    errors = {exc.field: [exc.detail]} if exc.field else None
    title = "Invalid request" if exc.status == 422 else None
    return problem_response(
        exc.status, exc.detail, type_=exc.kind, title=title, errors=errors, **exc.extra
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(Problem, _handle_problem)
    app.register_error_handler(RuleError, _handle_rule)
    app.register_error_handler(ValidationError, _handle_validation)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(InternalServerError, _handle_unexpected)
    app.register_error_handler(DBAPIError, _handle_database_unavailable)
    app.register_error_handler(PoolTimeout, _handle_database_unavailable)
    app.register_error_handler(Exception, _handle_unexpected)
