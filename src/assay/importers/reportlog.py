"""Read pytest report logs (pytest-reportlog's JSON lines) by streaming.

Each line is one report. pytest reports a test in three phases (setup, call,
teardown), which fold into one attempt that its teardown closes.
pytest-rerunfailures gives the failed phase of a run it is about to repeat the
outcome "rerun", so a test's result is yielded at the first teardown that
closes an attempt without one. Only tests still open when the log ends (an
interrupted session leaves some) wait until then.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from assay.errors import ReportFormatError
from assay.importers.longreprs import failure, sections, skip_reason
from assay.importers.stats import ImportStats
from assay.model import Attempt, Failure, Outcome
from assay.model.records import ResultRecord, TestRecord

_PHASES = ("setup", "call", "teardown")
_FAILING = (Outcome.FAILED, Outcome.ERROR, Outcome.TIMEOUT)
_QUIET = ("SessionStart", "WarningMessage")
# pytest's exit statuses that mean the session did not run to its end.
_STOPPED = {2: "pytest was interrupted (exit status 2)", 3: "pytest failed (exit status 3)"}


def read_reportlog(path: Path, stats: ImportStats) -> Iterator[ResultRecord]:
    """The results in the pytest report log at `path`, one per test, as they are read.

    Raises `ReportFormatError` naming the line when a line is not a JSON
    report.
    """
    try:
        file = path.open("rb")
        fallback = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError as error:
        raise ReportFormatError(path, None, error.strerror or str(error)) from None
    reader = _Reader(path, stats, fallback)
    with file:
        for number, line in enumerate(file, 1):
            if line.strip() and (result := reader.read(number, _report(path, number, line))):
                yield result
    yield from reader.finish()


def _report(path: Path, number: int, line: bytes) -> dict[str, object]:
    try:
        report = json.loads(line)
    except json.JSONDecodeError as error:
        raise ReportFormatError(
            path, number, f"not valid JSON: {error.msg} (column {error.colno})"
        ) from None
    except UnicodeDecodeError:
        raise ReportFormatError(path, number, "not valid JSON: not UTF-8") from None
    if not isinstance(report, dict) or not isinstance(report.get("$report_type"), str):
        raise ReportFormatError(path, number, 'not a report: no "$report_type"')
    return report


class ReportStream:
    """Results from pytest's reports handed over one at a time, as `pytest --assay` sees them.

    Each report is what `pytest_report_to_serializable` makes of a report,
    in JSON's types (lists, not tuples), as a report log holds it; a
    `{"$report_type": "SessionFinish", "exitstatus": N}` ends the session.
    `source` names the stream in `ReportFormatError`s.
    """

    def __init__(self, stats: ImportStats, source: str = "<pytest session>") -> None:
        self._reader = _Reader(Path(source), stats, datetime.now(UTC))
        self._count = 0

    def read(self, report: dict[str, object]) -> ResultRecord | None:
        """The result that `report` completes, if it completes one."""
        self._count += 1
        return self._reader.read(self._count, report)

    def finish(self) -> Iterator[ResultRecord]:
        """The tests still open when the reports end, completed as far as they tell."""
        return self._reader.finish()


def node_record(nodeid: str, location: object = None) -> TestRecord:
    """The identity of pytest's test `nodeid`; `location` is its (file, 0-based line, name) list."""
    return _record(nodeid, location)


@dataclass(slots=True)
class _Run:
    """One attempt of a test, assembled from the reports of its phases."""

    started_at: datetime | None = None
    duration: float = 0.0
    outcome: Outcome = Outcome.PASSED
    reason: str | None = None
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sections: object = None
    retried: bool = False
    called: bool = False

    def attempt(self, number: int, fallback: datetime) -> Attempt:
        stdout, stderr, notes = sections(self.sections)
        return Attempt(
            number=number,
            outcome=self.outcome,
            started_at=self.started_at or fallback,
            duration=self.duration,
            failures=tuple(self.failures),
            stdout=stdout,
            stderr=stderr,
            notes=(*self.notes, *notes),
        )


@dataclass(slots=True)
class _Test:
    """A test whose result is not complete yet."""

    record: TestRecord
    attempts: list[Attempt] = field(default_factory=list)
    run: _Run | None = None
    reason: str | None = None
    started_at: datetime | None = None


