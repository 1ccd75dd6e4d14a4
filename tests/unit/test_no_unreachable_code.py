"""No statement of service/ follows a return, raise, continue or break in the same block.

Such code never runs, so no test can notice a bug in it, and every mutant of it survives
`make mutate`; one slipped in with a merge (a second copy of a loop after ``return`` in
``service.domain.threads.own_reactions``)."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENDS = (ast.Return, ast.Raise, ast.Continue, ast.Break)


def unreachable(source: str) -> list[int]:
    """Line numbers of the first statement after a block's return/raise/continue/break."""
    found = []
    for node in ast.walk(ast.parse(source)):
        for field in ("body", "orelse", "finalbody", "handlers"):
            block = getattr(node, field, None)
            if not isinstance(block, list):
                continue
            for before, after in itertools.pairwise(block):
                if isinstance(before, ENDS):
                    found.append(after.lineno)
    return found


def test_the_check_finds_a_statement_after_return() -> None:
    source = "def f():\n    return 1\n    x = 2\n\ndef g():\n    for i in ():\n        continue\n"
    assert unreachable(source) == [3]


def test_service_has_no_unreachable_statement() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "service").rglob("*.py"))
        for line in unreachable(path.read_text(encoding="utf-8"))
    ]
    assert found == []
