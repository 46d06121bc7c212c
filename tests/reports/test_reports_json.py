"""The JSON report from a real run: the schema, counts, and every attempt of every result."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import jsonschema
import pytest

import assay
from assay.reports import SCHEMA, SCHEMA_FILE
from fixtures.reports import DEMO, ReportRun, line_of


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def result(document: dict[str, Any], name: str) -> dict[str, Any]:
    """The result of the test called `name`."""
    found = [r for r in document["results"] if r["name"] == name]
    assert len(found) == 1, [r["name"] for r in document["results"]]
    return found[0]


def test_schema_file_is_the_shipped_one() -> None:
    assert SCHEMA_FILE.name == "run.schema.json"
    assert SCHEMA_FILE.parent.name == "reports"
    assert json.loads(SCHEMA_FILE.read_text())["properties"]["schema"] == {"const": SCHEMA}


def test_report_validates_against_the_schema(
    report_run: ReportRun, validator: jsonschema.Draft202012Validator
) -> None:
    document = report_run.json
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    assert document["schema"] == "assay.run/1" == SCHEMA
    assert document["assay_version"] == assay.__version__
    assert document["interrupted"] is None
    # Without the optional rfc3339 checker, jsonschema does not check "date-time" itself.
    started = [document["started_at"]] + [
        a["started_at"] for r in document["results"] for a in r["attempts"]
    ]
    assert all(datetime.fromisoformat(s).tzinfo is not None for s in started)


def test_counts(report_run: ReportRun) -> None:
    assert report_run.json["counts"] == {
        "passed": 3,
        "failed": 4,
        "error": 1,
        "timeout": 1,
        "skipped": 2,
        "flaky": 1,
    }


def test_results_are_in_file_order(report_run: ReportRun) -> None:
    ids = [r["id"] for r in report_run.json["results"]]
    assert ids == [r.test.id for r in report_run.result.results]
    assert ids[0] == "demo.assay.yaml::greets"
    assert ids[-1] == "odd-output.assay.yaml::passes with control characters"


def test_result_fields(report_run: ReportRun) -> None:
    greets = result(report_run.json, "greets")
    assert greets["suite"] == "report demo"
    assert greets["file"] == "demo.assay.yaml"
    assert greets["line"] == line_of(DEMO, "- name: greets")
    assert greets["kind"] == "run"
    assert greets["tags"] == ["smoke"]
    assert greets["outcome"] == "passed"
    assert greets["flaky"] is False
    assert greets["reason"] is None
    [attempt] = greets["attempts"]
    assert attempt["number"] == 1
    assert attempt["exit_code"] == 0
    assert attempt["signal"] is None
    assert attempt["stdout"] == {"text": "hello\n", "size": 6, "truncated": False}


@pytest.mark.parametrize(
    ("name", "outcomes"),
    [
        ("greets", ["passed"]),
        ("wrong greeting", ["failed"]),
        ("missing program", ["error"]),
        ("too slow", ["timeout"]),
        ("not today", []),
        ("after the wrong greeting", []),
        ("passes on retry", ["failed", "passed"]),
        ("keeps failing", ["failed", "failed", "failed"]),
        ("crashes", ["failed"]),
    ],
    ids=["passed", "failed", "error", "timeout", "skip", "needs", "flaky", "retries", "crash"],
)
def test_every_attempt_is_present(report_run: ReportRun, name: str, outcomes: list[str]) -> None:
    entry = result(report_run.json, name)
    attempts = entry["attempts"]
    assert [a["outcome"] for a in attempts] == outcomes
    assert [a["number"] for a in attempts] == list(range(1, len(outcomes) + 1))
    assert entry["outcome"] == (outcomes[-1] if outcomes else "skipped")


def test_flaky_result(report_run: ReportRun) -> None:
    entry = result(report_run.json, "passes on retry")
    assert entry["flaky"] is True
    first, second = entry["attempts"]
    assert first["failures"] == [
        {
            "expectation": "exit",
            "message": "exit code 1, expected 0",
            "expected": "0",
            "actual": "1",
            "diff": None,
        }
    ]
    assert first["stdout"]["text"] == "attempt 1\n"
    assert second["stdout"]["text"] == "attempt 2\n"


def test_failure_has_a_diff(report_run: ReportRun) -> None:
    [failure] = result(report_run.json, "wrong greeting")["attempts"][0]["failures"]
    assert failure["expectation"] == "stdout"
    assert "-BETA\n+beta\n" in failure["diff"]


def test_skip_reasons(report_run: ReportRun) -> None:
    assert result(report_run.json, "not today")["reason"] == "waiting for a fix"
    needs = result(report_run.json, "after the wrong greeting")
    assert needs["reason"] == "needs 'wrong greeting', which ended failed"
    assert needs["duration"] == 0


def test_crash_and_timeout_record_the_signal(report_run: ReportRun) -> None:
    [crash] = result(report_run.json, "crashes")["attempts"]
    assert crash["signal"] == "SIGSEGV"
    assert crash["exit_code"] is None
    [timeout] = result(report_run.json, "too slow")["attempts"]
    assert timeout["signal"] in ("SIGTERM", "SIGKILL")
    assert timeout["failures"][0]["expectation"] == "timeout"


def test_error_says_the_program_could_not_run(report_run: ReportRun) -> None:
    [attempt] = result(report_run.json, "missing program")["attempts"]
    assert attempt["exit_code"] is None
    [failure] = attempt["failures"]
    assert failure["expectation"] == "run"
    assert "no-such-program-for-assay-tests" in failure["message"]


def test_odd_output_round_trips(report_run: ReportRun) -> None:
    [attempt] = result(report_run.json, "prints control characters")["attempts"]
    assert attempt["stdout"] == {
        "text": '\x00\x1b[31m<&>"\x7f ok\n',
        "size": 15,
        "truncated": False,
    }
    # Bytes that are not UTF-8 are replaced; the size still counts the bytes written.
    assert attempt["stderr"] == {"text": "bad \ufffd\ufffd bytes\n", "size": 13, "truncated": False}
    report_run.json_path.read_bytes().decode("utf-8")  # the file itself is valid UTF-8
