"""Runs the shell blocks of a Markdown file as one shell session and compares what each
command prints with what the document says it prints.

The document marks each tested block with an HTML comment on the line before its fence:

    <!-- readme-test -->
    ```sh
    X=$(echo 41)
    echo "answer $((X + 1))"
    #> answer 42
    ```

Lines starting with ``#>`` state the output of the commands above them (back to the previous
``#>`` lines or the start of the block); ``...`` in them stands for any text within the line
(ids, times). Commands with no ``#>`` lines under them must print nothing. The marked blocks
run in order in one ``bash`` with ``set -euo pipefail``, so variables carry from block to
block and a failing command stops the run. Unmarked blocks are not run.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

MARKER = "<!-- readme-test -->"
EXPECT = "#>"
FENCES = ("```sh", "```bash")
WILDCARD = "..."


@dataclass
class Step:
    line: int  # where its first command is in the document (1-based)
    commands: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)


class ExtractError(ValueError):
    """The document's markers do not say unambiguously what to run."""


def extract(markdown: str) -> list[Step]:
    lines = markdown.splitlines()
    steps: list[Step] = []
    number = 0
    while number < len(lines):
        if lines[number].strip() != MARKER:
            number += 1
            continue
        fence = number + 1
        if fence >= len(lines) or lines[fence].strip() not in FENCES:
            raise ExtractError(f"line {number + 1}: {MARKER} is not followed by a ```sh block")
        step: Step | None = None
        number = fence + 1
        while True:
            if number >= len(lines):
                raise ExtractError(f"line {fence + 1}: the block never closes")
            text = lines[number]
            if text.strip() == "```":
                break
            if text.startswith(EXPECT):
                if step is None or not step.commands:
                    raise ExtractError(f"line {number + 1}: output stated before any command")
                step.expected.append(text[len(EXPECT) :].removeprefix(" "))
            else:
                if step is None or step.expected:
                    step = Step(line=number + 1)
                    steps.append(step)
                step.commands.append(text)
            number += 1
        number += 1
    return steps


def line_matches(expected: str, actual: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in expected.split(WILDCARD))
    return re.fullmatch(pattern, actual) is not None


def _separator(index: int) -> str:
    return f"@@readme-step-{index}-done@@"


def script(steps: list[Step], replacements: dict[str, str] | None = None) -> str:
    parts = ["set -euo pipefail"]
    for index, step in enumerate(steps):
        parts += step.commands
        parts.append(f"printf '\\n%s\\n' '{_separator(index)}'")
    text = "\n".join(parts) + "\n"
    for old, new in (replacements or {}).items():
        text = text.replace(old, new)
    return text


def _lines(output: str) -> list[str]:
    """What a step printed, line by line (a last line without a newline counts too)."""
    output = output.removesuffix("\n")
    return output.split("\n") if output else []


def _describe(step: Step, index: int, expected: list[str], actual: list[str]) -> str:
    return (
        f"step {index + 1} (line {step.line}):\n"
        + "".join(f"    {c}\n" for c in step.commands)
        + "  the document says it prints:\n"
        + ("".join(f"    {e}\n" for e in expected) or "    (nothing)\n")
        + "  it printed:\n"
        + ("".join(f"    {a}\n" for a in actual) or "    (nothing)\n")
    )


def run(
    steps: list[Step],
    *,
    cwd: Path,
    env: dict[str, str],
    replacements: dict[str, str] | None = None,
    timeout: float = 120,
) -> str | None:
    """Run the steps; None when every step printed what the document says, else a report
    of the first step that did not (and what the shell wrote to stderr)."""
    done = subprocess.run(
        ["bash", "-c", script(steps, replacements)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    chunks = re.split(r"\n@@readme-step-\d+-done@@\n", done.stdout)
    finished = len(chunks) - 1
    for index, step in enumerate(steps):
        expected = list(step.expected)
        for old, new in (replacements or {}).items():
            expected = [e.replace(old, new) for e in expected]
        if index >= finished:
            printed = _lines(chunks[index])
            return (
                _describe(step, index, expected, printed)
                + f"  and then the shell stopped (exit status {done.returncode}); stderr:\n"
                + done.stderr[-3000:]
            )
        actual = _lines(chunks[index])
        if len(actual) != len(expected) or not all(
            line_matches(e, a) for e, a in zip(expected, actual, strict=True)
        ):
            return _describe(step, index, expected, actual) + "  stderr:\n" + done.stderr[-3000:]
    return None
