"""The enums in service/enums.py are the ones openapi.yaml publishes: one list each."""

from __future__ import annotations

import enum
from pathlib import Path

import pytest
import yaml

from service import enums

OPENAPI = Path(__file__).resolve().parents[2] / "openapi.yaml"


@pytest.mark.parametrize(
    "shared",
    [
        enums.CommentStatus,
        enums.ArticleStatus,
        enums.Sort,
        enums.FlagReason,
        enums.HeldReason,
        enums.ModerationAction,
    ],
    ids=lambda e: e.__name__,
)
def test_enum_matches_its_openapi_schema(shared: type[enum.Enum]) -> None:
    schemas = yaml.safe_load(OPENAPI.read_text())["components"]["schemas"]
    assert schemas[shared.__name__]["enum"] == [member.value for member in shared]


def test_held_reason_and_action_are_the_ones_the_api_takes_and_gives() -> None:
    from service.admin.schemas import ActionSchema

    schemas = yaml.safe_load(OPENAPI.read_text())["components"]["schemas"]
    held = schemas["QueueItem"]["allOf"][1]["properties"]["held_reason"]["enum"]
    assert held == [*(r.value for r in enums.HeldReason), None]
    choices = ActionSchema().fields["action"].validate.choices  # type: ignore[union-attr]
    assert list(choices) == [a.value for a in enums.ModerationAction]
