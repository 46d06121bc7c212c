"""JUnit XML from a real run: counts, test cases, failures, retries, output, and odd bytes."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from fixtures.reports import DEMO, ReportRun, line_of


def case(run: ReportRun, name: str) -> ET.Element:
    """The `<testcase>` of the test called `name`."""
    found = [c for c in run.junit.iter("testcase") if c.get("name") == name]
    assert len(found) == 1, [c.get("name") for c in run.junit.iter("testcase")]
    return found[0]


def children(element: ET.Element) -> list[str]:
    """The tags of an element's children, in order."""
    return [child.tag for child in element]


def counts(element: ET.Element) -> dict[str, str | None]:
    return {key: element.get(key) for key in ("tests", "failures", "errors", "skipped")}


def test_testsuites_counts_every_result(report_run: ReportRun) -> None:
    root = report_run.junit
    assert root.tag == "testsuites"
    assert root.get("name") == "assay"
    # Timeouts count as failures, as GitHub, GitLab and Jenkins expect.
    assert counts(root) == {"tests": "11", "failures": "5", "errors": "1", "skipped": "2"}
    assert float(root.get("time", "")) >= 0
    assert root.get("timestamp")


def test_one_testsuite_per_suite_file(report_run: ReportRun) -> None:
    suites = report_run.junit.findall("testsuite")
    assert [(s.get("name"), s.get("file")) for s in suites] == [
        ("report demo", "demo.assay.yaml"),
        ("odd output", "odd-output.assay.yaml"),
    ]
    assert counts(suites[0]) == {"tests": "9", "failures": "4", "errors": "1", "skipped": "2"}
    assert counts(suites[1]) == {"tests": "2", "failures": "1", "errors": "0", "skipped": "0"}
    for suite in suites:
        assert suite.get("hostname")
        assert suite.get("timestamp")
        assert float(suite.get("time", "")) >= 0


@pytest.mark.parametrize(
    "name",
    ["greets", "wrong greeting", "too slow", "not today", "crashes"],
    ids=["passed", "failed", "timeout", "skipped", "crashed"],
)
def test_testcase_attributes(report_run: ReportRun, name: str) -> None:
    element = case(report_run, name)
    assert element.get("classname") == "demo.assay"
    assert element.get("file") == "demo.assay.yaml"
    assert element.get("line") == str(line_of(DEMO, f"- name: {name}"))
    assert float(element.get("time", "")) >= 0


def test_passed_case_has_only_its_output(report_run: ReportRun) -> None:
    element = case(report_run, "greets")
    assert children(element) == ["system-out"]
    assert element.findtext("system-out") == "hello\n"


def test_failure_carries_message_type_and_diff(report_run: ReportRun) -> None:
    element = case(report_run, "wrong greeting")
    assert children(element) == ["failure", "system-out"]
    failure = element.find("failure")
    assert failure is not None
    assert failure.get("message") == "stdout is not exactly as expected"
    assert failure.get("type") == "failed"
    text = failure.text or ""
    assert "-BETA\n" in text
    assert "+beta\n" in text
    assert "attempt 1, exit code 0," in text
    assert element.findtext("system-out") == "alpha\nbeta\ngamma\n"


def test_missing_program_is_an_error(report_run: ReportRun) -> None:
    element = case(report_run, "missing program")
    assert children(element) == ["error"]
    error = element.find("error")
    assert error is not None
    assert error.get("type") == "error"
    assert "no-such-program-for-assay-tests" in error.get("message", "")
    # It never ran, so it has no exit code to print.
    assert (error.text or "").splitlines()[-1].startswith("attempt 1, did not start, ")


def test_timeout_is_a_failure_of_type_timeout(report_run: ReportRun) -> None:
    failure = case(report_run, "too slow").find("failure")
    assert failure is not None
    assert failure.get("type") == "timeout"
    assert failure.get("message") == "timed out after 200ms"


def test_crash_names_the_signal(report_run: ReportRun) -> None:
    failure = case(report_run, "crashes").find("failure")
    assert failure is not None
    assert failure.get("type") == "failed"
    assert "SIGSEGV" in failure.get("message", "")
    assert "killed by SIGSEGV" in (failure.text or "")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("not today", "waiting for a fix"),
        ("after the wrong greeting", "needs 'wrong greeting', which ended failed"),
    ],
    ids=["skip", "needs"],
)
def test_skipped_case_says_why(report_run: ReportRun, name: str, message: str) -> None:
    element = case(report_run, name)
    assert children(element) == ["skipped"]
    skipped = element.find("skipped")
    assert skipped is not None
    assert skipped.get("message") == message
    assert element.get("time") == "0.000"


def test_flaky_case_has_one_flaky_failure_per_failed_attempt(report_run: ReportRun) -> None:
    element = case(report_run, "passes on retry")
    assert children(element) == ["flakyFailure", "system-out"]
    flaky = element.find("flakyFailure")
    assert flaky is not None
    assert flaky.get("type") == "failed"
    assert flaky.get("message") == "exit code 1, expected 0"
    assert flaky.findtext("system-out") == "attempt 1\n"
    # The test case's own output is that of the attempt that passed.
    assert element.findtext("system-out") == "attempt 2\n"


def test_failing_case_has_a_rerun_failure_per_earlier_attempt(report_run: ReportRun) -> None:
    element = case(report_run, "keeps failing")
    assert children(element) == ["failure", "rerunFailure", "rerunFailure", "system-err"]
    assert "attempt 3," in (element.findtext("failure") or "")
    reruns = element.findall("rerunFailure")
    assert ["attempt 1," in (r.text or "") for r in reruns] == [True, False]
    assert ["attempt 2," in (r.text or "") for r in reruns] == [False, True]
    for rerun in reruns:
        assert rerun.get("type") == "failed"
        assert rerun.findtext("system-err") == "nope\n"
    assert element.findtext("system-err") == "nope\n"


def test_file_parses_although_output_had_control_characters(report_run: ReportRun) -> None:
    raw = report_run.junit_path.read_bytes()
    assert raw.startswith(b"<?xml")
    for forbidden in (b"\x00", b"\x1b", b"\x07", b"\x0c"):
        assert forbidden not in raw
    element = case(report_run, "prints control characters")
    # Characters XML 1.0 cannot hold are written as \xNN; the markup ones survive escaping.
    assert element.findtext("system-out") == '\\x00\\x1b[31m<&>"\x7f ok\n'
    failure = element.find("failure")
    assert failure is not None
    assert failure.get("message") == "exit code 3, expected 0"


def test_non_utf8_output_is_replaced_not_dropped(report_run: ReportRun) -> None:
    element = case(report_run, "prints control characters")
    assert element.findtext("system-err") == "bad \ufffd\ufffd bytes\n"


def test_passing_case_with_control_characters_keeps_its_output(report_run: ReportRun) -> None:
    element = case(report_run, "passes with control characters")
    assert element.get("classname") == "odd-output.assay"
    assert children(element) == ["system-out"]
    assert element.findtext("system-out") == "bell \\x07 and form feed \\x0c\n"


def test_crash_details_do_not_print_none(report_run: ReportRun) -> None:
    failure = case(report_run, "crashes").find("failure")
    assert failure is not None
    assert "None" not in (failure.text or "")
