"""Imports inside service/ run one way: the graph of which module imports which has no
cycle. Every import counts, including those inside functions (an import moved into a
function to dodge a cycle still makes one), except under ``if TYPE_CHECKING:``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "service"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == PACKAGE:
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    found.add(sub if sub in known else target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    found.discard(module)
    return {name for name in found if name in known}


def import_graph() -> dict[str, set[str]]:
    paths = sorted((ROOT / PACKAGE).rglob("*.py"))
    known = {_module_name(p) for p in paths}
    return {
        _module_name(p): _imports(
            ast.parse(p.read_text(encoding="utf-8")),
            _module_name(p),
            p.name == "__init__.py",
            known,
        )
        for p in paths
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_the_service_has_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    tree = ast.parse("def f():\n    from .b import x\n")
    assert _imports(tree, "service.a", False, {"service.a", "service.b"}) == {"service.b"}


def test_the_domain_imports_no_flask_and_nothing_outside_the_domain() -> None:
    graph = import_graph()
    for module, targets in graph.items():
        if module.startswith("service.domain"):
            outside = {t for t in targets if not t.startswith("service.domain")}
            assert outside <= {"service.models", "service.enums"}, (module, outside)


def test_importing_the_service_has_no_side_effects(tmp_path: Path) -> None:
    """No directory made, no global patched: importing is not starting. (Under gunicorn,
    PROMETHEUS_MULTIPROC_DIR names a directory gunicorn.conf.py makes; a CLI command run
    before it must neither make it nor fail.)"""
    code = (
        "import logging, prometheus_client.metrics as pm\n"
        "state = lambda: (logging._srcfile, logging.logThreads, logging.root.handlers[:],"
        " pm._use_created)\n"
        "before = state()\n"
        "import service, service.wsgi_free_imports\n"
        "after = state()\n"
        "assert before == after, (before, after)\n"
    ).replace("service.wsgi_free_imports", ", ".join(_all_modules()))
    for name in ("tmp", "cwd"):
        (tmp_path / name).mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "TMPDIR": str(tmp_path / "tmp"),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path / "cwd", env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd", "tmp"]
    assert list((tmp_path / "tmp").iterdir()) == list((tmp_path / "cwd").iterdir()) == []


def _all_modules() -> list[str]:
    """Every module of the service except wsgi (which builds the app: that is its job)."""
    return sorted(name for name in import_graph() if name != "service.wsgi")


def test_preflight_and_the_server_do_not_load_the_application() -> None:
    """The container runs preflight, then migrate, then the server (service/serve.py, whose
    log config names service.observability's formatter): each start-up pays for its imports,
    so the light entry points stay light."""
    code = (
        "import sys, service.preflight, service.serve, service.observability\n"
        "loaded = [m for m in ('service.app', 'service.api', 'service.models', 'alembic')"
        " if m in sys.modules]\n"
        "assert loaded == [], loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_no_import_inside_a_function_unless_marked_lazy() -> None:
    """Imports sit at the top of their module: one inside a function usually hides a cycle
    (or makes the first request pay for it). The exception says why, on its line, after
    ``# lazy:`` (and still counts in the cycle check above)."""
    found = []
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)) and (
                        "# lazy:" not in lines[inner.lineno - 1]
                    ):
                        found.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert found == []


def test_tests_import_helpers_from_their_module_not_from_conftest() -> None:
    """Helpers live in tests/helpers.py and server launching in tests/servers.py; conftest.py
    holds fixtures, which pytest hands to tests by name (importing conftest as a module runs
    it twice, under two names)."""
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("conftest"):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            elif isinstance(node, ast.Import) and any(
                a.name.endswith("conftest") for a in node.names
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []
