"""An invalid test file stops the run before anything runs: exit 2, positions, no traceback."""

from __future__ import annotations

import re

import pytest

from fixtures.projects import Project

PROBLEM = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+):(?P<column>\d+): (?P<message>.+)$")

BROKEN = """\
suite: broken on purpose
defaults:
  timeout: 5 seconds
  retires: 2
tests:
  - name: finds a line
    run: [grep, needle, input.txt]
    expect:
      exit: zero
      stdout: {contain: needle}
  - name: needs an unknown test
    needs: [find a line]
    run: echo hi
"""


@pytest.fixture
def broken(project: Project) -> Project:
    """A project with a valid suite that leaves a file behind, and a broken one."""
    marker = project.root / "side-effect.txt"
    project.write(
        "suites/good.assay.yaml",
        f"""\
        tests:
          - name: leaves a file
            run: [touch, "{marker}"]
        """,
    )
    project.write("suites/broken.assay.yaml", BROKEN)
    return project


def test_spec_errors_exit_2_and_run_nothing(broken: Project) -> None:
    result = broken.assay("run", "suites")
    assert result.code == 2, result
    assert not (broken.root / "side-effect.txt").exists()
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_every_problem_is_a_positioned_line(broken: Project) -> None:
    lines = broken.assay("run", "suites").stderr.splitlines()
    *problems, summary = lines
    assert summary == f"assay: {len(problems)} problems in 1 test file; nothing was run"
    parsed = [PROBLEM.match(line) for line in problems]
    assert all(parsed), problems
    assert {m["path"] for m in parsed if m} == {"suites/broken.assay.yaml"}
    positions = [(int(m["line"]), int(m["column"])) for m in parsed if m]
    assert positions == sorted(positions)
    text = "\n".join(problems)
    assert "suites/broken.assay.yaml:3:12: timeout: invalid duration '5 seconds'" in text
    assert "suites/broken.assay.yaml:4:3: unknown key 'retires' in defaults" in text
    assert "did you mean 'retries'?" in text
    assert "did you mean 'contains'?" in text
    assert "did you mean 'finds a line'?" in text


def test_yaml_syntax_error_is_positioned_too(project: Project) -> None:
    project.write("bad.assay.yaml", "tests:\n  - name: [unclosed\n    run: echo\n")
    result = project.assay("run")
    assert result.code == 2, result
    first = result.stderr.splitlines()[0]
    assert PROBLEM.match(first), first
    assert first.startswith("bad.assay.yaml:")
    assert result.stderr.endswith("problem in 1 test file; nothing was run\n")
    assert "Traceback" not in result.output


def test_problems_in_several_files_are_all_reported(project: Project) -> None:
    project.write("a.assay.yaml", "tests:\n  - run: echo hi\n    expect: {exitt: 0}\n")
    project.write("b.assay.yaml", "tests: []\n")
    result = project.assay("run")
    assert result.code == 2, result
    *problems, summary = result.stderr.splitlines()
    assert [line.split(":")[0] for line in problems] == ["a.assay.yaml", "b.assay.yaml"]
    assert summary == "assay: 2 problems in 2 test files; nothing was run"


def test_list_also_refuses_invalid_files(broken: Project) -> None:
    result = broken.assay("run", "--list", "suites")
    assert result.code == 2, result
    assert result.stdout == ""
