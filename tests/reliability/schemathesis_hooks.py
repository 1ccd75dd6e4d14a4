"""The few answers schemathesis' `positive_data_acceptance` check (ST202) may not count as
findings, each for a reason no OpenAPI document can state (loaded by schemathesis.toml).

ST202 sends requests that openapi.yaml says are valid and expects 2xx, 3xx, 401, 403, 404,
409 or 429. openapi.yaml now states every rule that JSON Schema can state (patterns, enums,
year ranges, "at least one of"), so the ones below are what is left: rules about a value
the fuzzer cannot know (a signature, the clock, the rows in the database, DNS, who is
calling, what the site is configured to send). Each is dropped only for the operation, the
status, the problem type and the field that rule produces, and the caller's documented 4xx
stays a 4xx; any other rejection of valid data is still a finding, and every other check
(5xx, undeclared status, content type, headers, response schema, negative data accepted,
auth ignored, use after free, ...) is untouched. schemathesis reports how many failures a
`filter_failure` hook dropped.
"""

from __future__ import annotations

import atexit
import sys
from collections import Counter
from typing import Any

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData

FUZZ_CALLER = "fuzz-admin"  # the `sub` of the token tests/reliability/fuzz_live.py sends


def _problem(response: Any) -> tuple[str, dict[str, list[str]]]:
    try:
        body = response.json()
    except Exception:  # noqa: BLE001 (not JSON: not one of ours, keep the failure)
        return "", {}
    if not isinstance(body, dict):
        return "", {}
    kind = str(body.get("type", "")).rsplit("/", 1)[-1]
    errors = body.get("errors") if isinstance(body.get("errors"), dict) else {}
    return kind, errors


def _only(errors: dict[str, list[str]], field: str, *needles: str) -> bool:
    """The problem names this one field, with a message containing one of ``needles``."""
    if set(errors) != {field}:
        return False
    return all(any(n in str(m) for n in needles) for m in errors[field])


def outside_the_schema(case: Any, response: Any) -> str | None:
    """Why this rejection of schema-valid data is a rule JSON Schema cannot state, or None."""
    status = response.status_code
    kind, errors = _problem(response)
    path, method = case.operation.path, case.method.upper()
    query = case.query or {}
    body = case.body if isinstance(case.body, dict) else {}
    if status == 400 and kind == "invalid-cursor" and "cursor" in query:
        return "a cursor is signed by the service: only a next_cursor it issued is valid"
    if status == 400 and kind == "invalid-token" and path == "/api/v1/unsubscribe":
        return "an unsubscribe token is signed by the service (e-mailed links only)"
    if (
        status == 422
        and kind == "invalid-parent"
        and method == "POST"
        and body.get("parent_id") is not None
    ):
        return "parent_id must name a comment of this very article: the data decides"
    if (
        status == 422
        and path == "/api/v1/admin/bans/{user_id}"
        and _only(errors, "expires_at", "must be in the future")
    ):
        return "a ban's expires_at must be after now: the clock decides"
    if (
        status == 422
        and path == "/api/v1/me/muted/{user_id}"
        and (case.path_parameters or {}).get("user_id") == FUZZ_CALLER
        and _only(errors, "user_id", "cannot mute yourself")
    ):
        return "nobody may mute themselves: who is calling decides"
    if (
        status == 422
        and path.startswith("/api/v1/admin/webhooks")
        and _only(errors, "url", "does not resolve", "has no address", "public addresses")
    ):
        return "a webhook host must resolve to public addresses: DNS at that moment decides"
    if (
        status == 422
        and path == "/api/v1/me/settings"
        and body.get("email") == "instant"
        and _only(errors, "email", "does not send notification e-mails", "e-mail address")
    ):
        return "instant e-mail needs a mailer configured and an address in the token"
    if (
        status == 422
        and kind == "idempotency-key-reused"
        and any(k.lower() == "idempotency-key" for k in (case.headers or {}))
    ):
        return "an Idempotency-Key already used with another request: earlier requests decide"
    return None


DROPPED: Counter[str] = Counter()


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure except an ST202 that `outside_the_schema` explains."""
    if isinstance(failure, RejectedPositiveData):
        reason = outside_the_schema(case, response)
        if reason is not None:
            DROPPED[reason] += 1
            return False
    return True


@atexit.register
def _report() -> None:
    for reason, count in DROPPED.most_common():
        print(f"filter_failure dropped {count} x ST202: {reason}", file=sys.stderr)
