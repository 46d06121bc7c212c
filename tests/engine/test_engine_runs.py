"""Whole runs: the run deadline, and the temporary directories a run keeps or removes."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
import pytest

from assay.engine import RunOptions, execute
from assay.model import CommandTest, Event, Outcome, RunResult, TestStarted
from assay.runners import RunnerConfig
from assay.sandbox import (
    Cancellation,
    Execution,
    ProcessOutcome,
    ProcessRequest,
    ProcessSandbox,
)
from fixtures.executions import Lingering

if TYPE_CHECKING:
    from conftest import Scratch

DIR = "${{ suite.dir }}"


def marked(marker: str) -> list[psutil.Process]:
    """Live processes whose command line mentions `marker`."""
    return [
        proc
        for proc in psutil.process_iter(["cmdline"])
        if any(marker in part for part in proc.info["cmdline"] or ())
    ]


class TestDeadline:
    DEADLINE = "run deadline of 500ms reached"

    @pytest.fixture
    def marker(self) -> str:
        return f"97{os.getpid():07d}"

    def test_running_tests_time_out_and_the_rest_are_skipped(
        self, scratch: Scratch, marker: str
    ) -> None:
        tests = scratch.load_tests(
            [
                {"name": "long one", "run": f"sleep {marker}1"},
                {"name": "long two", "run": f"sleep {marker}2", "retries": 2},
                {"name": "not started", "run": f'touch "{DIR}/ran"'},
                {"name": "needs long one", "run": f'touch "{DIR}/ran"', "needs": ["long one"]},
            ]
        )
        result = scratch.run(tests, jobs=2, timeout=0.5)
        assert result.interrupted == self.DEADLINE
        assert not result.ok
        long_one, long_two, not_started, dependant = result.results
        for running in (long_one, long_two):
            assert running.outcome in (Outcome.TIMEOUT, Outcome.ERROR)
            assert len(running.attempts) == 1  # no retry once the run is over
        assert long_one.outcome is Outcome.TIMEOUT
        assert long_one.failures[0].message == "stopped: run deadline reached"
        for skipped in (not_started, dependant):
            assert skipped.outcome is Outcome.SKIPPED
            assert skipped.reason == self.DEADLINE
            assert skipped.attempts == ()
        assert not (scratch.root / "ran").exists()
        assert marked(marker) == []

    def test_a_deadline_that_is_not_reached_changes_nothing(self, scratch: Scratch) -> None:
        tests = scratch.load("tests: [{name: quick, run: 'true'}]")
        result = scratch.run(tests, timeout=60)
        assert result.interrupted is None
        assert result.ok
        assert result.results[0].outcome is Outcome.PASSED


class LingeringSandbox:
    """A sandbox whose processes only end, slowly, once cancelled."""

    name = "lingering"

    def __init__(self) -> None:
        self.executions: list[Lingering] = []

    def start(self, request: ProcessRequest) -> Lingering:
        self.executions.append(Lingering())
        return self.executions[-1]

    def close(self) -> None:
        pass


def test_a_stopped_run_waits_for_its_processes_without_spinning(scratch: Scratch) -> None:
    # The run's cancellation stays set; taking it as news at every look would spin.
    tests = scratch.load("tests: [{name: one, run: 'true'}, {name: two, run: 'true'}]")
    sandbox = LingeringSandbox()
    options = RunOptions(jobs=2, timeout=0.1, tmp_dir=scratch.runs)
    result = execute(tests, options, sandbox=sandbox)
    assert [r.outcome for r in result.results] == [Outcome.TIMEOUT] * 2
    assert len(sandbox.executions) == 2
    for execution in sandbox.executions:
        assert execution.advances < 10 * Lingering.LINGER / Lingering.RECHECK


def run_with_a_guard(tests: list[CommandTest], options: RunOptions, **kwargs: Any) -> RunResult:
    """`execute` on a thread of its own, so that a run that never ends fails the test."""
    results: list[RunResult] = []
    thread = threading.Thread(
        target=lambda: results.append(execute(tests, options, **kwargs)), daemon=True
    )
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the run never ended"
    [result] = results
    return result


class InterruptedHandler:
    """A handler during which Ctrl-C strikes, once: while a test is being started."""

    def __init__(self) -> None:
        self.struck = False

    def handle(self, event: Event) -> None:
        if isinstance(event, TestStarted) and not self.struck:
            self.struck = True
            raise KeyboardInterrupt


class InterruptedSandbox:
    """A process sandbox in which Ctrl-C strikes once, just after a process has started."""

    name = "process"

    def __init__(self) -> None:
        self.sandbox = ProcessSandbox()
        self.struck = False

    def start(self, request: ProcessRequest) -> Execution | ProcessOutcome:
        started = self.sandbox.start(request)
        if not self.struck:
            self.struck = True
            raise KeyboardInterrupt
        return started

    def close(self) -> None:
        self.sandbox.close()


class TestInterrupt:
    INTERRUPTED = "interrupted by the user"

    @pytest.fixture
    def marker(self) -> str:
        return f"95{os.getpid():07d}"

    def test_ctrl_c_in_a_handler_stops_the_run(self, scratch: Scratch, marker: str) -> None:
        tests = scratch.load_tests(
            [
                {"name": "first", "run": f"sleep {marker}1"},
                {"name": "second", "run": f"sleep {marker}2"},
                {"name": "after first", "run": "true", "needs": ["first"]},
            ]
        )
        options = RunOptions(jobs=2, tmp_dir=scratch.runs)
        result = run_with_a_guard(tests, options, handlers=[InterruptedHandler()])
        assert result.interrupted == self.INTERRUPTED
        assert [r.outcome for r in result.results] == [Outcome.SKIPPED] * 3
        assert {r.reason for r in result.results} == {self.INTERRUPTED}
        assert marked(marker) == []

    def test_ctrl_c_just_after_a_start_leaves_nothing_running(
        self, scratch: Scratch, marker: str
    ) -> None:
        tests = scratch.load_tests(
            [
                {"name": "started", "run": f"sleep {marker}1"},
                {"name": "not started", "run": f"sleep {marker}2"},
            ]
        )
        options = RunOptions(jobs=2, tmp_dir=scratch.runs)
        result = run_with_a_guard(tests, options, sandbox=InterruptedSandbox())
        assert result.interrupted == self.INTERRUPTED
        assert [r.outcome for r in result.results] == [Outcome.SKIPPED] * 2
        assert marked(marker) == []
        assert list(scratch.runs.iterdir()) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("run", "timeout"),
    [
        ("sh -c 'trap \"\" TERM; sleep {m}' & echo done", None),
        ("sh -c 'trap \"\" TERM; sleep {m}' & sleep {m}", "300ms"),
    ],
    ids=["leftover-after-exit", "timeout-with-term-ignoring-child"],
)
def test_a_group_that_outlives_its_leader_does_not_hang_the_run(
    scratch: Scratch, run: str, timeout: str | None
) -> None:
    marker = f"96{os.getpid():07d}"
    test = {"name": "leaves a child", "run": run.format(m=marker)}
    if timeout:
        test["timeout"] = timeout
    # Without the deadline the run would never end; with it, the hang shows as `interrupted`.
    result = scratch.run(scratch.load_tests([test]), timeout=5.0)
    assert marked(marker) == []
    assert result.interrupted is None


class TestTemporaryDirectories:
    SUITE = """
        tests:
          - name: makes a file
            run: echo out; echo err >&2; echo data > made.txt
            files: {given.txt: "given\\n"}
          - name: retried
            run: "false"
            retries: 1
        """

    def test_keep_tmp_keeps_every_attempt(self, scratch: Scratch) -> None:
        result = scratch.run(scratch.load(self.SUITE), keep_tmp=True)
        assert result.tmp_dir is not None
        root = Path(result.tmp_dir)
        assert root.parent == scratch.runs
        assert root.name.startswith("assay-")
        makes, retried = result.results
        [attempt] = makes.attempts
        assert attempt.workdir == str(root / "00001-makes-a-file-1")
        workdir = Path(attempt.workdir)
        assert (workdir / "made.txt").read_text() == "data\n"
        assert (workdir / "given.txt").read_text() == "given\n"
        assert attempt.stdout is not None
        assert attempt.stderr is not None
        assert attempt.stdout.path is not None
        assert attempt.stderr.path is not None
        assert Path(attempt.stdout.path).read_text() == "out\n"
        assert Path(attempt.stderr.path).read_text() == "err\n"
        assert [a.workdir for a in retried.attempts] == [
            str(root / "00002-retried-1"),
            str(root / "00002-retried-2"),
        ]
        assert all(Path(a.workdir or "").is_dir() for a in retried.attempts)

    def test_without_keep_tmp_nothing_is_left(self, scratch: Scratch) -> None:
        tests = scratch.load(
            self.SUITE
            + """
          - name: read-only leftovers
            run: mkdir -p a/b && touch a/b/c && chmod 0 a/b && chmod 500 a
          - name: times out
            run: echo partial; exec sleep 30
            timeout: 200ms
        """
        )
        result = scratch.run(tests)
        assert result.tmp_dir is None
        assert [r.outcome for r in result.results] == [
            Outcome.PASSED,
            Outcome.FAILED,
            Outcome.PASSED,
            Outcome.TIMEOUT,
        ]
        assert all(a.workdir is None for r in result.results for a in r.attempts)
        assert list(scratch.runs.iterdir()) == []

    def test_nothing_is_left_after_a_deadline(self, scratch: Scratch) -> None:
        tests = scratch.load("tests: [{name: long, run: sleep 30}]")
        result = scratch.run(tests, timeout=0.3)
        assert result.interrupted is not None
        assert list(scratch.runs.iterdir()) == []

    def test_each_run_gets_its_own_directory(self, scratch: Scratch) -> None:
        tests = scratch.load("tests: [{name: quick, run: 'true'}]")
        first = scratch.run(tests, keep_tmp=True).tmp_dir
        second = scratch.run(tests, keep_tmp=True).tmp_dir
        assert first is not None
        assert second is not None
        assert first != second
        assert sorted(p.name for p in scratch.runs.iterdir()) == sorted(
            [Path(first).name, Path(second).name]
        )


class TestCancelFromAnotherThread:
    """`execute(cancel=...)`: how a server stops a run it started."""

    @pytest.fixture
    def marker(self) -> str:
        return f"96{os.getpid():07d}"

    def run(self, scratch: Scratch, tests: list[CommandTest], cancel: Cancellation, **kw: Any):
        options = RunOptions(jobs=2, tmp_dir=scratch.runs, runner=RunnerConfig(grace=0.2))
        return execute(tests, options, kw.get("handlers", ()), cancel=cancel)

    def test_running_tests_are_killed_and_the_rest_skipped(
        self, scratch: Scratch, marker: str
    ) -> None:
        tests = scratch.load_tests(
            [
                {"name": "long", "run": f"sleep {marker}1"},
                {"name": "after", "run": "true", "needs": ["long"]},
            ]
        )
        cancel = Cancellation()
        timer = threading.Timer(0.3, cancel.cancel, args=("stopped by a user",))
        timer.start()
        result = self.run(scratch, tests, cancel)
        timer.join()
        assert result.interrupted == "cancelled: stopped by a user"
        assert [r.outcome for r in result.results] == [Outcome.ERROR, Outcome.SKIPPED]
        assert marked(marker) == []

    def test_a_cancel_while_a_test_is_starting_is_not_missed(
        self, scratch: Scratch, marker: str
    ) -> None:
        # TestStarted comes just before the process starts: a cancel there once waited
        # for the process to end by itself, because its descriptor was no longer polled.
        tests = scratch.load_tests([{"name": "long", "run": f"sleep {marker}2"}])
        cancel = Cancellation()

        class CancelOnStart:
            def handle(self, event: Event) -> None:
                if isinstance(event, TestStarted):
                    cancel.cancel("at once")

        result = self.run(scratch, tests, cancel, handlers=(CancelOnStart(),))
        assert result.interrupted == "cancelled: at once"
        assert result.results[0].outcome is Outcome.ERROR
        assert marked(marker) == []
