"""pytest report-log import: a real log with reruns, and hand-written edge cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sample_reports import BY_OUTCOME, EXPECTED, PytestReports, by_name, reportlog

from assay.errors import ReportFormatError
from assay.importers import ImportStats, read_reportlog
from assay.importers.longreprs import failure
from assay.model import Outcome


def short(name: str) -> str:
    """A report-log test name as the sample table spells it."""
    return name.rpartition("::")[2].removesuffix(".py")


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def write(path: Path, reports: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(report) + "\n" for report in reports))
    return path


def phase(nodeid: str, when: str, outcome: str = "passed", **extra: Any) -> dict[str, Any]:
    """A TestReport line as pytest-reportlog writes it, with the fields the importer reads."""
    report = {"$report_type": "TestReport", "nodeid": nodeid, "when": when, "outcome": outcome}
    report |= {"location": ["test_x.py", 4, nodeid.rpartition("::")[2]], "longrepr": None}
    report |= {"duration": 0.25, "start": 1_700_000_000.0, "stop": 1_700_000_000.25}
    return report | extra


def test_real_log_has_the_right_outcomes(real_reports: PytestReports) -> None:
    results, stats = reportlog(real_reports.reportlog)
    found = {short(r.test.name): (r.outcome.value, r.flaky, len(r.attempts)) for r in results}
    assert found == EXPECTED
    assert stats.cases == len(EXPECTED)
    assert stats.by_outcome == BY_OUTCOME
    assert stats.flaky == 1
    assert stats.unknown_elements == {}
    assert stats.interrupted is None
    assert stats.name is None


def test_real_log_identity_and_times(real_reports: PytestReports) -> None:
    results = by_name(reportlog(real_reports.reportlog)[0])
    method = results["TestGroup::test_method"]
    assert method.test.id == "test_sample.py::TestGroup::test_method"
    assert (method.test.kind, method.test.suite) == ("pytest", "test_sample.py")
    passed = results["test_pass"]
    # pytest's locations are 0-based; `def test_pass():` is on line 9 of the sample.
    assert (passed.test.file, passed.test.line) == ("test_sample.py", 9)
    reports = [r for r in lines(real_reports.reportlog) if r.get("nodeid") == passed.test.id]
    assert [r["when"] for r in reports] == ["setup", "call", "teardown"]
    assert passed.duration == pytest.approx(sum(r["duration"] for r in reports))
    assert passed.started_at == datetime.fromtimestamp(reports[0]["start"], UTC)
    collect = results["test_broken_collect.py"]
    assert collect.test.id == "test_broken_collect.py"
    assert collect.attempts[0].failures[0].expectation == "collect"
    assert "no_such_module_for_assay_tests" in (collect.attempts[0].failures[0].actual or "")


def test_real_log_start_is_the_earliest_report(real_reports: PytestReports) -> None:
    _, stats = reportlog(real_reports.reportlog)
    starts = [r["start"] for r in lines(real_reports.reportlog) if "start" in r]
    assert stats.started_at == datetime.fromtimestamp(min(starts), UTC)


def test_real_log_reruns_become_attempts(real_reports: PytestReports) -> None:
    results = by_name(reportlog(real_reports.reportlog)[0])
    flaky = results["test_flaky"]
    assert [(a.number, a.outcome) for a in flaky.attempts] == [
        (1, Outcome.FAILED),
        (2, Outcome.PASSED),
    ]
    (first_failure,) = flaky.attempts[0].failures
    assert first_failure.expectation == "AssertionError"
    assert first_failure.message == "AssertionError: fails on its first run only\nassert 0 >= 1"
    failed = results["test_fail"]
    assert [a.outcome for a in failed.attempts] == [Outcome.FAILED] * 3
    actual = failed.attempts[-1].failures[0].actual or ""
    assert '>       assert 1 == 2, "one is not two"' in actual
    assert actual.endswith("test_sample.py:15: AssertionError")
    for name, expectation in (("test_setup_error", "setup"), ("test_teardown_error", "teardown")):
        attempts = results[name].attempts
        assert [a.outcome for a in attempts] == [Outcome.ERROR] * 3
        assert {a.failures[0].expectation for a in attempts} == {expectation}
        assert attempts[0].failures[0].message == f"RuntimeError: {expectation} broke"


def test_real_log_skips_xfail_xpass_and_output(real_reports: PytestReports) -> None:
    results = by_name(reportlog(real_reports.reportlog)[0])
    assert results["test_skipped"].reason == "not today"
    assert results["test_xfail"].reason == "known bug"
    assert results["test_xfail"].attempts[0].notes == ("xfail",)
    assert results["test_xpass"].outcome is Outcome.PASSED
    assert results["test_xpass"].attempts[0].notes == ("xpass: fixed already?",)
    attempt = results["test_pass"].attempts[0]
    assert attempt.stdout is not None
    assert attempt.stdout.text == "hello out\n"
    assert attempt.stderr is not None
    assert attempt.stderr.text == "hello err\n"


def test_results_stream_out_at_each_teardown(real_reports: PytestReports, tmp_path: Path) -> None:
    # Break the line after test_fail's last teardown: the tests before it are already out.
    text = real_reports.reportlog.read_text().splitlines(keepends=True)
    broken = 1 + max(
        number
        for number, line in enumerate(text)
        if '"nodeid": "test_sample.py::test_fail"' in line and '"when": "teardown"' in line
    )
    path = tmp_path / "broken.jsonl"
    path.write_text("".join(text[:broken]) + '{"$report_type": "TestRep\n' + "".join(text[broken:]))
    got = []
    with pytest.raises(ReportFormatError) as caught:
        got.extend(read_reportlog(path, ImportStats()))
    assert caught.value.line == broken + 1
    assert [r.test.id for r in got] == [
        "test_broken_collect.py",
        "test_sample.py::test_pass",
        "test_sample.py::test_fail",
    ]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{"$report_type": "SessionStart"}\n{"nodeid": "x", "outc', 2, "not valid JSON"),
        ('{"$report_type": "SessionStart"}\n\n[1, 2]\n', 3, 'not a report: no "\\$report_type"'),
        ('{"nodeid": "x"}\n', 1, 'not a report: no "\\$report_type"'),
        ('{"$report_type": "TestReport", "when": "call"}\n', 1, "needs a nodeid and outcome"),
        (b'{"$report_type": "SessionStart", "x": "\xff"}\n'.decode("latin-1"), 1, "not valid"),
    ],
    ids=["truncated-line", "not-an-object", "no-type", "no-nodeid", "not-utf8"],
)
def test_malformed_line_names_the_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ReportFormatError, match=message) as caught:
        list(read_reportlog(path, ImportStats()))
    assert (caught.value.path, caught.value.line) == (path, line)


def test_unknown_report_types_are_counted(tmp_path: Path) -> None:
    path = write(
        tmp_path / "log.jsonl",
        [
            {"$report_type": "SessionStart", "pytest_version": "8.3.0"},
            {"$report_type": "WarningMessage", "message": "deprecated"},
            {"$report_type": "DeselectedReport"},
            {"$report_type": "DeselectedReport"},
            phase("t.py::a", "setup"),
            phase("t.py::a", "call"),
            phase("t.py::a", "collect"),
            phase("t.py::a", "teardown", "odd"),
            {"$report_type": "SessionFinish", "exitstatus": 0},
        ],
    )
    results, stats = reportlog(path)
    assert [r.outcome for r in results] == [Outcome.PASSED]
    assert stats.unknown_elements == {
        "$report_type=DeselectedReport": 2,
        "TestReport when=collect": 1,
        "TestReport outcome=odd": 1,
    }


def test_failed_call_and_teardown_is_a_failure_with_both(tmp_path: Path) -> None:
    crash = {"reprcrash": {"path": "/x/t.py", "lineno": 5, "message": "ValueError: bad"}}
    path = write(
        tmp_path / "log.jsonl",
        [
            phase("t.py::a", "setup"),
            phase("t.py::a", "call", "failed", longrepr=crash),
            phase("t.py::a", "teardown", "failed", longrepr="Traceback\nOSError: busy"),
        ],
    )
    (result,) = reportlog(path)[0]
    assert result.outcome is Outcome.FAILED
    assert result.duration == 0.75
    assert [(f.expectation, f.message) for f in result.attempts[0].failures] == [
        ("ValueError", "ValueError: bad"),
        ("teardown", "Traceback"),
    ]


def test_skip_in_setup_and_collection(tmp_path: Path) -> None:
    skip = ["/x/t.py", 3, "Skipped: needs a GPU"]
    path = write(
        tmp_path / "log.jsonl",
        [
            {"$report_type": "CollectReport", "nodeid": "t_mod.py", "outcome": "skipped",
             "longrepr": ["/x/t_mod.py", 1, "Skipped: whole module"], "result": None},
            {"$report_type": "CollectReport", "nodeid": "t_ok.py", "outcome": "passed",
             "longrepr": None, "result": None},
            phase("t.py::gpu", "setup", "skipped", longrepr=skip),
            phase("t.py::gpu", "teardown"),
            {"$report_type": "SessionFinish", "exitstatus": 0},
        ],
    )  # fmt: skip
    results, stats = reportlog(path)
    assert [(r.test.id, r.outcome, r.reason) for r in results] == [
        ("t_mod.py", Outcome.SKIPPED, "whole module"),
        ("t.py::gpu", Outcome.SKIPPED, "needs a GPU"),
    ]
    assert stats.by_outcome == {"skipped": 2}


@pytest.mark.parametrize(
    ("finish", "interrupted"),
    [
        (None, "the report log ends before pytest's session finished"),
        (
            {"$report_type": "SessionFinish", "exitstatus": 2},
            "pytest was interrupted (exit status 2)",
        ),
    ],
    ids=["no-session-finish", "keyboard-interrupt"],
)
def test_interrupted_session(
    tmp_path: Path, finish: dict[str, Any] | None, interrupted: str
) -> None:
    reports = [
        phase("t.py::done", "setup"),
        phase("t.py::done", "call"),
        phase("t.py::done", "teardown"),
        phase("t.py::cut", "setup"),
        phase("t.py::retried", "setup"),
        phase("t.py::retried", "call", "rerun", longrepr="AssertionError: no"),
        phase("t.py::retried", "teardown"),
    ]
    path = write(tmp_path / "log.jsonl", reports + ([finish] if finish else []))
    results, stats = reportlog(path)
    assert stats.interrupted == interrupted
    found = {r.test.id: r for r in results}
    assert [r.test.id for r in results] == ["t.py::done", "t.py::cut", "t.py::retried"]
    assert found["t.py::done"].outcome is Outcome.PASSED
    cut = found["t.py::cut"]
    assert cut.outcome is Outcome.ERROR
    assert cut.attempts[0].failures[0].expectation == "interrupted"
    assert cut.attempts[0].notes == ("the report ends before this attempt's teardown",)
    # The rerun it announced never came: the failed attempt is the last word.
    assert found["t.py::retried"].outcome is Outcome.FAILED
    assert not found["t.py::retried"].flaky


def test_chained_traceback_is_rendered() -> None:
    def traceback(path: str, message: str) -> dict[str, Any]:
        entry = {"lines": ["    def f():", ">       raise X", "E       X"], "reprlocals": None}
        entry["reprfileloc"] = {"path": path, "lineno": 3, "message": message}
        return {"reprentries": [{"type": "ReprEntry", "data": entry}], "extraline": None}

    longrepr = {
        "reprcrash": {"path": "/x/b.py", "lineno": 3, "message": "RuntimeError: outer"},
        "reprtraceback": traceback("b.py", "RuntimeError"),
        "chain": [
            [traceback("a.py", "KeyError"), None, "The above exception was the direct cause"],
            [traceback("b.py", "RuntimeError"), None, None],
        ],
    }
    found = failure("call", longrepr)
    assert found.expectation == "RuntimeError"
    assert found.message == "RuntimeError: outer"
    assert found.actual == (
        "    def f():\n>       raise X\nE       X\n\na.py:3: KeyError\n\n"
        "The above exception was the direct cause\n\n"
        "    def f():\n>       raise X\nE       X\n\nb.py:3: RuntimeError"
    )


def test_huge_and_odd_output_is_bounded(tmp_path: Path) -> None:
    loud = "x" * 99 + "\n"
    sections = [["Captured stdout call", loud * 5_000], ["Captured stderr call", "bad \ud800\n"]]
    sections.append(["Captured log call", "INFO starting\n"])
    path = write(
        tmp_path / "log.jsonl",
        [
            phase("t.py::loud", "setup"),
            phase("t.py::loud", "call", sections=sections),
            phase("t.py::loud", "teardown", sections=sections),
        ],
    )
    (result,) = reportlog(path)[0]
    attempt = result.attempts[0]
    assert attempt.stdout is not None
    assert attempt.stdout.truncated
    assert attempt.stdout.size == 500_000
    assert len(attempt.stdout.text) < 70 * 1024
    assert attempt.stderr is not None
    # A lone surrogate cannot be stored as UTF-8: it is replaced, and counted as written.
    assert attempt.stderr.text == "bad ?\n"
    assert attempt.stderr.size == len("bad \n") + 3
    assert attempt.notes == ("Captured log call\nINFO starting\n",)
