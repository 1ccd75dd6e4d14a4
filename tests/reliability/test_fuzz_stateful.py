"""Stateful fuzzing through the OpenAPI links in openapi.yaml: schemathesis chains
post → read → reply → react → flag → moderate (and edits, deletes, listings) using the ids
each response returns, and checks every response as the single-request fuzzer does. After
the run, the stored counters must equal a recount."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from service.extensions import db
from tests.helpers import empty_tables as _empty_tables

from .invariants import drift, orphans
from .test_fuzz_contract import CALLERS, CHECKS, SPEC

EXAMPLES = int(os.environ.get("RELIABILITY_STATEFUL_EXAMPLES", "40"))
STEPS = int(os.environ.get("RELIABILITY_STATEFUL_STEPS", "20"))


def test_the_spec_links_the_whole_story() -> None:
    """post → read → react → flag → moderate is reachable by links alone."""
    schema = schemathesis.openapi.from_path(SPEC)
    raw = schema.raw_schema["paths"]
    created = raw["/api/v1/articles/{article_id}/comments"]["post"]["responses"]["201"]["links"]
    targets = {link["operationId"] for link in created.values()}
    assert {
        "getComment",
        "addCommentReaction",
        "flagComment",
        "moderateComment",
    } <= targets
    flagged = raw["/api/v1/comments/{comment_id}/flags"]["post"]["responses"]["201"]["links"]
    assert "moderateComment" in {link["operationId"] for link in flagged.values()}


@pytest.mark.slow
@pytest.mark.parametrize("caller", ["user", "moderator"])
def test_linked_sequences(app: Any, caller: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # schemathesis starts scenarios only at "root" operations. Its dependency inference
    # takes postComment's optional parent_id for a foreign key to a resource nothing
    # produces and so never starts there, leaving the links unused; start scenarios with
    # any POST (and any GET without path parameters), its documented rule without that
    # inference.
    from schemathesis.specs.openapi import stateful as stateful_module

    monkeypatch.setattr(
        stateful_module,
        "is_likely_root_transition",
        lambda operation, node, produced: (
            operation.method == "post"
            or (operation.method == "get" and not operation.path_parameters)
        ),
    )
    schema = schemathesis.openapi.from_path(SPEC)
    schema.config.generation.update(with_security_parameters=False)
    schema = schema.include(path_regex="^/api/v1/")
    headers = CALLERS[caller]
    base = schema.as_state_machine()
    seen: set[tuple[str, int]] = set()

    class Machine(base):  # type: ignore[misc,valid-type]
        def setup(self) -> None:
            # Each scenario starts from empty tables, so a replayed scenario meets the same
            # responses (hypothesis insists on it while shrinking).
            _empty_tables(app.config["SQLALCHEMY_DATABASE_URI"])

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"app": app, "headers": headers}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            seen.add((case.operation.label, response.status_code))
            case.validate_response(response, checks=CHECKS)
            with app.app_context():  # and the data stays consistent after every step
                assert drift(db.session) == {}
                assert orphans(db.session) == {}
                db.session.remove()

    acted_on = {
        "GET /api/v1/comments/{comment_id}",
        "PUT /api/v1/comments/{comment_id}/reactions/{kind}",
        "POST /api/v1/comments/{comment_id}/flags",
    }
    moderated = "POST /api/v1/admin/comments/{comment_id}/actions"

    def links_followed() -> bool:
        followed = {label for label, status in seen if status < 300}
        return (
            ("POST /api/v1/articles/{article_id}/comments", 201) in seen
            and bool(followed & acted_on)
            and (caller != "moderator" or moderated in followed)
        )

    # Exploration is random. Measured on 2026-11-30, one moderator run of 40 scenarios
    # at a time: 6 of 14 runs reached a successful moderator action (most actions are
    # refused for a comment's state: approve or restore a published one, 409) and 11 of
    # 14 acted on a comment by id. Five runs still missed a moderator action together
    # about once in 17 (CI met it), so the exploration goes on until the coverage below
    # is reached, up to 20 runs (0.57^20, about 1 in 80,000); a run that reached it stops
    # at once, so the usual cost is two runs. Every run checks the invariants after every
    # step. Never derandomized (hypothesis's CI profile would be): a second run must
    # explore something else, not repeat an unlucky first.
    for _ in range(20):
        Machine.run(
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=STEPS,
                deadline=None,
                database=None,
                derandomize=False,
                suppress_health_check=list(HealthCheck),
            )
        )
        if links_followed():
            break
    # The links were followed: comments were created, then acted on by id.
    assert ("POST /api/v1/articles/{article_id}/comments", 201) in seen
    followed = {label for label, status in seen if status < 300}
    assert followed & acted_on, sorted(seen)
    if caller == "moderator":
        assert moderated in followed, sorted(seen)
