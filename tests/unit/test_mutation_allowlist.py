"""The mutation-testing allow-list stays true to the code, without running mutmut.

Every excused mutant must still be one that mutmut makes of today's code (regenerated with
mutmut's own generator): an entry for code that moved or changed is stale and must be
reviewed again, or it would excuse nothing while looking like a reviewed decision.
"""

from __future__ import annotations

import tomllib
from collections import Counter

import pytest

from tests.mutation_testing import ALLOWLIST, ROOT, load_allowlist, mutants_of, source_of

ENTRIES = load_allowlist()


def test_mutmut_mutates_the_domain_against_the_fast_tests():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mutmut"]
    assert config["only_mutate"] == ["service/domain/*"]
    assert config["pytest_add_cli_args_test_selection"] == [
        "tests/unit",
        "tests/api",
        "tests/security",
    ]
    assert "mutate:" in (ROOT / "Makefile").read_text(encoding="utf-8")


def test_entries_are_unique_and_give_a_reason():
    keys = Counter((e.function, e.original, e.mutated) for e in ENTRIES)
    assert [key for key, n in keys.items() if n > 1] == []
    assert [e for e in ENTRIES if len(e.reason.split()) < 4] == []


@pytest.mark.parametrize(
    "entry", ENTRIES, ids=[f"{e.function}:{e.mutated[:30]}" for e in ENTRIES] or None
)
def test_entry_names_a_mutant_that_exists(entry):
    path = source_of(entry.function)
    assert path.exists(), f"{entry.function}: {path.relative_to(ROOT)} is gone"
    mutants = mutants_of(path)
    assert any(entry.excuses(m) for m in mutants), (
        f"{ALLOWLIST.name} excuses a mutant mutmut no longer makes in {entry.function}:\n"
        f"  - {entry.original}\n  + {entry.mutated}\n"
        f"functions with mutants there: {sorted({m.function for m in mutants})}"
    )


def test_a_stale_entry_is_caught(tmp_path):
    """The check above can fail: an entry whose fragment is not in the code matches nothing."""
    (tmp_path / "allow.toml").write_text(
        '[[mutant]]\nfunction = "service.domain.ranking.x_net_score"\n'
        'original = "likes - dislikes"\nmutated = "likes * dislikes"\n'
        'reason = "a mutation mutmut never makes"\n',
        encoding="utf-8",
    )
    (stale,) = load_allowlist(tmp_path / "allow.toml")
    mutants = mutants_of(source_of(stale.function))
    assert not any(stale.excuses(m) for m in mutants)
    real = next(m for m in mutants if m.function == stale.function)
    assert real.original == "likes - dislikes" and real.mutated == "likes + dislikes"
