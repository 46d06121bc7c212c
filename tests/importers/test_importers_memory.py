"""Importers stream: a 50,000-test JUnit file (20,000 tests of report log) in bounded memory.

Peak memory is measured with tracemalloc while the generator is consumed one
result at a time. The bound is checked to be meaningful: keeping every result
of the same file, as a reader that builds the whole document or list first
would, goes over it.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from assay.importers import ImportStats, read_junit, read_reportlog
from assay.model.records import ResultRecord

BOUND = 20 * 1024 * 1024
OUTPUT = "a line of captured output that a test printed\n"

Reader = Callable[[Path, ImportStats], Iterator[ResultRecord]]


def junit_file(path: Path, cases: int) -> Path:
    with path.open("w") as file:
        file.write('<?xml version="1.0"?>\n<testsuites name="big">\n')
        file.write('<testsuite name="big" timestamp="2024-03-01T09:30:00">\n')
        for n in range(cases):
            file.write(f'<testcase classname="pkg.mod{n % 97}" name="test_{n}" time="0.01">')
            if n % 10 == 0:
                file.write(f'<failure message="boom {n}" type="AssertionError">trace {n}</failure>')
            file.write(f"<system-out>{OUTPUT * 4}</system-out></testcase>\n")
        file.write("</testsuite>\n</testsuites>\n")
    return path


def reportlog_file(path: Path, cases: int) -> Path:
    with path.open("w") as file:
        file.write(json.dumps({"$report_type": "SessionStart", "pytest_version": "8.3"}) + "\n")
        for n in range(cases):
            nodeid = f"tests/test_mod{n % 97}.py::test_{n}"
            for when in ("setup", "call", "teardown"):
                outcome = "failed" if when == "call" and n % 10 == 0 else "passed"
                report = {
                    "$report_type": "TestReport",
                    "nodeid": nodeid,
                    "location": [f"tests/test_mod{n % 97}.py", n, f"test_{n}"],
                    "when": when,
                    "outcome": outcome,
                    "longrepr": f"AssertionError: boom {n}" if outcome == "failed" else None,
                    "sections": [["Captured stdout call", OUTPUT * 20]] if when != "setup" else [],
                    "duration": 0.001,
                    "start": 1_700_000_000.0 + n,
                    "stop": 1_700_000_000.001 + n,
                }
                file.write(json.dumps(report) + "\n")
        file.write(json.dumps({"$report_type": "SessionFinish", "exitstatus": 1}) + "\n")
    return path


def peak(
    consume: Callable[[Iterable[ResultRecord]], object], results: Iterable[ResultRecord]
) -> int:
    """The peak of memory allocated while `consume` reads `results`."""
    tracemalloc.start()
    try:
        consume(results)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def count(results: Iterable[ResultRecord]) -> int:
    return sum(1 for _ in results)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("make", "read", "cases"),
    [(junit_file, read_junit, 50_000), (reportlog_file, read_reportlog, 20_000)],
    ids=["junit", "reportlog"],
)
def test_peak_memory_is_bounded(
    tmp_path: Path, make: Callable[[Path, int], Path], read: Reader, cases: int
) -> None:
    path = make(tmp_path / "big", cases)
    stats = ImportStats()
    streamed = peak(count, read(path, stats))
    assert stats.cases == cases
    assert stats.by_outcome == {"passed": cases * 9 // 10, "failed": cases // 10}
    assert streamed < BOUND, f"{streamed / 2**20:.1f} MiB"
    held = peak(list, read(path, ImportStats()))
    assert held > BOUND, f"the bound is too loose to tell: all results take {held / 2**20:.1f} MiB"
