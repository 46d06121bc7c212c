"""Executing a selection: dependency order, bounded concurrency, retries and deadlines.

One thread runs the whole loop: it starts processes, polls their pidfds,
drives each one's deadlines through the sandbox's `Execution` state machine,
checks results and emits every event. There is no thread per test, so `-j`
can go far past the number of cores, handlers never see two events at once,
and no time is lost handing work between threads.
"""

from __future__ import annotations

import os
import select
import shutil
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from assay.checks import slug
from assay.model import (
    Attempt,
    AttemptFinished,
    AttemptStarted,
    CommandTest,
    Event,
    Failure,
    Outcome,
    Result,
    RunFinished,
    RunResult,
    RunStarted,
    TestFinished,
    TestStarted,
)
from assay.model.units import format_duration
from assay.runners import DEADLINE, CommandRunner, RunnerConfig, Started, Workspaces
from assay.sandbox import Cancellation, ProcessSandbox, Sandbox

INTERRUPTED = "interrupted"


class Handler(Protocol):
    """Anything that reacts to a run's events: console, reports, recorders."""

    def handle(self, event: Event) -> None:
        """React to one event; called from a single thread, in order."""
        ...


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to execute a selection of tests."""

    jobs: int | None = None
    timeout: float | None = None
    keep_tmp: bool = False
    tmp_dir: Path | None = None
    runner: RunnerConfig = field(default_factory=RunnerConfig)

    @property
    def workers(self) -> int:
        """The concurrency: `jobs`, or one per CPU."""
        return max(1, self.jobs or os.cpu_count() or 1)


def execute(
    tests: Sequence[CommandTest],
    options: RunOptions,
    handlers: Sequence[Handler] = (),
    sandbox: Sandbox | None = None,
    cancel: Cancellation | None = None,
) -> RunResult:
    """Run `tests` and return their results in the order given.

    `cancel`, cancelled from any thread, stops the run as Ctrl-C would: running
    tests are killed with their process trees, the rest are skipped. The
    engine closes it when the run is over.
    """
    return _Run(tests, options, handlers, sandbox or ProcessSandbox(), cancel).execute()


@dataclass(slots=True)
class _Active:
    """A test with an attempt in progress."""

    index: int
    started: Started
    attempts: list[Attempt]


class _Run:
    def __init__(
        self,
        tests: Sequence[CommandTest],
        options: RunOptions,
        handlers: Sequence[Handler],
        sandbox: Sandbox,
        cancel: Cancellation | None = None,
    ) -> None:
        self.tests = list(tests)
        self.options = options
        self.handlers = handlers
        self.sandbox = sandbox
        self.runner = CommandRunner(sandbox, options.runner)
        self.cancel = cancel or Cancellation()
        self.results: dict[int, Result] = {}
        self.active: dict[int, _Active] = {}
        self.waiting_on = dict.fromkeys(range(len(self.tests)), 0)
        self.dependants: dict[int, list[int]] = {i: [] for i in range(len(self.tests))}
        self.ready: deque[int] = deque()
        self.interrupted: str | None = None
        self.unheeded_cancel = False  # cancelled since the executions were last advanced
        self._link()

    def _link(self) -> None:
        index = {(t.suite_file, t.name): i for i, t in enumerate(self.tests)}
        for i, test in enumerate(self.tests):
            for need in test.needs:
                j = index.get((test.suite_file, need))
                if j is not None:
                    self.dependants[j].append(i)
                    self.waiting_on[i] += 1
        self.ready = deque(i for i, n in self.waiting_on.items() if n == 0)

    def emit(self, event: Event) -> None:
        for handler in self.handlers:
            handler.handle(event)

    def execute(self) -> RunResult:
        started_at = datetime.now(UTC)
        start = time.monotonic()
        deadline = start + self.options.timeout if self.options.timeout else None
        root = _make_root(self.options.tmp_dir)
        workspaces = Workspaces(root, keep=self.options.keep_tmp)
        try:
            # Inside the try: a handler that fails on the first event (a closed
            # stdout, say) must not leave the run directory behind.
            self.emit(RunStarted(tuple(self.tests), started_at, self.options.workers))
            self._loop(workspaces, deadline)
        finally:
            for active in self.active.values():  # only after a bug: leave nothing running
                active.started.workspace.close()
            self.sandbox.close()
            workspaces.close()
            self.cancel.close()
            if not self.options.keep_tmp:
                shutil.rmtree(root, ignore_errors=True)
        result = RunResult(
            results=tuple(self.results[i] for i in range(len(self.tests))),
            started_at=started_at,
            duration=time.monotonic() - start,
            interrupted=self.interrupted,
            tmp_dir=str(root) if self.options.keep_tmp else None,
        )
        self.emit(RunFinished(result))
        return result

    def _loop(self, workspaces: Workspaces, deadline: float | None) -> None:
        while len(self.results) < len(self.tests):
            try:
                if self.cancel.cancelled and self.interrupted is None:
                    self._cancelled()
                self._start_ready(workspaces)
                if self.active:
                    self._advance(self._wait(deadline), workspaces)
            except KeyboardInterrupt:
                self._interrupt()

    def _wait(self, deadline: float | None) -> list[int]:
        """Sleep until a process needs attention; the tests whose executions are due.

        Once the run is cancelled, every execution is due at each wake, the
        first time without sleeping.
        """
        if self.cancel.cancelled and self.interrupted is None:
            # Cancelled from another thread since the loop last looked (while a test
            # was starting, say): the cancel's descriptor will not be polled again.
            self._cancelled()
        if self.unheeded_cancel:
            self.unheeded_cancel = False
            return list(self.active)
        poller = select.poll()
        polled: dict[int, int] = {}  # descriptor -> test
        if not self.cancel.cancelled:  # once cancelled it stays readable: the loop would spin
            poller.register(self.cancel.fileno(), select.POLLIN)  # a cancel from another thread
        wakes: dict[int, float] = {}  # test -> when it is due without an event
        for index, active in self.active.items():
            execution = active.started.execution
            assert execution is not None
            fd = execution.fileno()
            if fd >= 0:
                poller.register(fd, select.POLLIN)
                polled[fd] = index
            wake = execution.wake_at()
            if wake is not None:
                wakes[index] = wake
        readable = self._sleep(poller, deadline, min(wakes.values(), default=None), bool(polled))
        if self.cancel.cancelled:
            self.unheeded_cancel = False
            return list(self.active)
        now = time.monotonic()
        due = {polled[fd] for fd in readable if fd in polled}
        due.update(index for index, wake in wakes.items() if wake <= now)
        return [index for index in self.active if index in due]

    def _sleep(
        self, poller: select.poll, deadline: float | None, wake: float | None, polling: bool
    ) -> list[int]:
        """Poll until a descriptor is readable or `wake`; stop the run at its deadline."""
        if deadline is not None and not self.cancel.cancelled:
            wake = deadline if wake is None else min(wake, deadline)
        elif wake is None and not polling and self.cancel.cancelled:
            return []  # nothing says when to look again: look now
        timeout = None if wake is None else max(0.0, wake - time.monotonic()) * 1000
        readable = [fd for fd, _ in poller.poll(timeout)]
        if deadline is not None and time.monotonic() >= deadline and not self.cancel.cancelled:
            assert self.options.timeout is not None
            self._stop(DEADLINE, f"run deadline of {format_duration(self.options.timeout)} reached")
        return readable

    def _advance(self, due: list[int], workspaces: Workspaces) -> None:
        now = time.monotonic()
        for index in due:
            active = self.active[index]
            execution = active.started.execution
            assert execution is not None
            outcome = execution.advance(now, self.cancel)
            if outcome is None:
                continue
            del self.active[index]
            attempt = self.runner.finish(active.started, outcome, self.cancel)
            self._attempt_done(active.index, active.attempts, attempt, workspaces)

    def _start_ready(self, workspaces: Workspaces) -> None:
        while self.ready and len(self.active) < self.options.workers and not self.cancel.cancelled:
            index = self.ready.popleft()
            test = self.tests[index]
            if test.skip is not None:
                self._skip(index, test.skip)
                continue
            self.emit(TestStarted(test))
            self._start_attempt(index, 1, [], workspaces)

    def _start_attempt(
        self, index: int, number: int, attempts: list[Attempt], workspaces: Workspaces
    ) -> None:
        # Attempts that end at once (a missing program) are retried in this loop, not
        # through `_attempt_done`: that recursion would go one frame deeper per retry.
        while True:
            started = self._start(index, number, workspaces)
            if not isinstance(started, Attempt):
                self.active[index] = _Active(index, started, attempts)
                workspace = started.workspace
                self.emit(
                    AttemptStarted(
                        started.test,
                        number,
                        f"/proc/self/fd/{workspace.stdout}",
                        f"/proc/self/fd/{workspace.stderr}",
                    )
                )
                return
            if self._record(index, attempts, started):
                return
            number += 1

    def _start(self, index: int, number: int, workspaces: Workspaces) -> Started | Attempt:
        """Start attempt `number` of a test; an `Attempt` if it ended at once."""
        test = self.tests[index]
        name = f"{index + 1:05d}-{slug(test.name)[:40]}-{number}"
        try:
            return self.runner.start(test, number, workspaces, name)
        except Exception as error:  # a bug must not take the run down: it errors this test
            failure = Failure("internal", f"internal error: {type(error).__name__}: {error}")
            return Attempt(number, Outcome.ERROR, datetime.now(UTC), 0.0, failures=(failure,))

    def _attempt_done(
        self, index: int, attempts: list[Attempt], attempt: Attempt, workspaces: Workspaces
    ) -> None:
        if not self._record(index, attempts, attempt):
            self._start_attempt(index, attempt.number + 1, attempts, workspaces)

    def _record(self, index: int, attempts: list[Attempt], attempt: Attempt) -> bool:
        """Add a finished attempt; finish the test and return True if it was the last."""
        test = self.tests[index]
        attempts.append(attempt)
        self.emit(AttemptFinished(test, attempt))
        final = (
            attempt.outcome is Outcome.PASSED
            or self.cancel.cancelled
            or attempt.number > test.retries
        )
        if final:
            flaky = attempt.outcome is Outcome.PASSED and len(attempts) > 1
            self._finish(index, Result(test, attempt.outcome, tuple(attempts), flaky=flaky))
        return final

    def _stop(self, reason: str, message: str) -> None:
        """Cancel running tests and skip every one not yet started."""
        if self.interrupted is None:
            self.interrupted = message
        self.cancel.cancel(reason)
        self.unheeded_cancel = True
        ready, self.ready = self.ready, deque()
        for index in ready:
            self._skip(index, message)

    def _interrupt(self) -> None:
        """Stop on Ctrl-C, and skip every test that is not running.

        Ctrl-C strikes anywhere: between taking a test and starting it, or
        between a process's end and its result. A test caught there is in
        no list the loop looks at, and would keep the run waiting forever.
        """
        self._stop(INTERRUPTED, "interrupted by the user")
        reason = self.interrupted or INTERRUPTED
        for index in range(len(self.tests)):
            if index not in self.results and index not in self.active:
                self._skip(index, reason)

    def _cancelled(self) -> None:
        """Stop because another thread cancelled the run (a server's cancel request)."""
        reason = self.cancel.reason or INTERRUPTED
        self.interrupted = f"cancelled: {reason}"
        self.unheeded_cancel = True
        for index in range(len(self.tests)):
            if index not in self.results and index not in self.active:
                self._skip(index, self.interrupted)

    def _finish(self, index: int, result: Result) -> None:
        self.results[index] = result
        self.emit(TestFinished(result))
        for dependant in self.dependants[index]:
            if dependant in self.results:
                continue
            if self.cancel.cancelled:
                self._skip(dependant, self.interrupted or INTERRUPTED)
            elif not result.outcome.ok:
                verb = (
                    "was skipped"
                    if result.outcome is Outcome.SKIPPED
                    else f"ended {result.outcome.value}"
                )
                self._skip(dependant, f"needs {result.test.name!r}, which {verb}")
            else:
                self.waiting_on[dependant] -= 1
                if self.waiting_on[dependant] == 0:
                    self.ready.append(dependant)

    def _skip(self, index: int, reason: str) -> None:
        self._finish(index, Result(self.tests[index], Outcome.SKIPPED, reason=reason))


def _make_root(parent: Path | None) -> Path:
    """A fresh private directory for the run's work directories."""
    base = parent or Path(os.environ.get("TMPDIR") or "/tmp")
    while True:
        path = base / f"assay-{os.getpid()}-{os.urandom(4).hex()}"
        try:
            path.mkdir(mode=0o700, parents=True)
        except FileExistsError:
            continue
        return path