class _Reader:
    """Folds reports into results, holding only the tests still running."""

    def __init__(self, path: Path, stats: ImportStats, fallback: datetime) -> None:
        self.path, self.stats, self.fallback = path, stats, fallback
        self.open: dict[str, _Test] = {}
        self.finished = False

    def read(self, number: int, report: dict[str, object]) -> ResultRecord | None:
        """The result that `report`, on line `number`, completes, if it completes one."""
        kind = report["$report_type"]
        if kind == "TestReport":
            return self.test_report(number, report)
        if kind == "CollectReport":
            return self.collect_report(report)
        if kind == "SessionFinish":
            self.finished = True
            status = report.get("exitstatus")
            self.stats.interrupted = _STOPPED.get(status) if isinstance(status, int) else None
        elif kind not in _QUIET:
            self.stats.unknown_elements[f"$report_type={kind}"] += 1
        return None

    def finish(self) -> Iterator[ResultRecord]:
        """The tests the log leaves open, completed as far as it tells."""
        if not self.finished and self.stats.interrupted is None:
            self.stats.interrupted = "the report log ends before pytest's session finished"
        for test in self.open.values():
            if test.run is not None:
                self.close(test, test.run, complete=False)
            yield self.result(test)
        self.open.clear()

    def test_report(self, number: int, report: dict[str, object]) -> ResultRecord | None:
        nodeid, when, outcome = report.get("nodeid"), report.get("when"), report.get("outcome")
        if not isinstance(nodeid, str) or not isinstance(outcome, str):
            raise ReportFormatError(self.path, number, "a TestReport needs a nodeid and outcome")
        if when not in _PHASES:
            self.stats.unknown_elements[f"TestReport when={when}"] += 1
            return None
        test = self.open.get(nodeid)
        if test is None:
            test = self.open[nodeid] = _Test(_record(nodeid, report.get("location")))
        if when == "setup" and test.run is not None:
            self.close(test, test.run, complete=False)
        run = test.run = test.run or _Run()
        self.phase(run, str(when), outcome, report)
        if when != "teardown":
            return None
        self.close(test, run, complete=True)
        if run.retried:
            return None
        del self.open[nodeid]
        return self.result(test)

    def phase(self, run: _Run, when: str, outcome: str, report: dict[str, object]) -> None:
        """Fold one phase's report into its attempt."""
        duration, start = report.get("duration"), report.get("start")
        run.duration += duration if isinstance(duration, int | float) else 0.0
        if run.started_at is None and isinstance(start, int | float):
            run.started_at = datetime.fromtimestamp(start, UTC)
            self.stats.saw_start(run.started_at)
        run.sections = report.get("sections", run.sections)
        run.called = run.called or when == "call"
        self.verdict(run, when, outcome, report)

    def verdict(self, run: _Run, when: str, outcome: str, report: dict[str, object]) -> None:
        """What one phase's outcome makes of its attempt's."""
        wasxfail = report.get("wasxfail")
        xfail = wasxfail if isinstance(wasxfail, str) else None
        if outcome == "passed":
            if xfail is not None:
                run.notes.append(f"xpass: {xfail}" if xfail else "xpass")
        elif outcome == "skipped":
            if run.outcome is Outcome.PASSED and xfail is not None:
                run.outcome, run.reason = Outcome.SKIPPED, xfail or "xfail"
                run.notes.append("xfail")
            elif run.outcome is Outcome.PASSED:
                run.outcome, run.reason = Outcome.SKIPPED, skip_reason(report)
        elif outcome in ("failed", "rerun"):
            run.failures.append(failure(when, report.get("longrepr")))
            if run.outcome in (Outcome.PASSED, Outcome.SKIPPED):
                # The call's verdict is the test's; a failing setup or teardown is an error.
                run.outcome = Outcome.FAILED if when == "call" else Outcome.ERROR
            run.retried = run.retried or outcome == "rerun"
        else:
            self.stats.unknown_elements[f"TestReport outcome={outcome}"] += 1

    def close(self, test: _Test, run: _Run, *, complete: bool) -> None:
        """End the attempt `run`; an incomplete one that never got to its call did not run."""
        if not complete:
            run.notes.append("the report ends before this attempt's teardown")
            if not run.called and run.outcome is Outcome.PASSED:
                run.outcome = Outcome.ERROR
                run.failures.append(Failure("interrupted", "the test never ran its call"))
        test.attempts.append(run.attempt(len(test.attempts) + 1, self.fallback))
        test.reason = run.reason
        test.started_at = test.started_at or run.started_at
        test.run = None

    def result(self, test: _Test) -> ResultRecord:
        outcome = test.attempts[-1].outcome
        return self.stats.tally(
            ResultRecord(
                test=test.record,
                outcome=outcome,
                attempts=tuple(test.attempts),
                reason=test.reason if outcome is Outcome.SKIPPED else None,
                flaky=outcome is Outcome.PASSED
                and any(a.outcome in _FAILING for a in test.attempts),
                started_at=test.started_at,
            )
        )

    def collect_report(self, report: dict[str, object]) -> ResultRecord | None:
        """A module that could not be collected is an error; one skipped whole, a skip."""
        nodeid, outcome = report.get("nodeid"), report.get("outcome")
        if outcome not in ("failed", "skipped"):
            return None
        record = _record(nodeid if isinstance(nodeid, str) and nodeid else "<session>", None)
        if outcome == "failed":
            problem = failure("collect", report.get("longrepr"))
            attempt = Attempt(1, Outcome.ERROR, self.fallback, 0.0, failures=(problem,))
            return self.stats.tally(ResultRecord(record, Outcome.ERROR, (attempt,)))
        attempt = Attempt(1, Outcome.SKIPPED, self.fallback, 0.0)
        reason = skip_reason(report)
        return self.stats.tally(ResultRecord(record, Outcome.SKIPPED, (attempt,), reason))


def _record(nodeid: str, location: object) -> TestRecord:
    """The identity of `nodeid`; `location` is pytest's (file, 0-based line, name)."""
    path, _, name = nodeid.partition("::")
    file, line = path or None, None
    if isinstance(location, list) and len(location) == 3:
        file = location[0] if isinstance(location[0], str) else file
        line = location[1] + 1 if isinstance(location[1], int) else None
    return TestRecord(
        id=nodeid, name=name or nodeid, suite=path, kind="pytest", file=file, line=line
    )
