"""The `assay` command's help, version, and usage errors: exit codes 0, 4 and 5."""

from __future__ import annotations

import re

import pytest

import assay
from fixtures.projects import Project

PASSING = """\
suite: demo
tests:
  - name: says hello
    run: echo hello
    expect: {stdout: "hello\\n"}
    tags: [smoke]
"""


@pytest.fixture
def demo(project: Project) -> Project:
    project.write("tests/demo.assay.yaml", PASSING)
    return project


def test_version(project: Project) -> None:
    result = project.assay("--version")
    assert result.code == 0, result
    assert result.stdout == f"assay {assay.__version__}\n"


def test_help_lists_the_run_command(project: Project) -> None:
    result = project.assay("--help")
    assert result.code == 0, result
    assert result.stdout.startswith("usage: assay ")
    assert re.search(r"^\s+run\s+run tests$", result.stdout, re.M), result
    assert result.stderr == ""


def test_run_help_lists_its_options(project: Project) -> None:
    result = project.assay("run", "--help")
    assert result.code == 0, result
    assert result.stdout.startswith("usage: assay run ")
    for option in ("-k EXPR", "--tag TAG", "--list", "--jobs N", "--junit PATH", "--json PATH"):
        assert option in result.stdout
    assert "Exit codes: 0 all passed, 1 some failed" in result.stdout


def test_no_command_prints_help_and_exits_4(project: Project) -> None:
    result = project.assay()
    assert result.code == 4, result
    assert "usage: assay " in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "--no-such-flag"), "unrecognized arguments: --no-such-flag"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
        (("run", "-j", "0"), "argument -j/--jobs: must be at least 1, not 0"),
        (("run", "-j", "many"), "argument -j/--jobs: expected a whole number, not 'many'"),
        (("run", "--timeout", "soon"), "argument --timeout: invalid duration 'soon'"),
        (("run", "missing/"), "assay: error: file or directory not found: missing"),
        (("run", "-k", "(says or"), "assay: error: -k: expression ends too early: '(says or'"),
        (("run", "-k", "says hello or"), "assay: error: -k: unexpected 'hello'"),
        (("run", "--color", "sometimes"), "argument --color: invalid choice: 'sometimes'"),
    ],
    ids=[
        "bad-flag",
        "bad-command",
        "jobs-0",
        "jobs-not-a-number",
        "bad-duration",
        "missing-path",
        "k-ends-early",
        "k-unexpected-word",
        "bad-color",
    ],
)
def test_usage_errors_exit_4(demo: Project, args: tuple[str, ...], message: str) -> None:
    result = demo.assay(*args)
    assert result.code == 4, result
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert "PASS" not in result.output


@pytest.mark.parametrize(
    "args",
    [("run", "-k", "nothing-matches"), ("run", "-t", "no-such-tag"), ("run", "-k", "not demo")],
    ids=["keyword", "tag", "not-keyword"],
)
def test_nothing_selected_exits_5(demo: Project, args: tuple[str, ...]) -> None:
    result = demo.assay(*args)
    assert result.code == 5, result
    assert result.stderr == "assay: no tests selected\n"


def test_list_with_nothing_selected_exits_5(demo: Project) -> None:
    result = demo.assay("run", "--list", "-k", "nothing-matches")
    assert result.code == 5, result
    assert result.stdout == ""


def test_empty_directory_exits_5(project: Project) -> None:
    (project.root / "empty").mkdir()
    assert project.assay("run", "empty").code == 5
    result = project.assay("run")
    assert result.code == 5, result
    assert result.stderr == "assay: no tests selected\n"


def test_bad_configuration_exits_4(project: Project) -> None:
    project.write("assay.toml", "timeot = '5s'\n")
    result = project.assay("run")
    assert result.code == 4, result
    assert "unknown setting 'timeot'; did you mean 'timeout'?" in result.stderr
    assert "Traceback" not in result.output
