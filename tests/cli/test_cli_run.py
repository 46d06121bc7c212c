"""`assay run` end to end: exit codes, selection, reports, snapshots, deadlines and output."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from fixtures.projects import CLI_TIMEOUT, Project, clean_environ

DEMO = """\
suite: demo
tests:
  - name: finds a line
    run: [grep, -n, needle, input.txt]
    files: {input.txt: "hay\\nneedle\\n"}
    expect: {stdout: "2:needle\\n"}
    tags: [smoke]
  - name: counts words
    run: wc -w
    stdin: "one two three\\n"
    expect: {stdout: {matches: '^\\s*3$'}}
  - name: after the first
    needs: [finds a line]
    run: echo ok
    expect: {stdout: "ok\\n"}
"""

FAILING = """\
suite: failing
tests:
  - name: wrong greeting
    run: echo hello
    expect: {stdout: "goodbye\\n"}
  - name: greets
    run: echo hello
"""

SUMMARY = re.compile(r"^\d+ passed, \d+ failed, \d+ skipped(, .+)? in \d+\.\d\ds$", re.M)


@pytest.fixture
def demo(project: Project) -> Project:
    project.write("tests/demo.assay.yaml", DEMO)
    return project


def test_all_passed_exits_0(demo: Project) -> None:
    result = demo.assay("run")
    assert result.code == 0, result
    assert result.stdout.splitlines()[0].startswith("assay: 3 tests from 1 file, ")
    assert result.stdout.splitlines()[-1].startswith("3 passed, 0 failed, 0 skipped in ")
    assert result.stderr == ""


def test_a_failure_exits_1(project: Project) -> None:
    project.write("failing.assay.yaml", FAILING)
    result = project.assay("run")
    assert result.code == 1, result
    assert "FAIL    failing.assay.yaml::wrong greeting" in result.stdout
    assert "    -goodbye\n    +hello\n" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("1 passed, 1 failed, 0 skipped in ")


def test_a_suite_file_can_be_named_directly(demo: Project) -> None:
    result = demo.assay("run", "--list", "tests/demo.assay.yaml")
    assert result.code == 0, result
    assert len(result.stdout.splitlines()) == 3


@pytest.mark.parametrize(
    ("args", "ids"),
    [
        ((), ["finds a line", "counts words", "after the first"]),
        (("-k", "counts"), ["counts words"]),
        (("-k", "COUNTS WORDS"), ["counts words"]),
        (("-k", "demo and not (counts or after)"), ["finds a line"]),
        (("-k", "'finds a line' or counts"), ["finds a line", "counts words"]),
        # A selected test brings the tests it needs along.
        (("-k", "after"), ["finds a line", "after the first"]),
        (("-t", "smoke"), ["finds a line"]),
        (("-t", "smoke", "-k", "counts"), []),
    ],
    ids=["all", "k", "k-ignores-case", "k-expression", "k-quoted", "k-needs", "tag", "tag-and-k"],
)
def test_list_prints_selected_ids(demo: Project, args: tuple[str, ...], ids: list[str]) -> None:
    result = demo.assay("run", "--list", *args)
    assert result.code == (0 if ids else 5), result
    assert result.stdout.splitlines() == [f"tests/demo.assay.yaml::{name}" for name in ids]


def test_keyword_and_tag_select_what_runs(demo: Project) -> None:
    result = demo.assay("run", "-k", "counts")
    assert result.code == 0, result
    assert "::counts words" in result.stdout
    assert "::finds a line" not in result.stdout
    tagged = demo.assay("run", "-t", "smoke")
    assert tagged.stdout.splitlines()[-1].startswith("1 passed, 0 failed, 0 skipped in ")


def test_jobs_sets_the_concurrency(demo: Project) -> None:
    result = demo.assay("run", "-j", "3")
    assert result.code == 0, result
    assert result.stdout.splitlines()[0] == "assay: 3 tests from 1 file, 3 jobs"
    single = demo.assay("run", "--jobs", "1")
    assert single.stdout.splitlines()[0] == "assay: 3 tests from 1 file, 1 job"


def test_reports_are_written_in_new_directories(project: Project) -> None:
    project.write("failing.assay.yaml", FAILING)
    result = project.assay(
        "run", "--junit", "out/xml/deep/junit.xml", "--json", "out/json/deep/run.json"
    )
    assert result.code == 1, result
    root = ET.parse(project.root / "out/xml/deep/junit.xml").getroot()
    assert (root.get("tests"), root.get("failures")) == ("2", "1")
    document = json.loads((project.root / "out/json/deep/run.json").read_text())
    assert document["schema"] == "assay.run/1"
    assert document["counts"]["failed"] == 1
    assert [r["id"] for r in document["results"]] == [
        "failing.assay.yaml::wrong greeting",
        "failing.assay.yaml::greets",
    ]


def test_update_snapshots_then_a_normal_run_passes(project: Project) -> None:
    project.write(
        "snap.assay.yaml",
        """\
        tests:
          - name: prints a table
            run: printf 'a 1\\nb 2\\n'
            expect: {stdout: {snapshot: true}}
        """,
    )
    snapshot = project.root / "__snapshots__" / "snap" / "prints-a-table.stdout"
    missing = project.assay("run")
    assert missing.code == 1, missing
    assert "does not exist; run with --update-snapshots to create it" in missing.stdout
    assert not snapshot.exists()

    written = project.assay("run", "--update-snapshots")
    assert written.code == 0, written
    assert f"snapshot written: {snapshot}" in written.stdout
    assert snapshot.read_text() == "a 1\nb 2\n"

    again = project.assay("run")
    assert again.code == 0, again
    assert "snapshot written" not in again.stdout

    snapshot.write_text("a 1\nb 3\n")
    changed = project.assay("run")
    assert changed.code == 1, changed
    assert "-b 3\n    +b 2\n" in changed.stdout


def test_keep_tmp_prints_the_kept_directory(demo: Project) -> None:
    result = demo.assay("run", "--keep-tmp", "-k", "counts")
    assert result.code == 0, result
    match = re.search(r"^kept work directories in (.+)$", result.stdout, re.M)
    assert match, result
    kept = Path(match.group(1))
    assert kept.parent == demo.runs
    assert sorted(p.name for p in kept.iterdir()) == [
        "00001-counts-words-1",
        "00001-counts-words-1.stderr",
        "00001-counts-words-1.stdout",
    ]
    assert (kept / "00001-counts-words-1.stdout").read_text().strip() == "3"


def test_without_keep_tmp_nothing_is_left(demo: Project) -> None:
    assert demo.assay("run").code == 0
    assert list(demo.runs.iterdir()) == []


def test_run_deadline_stops_the_run_with_exit_2(project: Project) -> None:
    project.write(
        "slow.assay.yaml",
        """\
        tests:
          - name: sleeps
            run: [sleep, "5"]
          - name: sleeps too
            run: [sleep, "5"]
        """,
    )
    result = project.assay("run", "--timeout", "300ms", "-j", "1", "--json", "run.json")
    assert result.code == 2, result
    assert "\nrun stopped: run deadline of 300ms reached\n" in result.stdout
    assert "TIMEOUT slow.assay.yaml::sleeps" in result.stdout
    assert "SKIP    slow.assay.yaml::sleeps too  (run deadline of 300ms reached)" in result.stdout
    document = json.loads((project.root / "run.json").read_text())
    assert document["interrupted"] == "run deadline of 300ms reached"


def test_strip_ansi_removes_escapes_before_matching(project: Project) -> None:
    project.write(
        "ansi.assay.yaml",
        """\
        tests:
          - name: coloured
            run: printf '\\033[31mred\\033[0m\\n'
            expect: {stdout: "red\\n"}
        """,
    )
    assert project.assay("run").code == 1
    result = project.assay("run", "--strip-ansi")
    assert result.code == 0, result


def test_quiet_prints_failures_and_summary_only(project: Project) -> None:
    project.write("failing.assay.yaml", FAILING)
    result = project.assay("run", "-q")
    assert result.code == 1, result
    assert "::greets" not in result.stdout
    assert "FAIL    failing.assay.yaml::wrong greeting" in result.stdout
    assert SUMMARY.search(result.stdout.splitlines()[-1])


def test_output_is_plain_without_a_terminal(project: Project) -> None:
    project.write("failing.assay.yaml", FAILING)
    project.write(
        "more.assay.yaml",
        """\
        tests:
          - name: retried
            retries: 1
            run: "false"
          - name: skipped
            skip: on purpose
            run: "true"
        """,
    )
    result = project.assay("run")
    assert result.code == 1, result
    for forbidden in ("\r", "\x1b"):
        assert forbidden not in result.stdout
        assert forbidden not in result.stderr
    always = project.assay("run", "--color", "always")
    assert "\x1b[31m-goodbye\x1b[0m" in always.stdout
    assert "\r" not in always.stdout


@pytest.mark.parametrize(
    ("env", "coloured"),
    [({}, True), ({"NO_COLOR": "1"}, False)],
    ids=["auto", "no-color"],
)
def test_terminal_gets_live_progress(project: Project, env: dict[str, str], coloured: bool) -> None:
    project.write("failing.assay.yaml", FAILING)
    output = run_on_terminal(project, env)
    assert "\r\x1b[2K" in output
    assert bool(re.search(r"\x1b\[[0-9;]*m", output)) is coloured
    assert "1 passed, 1 failed, 0 skipped in " in output


def run_on_terminal(project: Project, env: dict[str, str]) -> str:
    """What `assay run` writes when its stdout is a terminal."""
    primary, secondary = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "assay", "run"],
        cwd=project.root,
        env=clean_environ({"TMPDIR": str(project.runs), **env}),
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=subprocess.PIPE,
    ) as process:
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(primary)
        assert process.wait(timeout=CLI_TIMEOUT) == 1
    return b"".join(chunks).decode("utf-8", "replace")


def test_unwritable_report_path_is_not_an_internal_error(demo: Project) -> None:
    (demo.root / "taken").mkdir()
    result = demo.assay("run", "--junit", "taken", "--json", "run.json")
    assert "internal error" not in result.stderr, result
    assert result.code != 3, result
    assert (demo.root / "run.json").is_file()
    assert result.code == 4, result
    assert result.stderr == "assay: error: taken: cannot write the JUnit report: Is a directory\n"
    assert SUMMARY.search(result.stdout), result


def test_every_unwritable_report_is_named(demo: Project) -> None:
    demo.write("file", "not a directory\n")
    result = demo.assay("run", "--junit", "file/junit.xml", "--json", "file/run.json")
    assert result.code == 4, result
    assert result.stderr == (
        "assay: error: file/junit.xml: cannot write the JUnit report: file is not a directory; "
        "file/run.json: cannot write the JSON report: file is not a directory\n"
    )


def test_closed_stdout_is_not_an_internal_error(demo: Project) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "assay", "run"],
        cwd=demo.root,
        env=clean_environ({"TMPDIR": str(demo.runs)}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None
        process.stdout.close()  # like `| head -0`: nobody reads what assay prints
        _, stderr = process.communicate(timeout=CLI_TIMEOUT)
    assert b"internal error" not in stderr, stderr
    assert process.returncode != 3
    assert (process.returncode, stderr) == (2, b"")


def test_no_stdout_at_all_is_not_an_internal_error(demo: Project) -> None:
    completed = subprocess.run(
        ["sh", "-c", 'exec "$0" -m assay run >&-', sys.executable],
        cwd=demo.root,
        env=clean_environ({"TMPDIR": str(demo.runs)}),
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )
    assert (completed.returncode, completed.stderr) == (0, "")
