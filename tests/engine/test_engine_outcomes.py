"""Retries, `needs` and `skip`: how a test's final result follows from its attempts and needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from assay.model import Outcome

if TYPE_CHECKING:
    from conftest import Scratch

DIR = "${{ suite.dir }}"


# Counts its own attempts in a file beside the suite and fails until the given attempt.
def pass_on(attempt: int) -> str:
    return (
        f'n=$(cat "{DIR}/count" 2>/dev/null || echo 0); n=$((n + 1)); '
        f'echo "$n" > "{DIR}/count"; [ "$n" -ge {attempt} ]'
    )


class TestRetries:
    def test_passing_after_a_failure_is_flaky(self, scratch: Scratch) -> None:
        tests = scratch.load_tests([{"name": "flaky", "run": pass_on(2), "retries": 3}])
        [result] = scratch.run(tests).results
        assert result.outcome is Outcome.PASSED
        assert result.flaky
        assert [a.number for a in result.attempts] == [1, 2]
        assert [a.outcome for a in result.attempts] == [Outcome.FAILED, Outcome.PASSED]
        assert result.attempts[0].exit_code == 1
        assert [f.expectation for f in result.attempts[0].failures] == ["exit"]
        assert result.failures == ()

    @pytest.mark.parametrize("retries", [0, 1, 3], ids=["none", "one", "three"])
    def test_always_failing_keeps_every_attempt(self, scratch: Scratch, retries: int) -> None:
        tests = scratch.load_tests([{"name": "broken", "run": "exit 7", "retries": retries}])
        [result] = scratch.run(tests).results
        assert result.outcome is Outcome.FAILED
        assert not result.flaky
        assert [a.number for a in result.attempts] == list(range(1, retries + 2))
        assert {a.exit_code for a in result.attempts} == {7}
        assert result.failures == result.attempts[-1].failures

    def test_passing_at_once_is_not_flaky(self, scratch: Scratch) -> None:
        tests = scratch.load_tests([{"name": "fine", "run": "true", "retries": 2}])
        [result] = scratch.run(tests).results
        assert result.outcome is Outcome.PASSED
        assert not result.flaky
        assert len(result.attempts) == 1

    def test_retries_come_from_defaults(self, scratch: Scratch) -> None:
        tests = scratch.load_tests([{"name": "broken", "run": "false"}], defaults={"retries": 2})
        [result] = scratch.run(tests).results
        assert len(result.attempts) == 3

    def test_a_timeout_is_retried_and_kept(self, scratch: Scratch) -> None:
        tests = scratch.load_tests(
            [{"name": "slow once", "run": f"{pass_on(2)} || sleep 30"}],
            defaults={"retries": 1, "timeout": "300ms"},
        )
        [result] = scratch.run(tests).results
        assert [a.outcome for a in result.attempts] == [Outcome.TIMEOUT, Outcome.PASSED]
        assert result.outcome is Outcome.PASSED
        assert result.flaky

    def test_an_error_is_retried(self, scratch: Scratch) -> None:
        tests = scratch.load_tests(
            [{"name": "no program", "run": ["no-such-program-for-assay"], "retries": 2}]
        )
        [result] = scratch.run(tests).results
        assert result.outcome is Outcome.ERROR
        assert [a.outcome for a in result.attempts] == [Outcome.ERROR] * 3

    def test_many_retries_of_an_instant_error(self, scratch: Scratch) -> None:
        tests = scratch.load_tests(
            [{"name": "no program", "run": ["no-such-program-for-assay"], "retries": 2000}]
        )
        [result] = scratch.run(tests).results
        assert len(result.attempts) == 2001


class TestNeeds:
    @pytest.mark.parametrize(
        ("setup", "ended"),
        [
            ({"run": "false"}, "ended failed"),
            ({"run": ["no-such-program-for-assay"]}, "ended error"),
            ({"run": ["sleep", "30"], "timeout": "200ms"}, "ended timeout"),
            ({"run": "true", "skip": "not here"}, "was skipped"),
        ],
        ids=["failed", "error", "timeout", "skipped"],
    )
    def test_a_dependant_of_a_test_that_did_not_pass_is_skipped(
        self, scratch: Scratch, setup: dict[str, object], ended: str
    ) -> None:
        tests = scratch.load_tests(
            [
                {"name": "setup", **setup},
                {"name": "dependant", "run": f'touch "{DIR}/ran"', "needs": ["setup"]},
            ]
        )
        _setup, dependant = scratch.run(tests).results
        assert dependant.outcome is Outcome.SKIPPED
        assert dependant.reason == f"needs 'setup', which {ended}"
        assert dependant.attempts == ()
        assert not (scratch.root / "ran").exists()

    def test_skipping_propagates_down_a_chain(self, scratch: Scratch) -> None:
        tests = scratch.load(
            """
            tests:
              - {name: first, run: "false"}
              - {name: second, run: "true", needs: [first]}
              - {name: third, run: "true", needs: second}
              - {name: unrelated, run: "true"}
            """
        )
        results = scratch.run(tests).results
        assert [r.outcome for r in results] == [
            Outcome.FAILED,
            Outcome.SKIPPED,
            Outcome.SKIPPED,
            Outcome.PASSED,
        ]
        assert results[1].reason == "needs 'first', which ended failed"
        assert results[2].reason == "needs 'second', which was skipped"

    def test_a_dependant_runs_after_what_it_needs(self, scratch: Scratch) -> None:
        # The dependant comes first in the file and would otherwise finish first.
        tests = scratch.load_tests(
            [
                {"name": "dependant", "run": f'echo dependant >> "{DIR}/log"', "needs": ["slow"]},
                {"name": "slow", "run": f'sleep 0.3; echo slow >> "{DIR}/log"'},
            ]
        )
        results = scratch.run(tests, jobs=4).results
        assert [r.outcome for r in results] == [Outcome.PASSED, Outcome.PASSED]
        assert [r.test.name for r in results] == ["dependant", "slow"]
        assert scratch.log_lines() == ["slow", "dependant"]

    def test_a_test_with_several_needs_waits_for_all(self, scratch: Scratch) -> None:
        tests = scratch.load_tests(
            [
                {"name": "one", "run": f'sleep 0.2; echo one >> "{DIR}/log"'},
                {"name": "two", "run": f'echo two >> "{DIR}/log"'},
                {"name": "last", "run": f'echo last >> "{DIR}/log"', "needs": ["one", "two"]},
            ]
        )
        results = scratch.run(tests, jobs=4).results
        assert [r.outcome for r in results] == [Outcome.PASSED] * 3
        assert scratch.log_lines()[-1] == "last"

    def test_one_failed_need_of_several_skips(self, scratch: Scratch) -> None:
        tests = scratch.load(
            """
            tests:
              - {name: good, run: "true"}
              - {name: bad, run: "false"}
              - {name: both, run: "true", needs: [good, bad]}
            """
        )
        results = scratch.run(tests).results
        assert results[2].outcome is Outcome.SKIPPED
        assert results[2].reason == "needs 'bad', which ended failed"

    def test_a_flaky_need_counts_as_passed(self, scratch: Scratch) -> None:
        tests = scratch.load_tests(
            [
                {"name": "flaky", "run": pass_on(2), "retries": 1},
                {"name": "after", "run": "true", "needs": ["flaky"]},
            ]
        )
        flaky, after = scratch.run(tests).results
        assert flaky.flaky
        assert after.outcome is Outcome.PASSED

    def test_needs_outside_the_selection_are_ignored(self, scratch: Scratch) -> None:
        tests = scratch.load(
            """
            tests:
              - {name: setup, run: "false"}
              - {name: dependant, run: "true", needs: [setup]}
            """
        )
        [result] = scratch.run(tests[1:]).results
        assert result.outcome is Outcome.PASSED


class TestSkip:
    @pytest.mark.parametrize(
        ("skip", "reason"),
        [("'not on this machine'", "not on this machine"), ("true", "skipped")],
        ids=["reason", "true"],
    )
    def test_skip_has_a_reason_and_no_attempts(
        self, scratch: Scratch, skip: str, reason: str
    ) -> None:
        tests = scratch.load(
            f"""
            tests:
              - name: skipped
                run: touch "{DIR}/ran"
                skip: {skip}
            """
        )
        [result] = scratch.run(tests).results
        assert result.outcome is Outcome.SKIPPED
        assert result.reason == reason
        assert result.attempts == ()
        assert not (scratch.root / "ran").exists()

    def test_skip_false_runs(self, scratch: Scratch) -> None:
        tests = scratch.load("tests: [{name: runs, run: 'true', skip: false}]")
        [result] = scratch.run(tests).results
        assert result.outcome is Outcome.PASSED

    def test_a_run_with_only_skips_is_ok(self, scratch: Scratch) -> None:
        tests = scratch.load("tests: [{name: a, run: 'true', skip: later}]")
        result = scratch.run(tests)
        assert result.ok
        assert result.summary().startswith("0 passed, 0 failed, 1 skipped")
