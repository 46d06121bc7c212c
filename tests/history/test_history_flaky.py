"""Flaky detection (`assay.history.find_flaky`): its signals, their reasons and its score."""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from assay.history import FlakyConfig, FlakyTest, Sample, find_flaky
from assay.model import Outcome

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)

# One letter per run: Passed, passed on Retry, Failed, Error, Timeout, Skipped.
LETTERS = {
    "P": (Outcome.PASSED, False),
    "R": (Outcome.PASSED, True),
    "F": (Outcome.FAILED, False),
    "E": (Outcome.ERROR, False),
    "T": (Outcome.TIMEOUT, False),
    "S": (Outcome.SKIPPED, False),
}


def at(run_id: int) -> datetime:
    return T0 + timedelta(hours=run_id)


def history(
    pattern: str,
    test_id: str = "t",
    commits: str | None = None,
    mass: Collection[int] = (),
) -> list[Sample]:
    """One sample per letter of `pattern`, in runs 1, 2, 3, ... an hour apart.

    `commits` gives each run's commit, one character per run ("." for none);
    without it every run has a commit of its own. Runs in `mass` are ones where
    90% of the tests failed.
    """
    samples = []
    for run_id, letter in enumerate(pattern, start=1):
        outcome, flaky = LETTERS[letter]
        commit = f"c{run_id}" if commits is None else commits[run_id - 1]
        samples.append(
            Sample(
                test_id=test_id,
                run_id=run_id,
                run_started_at=at(run_id),
                commit=None if commit == "." else commit,
                outcome=outcome,
                flaky=flaky,
                run_failed_ratio=0.9 if run_id in mass else 0.05,
            )
        )
    return samples


# Short histories flip often; these tests look at the other signals alone.
NO_FLIPS = FlakyConfig(min_samples=1000)


def only(samples: list[Sample], config: FlakyConfig | None = None) -> FlakyTest:
    [found] = find_flaky(samples, config)
    return found


class TestStable:
    @pytest.mark.parametrize(
        "pattern",
        [
            "P" * 30,
            "F" * 30,
            "FETFETFETFETFET",
            "SPSPSPSPSPSP",
            "PPPPPFFFFF",
            "FFFFFPPPPP",
            "P",
            "",
        ],
        ids=[
            "always-passes",
            "always-fails",
            "always-fails-in-different-ways",
            "skips-are-not-flips",
            "one-regression",
            "one-fix",
            "one-run",
            "no-runs",
        ],
    )
    def test_not_flaky(self, pattern: str) -> None:
        assert find_flaky(history(pattern)) == []

    def test_always_failing_on_one_commit_is_not_flaky(self) -> None:
        assert find_flaky(history("FFEFTF", commits="aaaaaa")) == []

    def test_rare_flips_are_below_the_rate(self) -> None:
        # Broken for a while, then fixed: 2 flips in 30 runs.
        assert find_flaky(history("P" * 10 + "F" * 10 + "P" * 10)) == []


class TestRetries:
    def test_reason_counts_runs_and_names_the_last(self) -> None:
        found = only(history("PPRPPPPRPP"))
        assert found.reasons == ("passed on retry in 2 of 10 runs (last: run 8)",)
        assert found.score == pytest.approx(0.2)
        assert found.samples == 10
        assert found.last_seen == at(8)

    def test_one_retry_is_enough_below_min_samples(self) -> None:
        found = only(history("R"))
        assert found.reasons == ("passed on retry in 1 of 1 run (last: run 1)",)
        assert found.score == 1.0

    def test_a_retried_test_that_otherwise_always_fails_is_flaky(self) -> None:
        assert only(history("F" * 15 + "R" + "F" * 4)).reasons == (
            "passed on retry in 1 of 20 runs (last: run 16)",
        )


