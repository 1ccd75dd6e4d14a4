"""The README harness itself: what it extracts, and that it fails when a step answers
differently from what the document shows (a deliberately broken block)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.readme.walkthrough import ExtractError, extract, line_matches, run

ROOT = Path(__file__).resolve().parents[2]

DOC = """# A document

```sh
echo "not marked, never run"
```

<!-- readme-test -->
```sh
X=$(echo 41)
echo "answer $((X + 1))"
#> answer 42
printf 'id %s, at %s\\n' 7 "$(date +%H:%M)"
#> id ..., at ...
```

Prose between blocks.

<!-- readme-test -->
```sh
Y=$((X * 2))
echo "$Y"; echo
#> 82
#>
```
"""


def run_doc(markdown: str) -> str | None:
    return run(extract(markdown), cwd=ROOT, env=dict(os.environ), timeout=30)


def test_extracts_only_marked_blocks_split_at_their_stated_output() -> None:
    steps = extract(DOC)
    assert [(s.commands, s.expected) for s in steps] == [
        (["X=$(echo 41)", 'echo "answer $((X + 1))"'], ["answer 42"]),
        (["printf 'id %s, at %s\\n' 7 \"$(date +%H:%M)\""], ["id ..., at ..."]),
        (["Y=$((X * 2))", 'echo "$Y"; echo'], ["82", ""]),
    ]
    assert steps[0].line == 9


def test_a_document_that_says_the_truth_passes() -> None:
    assert run_doc(DOC) is None


def test_a_step_that_answers_differently_fails_naming_the_step() -> None:
    broken = DOC.replace("#> answer 42", "#> answer 43")
    report = run_doc(broken)
    assert report is not None
    assert report.startswith("step 1 (line 9):")
    assert "    answer 43\n  it printed:\n    answer 42\n" in report


def test_a_wrong_value_later_in_the_session_fails() -> None:
    # Variables carry from block to block: X is 41 in the second block too.
    report = run_doc(DOC.replace("Y=$((X * 2))", "Y=$((X * 3))"))
    assert report is not None and report.startswith("step 3 "), report


def test_commands_without_stated_output_must_print_nothing() -> None:
    report = run_doc(DOC.replace("Y=$((X * 2))", "Y=$((X * 2)); echo surprise"))
    assert report is not None and "surprise" in report, report


def test_a_failing_command_stops_the_run_and_is_reported() -> None:
    report = run_doc(DOC.replace("X=$(echo 41)", "X=$(echo 41; exit 3)"))
    assert report is not None
    assert report.startswith("step 1 ") and "the shell stopped (exit status 3)" in report


def test_a_broken_pipe_in_a_capture_fails_too() -> None:
    # `set -o pipefail`: a JSON reader that fails inside $(...) stops the run.
    doc = DOC.replace(
        "X=$(echo 41)",
        "X=$(echo '{}' | python3 -c 'import json,sys; json.load(sys.stdin)[\"id\"]')",
    )
    report = run_doc(doc)
    assert report is not None and "KeyError" in report, report


@pytest.mark.parametrize(
    "expected, actual, ok",
    [
        ("answer 42", "answer 42", True),
        ("answer 42", "answer 42 and more", False),
        ("answer 42", "the answer 42", False),
        ('{"id":...,"body":"x"}', '{"id":12,"body":"x"}', True),
        ('{"id":...,"body":"x"}', '{"id":12,"body":"y"}', False),
        ("a.b", "axb", False),  # only ... is special
    ],
)
def test_line_matching(expected: str, actual: str, ok: bool) -> None:
    assert line_matches(expected, actual) is ok


@pytest.mark.parametrize(
    "markdown, message",
    [
        ("<!-- readme-test -->\n\n```sh\necho\n```\n", "is not followed by a ```sh block"),
        ("<!-- readme-test -->\n```python\nprint()\n```\n", "is not followed by a ```sh block"),
        ("<!-- readme-test -->\n```sh\necho\n", "never closes"),
        ("<!-- readme-test -->\n```sh\n#> hello\n```\n", "output stated before any command"),
    ],
)
def test_ambiguous_markers_are_errors(markdown: str, message: str) -> None:
    with pytest.raises(ExtractError, match=message):
        extract(markdown)
