"""The console report: test lines, failure details, skip reasons, summary, colour, live mode."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

import assay
from assay.reports import ConsoleReporter
from fixtures.projects import isolate
from fixtures.reports import ReportRun

SUMMARY = re.compile(r"^\d+ passed, \d+ failed, \d+ skipped(, .+)? in \d+\.\d\ds$")
ANSI = re.compile(r"\x1b\[[0-9;]*m")

SMALL = """\
tests:
  - name: greets
    run: echo hello
    expect: {stdout: "hello\\n"}
  - name: wrong greeting
    run: printf 'alpha\\nbeta\\n'
    expect: {stdout: "alpha\\nBETA\\n"}
  - name: later
    skip: not yet
    run: "true"
"""


def normalize(text: str, root: Path) -> str:
    """`text` with durations, paths and control characters replaced by placeholders."""
    text = text.replace(str(root), "<root>")
    duration = r"\d+(?:ms|\.\d\ds|m\d\ds)"
    text = re.sub(rf"(?<=  ){duration}(?=$|  )", "<duration>", text, flags=re.M)
    text = re.sub(rf"(?<=· ){duration}$", "<duration>", text, flags=re.M)
    text = re.sub(r" in \d+\.\d\ds$", " in <duration>", text, flags=re.M)
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", lambda m: f"<{ord(m.group()):#04x}>", text)


def run_small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **options: bool) -> str:
    """The console output of a run of `SMALL` with the given reporter options."""
    (tmp_path / "assay.toml").write_text("")
    (tmp_path / "small.assay.yaml").write_text(SMALL)
    isolate(monkeypatch, tmp_path)
    out = io.StringIO()
    assay.run([tmp_path], jobs=1, handlers=[ConsoleReporter(out, **options)])
    return out.getvalue()


def test_console_report_snapshot(report_run: ReportRun, snapshot: SnapshotAssertion) -> None:
    assert normalize(report_run.console, report_run.root) == snapshot


def test_header_counts_tests_files_and_jobs(report_run: ReportRun) -> None:
    assert report_run.console.splitlines()[0] == "assay: 11 tests from 2 files, 1 job"


@pytest.mark.parametrize(
    "line",
    [
        "PASS    demo.assay.yaml::greets  ",
        "FAIL    demo.assay.yaml::wrong greeting  ",
        "ERROR   demo.assay.yaml::missing program  ",
        "TIMEOUT demo.assay.yaml::too slow  ",
        "SKIP    demo.assay.yaml::not today  (waiting for a fix)",
        "SKIP    demo.assay.yaml::after the wrong greeting  (needs 'wrong greeting', which ended",
        "RETRY demo.assay.yaml::passes on retry (attempt 1: exit code 1, expected 0)",
        "RETRY demo.assay.yaml::keeps failing (attempt 2: exit code 1, expected 0)",
        "FAIL    demo.assay.yaml::crashes  ",
    ],
    ids=["passed", "failed", "error", "timeout", "skip", "needs", "retry", "retry-2", "crash"],
)
def test_one_line_per_finished_test(report_run: ReportRun, line: str) -> None:
    assert any(printed.startswith(line) for printed in report_run.console.splitlines())


def test_flaky_test_line_says_so(report_run: ReportRun) -> None:
    [line] = [line for line in report_run.console.splitlines() if "::passes on retry  " in line]
    assert line.startswith("PASS ")
    assert line.endswith("  flaky (2 attempts)")


def test_failures_section_shows_the_diff(report_run: ReportRun) -> None:
    console = report_run.console
    assert "\n" + " FAILURES ".center(72, "=") + "\n" in console
    details = console.split(" FAILURES ")[1]
    assert "FAIL demo.assay.yaml::wrong greeting\n" in details
    assert "  ✗ stdout is not exactly as expected\n" in details
    assert "    -BETA\n    +beta\n" in details
    assert "killed by SIGSEGV" in details
    assert "  attempt 3 of 3 · exit 1 · " in details
    assert "ERROR demo.assay.yaml::missing program\n" in details


def test_skipped_reasons_are_listed(report_run: ReportRun) -> None:
    assert (
        "\nskipped:\n"
        "  demo.assay.yaml::not today: waiting for a fix\n"
        "  demo.assay.yaml::after the wrong greeting: needs 'wrong greeting', which ended failed\n"
    ) in report_run.console


def test_summary_line_ends_the_report(report_run: ReportRun) -> None:
    last = report_run.console.splitlines()[-1]
    assert SUMMARY.match(last), last
    assert last.startswith("3 passed, 4 failed, 2 skipped, 1 error, 1 timeout, 1 flaky in ")
    assert last == report_run.result.summary()


def test_plain_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    last = run_small(tmp_path, monkeypatch).splitlines()[-1]
    assert re.fullmatch(r"1 passed, 1 failed, 1 skipped in \d+\.\d\ds", last), last


def test_colour_marks_the_diff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = run_small(tmp_path, monkeypatch, color=True)
    assert "    \x1b[31m-BETA\x1b[0m\n" in output
    assert "    \x1b[32m+beta\x1b[0m\n" in output
    assert ANSI.search(output.splitlines()[-1])


def test_no_colour_means_no_escape_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = run_small(tmp_path, monkeypatch, color=False)
    assert "    -BETA\n    +beta\n" in output
    assert "\x1b" not in output
    assert "\r" not in output


def test_quiet_leaves_out_passed_and_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = run_small(tmp_path, monkeypatch, quiet=True)
    assert "small.assay.yaml::greets" not in output
    assert "skipped:" not in output
    assert "FAIL    small.assay.yaml::wrong greeting" in output
    assert SUMMARY.match(output.splitlines()[-1])


def test_live_mode_redraws_a_progress_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = run_small(tmp_path, monkeypatch, live=True)
    assert "\r\x1b[2K" in output
    assert "3/3 " in output
    # Passing tests are counted on the progress line, not listed.
    assert "PASS    small.assay.yaml::greets" not in output
    assert output.splitlines()[-1].startswith("1 passed, 1 failed, 1 skipped in ")


def test_pytest_skips_are_not_retried_and_notes_name_their_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "assay.toml").write_text("")
    (tmp_path / "test_x.py").write_text(
        "import pytest\n\n\n"
        "@pytest.mark.xfail(reason='known bug')\n"
        "def test_bug():\n"
        "    assert False\n"
    )
    (tmp_path / "py.assay.yaml").write_text(
        "tests:\n  - name: unit\n    pytest: test_x.py\n    retries: 2\n"
    )
    isolate(monkeypatch, tmp_path)
    out = io.StringIO()
    assay.run([tmp_path], jobs=1, handlers=[ConsoleReporter(out)])
    text = out.getvalue()
    assert "RETRY" not in text
    assert "SKIP    test_x.py::test_bug" in text
    assert "test_x.py::test_bug: xfail" in text.splitlines()
