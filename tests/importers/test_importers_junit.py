"""JUnit XML import: real pytest (xunit1, xunit2) and bats reports, and hand-written dialects."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sample_reports import BY_OUTCOME, EXPECTED, FIXTURES, TIMEOUT, PytestReports, by_name, junit

from assay.errors import ReportFormatError
from assay.importers import ImportStats, read_junit
from assay.importers.cases import RERUN_NOTE
from assay.importers.junit import seconds, timestamp
from assay.model import Failure, Outcome
from fixtures.projects import clean_environ, require_program

FAMILIES = ["xunit1", "xunit2"]


def family(reports: PytestReports, name: str) -> Path:
    return reports.xunit1 if name == "xunit1" else reports.xunit2


@pytest.mark.parametrize("name", FAMILIES, ids=FAMILIES)
def test_pytest_results_have_the_right_outcomes(real_reports: PytestReports, name: str) -> None:
    results, stats = junit(family(real_reports, name))
    found = {r.test.name: (r.outcome.value, r.flaky, len(r.attempts)) for r in results}
    assert found == EXPECTED
    assert stats.cases == len(EXPECTED)
    assert stats.by_outcome == BY_OUTCOME
    assert stats.flaky == 1
    assert stats.unknown_elements == {}
    assert stats.name == "pytest tests"
    assert stats.started_at is not None
    assert stats.started_at.tzinfo is not None


@pytest.mark.parametrize("name", FAMILIES, ids=FAMILIES)
def test_pytest_identity(real_reports: PytestReports, name: str) -> None:
    results = by_name(junit(family(real_reports, name))[0])
    method, collect = results["test_method"], results["test_broken_collect"]
    assert method.test.id == "test_sample.TestGroup::test_method"
    assert method.test.kind == "junit"
    assert method.test.suite == "pytest"
    # No class name for a module that could not be collected: the suite stands in.
    assert collect.test.id == "pytest::test_broken_collect"
    if name == "xunit1":
        # pytest writes 0-based lines; `def test_pass():` is on line 9 of the sample.
        assert (results["test_pass"].test.file, results["test_pass"].test.line) == (
            "test_sample.py",
            9,
        )
    else:
        assert (results["test_pass"].test.file, results["test_pass"].test.line) == (None, None)


@pytest.mark.parametrize("name", FAMILIES, ids=FAMILIES)
def test_pytest_reruns_become_attempts(real_reports: PytestReports, name: str) -> None:
    results = by_name(junit(family(real_reports, name))[0])
    flaky = results["test_flaky"]
    assert [a.outcome for a in flaky.attempts] == [Outcome.FAILED, Outcome.PASSED]
    assert [a.number for a in flaky.attempts] == [1, 2]
    assert flaky.attempts[0].notes[-1] == RERUN_NOTE
    failed = results["test_fail"]
    assert [a.outcome for a in failed.attempts] == [Outcome.FAILED] * 3
    (failure,) = failed.attempts[-1].failures
    assert failure.expectation == "failure"
    assert failure.message == "AssertionError: one is not two\nassert 1 == 2"
    assert failure.actual is not None
    assert "test_sample.py:15: AssertionError" in failure.actual
    setup = results["test_setup_error"]
    assert [a.outcome for a in setup.attempts] == [Outcome.ERROR] * 3
    assert (
        setup.attempts[-1].failures[0].message == 'failed on setup with "RuntimeError: setup broke"'
    )


@pytest.mark.parametrize("name", FAMILIES, ids=FAMILIES)
def test_pytest_skips_and_xfails_keep_their_reason(real_reports: PytestReports, name: str) -> None:
    results = by_name(junit(family(real_reports, name))[0])
    assert results["test_skipped"].reason == "not today"
    assert results["test_xfail"].reason == "known bug"
    assert results["test_pass"].reason is None


def test_pytest_captured_output_lands_on_the_attempt(real_reports: PytestReports) -> None:
    results = by_name(junit(real_reports.xunit1)[0])
    attempt = results["test_pass"].attempts[0]
    assert attempt.stdout is not None
    assert attempt.stderr is not None
    assert "hello out" in attempt.stdout.text
    assert "hello err" in attempt.stderr.text
    assert attempt.stdout.size == len(attempt.stdout.text.encode())
    assert not attempt.stdout.truncated


BATS = """\
@test "passes" {
  echo "some output"
}

