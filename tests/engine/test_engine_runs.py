"""Whole runs: the run deadline, and the temporary directories a run keeps or removes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import pytest

from assay.model import Outcome

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