class TestSameCommit:
    def test_pass_and_fail_on_one_commit(self) -> None:
        found = only(history("PPPFPP", commits="aabbcc"), NO_FLIPS)
        assert found.reasons == ("passed and failed on the same commit b (runs 3, 4)",)
        # One run in six disagreed with the other outcome on its commit.
        assert found.score == pytest.approx(1 / 6)
        assert found.last_seen == at(4)

    @pytest.mark.parametrize(
        ("commit", "shown"),
        [
            ("abc1234def5678abc1234def5678abc1234def56", "abc1234"),
            ("abc1234", "abc1234"),
            ("release-2024.05", "release-2024.05"),
            ("ABC1234DEF5678ABC1234DEF5678", "ABC1234DEF5678ABC1234DEF5678"),
        ],
        ids=["full-sha-is-shortened", "short-sha", "branch-name", "not-a-git-sha"],
    )
    def test_commit_is_shown_short(self, commit: str, shown: str) -> None:
        samples = [
            Sample("t", 12, at(12), commit, Outcome.PASSED, False, 0.0),
            Sample("t", 13, at(13), commit, Outcome.FAILED, False, 0.0),
        ]
        assert only(samples).reasons == (
            f"passed and failed on the same commit {shown} (runs 12, 13)",
        )

    def test_names_the_latest_commit_and_counts_the_others(self) -> None:
        found = only(history("PFPPFPPP", commits="aabbccdd"), NO_FLIPS)
        assert found.reasons == (
            "passed and failed on the same commit c (runs 5, 6) and on 1 other commit",
        )
        assert found.score == pytest.approx(2 / 8)

    def test_many_runs_on_one_commit_are_abbreviated(self) -> None:
        found = only(history("PPPPPPPPF", commits="aaaaaaaaa"))
        assert found.reasons == (
            "passed and failed on the same commit a (runs 1, 2, 3, 4, 5 and 4 more)",
        )
        assert found.score == pytest.approx(1 / 9)

    def test_error_and_timeout_contradict_a_pass(self) -> None:
        assert len(find_flaky(history("PE", commits="aa"))) == 1
        assert len(find_flaky(history("TP", commits="aa"))) == 1

    def test_runs_without_a_commit_are_not_compared(self) -> None:
        assert find_flaky(history("PF", commits="..")) == []

    def test_skipped_run_does_not_contradict(self) -> None:
        assert find_flaky(history("PS", commits="aa")) == []


class TestFlips:
    def test_reason_shows_count_and_rate(self) -> None:
        found = only(history("PPPFPPPFPPPFPPPPPPPP"))
        assert found.reasons == (
            "flipped between pass and fail 6 times in 20 runs (rate 0.32 >= 0.20)",
        )
        assert found.score == pytest.approx(6 / 19)
        assert found.last_seen == at(13)

    def test_alternating_is_as_flaky_as_can_be(self) -> None:
        assert only(history("PFPFPFPFPF")).score == 1.0

    def test_errors_and_timeouts_are_failures(self) -> None:
        assert only(history("PEPTPEPT")).reasons == (
            "flipped between pass and fail 7 times in 8 runs (rate 1.00 >= 0.20)",
        )

    @pytest.mark.parametrize(
        ("min_samples", "flagged"),
        [(5, False), (4, True)],
        ids=["below-min-samples", "at-min-samples"],
    )
    def test_min_samples(self, min_samples: int, flagged: bool) -> None:
        found = find_flaky(history("PFPF"), FlakyConfig(min_samples=min_samples))
        assert bool(found) is flagged

    @pytest.mark.parametrize(
        ("flip_rate", "flagged"),
        [(0.2, True), (0.3, False)],
        ids=["rate-at-threshold", "rate-below-threshold"],
    )
    def test_threshold_is_inclusive(self, flip_rate: float, flagged: bool) -> None:
        # 2 flips in 11 runs: a rate of exactly 0.2.
        found = find_flaky(history("PPPPFPPPPPP"), FlakyConfig(flip_rate=flip_rate))
        assert bool(found) is flagged

    def test_skipped_runs_do_not_break_a_streak(self) -> None:
        assert find_flaky(history("PSPSPSFSFSFSFSF")) == []


