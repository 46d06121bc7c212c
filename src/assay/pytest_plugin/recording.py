"""Recording a pytest session: pytest's reports in, Assay's results out, in batches.

Each report becomes the dict pytest-reportlog would write
(`pytest_report_to_serializable`), which the report log's own reader
(`assay.importers.reportlog`) folds into results, so that `pytest --assay`
and `assay import --format reportlog` make the same results of a session:
phases fold into attempts, pytest-rerunfailures' reruns are earlier
attempts. Results are numbered in collection order.

Folding is cheap and happens on pytest's thread; a writer thread of ours
hands the results to a destination (the store, or a server) every `BATCH`
results or `FLUSH` seconds, whichever comes first. Folding there instead
would cost more than it saves: CPU-bound work on a second thread makes
pytest's thread wait for the GIL after each of its many small writes.

Recording never fails the session or changes its exit status: a problem
becomes one line at the end of pytest's output, not a Python warning,
which a project's `filterwarnings = error` would turn into an error.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from assay.importers.reportlog import ReportStream
from assay.importers.stats import ImportStats
from assay.model import Outcome
from assay.model.records import ResultRecord
from assay.pytest_plugin.destinations import Destination, open_destination
from assay.store.recorder import describe, quietly

BATCH = 500
"""Results handed on at once, at most."""
FLUSH = 1.0
"""Seconds a result may wait for its batch to fill."""


@dataclass(frozen=True, slots=True)
class RecordingOptions:
    """Where the session goes, as the command line and environment say."""

    database_url: str | None = None
    report_to: str | None = None
    token: str | None = None
    patience: float = 120.0


class Recording:
    """The plugin object that records one session (on xdist's controller, from every worker)."""

    def __init__(self, config: pytest.Config, options: RecordingOptions) -> None:
        self.config = config
        self.options = options
        self.lines: list[str] = []
        self.stats = ImportStats()
        self._stream = ReportStream(self.stats)
        self._numbers = _Numbers()
        self._early: list[ResultRecord] | None = []
        """Results that came before the tests were known (collection errors)."""
        self._writer: _Writer | None = None
        self._finished = False

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Start the run: on the writer thread, so that a slow database delays no test."""
        try:
            destination = open_destination(self.config, self.options)
        except Exception as error:  # recording must never take the session down with it
            self.lines.append(f"assay: warning: the session was not recorded: {describe(error)}")
            return
        self._writer = _Writer(destination, time.time())

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """The tests to run, which number the results in pytest's order."""
        self._begin([(item.nodeid, list(item.location)) for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: object, ids: Sequence[str]) -> None:
        """Under xdist: every worker collects the same tests; the first says which."""
        self._begin([(nodeid, None) for nodeid in ids])

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A module that could not be collected, or was skipped whole, is a result too."""
        if not report.passed:
            self._report(report)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """One phase of one test, from this process or from an xdist worker."""
        self._report(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Finish the run, waiting until everything is written or sent."""
        self._finish(int(exitstatus), _stopped(session))
        if self.config.pluginmanager.get_plugin("terminalreporter") is None:
            for line in self.lines:
                print(line, file=sys.stderr)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Say where the session went, or why it did not."""
        for line in self.lines:
            terminalreporter.write_line(line)

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """A session that ended without `pytest_sessionfinish` is an interrupted run."""
        self._finish(None, "pytest ended before its session finished")

    def _report(self, report: pytest.CollectReport | pytest.TestReport) -> None:
        writer = self._writer
        if writer is None or writer.stopped:
            return
        try:
            data = self.config.hook.pytest_report_to_serializable(config=self.config, report=report)
            if not isinstance(data, dict):
                return
            # pytest-subtests' reports once spelt the key so (pytest-reportlog does the same).
            if "_report_type" in data:
                data["$report_type"] = data.pop("_report_type")
            if result := self._stream.read(_jsonish(data)):
                self._add(result)
        except Exception as error:  # a report the reader cannot fold, or a bug of ours
            writer.stop(f"a report could not be read: {describe(error)}")

    def _add(self, result: ResultRecord) -> None:
        if self._early is not None:
            self._early.append(result)
        elif self._writer is not None:
            self._writer.put(self._numbers.place(result.test.id), result)

    def _begin(self, tests: list[tuple[str, object]]) -> None:
        """Number the session's tests, after any results that came before them."""
        if self._writer is None or self._early is None:
            return
        early, self._early = self._early, None
        placed = [(self._numbers.place(r.test.id), r) for r in early]
        base = self._numbers.collected([nodeid for nodeid, _ in tests])
        self._writer.begin(
            [(position, r.test.id, None) for position, r in placed]
            + [(base + i, nodeid, location) for i, (nodeid, location) in enumerate(tests)]
        )
        for position, result in placed:
            self._writer.put(position, result)

    def _finish(self, exitstatus: int | None, stopped: str | None) -> None:
        writer = self._writer
        if writer is None or self._finished:
            return
        self._finished = True
        at = time.time()
        if not writer.stopped:
            try:
                if exitstatus is not None:
                    self._stream.read({"$report_type": "SessionFinish", "exitstatus": exitstatus})
                for result in self._stream.finish():
                    self._add(result)
                self._begin([])
            except Exception as error:
                writer.stop(f"the session's end could not be read: {describe(error)}")
        counts = {o.value: self.stats.by_outcome[o.value] for o in Outcome}
        interrupted = stopped or self.stats.interrupted
        self.lines.append(
            writer.finish(at, interrupted, counts | {"flaky": self.stats.flaky}, self.stats.cases)
        )


def _jsonish(report: dict[str, Any]) -> dict[str, Any]:
    """`report` in JSON's types, as a report log holds it: the reader expects lists, not tuples.

    A passing test's report needs only its location and captured sections
    changed; a failure's traceback is nested deeper, and goes through JSON.
    """
    longrepr = report.get("longrepr")
    if longrepr is not None and not isinstance(longrepr, str):
        loaded: dict[str, Any] = json.loads(json.dumps(report, default=str))
        return loaded
    location, sections = report.get("location"), report.get("sections")
    if isinstance(location, tuple):
        report["location"] = list(location)
    if isinstance(sections, list):
        report["sections"] = [list(s) if isinstance(s, tuple) else s for s in sections]
    return report


def _stopped(session: pytest.Session) -> str | None:
    """Why the session stopped before its end (`-x`, `--maxfail`), if it did."""
    reason = session.shouldfail or session.shouldstop
    if not reason:
        return None
    return f"pytest stopped early: {reason}" if isinstance(reason, str) else "pytest stopped early"


class _Numbers:
    """Positions: the tests' in collection order; others (and repeats) after them."""

    def __init__(self) -> None:
        self.known: dict[str, int] = {}
        self.next = 0

    def collected(self, ids: list[str]) -> int:
        """Reserve positions for `ids` in this order; returns the first."""
        base = self.next
        for i, nodeid in enumerate(ids):
            self.known.setdefault(nodeid, base + i)
        self.next += len(ids)
        return base

    def place(self, nodeid: str) -> int:
        """The position of `nodeid`'s result: its reserved one, the first time."""
        position = self.known.pop(nodeid, None)
        if position is None:
            position = self.next
            self.next += 1
        return position


class _Stopped(Exception):
    """Recording was stopped from pytest's thread."""


class _Writer:
    """The writer thread: opens the run, hands results on in batches, ends the run."""

    def __init__(self, destination: Destination, started_at: float) -> None:
        self.destination = destination
        self.started_at = started_at
        self.stopped = False
        """Set once recording has given up: later reports need not even be read."""
        self._problem: str | None = None
        self._queue: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._pending: list[tuple[int, ResultRecord]] = []
        self._deadline: float | None = None
        # A daemon, so that nothing here can keep the process alive after an error.
        self._thread = threading.Thread(target=self._work, name="assay-pytest", daemon=True)
        self._thread.start()

    def begin(self, tests: list[tuple[int, str, object]]) -> None:
        """Queue the session's tests: (position, node id, location)."""
        self._queue.put(("begin", tests))

    def put(self, position: int, result: ResultRecord) -> None:
        """Queue one result."""
        self._queue.put(("result", (position, result)))

    def stop(self, problem: str) -> None:
        """Give up recording, for `problem`, without waiting."""
        self.stopped = True
        self._queue.put(("stop", problem))

    def finish(
        self, at: float, interrupted: str | None, counts: dict[str, int], results: int
    ) -> str:
        """End the run and wait until it is stored or sent; the line that says how it went."""
        self._queue.put(("finish", (at, interrupted, counts)))
        self._thread.join()
        if self._problem is not None:
            return f"assay: warning: {self.destination.failure(self._problem)}"
        if self.destination.problem is not None:
            return f"assay: warning: {self.destination.problem}"
        return self.destination.summary(results)

    def _work(self) -> None:
        try:
            self.destination.open(self.started_at)
            while self._step():
                pass
        except _Stopped as stop:
            self._give_up(str(stop))
        except Exception as error:  # recording must never take the session down with it
            self._give_up(describe(error))

    def _step(self) -> bool:
        """Take one message (or wake for a due batch); False once the run has ended."""
        timeout = None if self._deadline is None else max(0.0, self._deadline - time.monotonic())
        try:
            kind, value = self._queue.get(timeout=timeout)
        except queue.Empty:
            self._flush()
            return True
        if kind == "result":
            self._pending.append(value)
            if len(self._pending) >= BATCH:
                self._flush()
            elif self._deadline is None:
                self._deadline = time.monotonic() + FLUSH
        elif kind == "begin":
            self.destination.begin(value)
        elif kind == "stop":
            raise _Stopped(value)
        else:
            at, interrupted, counts = value
            self._flush()
            self.destination.close(max(0.0, at - self.started_at), interrupted, counts)
            return False
        return True

    def _flush(self) -> None:
        if self._pending:
            self.destination.write(self._pending)
        self._pending, self._deadline = [], None

    def _give_up(self, problem: str) -> None:
        self.stopped = True
        self._problem = problem
        quietly(lambda: self.destination.abort(problem))