@test "fails <with> & markup" {
  echo "before the check"
  [ 1 -eq 2 ]
}

@test "skips" {
  skip "not ready"
}
"""


def test_bats_report(tmp_path: Path) -> None:
    bats = require_program("bats")
    (tmp_path / "demo.bats").write_text(BATS)
    done = subprocess.run(
        [bats, "--formatter", "junit", "demo.bats"],
        cwd=tmp_path,
        env=clean_environ(),
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    report = tmp_path / "report.xml"
    report.write_bytes(done.stdout)
    results, stats = junit(report)
    assert {r.test.id: r.outcome for r in results} == {
        "demo.bats::passes": Outcome.PASSED,
        "demo.bats::fails <with> & markup": Outcome.FAILED,
        "demo.bats::skips": Outcome.SKIPPED,
    }
    assert stats.by_outcome == {"passed": 1, "failed": 1, "skipped": 1}
    assert stats.name == "demo.bats"
    results_by = by_name(results)
    assert results_by["skips"].reason == "not ready"
    (failure,) = results_by["fails <with> & markup"].attempts[0].failures
    assert failure.message == "(in test file demo.bats, line 7)"
    assert failure.actual is not None
    assert "before the check" in failure.actual
    # bats writes local time without a zone; it is read as UTC.
    assert stats.started_at is not None
    assert stats.started_at.tzinfo is UTC


def test_surefire_flaky_and_rerun_runs() -> None:
    results, stats = junit(FIXTURES / "surefire.xml")
    found = {r.test.name: (r.outcome, r.flaky, [a.outcome for a in r.attempts]) for r in results}
    passed, failed, error = Outcome.PASSED, Outcome.FAILED, Outcome.ERROR
    assert found == {
        "addsItem": (passed, False, [passed]),
        "appliesDiscount": (passed, True, [failed, error, passed]),
        "checksOut": (failed, False, [failed, failed, failed]),
        "loadsPrices": (error, False, [error, error]),
        "exportsPdf": (Outcome.SKIPPED, False, [Outcome.SKIPPED]),
        "removesItem": (passed, True, [failed, passed]),
    }
    assert stats.by_outcome == {"passed": 3, "failed": 1, "error": 1, "skipped": 1}
    assert stats.flaky == 2
    assert stats.name == "com.example.CartTest"
    assert stats.started_at is None
    # Surefire's schema attributes are namespaced, not unknown.
    assert stats.unknown_elements == {}


def test_surefire_runs_keep_trace_and_output() -> None:
    results = by_name(junit(FIXTURES / "surefire.xml")[0])
    first, second, final = results["appliesDiscount"].attempts
    assert [a.number for a in (first, second, final)] == [1, 2, 3]
    assert first.failures == (
        Failure(
            expectation="org.opentest4j.AssertionFailedError",
            message="expected: <90> but was: <100>",
            actual="org.opentest4j.AssertionFailedError: expected: <90> but was: <100>\n"
            "\tat com.example.CartTest.appliesDiscount(CartTest.java:31)\n",
        ),
    )
    assert first.stdout is not None
    assert first.stdout.text == "first run output\n"
    assert first.stderr is not None
    assert first.stderr.text == "first run warning\n"
    assert second.failures[0].expectation == "java.net.ConnectException"
    assert second.stdout is None
    assert final.stdout is not None
    assert final.stdout.text == "final run output\n"
    assert final.failures == ()
    assert final.duration == 0.5
    # An older Surefire wrote the trace inline, without <stackTrace>.
    inline = results["removesItem"].attempts[0].failures[0]
    assert inline.actual is not None
    assert inline.actual.startswith("java.lang.AssertionError: item still present\n")


def test_surefire_reruns_follow_the_first_failure() -> None:
    results = by_name(junit(FIXTURES / "surefire.xml")[0])
    first, second, third = results["checksOut"].attempts
    assert first.failures[0].message == "total mismatch"
    assert first.duration == 1.25
    assert second.stdout is not None
    assert second.stdout.text == "second run output\n"
    assert third.failures[0].message == "total mismatch again"
    assert third.stderr is not None
    assert third.stderr.text == "third run warning\n"
    assert results["exportsPdf"].reason == "PDF export is disabled"


def test_jenkins_ant_report() -> None:
    results, stats = junit(FIXTURES / "jenkins-ant.xml")
    found = by_name(results)
    assert {name: r.outcome.value for name, r in found.items()} == {
        "testParsesEmpty": "passed",
        "testParsesNested": "failed",
        "testReadsFile": "error",
        "testUnicode": "skipped",
        "testTokens": "passed",
    }
    assert found["testParsesNested"].test.id == "org.acme.ParserTest::testParsesNested"
    assert found["testParsesNested"].test.suite == "org.acme.ParserTest"
    assert found["testParsesNested"].duration == 1200.25
    assert found["testReadsFile"].duration == 0.0
    assert found["testUnicode"].reason is None
    error = found["testReadsFile"].attempts[0].failures[0]
    assert error.expectation == "error"
    assert error.message == (
        "java.io.FileNotFoundException: fixtures/input.txt (No such file or directory)"
    )
    # Ant keeps output per suite, not per case: it is the run's output.
    assert stats.stdout is not None
    assert stats.stdout.text == "Parser initialised\nLexer ready\n"
    assert stats.stderr is not None
    assert stats.stderr.text == "WARNING: deprecated option\n"
    assert stats.name == "org.acme.ParserTest (+1 more)"
    assert stats.started_at == datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    assert stats.unknown_elements == {}


def test_nested_suites_under_a_bare_testsuite_root() -> None:
    results, stats = junit(FIXTURES / "nested.xml")
    assert [(r.test.id, r.test.suite, r.outcome.value) for r in results] == [
        ("api::lists users", "api", "passed"),
        ("api.users::creates user", "api", "passed"),
        ("ui.login::logs in", "ui.login", "failed"),
        ("ui.logout::logs out", "ui.logout", "passed"),
        ("ui::renders home", "ui", "passed"),
        ("project::smoke", "project", "passed"),
    ]
    assert (results[0].test.file, results[0].test.line) == ("tests/api/users.test", 12)
    assert stats.name == "project"
    assert stats.cases == 6


def test_several_failures_in_one_case() -> None:
    results = by_name(junit(FIXTURES / "several-failures.xml")[0])
    case = results["rejects bad input"]
    assert case.outcome is Outcome.FAILED
    (attempt,) = case.attempts
    assert [(f.expectation, f.message) for f in attempt.failures] == [
        ("EmailCheck", "email accepted"),
        ("PhoneCheck", 'phone "123" was accepted'),
        ("failure", "failure"),
        ("IOError", "cleanup failed"),
    ]
    assert attempt.failures[2].actual is None
    assert attempt.stdout is not None
    assert attempt.stdout.text == "checked 3 fields\ndone\n"
    assert attempt.stderr is not None
    assert attempt.stderr.text == "warning: slow validator\n"
    properties = results["accepts good input"].attempts[0].notes
    assert properties == ("owner: forms-team", "ticket: FORM-42")


def test_timestamps_with_and_without_a_zone() -> None:
    results, stats = junit(FIXTURES / "timestamps.xml")
    starts = {r.test.name: r.started_at for r in results}
    assert starts == {
        "naive": datetime(2024, 3, 1, 9, 30, tzinfo=UTC),
        "aware": datetime(2024, 3, 1, 8, 0, tzinfo=UTC),
        "zulu": datetime(2024, 3, 1, 8, 15, 1, tzinfo=UTC),
        "rfc 2822": datetime(2024, 3, 1, 8, 20, tzinfo=UTC),
        "unreadable": None,
    }
    assert stats.started_at == datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
    assert stats.unknown_elements == {"<testsuite @timestamp unreadable>": 1}
    # Without any time in the report, attempts fall back to the file's modification time.
    unreadable = by_name(results)["unreadable"].attempts[0]
    mtime = datetime.fromtimestamp((FIXTURES / "timestamps.xml").stat().st_mtime, UTC)
    assert unreadable.started_at == mtime


def test_unknown_elements_and_attributes_are_counted() -> None:
    results, stats = junit(FIXTURES / "unknown.xml")
    assert stats.unknown_elements == {
        "<testsuites @flavour>": 1,
        "<testsuite @shard>": 1,
        "<weird>": 3,
        "<attachment>": 1,
        "<testcase @retries>": 1,
        "<testcase @time unreadable>": 1,
    }
    found = by_name(results)
    assert "hidden inside weird" not in found
    extras = found["with extras"]
    assert extras.attempts[0].failures[0].actual == "first partsecond part"
    assert found["disabled by gtest"].outcome is Outcome.SKIPPED
    assert found["disabled by gtest"].reason == "not run"
    assert found["bad time"].duration == 0.0


def test_truncated_file_names_the_line() -> None:
    path = FIXTURES / "truncated.xml"
    stats = ImportStats()
    reader = read_junit(path, stats)
    # Results read before the damage are yielded before the error.
    assert next(reader).test.name == "first"
    with pytest.raises(ReportFormatError) as caught:
        next(reader)
    assert (caught.value.path, caught.value.line) == (path, 7)
    assert str(caught.value).startswith(f"{path}:7: not well-formed XML: no element found")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("<testsuites>\n<testsuite>\n</testsuites>\n", 3, "mismatched tag"),
        ("<html>\n<body/>\n</html>\n", 1, "not a JUnit report: the root element is <html>"),
        ("", 1, "no element found"),
        ("<testsuite>\n  <testcase classname='x'/>\n</testsuite>\n", 2, "<testcase> has no name"),
        (
            '<?xml version="1.0"?>\n<!DOCTYPE t [\n<!ENTITY lol "lol">\n]>\n<testsuite/>\n',
            3,
            "entity declarations are not allowed",
        ),
    ],
    ids=["mismatched-tag", "not-junit", "empty", "nameless-case", "entity"],
)
def test_malformed_xml_names_the_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(text)
    with pytest.raises(ReportFormatError, match=message) as caught:
        list(read_junit(path, ImportStats()))
    assert (caught.value.path, caught.value.line) == (path, line)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReportFormatError, match="No such file") as caught:
        list(read_junit(tmp_path / "absent.xml", ImportStats()))
    assert caught.value.line is None


def test_huge_output_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "huge.xml"
    line = "0123456789" * 10 + "\n"
    with path.open("w") as file:
        file.write('<testsuite name="s"><testcase classname="c" name="loud"><system-out>')
        for _ in range(20_000):
            file.write(line)
        file.write("the end\n</system-out></testcase></testsuite>")
    (result,) = junit(path)[0]
    stdout = result.attempts[0].stdout
    assert stdout is not None
    assert stdout.truncated
    assert stdout.size == 20_000 * len(line) + len("the end\n")
    assert len(stdout.text) < 70 * 1024
    assert stdout.text.startswith(line)
    assert stdout.text.endswith(line + "the end\n")
    assert "bytes omitted ...]" in stdout.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.5", 1.5),
        ("1,234.5", 1234.5),
        ("1,234", 1234.0),
        ("0,5", 0.5),
        ("12,25", 12.25),
        ("", 0.0),
        (None, 0.0),
        ("soon", None),
        ("-1", None),
        ("nan", None),
    ],
    ids=["plain", "thousands", "thousands-only", "decimal-comma", "decimal-comma-2", "empty",
         "missing", "words", "negative", "nan"],
)  # fmt: skip
def test_seconds(text: str | None, expected: float | None) -> None:
    assert seconds(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T09:30:00", datetime(2024, 3, 1, 9, 30, tzinfo=UTC)),
        ("2024-03-01T10:30:00+01:00", datetime(2024, 3, 1, 9, 30, tzinfo=UTC)),
        ("2024-03-01T09:30:00Z", datetime(2024, 3, 1, 9, 30, tzinfo=UTC)),
        ("2024-03-01 09:30:00.5", datetime(2024, 3, 1, 9, 30, 0, 500000, tzinfo=UTC)),
        ("Fri, 01 Mar 2024 09:30:00 GMT", datetime(2024, 3, 1, 9, 30, tzinfo=UTC)),
        ("yesterday", None),
    ],
    ids=["no-zone", "offset", "zulu", "space", "rfc-2822", "garbage"],
)
def test_timestamp(text: str, expected: datetime | None) -> None:
    assert timestamp(text) == expected