class TestIgnoredRuns:
    def test_failures_in_mass_failure_runs_are_ignored(self) -> None:
        assert find_flaky(history("PFPFPFPFPF", mass={2, 4, 6, 8, 10})) == []

    def test_mass_failure_runs_are_not_samples(self) -> None:
        found = only(history("PFRPPFPPPP", mass={2, 6}))
        assert found.samples == 8
        assert found.reasons == ("passed on retry in 1 of 8 runs (last: run 3)",)

    def test_same_commit_contradiction_in_a_mass_failure_run_is_ignored(self) -> None:
        assert find_flaky(history("PFP", commits="aab", mass={2})) == []

    def test_ratio_at_the_threshold_still_counts(self) -> None:
        samples = [
            Sample("t", 1, at(1), "a", Outcome.PASSED, False, 0.5),
            Sample("t", 2, at(2), "a", Outcome.FAILED, False, 0.5),
        ]
        assert len(find_flaky(samples)) == 1
        assert find_flaky(samples, FlakyConfig(mass_failure=0.4)) == []

    def test_skipped_results_are_not_samples(self) -> None:
        assert only(history("SSRSSPP")).samples == 3


class TestWindow:
    def test_old_flakiness_falls_out_of_the_window(self) -> None:
        samples = history("PFPFPFPFPF" + "P" * 30)
        assert find_flaky(samples) == []
        assert only(samples, FlakyConfig(window=40)).reasons == (
            "flipped between pass and fail 10 times in 40 runs (rate 0.26 >= 0.20)",
        )

    def test_samples_are_capped_at_the_window(self) -> None:
        assert only(history("R" + "P" * 9), FlakyConfig(window=10)).samples == 10
        assert find_flaky(history("R" + "P" * 10), FlakyConfig(window=10)) == []

    def test_window_takes_the_latest_runs_whatever_the_input_order(self) -> None:
        samples = history("PFPFPFPFPF" + "P" * 30)
        random.Random(7).shuffle(samples)
        assert find_flaky(samples) == []


class TestScore:
    def test_signals_combine(self) -> None:
        # Retries in 2 of 10 runs and 6 flips in 9 pairs of runs.
        found = only(history("PFPFRFPPRP"))
        r, f = 2 / 10, 6 / 9
        assert found.reasons == (
            "passed on retry in 2 of 10 runs (last: run 9)",
            "flipped between pass and fail 6 times in 10 runs (rate 0.67 >= 0.20)",
        )
        assert found.score == pytest.approx(1 - (1 - r) * (1 - f))
        assert found.last_seen == at(9)

    def test_all_three_signals(self) -> None:
        found = only(history("PFRFPF", commits="aabccd"))
        assert [reason.split(" ")[0] for reason in found.reasons] == ["passed", "passed", "flipped"]
        assert found.score == 1.0

    def test_sorted_by_score_then_id(self) -> None:
        samples = [
            *history("PPPPPPPPPR", test_id="b-rare"),
            *history("PFPFPFPFPF", test_id="z-always"),
            *history("PPPPPPPPPR", test_id="a-rare"),
            *history("P" * 10, test_id="stable"),
        ]
        random.Random(3).shuffle(samples)
        assert [f.test_id for f in find_flaky(samples)] == ["z-always", "a-rare", "b-rare"]

    def test_input_order_does_not_matter(self) -> None:
        samples = [*history("PFRFPPRP", "x", "aabbccdd"), *history("PPPPRPPP", "y")]
        shuffled = samples[::-1]
        assert find_flaky(shuffled) == find_flaky(samples)

    def test_accepts_any_iterable(self) -> None:
        assert len(find_flaky(iter(history("PPR")))) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("window", 0),
        ("min_samples", 1),
        ("flip_rate", -0.1),
        ("flip_rate", 1.5),
        ("mass_failure", -0.1),
        ("mass_failure", 2.0),
    ],
    ids=[
        "empty-window",
        "one-sample",
        "negative-rate",
        "rate-above-one",
        "negative-mass",
        "mass-above-one",
    ],
)
def test_config_is_validated(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        changes: dict[str, Any] = {field: value}
        replace(FlakyConfig(), **changes)
