"""A large import into the store: batches written while the file is read, all or nothing.

The importer reads on one thread and a writer stores earlier batches on
another, so these files span several batches: what a broken file leaves
behind is decided after some of it was already written. The stored rows
are checked against what `read_junit` reads from the same file.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assay.api import Imported, import_results
from assay.config import Settings
from assay.errors import ReportFormatError
from assay.importers import ImportStats, read_junit, read_reportlog
from assay.store import Store, queries
from assay.store.writes import TAIL
from fixtures.databases import (
    BACKENDS,
    database,
    execute,
    opened_store,
    rows,
    unclosed_connections,
)

CASES = 12_000  # over two of the importer's batches
TRACEBACK = "".join(f'  File "/src/m{i}.py", line {i}, in f{i}\n    g{i}(x)\n' for i in range(4))
LOUD = "a line of output\n" * (TAIL // 8)


def write_junit(path: Path, cases: int = CASES, *, cut: int | None = None) -> Path:
    """A pytest-style report with failures, skips, reruns and a long log; `cut` ends it early."""
    with path.open("w") as out:
        out.write('<?xml version="1.0"?>\n<testsuites>\n<testsuite name="pytest">\n')
        for n in range(cases):
            if n == cut:
                return path
            case = f'<testcase classname="tests.test_mod{n // 100}" name="test_{n}" time="0.0{n}"'
            if n % 10 == 3:
                out.write(f'{case}><failure message="assert {n} == 0">Traceback:\n{TRACEBACK}')
                out.write(f"AssertionError: {n}</failure></testcase>\n")
            elif n % 20 == 5:
                out.write(f'{case}><skipped message="not today"/></testcase>\n')
            elif n % 1000 == 7:
                # pytest-rerunfailures: the same test again, passing this time.
                out.write(f'{case}><failure message="flaky">once</failure></testcase>\n')
                out.write(f"{case}/>\n")
            elif n == 42:
                out.write(f"{case}><system-out>{LOUD}</system-out></testcase>\n")
            else:
                out.write(f"{case}/>\n")
        out.write("</testsuite>\n</testsuites>\n")
    return path


@pytest.fixture(params=BACKENDS, ids=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store of project `demo` on an empty database of each backend."""
    with database(request.param, tmp_path) as url, opened_store(url, tmp_path) as opened:
        yield opened


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The large report, written once."""
    return write_junit(tmp_path_factory.mktemp("junit") / "large.xml")


def settings(store: Store) -> Settings:
    """Settings that point `import_results` at `store`."""
    return Settings(
        root=store.artifacts_dir.parent,
        database_url=store.url,
        data_dir=store.artifacts_dir.parent,
        project=store.project,
    )


def import_into(store: Store, *paths: Path, **options: Any) -> Imported:
    """`import_results` into `store`, collecting the pooled connection it leaves open.

    That leak is a known bug (see tests/store/test_store_leaks.py), not this module's concern.
    """
    with unclosed_connections():
        return import_results(paths, settings=settings(store), **options)


def stored_counts(store: Store) -> list[int]:
    """How many runs, tests, results and attempts the database holds."""
    return [
        rows(store, f"SELECT COUNT(*) FROM {table}")[0][0]
        for table in ("runs", "tests", "results", "attempts")
    ]


def test_every_result_is_stored_as_read(store: Store, report: Path) -> None:
    imported = import_into(store, report)
    records = list(read_junit(report, ImportStats()))
    assert imported.cases == len(records) == CASES
    stored = queries.results(store, imported.run_id, with_attempts=True)
    assert [r.position for r in stored] == list(range(CASES))
    for result, record in zip(stored, records, strict=True):
        assert (result.key, result.name, result.suite, result.file, result.line) == (
            record.test.id,
            record.test.name,
            record.test.suite,
            record.test.file,
            record.test.line,
        )
        assert (result.outcome, result.flaky, result.reason) == (
            record.outcome.value,
            record.flaky,
            record.reason,
        )
        assert result.duration == record.duration
        assert [(a.number, a.outcome, a.duration, a.started_at) for a in result.attempts] == [
            (a.number, a.outcome.value, a.duration, a.started_at) for a in record.attempts
        ]
        assert [[f["message"] for f in a.failures] for a in result.attempts] == [
            [f.message for f in a.failures] for a in record.attempts
        ]
    run = queries.get_run(store, imported.run_id)
    assert (run.total, run.status) == (CASES, "failed")
    assert (run.passed, run.failed, run.skipped, run.flaky) == (
        imported.by_outcome["passed"],
        imported.by_outcome["failed"],
        imported.by_outcome["skipped"],
        CASES // 1000,
    )


def test_a_long_log_becomes_an_artifact(store: Store, report: Path) -> None:
    imported = import_into(store, report)
    (loud,) = [
        r
        for r in queries.results(store, imported.run_id, with_attempts=True)
        if r.name == "test_42"
    ]
    (attempt,) = loud.attempts
    assert attempt.stdout_size == len(LOUD)
    assert attempt.stdout_tail == LOUD[-TAIL:]
    assert attempt.stdout_artifact is not None
    assert store.artifacts.path(attempt.stdout_artifact).read_text() == LOUD


def test_importing_again_keeps_each_tests_identity(store: Store, report: Path) -> None:
    first = import_into(store, report)
    tests = rows(store, "SELECT key, id, first_seen FROM tests ORDER BY id")
    second = import_into(store, report)
    assert rows(store, "SELECT key, id, first_seen FROM tests ORDER BY id") == tests
    assert len(tests) == CASES
    stored = [{r.key for r in queries.results(store, run)} for run in (first.run_id, second.run_id)]
    assert stored[0] == stored[1] == {key for key, _, _ in tests}


def test_a_file_broken_after_several_batches_stores_nothing(store: Store, tmp_path: Path) -> None:
    broken = write_junit(tmp_path / "broken.xml", cut=CASES - 100)
    with pytest.raises(ReportFormatError, match="no element found"):
        import_into(store, broken)
    assert stored_counts(store) == [0, 0, 0, 0]


def test_partial_keeps_every_batch_before_the_break(store: Store, tmp_path: Path) -> None:
    broken = write_junit(tmp_path / "broken.xml", cut=CASES - 100)
    imported = import_into(store, broken, partial=True)
    assert imported.partial is not None
    read = CASES - 100 - 1  # the last case before the cut could still have been rerun
    assert imported.cases == read
    run = queries.get_run(store, imported.run_id)
    assert (run.status, run.total) == ("interrupted", read)
    assert stored_counts(store)[2] == read


def test_a_database_error_while_writing_stores_nothing(tmp_path: Path, report: Path) -> None:
    with database("sqlite", tmp_path) as url, opened_store(url, tmp_path) as store:
        store.upgrade()
        # Position 7000 is in the second batch: the first is written when the trigger fires.
        execute(
            store,
            "CREATE TRIGGER refuse BEFORE INSERT ON results WHEN NEW.position = 7000 "
            "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END",
        )
        with pytest.raises(sqlite3.IntegrityError, match="refused by a trigger"):
            import_into(store, report)
        assert stored_counts(store) == [0, 0, 0, 0]


def report_line(n: int, longrepr: str | None = None) -> str:
    """One passing (or, with `longrepr`, failing) test's call in a pytest report log."""
    report = {
        "$report_type": "TestReport",
        "nodeid": f"t.py::test_{n}",
        "location": ["t.py", n, f"test_{n}"],
        "when": "call",
        "outcome": "passed" if longrepr is None else "failed",
        "longrepr": longrepr,
        "duration": 0.5,
        "start": 1_700_000_000.0,
        "stop": 1_700_000_000.5,
        "sections": [],
    }
    return json.dumps(report) + "\n"


def test_text_json_cannot_carry_is_stored_safely(tmp_path: Path) -> None:
    # A report log may hold a NUL character, at which SQLite's JSON functions would cut and
    # which PostgreSQL's text cannot hold: plain text columns get U+FFFD in its place, and
    # the failures (JSON, escaped) keep it.
    report = tmp_path / "report.jsonl"
    report.write_text(report_line(0) + report_line(1, "AssertionError: a\x00b") + report_line(2))
    with database("sqlite", tmp_path) as url, opened_store(url, tmp_path) as store:
        imported = import_into(store, report, format="reportlog")
        stored = queries.results(store, imported.run_id, with_attempts=True)
        assert [r.outcome for r in stored] == ["passed", "failed", "passed"]
        failure = list(read_reportlog(report, ImportStats()))[1].attempts[-1].failures[0]
        assert "a\x00b" in failure.message
        expected = f"{failure.expectation}: {failure.message}".replace("\x00", "\ufffd")
        assert stored[1].message == expected
        assert stored[1].attempts[-1].failures[0]["message"] == failure.message
