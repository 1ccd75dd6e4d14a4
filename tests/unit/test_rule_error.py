"""The domain's one error (service/domain/errors.py)."""

from __future__ import annotations

import pytest

from service.domain.errors import RuleError


def test_a_rule_error_reads_as_its_detail_wherever_it_is_printed():
    """Mutation testing (#22): `super().__init__(None)` left every RuleError printing as
    "None" in a log line, a traceback or a CLI command's message."""
    error = RuleError(409, "You already reported this comment.", kind="conflict", field="x")
    assert str(error) == "You already reported this comment."
    with pytest.raises(RuleError, match="already reported"):
        raise error
    assert (error.status, error.kind, error.field, error.extra) == (409, "conflict", "x", {})
