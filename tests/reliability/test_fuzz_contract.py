"""Fuzz every public and admin operation of openapi.yaml with schemathesis.

Each operation is driven with schema-conforming (positive) and schema-violating (negative)
requests, as an anonymous reader, a signed-in reader and a moderator, through the app's WSGI
interface, against a database that holds a small thread (so generated ids sometimes hit real
comments). Every response must pass the five checks below. ``RELIABILITY_MAX_EXAMPLES``
(default 8) sets the examples per operation, mode and caller; docs/reliability.md records a
larger run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.helpers import auth

SPEC = Path(__file__).resolve().parents[2] / "openapi.yaml"
MAX_EXAMPLES = int(os.environ.get("RELIABILITY_MAX_EXAMPLES", "8"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
CALLERS: dict[str, dict[str, str]] = {
    "anonymous": {},
    "user": auth("fuzz-user", name="Fuzz", expires_in=7 * 86400),
    "moderator": auth("fuzz-mod", name="Mod", roles=["moderator"], expires_in=7 * 86400),
}
SEEDED_ARTICLE = "fuzz-article"


def load_schema() -> Any:
    schema = schemathesis.openapi.from_path(SPEC)
    schema.config.generation.update(with_security_parameters=False)
    return schema


def api_operations() -> list[Any]:
    """Every operation under /api/v1 (public and admin) in the spec."""
    ops = [result.ok() for result in load_schema().get_all_operations()]
    return [op for op in ops if op.path.startswith("/api/v1/")]


OPERATIONS = api_operations()


def can_be_negated(operation: Any) -> bool:
    """Negative mode needs something to violate: a body, or a parameter with a constraint
    (a free-form string header such as If-None-Match accepts every value)."""
    if operation.body.items:
        return True
    return any(
        p.definition.get("schema") != {"type": "string"} for p in operation.iter_parameters()
    )


CASES = [
    (op, mode)
    for op in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode.is_positive or can_be_negated(op)
]


def seed(client: Any) -> None:
    """A thread with a reply, a reaction, a flag and a ban, so fuzzed ids find real rows."""
    url = f"/api/v1/articles/{SEEDED_ARTICLE}/comments"
    first = client.post(url, json={"body": "first"}, headers=CALLERS["user"])
    assert first.status_code == 201
    client.post(
        url,
        json={"body": "reply", "parent_id": first.json["id"]},
        headers=auth("fuzz-other", name="Other"),
    )
    client.put(f"/api/v1/comments/{first.json['id']}/reactions/like", headers=CALLERS["user"])
    client.post(
        f"/api/v1/comments/{first.json['id']}/flags",
        json={"reason": "spam"},
        headers=auth("fuzz-other"),
    )
    client.put(
        "/api/v1/admin/bans/fuzz-banned",
        json={"reason": "test", "shadow": False},
        headers=CALLERS["moderator"],
    )


def strategy(operation: Any, mode: GenerationMode) -> Any:
    """The operation's generated cases; half of them aimed at the seeded rows."""
    base = operation.as_strategy(generation_mode=mode)
    params = {p.name for p in operation.path_parameters}
    fixed: dict[str, Any] = {}
    if "comment_id" in params:
        fixed["comment_id"] = 1
    if "article_id" in params:
        fixed["article_id"] = SEEDED_ARTICLE
    if "kind" in params:
        fixed["kind"] = "like"
    if "user_id" in params:
        fixed["user_id"] = "fuzz-user"
    if not fixed or not mode.is_positive:
        return base
    return st.one_of(base, operation.as_strategy(generation_mode=mode, path_parameters=fixed))


@pytest.mark.slow
@pytest.mark.parametrize("caller", sorted(CALLERS))
@pytest.mark.parametrize(
    ("operation", "mode"), CASES, ids=[f"{op.label}-{mode.value}" for op, mode in CASES]
)
def test_operation(
    app: Any, client: Any, operation: Any, mode: GenerationMode, caller: str
) -> None:
    seed(client)
    headers = CALLERS[caller]

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy(operation, mode))
    def run(case: Any) -> None:
        case.call_and_validate(app=app, headers=headers, checks=CHECKS)

    run()


def test_every_api_route_is_fuzzed(app: Any) -> None:
    """A route added to the app but not to the spec would escape the fuzzer."""
    fuzzed = {(op.method.upper(), op.path) for op in OPERATIONS}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = rule.rule
            for arg in rule.arguments:
                import re

                path = re.sub(r"<(?:[^:>]+:)?" + arg + r"(?:\([^)]*\))?>", "{" + arg + "}", path)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routed.add((method, path))
    assert routed == fuzzed
