"""The engine's loop: report order, events, and bounded concurrency far past the core count."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest

from assay.model import (
    AttemptFinished,
    CommandTest,
    Event,
    Outcome,
    RunFinished,
    RunResult,
    RunStarted,
    TestFinished,
    TestStarted,
)

if TYPE_CHECKING:
    from conftest import Scratch

Ran = tuple[list[CommandTest], RunResult, list[Event]]

DIR = "${{ suite.dir }}"


@pytest.mark.parametrize("jobs", [1, 3, 8], ids=["jobs-1", "jobs-3", "jobs-8"])
def test_results_come_back_in_file_order(scratch: Scratch, jobs: int) -> None:
    tests = scratch.load(
        """
        tests:
          - {name: slowest, run: sleep 0.3}
          - {name: fastest, run: sleep 0.1}
          - {name: middle, run: sleep 0.2}
        """
    )
    result = scratch.run(tests, jobs)
    assert [r.test for r in result.results] == tests
    assert [r.outcome for r in result.results] == [Outcome.PASSED] * 3


def test_results_keep_file_order_when_tests_finish_in_reverse(scratch: Scratch) -> None:
    # Each test waits for the one after it, so they end in the order c, b, a.
    def wait_for(name: str) -> str:
        return (
            f'i=0; while [ ! -e "{DIR}/{name}-done" ] && [ "$i" -lt 200 ]; '
            f'do sleep 0.05; i=$((i + 1)); done; [ -e "{DIR}/{name}-done" ]'
        )

    def finish(name: str) -> str:
        return f'echo {name} >> "{DIR}/log"; touch "{DIR}/{name}-done"'

    tests = scratch.load_tests(
        [
            {"name": "a", "run": f"{wait_for('b')} && {finish('a')}"},
            {"name": "b", "run": f"{wait_for('c')} && {finish('b')}"},
            {"name": "c", "run": finish("c")},
        ]
    )
    result = scratch.run(tests, jobs=3)
    assert scratch.log_lines() == ["c", "b", "a"]
    assert [r.test.name for r in result.results] == ["a", "b", "c"]
    assert [r.outcome for r in result.results] == [Outcome.PASSED] * 3
    finished = [e.result for e in scratch.events if isinstance(e, TestFinished)]
    assert sorted(r.test.name for r in finished) == ["a", "b", "c"]


def events_of(events: list[Event], name: str) -> list[type]:
    """The kinds of the events about the test called `name`, in order."""
    kinds: list[type] = []
    for event in events:
        if isinstance(event, TestStarted | AttemptFinished):
            test = event.test
        elif isinstance(event, TestFinished):
            test = event.result.test
        else:
            continue
        if test.name == name:
            kinds.append(type(event))
    return kinds


class TestEvents:
    SUITE = """
        tests:
          - {name: passes, run: "true"}
          - {name: fails twice, run: "false", retries: 1}
          - {name: skipped, run: "true", skip: not today}
          - {name: after the failure, run: "true", needs: [fails twice]}
          - {name: after passing, run: "true", needs: [passes]}
        """

    @pytest.fixture
    def ran(self, scratch: Scratch) -> tuple[list[CommandTest], RunResult, list[Event]]:
        """The suite's tests, the run's result and its events."""
        tests = scratch.load(self.SUITE)
        result = scratch.run(tests, jobs=2)
        return tests, result, scratch.events

    def test_run_started_first_and_run_finished_last(self, ran: Ran) -> None:
        tests, result, events = ran
        first, last = events[0], events[-1]
        assert isinstance(first, RunStarted)
        assert isinstance(last, RunFinished)
        kinds = [type(e) for e in events]
        assert (kinds.count(RunStarted), kinds.count(RunFinished)) == (1, 1)
        assert first.tests == tuple(tests)
        assert first.jobs == 2
        assert last.result is result

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("passes", [TestStarted, AttemptFinished, TestFinished]),
            ("fails twice", [TestStarted, AttemptFinished, AttemptFinished, TestFinished]),
            ("skipped", [TestFinished]),
            ("after the failure", [TestFinished]),
            ("after passing", [TestStarted, AttemptFinished, TestFinished]),
        ],
        ids=["passed", "retried", "skipped", "skipped-by-need", "ran-after-need"],
    )
    def test_each_test_has_its_events_in_order(
        self, ran: Ran, name: str, expected: list[type]
    ) -> None:
        _tests, _result, events = ran
        assert events_of(events, name) == expected

    def test_attempt_events_carry_the_kept_attempts(self, ran: Ran) -> None:
        _tests, result, events = ran
        for final in result.results:
            attempts = [
                e.attempt for e in events if isinstance(e, AttemptFinished) and e.test == final.test
            ]
            assert attempts == list(final.attempts)

    def test_finished_events_carry_the_final_results(self, ran: Ran) -> None:
        _tests, result, events = ran
        finished = [e.result for e in events if isinstance(e, TestFinished)]
        assert len(finished) == len(result.results)
        assert set(map(id, finished)) == set(map(id, result.results))

    def test_all_events_come_from_the_calling_thread(self, scratch: Scratch, ran: Ran) -> None:
        assert scratch.recorder.threads == {threading.get_ident()}


@pytest.mark.parametrize("jobs", [1, 2, 3], ids=["jobs-1", "jobs-2", "jobs-3"])
def test_no_more_than_jobs_tests_run_at_once(scratch: Scratch, jobs: int) -> None:
    # Each test waits until `jobs` tests have started, so the bound is also reached.
    tests = scratch.load_tests([scratch.barrier_test(f"t{i}", jobs) for i in range(6)])
    result = scratch.run(tests, jobs)
    assert [r.outcome for r in result.results] == [Outcome.PASSED] * 6
    assert len(scratch.log_lines()) == 12
    assert scratch.max_overlap() == jobs


@pytest.mark.slow
def test_jobs_far_past_the_core_count_run_together(scratch: Scratch) -> None:
    count = 40
    tests = scratch.load_tests([scratch.barrier_test(f"t{i:02d}", count) for i in range(count)])
    result = scratch.run(tests, jobs=count)
    assert [r.outcome for r in result.results] == [Outcome.PASSED] * count
    assert scratch.max_overlap() >= 20
    assert scratch.recorder.threads == {threading.get_ident()}


def test_jobs_beyond_the_number_of_tests(scratch: Scratch) -> None:
    tests = scratch.load("tests: [{name: one, run: 'true'}, {name: two, run: 'true'}]")
    result = scratch.run(tests, jobs=100)
    assert [r.outcome for r in result.results] == [Outcome.PASSED] * 2


def test_an_empty_selection_runs_nothing(scratch: Scratch) -> None:
    result = scratch.run([], jobs=2)
    assert result.results == ()
    assert result.ok
    assert [type(e) for e in scratch.events] == [RunStarted, RunFinished]
