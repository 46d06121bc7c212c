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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from assay.checks import slug
from assay.engine.services import Key, Services
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
from assay.sandbox import Cancellation, Sandbox, Sandboxes

if TYPE_CHECKING:
    from assay.runners.pytests import PytestRunner

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
    return _Run(tests, options, handlers, sandbox or Sandboxes(), cancel).execute()


@dataclass(slots=True)
class _Active:
    """An attempt in progress: of one test, or of several run by one process (`group`)."""

    index: int
    started: Started
    members: tuple[int, ...]
    cancel: Cancellation | None = None
    """The attempt's own cancellation, when a service it uses may die under it."""


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
        self.pytests: PytestRunner | None = None  # made when a `pytest:` test is run
        self.cancel = cancel or Cancellation()
        self.results: dict[int, Result] = {}
        self.attempts: dict[int, list[Attempt]] = {}
        self.active: dict[int, _Active] = {}
        self.early: dict[int, Attempt] = {}  # tests that ended before they started
        self.waiting_on: dict[int, int] = {}
        self.dependants: dict[int, list[int]] = {}
        self.ready: deque[int] = deque()
        self.interrupted: str | None = None
        self.unheeded_cancel = False  # cancelled since the executions were last advanced
        self.services: Services | None = None

    def _link(self) -> None:
        self.waiting_on = dict.fromkeys(range(len(self.tests)), 0)
        self.dependants = {i: [] for i in range(len(self.tests))}
        index: dict[tuple[Path, str], list[int]] = {}
        for i, t in enumerate(self.tests):
            # The tests of a `pytest:` test answer to its name as well as their own.
            index.setdefault((t.suite_file, t.name), []).append(i)
            if t.group is not None:
                index.setdefault((t.suite_file, t.group.rpartition("::")[2]), []).append(i)
        for i, test in enumerate(self.tests):
            needed = {j for need in test.needs for j in index.get((test.suite_file, need), ())}
            needed.discard(i)
            for j in sorted(needed):
                self.dependants[j].append(i)
            self.waiting_on[i] = len(needed)
        self.ready = deque(i for i, n in self.waiting_on.items() if n == 0)

    def _expand(self, workspaces: Workspaces) -> None:
        """Replace each `pytest:` test with the tests pytest collects for it."""
        from assay.runners.pytests import PytestRunner

        self.pytests = PytestRunner(self.sandbox, self.options.runner)
        expanded: list[CommandTest] = []
        for test in self.tests:
            if test.pytest is None or test.skip is not None:
                expanded.append(test)
                continue
            name = f"collect-{len(expanded) + 1:05d}-{slug(test.name)[:40]}"
            collected = self.pytests.collect(test, workspaces, name, self.cancel)
            if collected.error is not None:
                self.early[len(expanded)] = collected.error
                expanded.append(test)
            else:
                expanded.extend(collected.tests)
        self.tests = expanded

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
            if any(t.pytest is not None for t in self.tests):
                try:
                    self._expand(workspaces)
                except KeyboardInterrupt:
                    self.interrupted = "interrupted by the user"
            self._link()
            if any(t.services for t in self.tests):
                self.services = Services(root / "services", self.cancel)
                self.services.logs_dir.mkdir()
                self.services.plan(self.tests)
            # Inside the try: a handler that fails on the first event (a closed
            # stdout, say) must not leave the run directory behind.
            self.emit(RunStarted(tuple(self.tests), started_at, self.options.workers))
            if self.interrupted is not None:
                self._interrupt()
            self._loop(workspaces, deadline)
        finally:
            for active in self.active.values():  # only after a bug: leave nothing running
                active.started.workspace.close()
                if active.cancel is not None:
                    active.cancel.close()
            if self.services is not None:
                self.services.close()
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
        watched = self.services.fds() if self.services is not None else {}
        for fd in watched:
            poller.register(fd, select.POLLIN)
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
        for fd in readable:
            if fd in watched:
                due.update(self._service_died(watched[fd]))
        return [index for index in self.active if index in due]

    def _service_died(self, key: Key) -> list[int]:
        """Stop the running attempts that use a service that has just died."""
        assert self.services is not None
        users = set(self.services.check(key))
        stopped = []
        for index, active in self.active.items():
            if active.cancel is not None and users.intersection(active.members):
                active.cancel.cancel(self.services.died(active.members[0]) or "a service died")
                stopped.append(index)
        return stopped

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
            cancel = active.cancel or self.cancel
            outcome = execution.advance(now, cancel)
            if outcome is None:
                continue
            del self.active[index]
            try:
                if len(active.members) == 1 and self.tests[index].group is None:
                    attempt = self.runner.finish(active.started, outcome, cancel)
                    ended: dict[int, tuple[Attempt, ...]] = {index: (attempt,)}
                    reasons: dict[int, str | None] = {}
                else:
                    tests = [self.tests[m] for m in active.members]
                    assert self.pytests is not None  # only `pytest:` tests run in groups
                    reported = self.pytests.finish_group(active.started, tests, outcome, cancel)
                    ended = {m: reported[self.tests[m].id].attempts for m in active.members}
                    reasons = {m: reported[self.tests[m].id].reason for m in active.members}
            finally:
                if active.cancel is not None:
                    active.cancel.close()
            self._attempts_done(ended, reasons, workspaces)

    def _start_ready(self, workspaces: Workspaces) -> None:
        while self.ready and len(self.active) < self.options.workers and not self.cancel.cancelled:
            index = self.ready.popleft()
            test = self.tests[index]
            if test.skip is not None:
                self._skip(index, test.skip)
                continue
            members = [index]
            if test.group is not None:  # its group's other ready tests run in the same process
                members += [i for i in self.ready if self.tests[i].group == test.group]
                self.ready = deque(i for i in self.ready if self.tests[i].group != test.group)
            for member in members:
                self.emit(TestStarted(self.tests[member]))
            if index in self.early:  # could not even be collected: retrying cannot help
                attempt = self.early.pop(index)
                self.attempts[index] = [attempt]
                self.emit(AttemptFinished(test, attempt))
                self._finish(index, Result(test, attempt.outcome, (attempt,)))
            else:
                self._start_attempt(members, workspaces)

    def _start_attempt(self, members: list[int], workspaces: Workspaces) -> None:
        # Attempts that end at once (a missing program) are retried in this loop, not
        # through `_attempts_done`: that recursion would go one frame deeper per retry.
        while members:
            number = 1 + max(len(self.attempts.get(m, ())) for m in members)
            started = self._start(members, number, workspaces)
            if isinstance(started, Started):
                cancel = (
                    Cancellation() if self.services and self.tests[members[0]].services else None
                )
                if cancel is not None and self.cancel.cancelled:
                    cancel.cancel(self.cancel.reason or INTERRUPTED)
                self.active[members[0]] = _Active(members[0], started, tuple(members), cancel)
                workspace = started.workspace
                for member in members:
                    self.emit(
                        AttemptStarted(
                            self.tests[member],
                            len(self.attempts.get(member, ())) + 1,
                            f"/proc/self/fd/{workspace.stdout}",
                            f"/proc/self/fd/{workspace.stderr}",
                        )
                    )
                return
            members = self._record_all(dict.fromkeys(members, (started,)), {})

    def _start(self, members: list[int], number: int, workspaces: Workspaces) -> Started | Attempt:
        """Start attempt `number` of tests; an `Attempt` if it ended at once."""
        test = self.tests[members[0]]
        name = f"{members[0] + 1:05d}-{slug(test.name)[:40]}-{number}"
        try:
            values = self.services.prepare(members) if self.services is not None else {}
            if isinstance(values, str):
                failure = Failure("service", values)
                return Attempt(number, Outcome.ERROR, datetime.now(UTC), 0.0, failures=(failure,))
            if test.group is None:
                return self.runner.start(test, number, workspaces, name, values)
            tests = [self.tests[m] for m in members]
            everything = number == 1 and len(members) == sum(
                1 for t in self.tests if t.group == test.group
            )
            assert self.pytests is not None
            return self.pytests.start_group(tests, number, workspaces, name, values, everything)
        except Exception as error:  # a bug must not take the run down: it errors this test
            failure = Failure("internal", f"internal error: {type(error).__name__}: {error}")
            return Attempt(number, Outcome.ERROR, datetime.now(UTC), 0.0, failures=(failure,))

    def _attempts_done(
        self,
        ended: dict[int, tuple[Attempt, ...]],
        reasons: dict[int, str | None],
        workspaces: Workspaces,
    ) -> None:
        again = self._record_all(ended, reasons)
        if again:
            self._start_attempt(again, workspaces)

    def _record_all(
        self, ended: dict[int, tuple[Attempt, ...]], reasons: dict[int, str | None]
    ) -> list[int]:
        """Record each test's new attempts; the tests that get another one."""
        again = []
        for index, new in ended.items():
            attempts = new
            died = self.services.died(index) if self.services is not None else None
            if died is not None:  # never a confusing failure: the service is to blame
                failure = Failure("service", died)
                attempts = (
                    *new[:-1],
                    replace(new[-1], outcome=Outcome.ERROR, failures=(failure,)),
                )
            final = False
            for attempt in attempts:
                final = self._record(index, attempt, reasons.get(index))
            if not final:
                again.append(index)
        return again

    def _record(self, index: int, attempt: Attempt, reason: str | None = None) -> bool:
        """Add a finished attempt; finish the test and return True if it was the last."""
        test = self.tests[index]
        attempts = self.attempts.setdefault(index, [])
        if attempt.number != len(attempts) + 1:  # several attempts from one pytest process
            attempt = replace(attempt, number=len(attempts) + 1)
        attempts.append(attempt)
        self.emit(AttemptFinished(test, attempt))
        final = (
            attempt.outcome in (Outcome.PASSED, Outcome.SKIPPED)  # pytest's skips are verdicts
            or self.cancel.cancelled
            or attempt.number > test.retries
        )
        if final:
            flaky = attempt.outcome is Outcome.PASSED and len(attempts) > 1
            reason = reason if attempt.outcome is Outcome.SKIPPED else None
            result = Result(test, attempt.outcome, tuple(attempts), reason=reason, flaky=flaky)
            self._finish(index, result)
        return final

    def _stop(self, reason: str, message: str) -> None:
        """Cancel running tests and skip every one not yet started."""
        if self.interrupted is None:
            self.interrupted = message
        self.cancel.cancel(reason)
        self._cancel_attempts(reason)
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
        self._cancel_attempts(reason)
        self.unheeded_cancel = True
        for index in range(len(self.tests)):
            if index not in self.results and index not in self.active:
                self._skip(index, self.interrupted)

    def _cancel_attempts(self, reason: str) -> None:
        """Pass the run's cancellation on to the attempts that have their own."""
        for active in self.active.values():
            if active.cancel is not None:
                active.cancel.cancel(reason)

    def _finish(self, index: int, result: Result) -> None:
        self.results[index] = result
        self.emit(TestFinished(result))
        if self.services is not None:
            self.services.release(index)
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
