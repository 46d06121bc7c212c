"""Importing a real pytest run's JUnit XML and report log into the store, whole or not at all."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from assay.api import Imported, import_results
from assay.errors import ReportFormatError, UsageError
from assay.store import queries
from fixtures.databases import (
    PYTEST_BY_OUTCOME,
    PYTEST_EXPECTED,
    ForeignResults,
    HistoryProject,
    cut_at_line,
    line_of,
    pretty_xml,
    rows,
    unclosed_connections,
)

FORMATS = ["junit", "reportlog"]


def _import(*args: Any, **kwargs: Any) -> Imported:
    """`import_results`, collecting the connection it leaves open (see test_store_leaks.py)."""
    with unclosed_connections():
        return import_results(*args, **kwargs)


# How each format names a test of the sample: JUnit by class name, report logs by node id.
PREFIX = {"junit": "test_sample::", "reportlog": "test_sample.py::"}


def _source(results: ForeignResults, format: str) -> Path:
    return results.junit if format == "junit" else results.reportlog


def _broken(results: ForeignResults, format: str, directory: Path) -> tuple[Path, int]:
    """A copy of the sample's report cut off in its fourth result, and the line of the cut."""
    if format == "junit":
        source = pretty_xml(results.junit, directory / "pretty.xml")
        line = line_of(source, "<testcase", 4)
        return cut_at_line(source, directory / "cut.xml", line), line
    line = line_of(results.reportlog, '"when": "call"', 2)
    return cut_at_line(results.reportlog, directory / "cut.jsonl", line), line


@pytest.mark.parametrize("format", FORMATS, ids=FORMATS)
def test_a_real_report_imports_with_the_right_counts(
    recorded: HistoryProject, foreign_results: ForeignResults, format: str
) -> None:
    source = _source(foreign_results, format)
    imported = _import([source], format=format, settings=recorded.settings())
    assert imported.cases == len(PYTEST_EXPECTED)
    assert imported.by_outcome == PYTEST_BY_OUTCOME
    assert (imported.unknown_elements, imported.partial) == ({}, None)

    store = recorded.store()
    run = queries.get_run(store, imported.run_id)
    assert (run.trigger, run.status, run.source, run.reason) == (
        "import",
        "failed",
        str(source),
        None,
    )
    assert (run.total, run.passed, run.failed, run.errors, run.skipped, run.flaky) == (
        8,
        5,
        1,
        1,
        1,
        1,
    )
    stored = queries.results(store, imported.run_id, with_attempts=True)
    assert {r.key: (r.outcome, r.flaky, len(r.attempts)) for r in stored} == {
        PREFIX[format] + name: expected for name, expected in PYTEST_EXPECTED.items()
    }
    assert rows(store, "SELECT COUNT(*) FROM attempts WHERE run_id = :id", id=run.id) == [
        (sum(attempts for _, _, attempts in PYTEST_EXPECTED.values()),)
    ]
    by_name = {r.name: r for r in stored}
    assert "one is not two" in (by_name["test_fails"].message or "")
    assert [a.outcome for a in by_name["test_flaky"].attempts] == ["failed", "passed"]


def test_an_import_is_the_last_run_whatever_its_timestamp(
    recorded: HistoryProject, foreign_results: ForeignResults
) -> None:
    settings = recorded.settings()
    first = _import([foreign_results.junit], settings=settings)
    second = _import([foreign_results.reportlog], format="reportlog", settings=settings)
    assert queries.resolve_run(recorded.store(), "last") == second.run_id
    assert queries.resolve_run(recorded.store(), "last~1") == first.run_id


def test_several_files_are_one_run(
    recorded: HistoryProject, foreign_results: ForeignResults
) -> None:
    junit = foreign_results.junit
    imported = _import([junit, junit], settings=recorded.settings())
    assert imported.cases == 16
    run = queries.get_run(recorded.store(), imported.run_id)
    assert (run.total, run.source) == (16, f"{junit}, {junit}")


@pytest.mark.parametrize("format", FORMATS, ids=FORMATS)
def test_a_truncated_file_imports_nothing(
    recorded: HistoryProject, foreign_results: ForeignResults, tmp_path: Path, format: str
) -> None:
    broken, line = _broken(foreign_results, format, tmp_path)
    with pytest.raises(ReportFormatError, match=f"^{re.escape(str(broken))}:{line}: ") as raised:
        _import([broken], format=format, settings=recorded.settings())
    assert (raised.value.path, raised.value.line) == (broken, line)
    store = recorded.store()
    assert queries.count_rows(store) == {"runs": 0, "results": 0, "artifacts": 0}
    assert rows(store, "SELECT COUNT(*) FROM tests") == [(0,)]


def test_a_good_file_before_a_broken_one_is_not_imported_either(
    recorded: HistoryProject, foreign_results: ForeignResults, tmp_path: Path
) -> None:
    broken, _ = _broken(foreign_results, "junit", tmp_path)
    with pytest.raises(ReportFormatError):
        _import([foreign_results.junit, broken], settings=recorded.settings())
    assert queries.count_rows(recorded.store())["runs"] == 0


@pytest.mark.parametrize("format", FORMATS, ids=FORMATS)
def test_partial_keeps_what_came_before_the_break(
    recorded: HistoryProject, foreign_results: ForeignResults, tmp_path: Path, format: str
) -> None:
    broken, line = _broken(foreign_results, format, tmp_path)
    imported = _import([broken], format=format, partial=True, settings=recorded.settings())
    assert imported.partial is not None
    assert imported.partial.startswith(f"partial import: {broken}:{line}: ")

    store = recorded.store()
    run = queries.get_run(store, imported.run_id)
    assert (run.status, run.reason) == ("interrupted", imported.partial)
    keys = [r.key for r in queries.results(store, run.id)]
    everything = [PREFIX[format] + name for name in PYTEST_EXPECTED]
    assert keys and keys == everything[: len(keys)] and len(keys) < len(everything)
    assert run.total == imported.cases == len(keys)


@pytest.mark.parametrize(
    ("files", "format", "message"),
    [
        (["missing.xml"], "junit", "missing.xml: no such file"),
        ([], "tap", "unknown import format 'tap': choose junit or reportlog"),
    ],
    ids=["missing-file", "unknown-format"],
)
def test_bad_import_requests(
    recorded: HistoryProject, files: list[str], format: str, message: str
) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        _import(files, format=format, settings=recorded.settings())
