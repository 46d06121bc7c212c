"""Recording a pytest session: pytest's reports in, Assay's results out, in batches.

pytest's thread does as little as it can: it turns each report into the
dict pytest-reportlog would write (`pytest_report_to_serializable`) and
queues it. A thread of ours folds those into results with the report log's
own reader (`assay.importers.reportlog`), so that `pytest --assay` and
`assay import --format reportlog` make the same results of a session:
phases fold into attempts, pytest-rerunfailures' reruns are earlier
attempts. Results are numbered in collection order and handed to a
destination (the store, or a server) every `BATCH` results or `FLUSH`
seconds, whichever comes first.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from assay.errors import UserError
from assay.importers.reportlog import ReportStream
from assay.importers.stats import ImportStats
from assay.model import Outcome
from assay.model.records import ResultRecord
from assay.pytest_plugin.destinations import Destination, open_destination

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
        self.folder: _Folder | None = None
        self.lines: list[str] = []
        self._collected = False
        self._finished = False

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Start the run: on the recording thread, so that a slow database delays no test."""
        try:
            destination = open_destination(self.config, self.options)
        except Exception as error:  # recording must never take the session down with it
            self.lines.append(f"assay: warning: the session was not recorded: {describe(error)}")
            return
        self.folder = _Folder(destination, time.time())

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """The tests to run, which number the results in pytest's order."""
        self._tests([(item.nodeid, list(item.location)) for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: object, ids: Sequence[str]) -> None:
        """Under xdist: every worker collects the same tests; the first says which."""
        self._tests([(nodeid, None) for nodeid in ids])

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

    def _tests(self, tests: list[tuple[str, object]]) -> None:
        if self.folder is not None and not self._collected:
            self._collected = True
            self.folder.collected(tests)

    def _report(self, report: pytest.CollectReport | pytest.TestReport) -> None:
        folder = self.folder
        if folder is None or folder.stopped:
            return
        try:
            data = self.config.hook.pytest_report_to_serializable(config=self.config, report=report)
        except Exception as error:
            folder.stop(f"a report could not be read: {describe(error)}")
            return
        if isinstance(data, dict):
            # pytest-subtests' reports once spelt the key so (pytest-reportlog does the same).
            if "_report_type" in data:
                data["$report_type"] = data.pop("_report_type")
            folder.put(data)

    def _finish(self, exitstatus: int | None, stopped: str | None) -> None:
        if self.folder is None or self._finished:
            return
        self._finished = True
        self.lines.append(self.folder.finish(exitstatus, stopped))


def _stopped(session: pytest.Session) -> str | None:
    """Why the session stopped before its end (`-x`, `--maxfail`), if it did."""
    reason = session.shouldfail or session.shouldstop
    if not reason:
        return None
    return f"pytest stopped early: {reason}" if isinstance(reason, str) else "pytest stopped early"


class _Folder:
    """The recording thread: folds reports into numbered results, hands them on in batches."""

    def __init__(self, destination: Destination, started_at: float) -> None:
        self.destination = destination
        self.started_at = started_at
        self.stats = ImportStats()
        self.stopped = False
        """Set once recording has given up: later reports need not even be queued."""
        self._problem: str | None = None
        self._queue: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        # A daemon, so that nothing here can keep the process alive after an error.
        self._thread = threading.Thread(target=self._work, name="assay-pytest", daemon=True)
        self._thread.start()

    def put(self, report: dict[str, object]) -> None:
        """Queue one serialized report."""
        self._queue.put(("report", report))

    def collected(self, tests: list[tuple[str, object]]) -> None:
        """Queue the session's tests: (node id, location), in the order pytest runs them."""
        self._queue.put(("collected", tests))

    def stop(self, problem: str) -> None:
        """Give up recording, for `problem`, without waiting."""
        self._queue.put(("stop", problem))
        self.stopped = True

    def finish(self, exitstatus: int | None, stopped: str | None) -> str:
        """End the run and wait until it is stored or sent; the line that says how it went."""
        self._queue.put(("finish", (exitstatus, stopped, time.time())))
        self._thread.join()
        results = self.stats.cases
        problem = self._problem or self.destination.problem
        if problem is None:
            return self.destination.summary(results)
        return f"assay: warning: {self.destination.failure(problem)}"

    def _work(self) -> None:
        try:
            self.destination.open(self.started_at)
            _Batcher(self.destination, self.stats, self.started_at).run(self._queue)
        except _Stopped as stop:
            self._give_up(stop.problem)
        except Exception as error:  # recording must never take the session down with it
            self._give_up(describe(error))

    def _give_up(self, problem: str) -> None:
        self.stopped = True
        self._problem = problem
        _quietly(lambda: self.destination.abort(problem))


class _Stopped(Exception):
    """Recording was stopped from pytest's thread."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class _Batcher:
    """What the recording thread does with each message, and when a batch is due."""

    def __init__(self, destination: Destination, stats: ImportStats, started_at: float) -> None:
        self.destination = destination
        self.stats = stats
        self.started_at = started_at
        self.stream = ReportStream(stats)
        self.numbers = _Numbers()
        self.early: list[ResultRecord] | None = []
        """Results that came before the tests were known (collection errors)."""
        self.pending: list[tuple[int, ResultRecord]] = []
        self.deadline: float | None = None

    def run(self, messages: queue.SimpleQueue[tuple[str, Any]]) -> None:
        """Take messages until the session finishes."""
        while True:
            timeout = None if self.deadline is None else max(0.0, self.deadline - time.monotonic())
            try:
                kind, value = messages.get(timeout=timeout)
            except queue.Empty:
                self.flush()
                continue
            if kind == "report":
                # In JSON's types, as in a report log: tuples become lists.
                found = self.stream.read(json.loads(json.dumps(value, default=str)))
                if found is not None:
                    self.add(found)
            elif kind == "collected":
                self.begin(value)
            elif kind == "stop":
                raise _Stopped(value)
            else:
                self.finish(*value)
                return
            if len(self.pending) >= BATCH:
                self.flush()

    def add(self, result: ResultRecord) -> None:
        """Number `result` and queue it for the next batch (or until the tests are known)."""
        if self.early is not None:
            self.early.append(result)
            return
        self.pending.append((self.numbers.place(result.test.id), result))
        if self.deadline is None:
            self.deadline = time.monotonic() + FLUSH

    def begin(self, tests: list[tuple[str, object]]) -> None:
        """Number the session's tests, after any results that came before them."""
        if self.early is None:
            return
        early, self.early = self.early, None
        placed = [(self.numbers.place(r.test.id), r) for r in early]
        base = self.numbers.collected([nodeid for nodeid, _ in tests])
        self.destination.begin(
            [(position, r.test.id, None) for position, r in placed]
            + [(base + i, nodeid, location) for i, (nodeid, location) in enumerate(tests)]
        )
        self.pending.extend(placed)
        if self.pending and self.deadline is None:
            self.deadline = time.monotonic() + FLUSH

    def flush(self) -> None:
        """Hand the pending results on."""
        if self.pending:
            self.destination.write(self.pending)
        self.pending, self.deadline = [], None

    def finish(self, exitstatus: int | None, stopped: str | None, at: float) -> None:
        """Complete what is still open, write the rest and end the run."""
        if exitstatus is not None:
            self.stream.read({"$report_type": "SessionFinish", "exitstatus": exitstatus})
        for result in self.stream.finish():
            self.add(result)
        self.begin([])
        self.flush()
        counts = {o.value: self.stats.by_outcome[o.value] for o in Outcome}
        self.destination.close(
            max(0.0, at - self.started_at),
            stopped or self.stats.interrupted,
            counts | {"flaky": self.stats.flaky},
        )


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


def describe(error: Exception) -> str:
    """An error in one line: a user's error as it says, any other with its type."""
    if isinstance(error, UserError):
        return str(error)
    # A database error's text carries the whole statement and its parameters; the
    # driver's first line says what went wrong.
    cause = getattr(error, "orig", None) or error
    first = (str(cause).strip().splitlines() or [""])[0]
    return f"{type(cause).__name__}: {first}"


def _quietly(action: Callable[[], object]) -> None:
    # Already failing: the first error is the one to report.
    try:
        action()
    except Exception:
        return
