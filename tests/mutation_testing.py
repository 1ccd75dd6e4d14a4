"""Mutation testing of service/domain/ with mutmut: the mutants, the allow-list, the report.

``make mutate`` runs ``mutmut run`` (configured in pyproject.toml) and then this module
(``python -m tests.mutation_testing``), which prints the score and every surviving mutant that
the allow-list does not excuse.

The allow-list (tests/mutation_allowlist.toml) names each excused mutant by its function and
the exact source fragment mutmut changes, before and after: no mutant number, which shifts
whenever a function gains a line. The mutants are regenerated here with mutmut's own
generator, so tests/unit/test_mutation_allowlist.py can check, without running mutmut, that
every entry still names a mutant that exists.
"""

from __future__ import annotations

import json
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALLOWLIST = ROOT / "tests" / "mutation_allowlist.toml"
MIN_SCORE = 90.0  # per cent of mutants killed


@dataclass(frozen=True)
class Mutant:
    name: str  # mutmut's name: service.domain.ranking.x_controversy__mutmut_3
    function: str  # the same without the number: service.domain.ranking.x_controversy
    line: int
    original: str
    mutated: str


@dataclass(frozen=True)
class Excuse:
    function: str
    original: str
    mutated: str
    reason: str

    def excuses(self, mutant: Mutant) -> bool:
        return (self.function, self.original, self.mutated) == (
            mutant.function,
            mutant.original,
            mutant.mutated,
        )


def module_name(path: Path) -> str:
    """service/domain/moderation/__init__.py -> service.domain.moderation, as mutmut names it."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def mutants_of(path: Path) -> tuple[Mutant, ...]:
    """Every mutant mutmut makes of one source file, named and numbered as mutmut names them
    (mutmut.mutation.file_mutation: one group per top-level function or method, in order)."""
    import libcst as cst
    from libcst.metadata import PositionProvider
    from mutmut.mutation.file_mutation import create_mutations
    from mutmut.mutation.trampoline_templates import mangle_function_name

    code = path.read_text(encoding="utf-8")
    module, mutations, _, _ = create_mutations(str(path), code)
    mangled: dict[cst.CSTNode, str] = {}
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef):
            mangled[statement] = mangle_function_name(name=statement.name.value, class_name=None)
        elif isinstance(statement, cst.ClassDef) and isinstance(statement.body, cst.IndentedBlock):
            for method in statement.body.body:
                if isinstance(method, cst.FunctionDef):
                    mangled[method] = mangle_function_name(
                        name=method.name.value, class_name=statement.name.value
                    )
    positions = cst.MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    prefix = module_name(path)
    numbers: dict[str, int] = {}
    found = []
    for mutation in mutations:
        function = mangled.get(mutation.contained_by_top_level_function)  # type: ignore[arg-type]
        if function is None:
            continue  # module-level code: mutmut 3 mutates functions only
        numbers[function] = numbers.get(function, 0) + 1
        position = positions.get(mutation.original_node)
        found.append(
            Mutant(
                name=f"{prefix}.{function}__mutmut_{numbers[function]}",
                function=f"{prefix}.{function}",
                line=position.start.line if position else 0,
                original=module.code_for_node(mutation.original_node),
                mutated=module.code_for_node(mutation.mutated_node),
            )
        )
    return tuple(found)


def source_of(function: str) -> Path:
    """The file that holds a mutant's function: service.domain.ranking.x_f -> ranking.py."""
    base = ROOT.joinpath(*function.split(".")[:-1])
    package = base / "__init__.py"
    return package if package.exists() else base.with_suffix(".py")


def load_allowlist(path: Path = ALLOWLIST) -> list[Excuse]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [Excuse(**entry) for entry in data.get("mutant", [])]


def _results(mutants_dir: Path) -> dict[str, str]:
    """mutant name -> mutmut's status, from the .meta files ``mutmut run`` leaves behind."""
    from mutmut.stats import status_by_exit_code

    statuses: dict[str, str] = {}
    for meta in sorted(mutants_dir.glob("service/domain/**/*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        statuses.update({name: status_by_exit_code[code] for name, code in codes.items()})
    return statuses


def report(patterns: list[str], mutants_dir: Path = ROOT / "mutants") -> int:
    """Print the score of the last ``mutmut run`` and the survivors nobody has excused."""
    from fnmatch import fnmatch

    statuses = {
        name: status
        for name, status in _results(mutants_dir).items()
        if not patterns or any(fnmatch(name, p) for p in patterns)
    }
    if not statuses:
        print("no mutmut results: run `make mutate` first")
        return 2
    tested = {n: s for n, s in statuses.items() if s != "not checked"}
    detected = [n for n, s in tested.items() if s in ("killed", "timeout")]
    survivors = sorted(n for n, s in tested.items() if s not in ("killed", "timeout"))
    by_name = {
        m.name: m
        for path in sorted({source_of(n.partition("__mutmut_")[0]) for n in survivors})
        for m in mutants_of(path)
    }
    excuses = load_allowlist()
    excused = [n for n in survivors if any(e.excuses(by_name[n]) for e in excuses)]
    unexcused = [n for n in survivors if n not in excused]
    score = 100.0 * len(detected) / len(tested) if tested else 0.0
    print(
        f"mutants: {len(statuses)} ({len(statuses) - len(tested)} not checked), "
        f"killed: {len(detected)}, survived: {len(survivors)} "
        f"({len(excused)} in the allow-list), score: {score:.1f}% killed"
    )
    for name in unexcused:
        m = by_name[name]
        print(f"\n{name} ({tested[name]}), {source_of(m.function).relative_to(ROOT)}:{m.line}")
        print(f"  - {m.original}\n  + {m.mutated}")
    if unexcused:
        print(f"\n{len(unexcused)} survivors are neither killed nor in {ALLOWLIST.name}")
    if score < MIN_SCORE:
        print(f"score {score:.1f}% is below {MIN_SCORE}%")
    return 1 if unexcused or score < MIN_SCORE else 0


if __name__ == "__main__":
    sys.exit(report(sys.argv[1:]))
