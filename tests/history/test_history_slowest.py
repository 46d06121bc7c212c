"""The slowest tests and their trends (`assay.history.slowest`, `sparkline`)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from assay.history import DurationSample, SlowTest, slowest, sparkline

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def timings(test_id: str, durations: Sequence[float]) -> list[DurationSample]:
    """One sample per duration, oldest first, in runs 1, 2, 3, ... an hour apart."""
    return [
        DurationSample(test_id, run_id, T0 + timedelta(hours=run_id), d)
        for run_id, d in enumerate(durations, start=1)
    ]


def test_summary_of_one_test() -> None:
    [slow] = slowest(timings("t", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]), recent=3)
    assert slow == SlowTest(
        test_id="t",
        last=8.0,
        median_recent=7.0,
        median_before=3.0,
        trend=7 / 3,
        runs=8,
        sparkline="▁▂▃▄▅▆▇█",
    )


@pytest.mark.parametrize(
    ("durations", "recent", "median_recent", "median_before", "trend"),
    [
        ([2.0, 2.0, 2.0, 4.0, 4.0, 4.0], 3, 4.0, 2.0, 2.0),
        ([4.0, 4.0, 4.0, 2.0, 2.0, 2.0], 3, 2.0, 4.0, 0.5),
        ([1.0, 9.0, 3.0], 5, 3.0, None, None),
        ([1.0, 9.0, 3.0], 3, 3.0, None, None),
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 4, 4.5, 1.5, 3.0),
        ([0.0, 0.0, 1.0, 1.0, 1.0], 3, 1.0, 0.0, None),
    ],
    ids=[
        "slower",
        "faster",
        "fewer-runs-than-recent",
        "as-many-runs-as-recent",
        "even-count-median",
        "earlier-took-no-time",
    ],
)
def test_trend(
    durations: list[float],
    recent: int,
    median_recent: float,
    median_before: float | None,
    trend: float | None,
) -> None:
    [slow] = slowest(timings("t", durations), recent=recent)
    assert (slow.median_recent, slow.median_before, slow.trend) == (
        median_recent,
        median_before,
        trend,
    )


def test_ranked_by_recent_median_then_id() -> None:
    samples = [
        *timings("was-slow", [9.0, 9.0, 9.0, 0.1]),
        *timings("b-steady", [2.0, 2.0]),
        *timings("a-steady", [2.0, 2.0]),
        *timings("now-slow", [0.1, 0.1, 5.0]),
    ]
    ranked = slowest(samples, recent=1)
    assert [s.test_id for s in ranked] == ["now-slow", "a-steady", "b-steady", "was-slow"]


@pytest.mark.parametrize(
    ("limit", "count"), [(0, 0), (2, 2), (20, 3)], ids=["zero", "some", "more-than-there-are"]
)
def test_limit(limit: int, count: int) -> None:
    samples = [*timings("a", [1.0]), *timings("b", [2.0]), *timings("c", [3.0])]
    assert [s.test_id for s in slowest(samples, limit=limit)] == ["c", "b", "a"][:count]


def test_order_of_samples_does_not_matter() -> None:
    samples = [*timings("a", [1.0, 3.0, 2.0, 5.0, 4.0, 0.5, 0.7]), *timings("b", [2.0, 2.5])]
    shuffled = samples[:]
    random.Random(5).shuffle(shuffled)
    assert slowest(shuffled, recent=3) == slowest(samples, recent=3)


def test_last_is_the_latest_run_not_the_last_sample_given() -> None:
    samples = timings("t", [1.0, 2.0, 3.0])
    [slow] = slowest(reversed(samples))
    assert slow.last == 3.0


def test_sparkline_shows_the_last_twenty_runs() -> None:
    [slow] = slowest(timings("t", [100.0] * 5 + [1.0] * 20))
    # The slow early runs are out of sight, so the recent ones fill the scale.
    assert slow.sparkline == "█" * 20
    assert slow.runs == 25


def test_no_samples() -> None:
    assert slowest([]) == []


@pytest.mark.parametrize(
    ("durations", "expected"),
    [
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], "▁▂▃▄▅▆▇█"),
        ([8.0, 4.0, 0.0], "█▄▁"),
        ([2.0, 2.0, 2.0], "███"),
        ([1.0, 1.02, 0.98], "███"),
        ([0.0, 0.0], "▁▁"),
        ([5.0], "█"),
        ([], ""),
    ],
    ids=["rising", "falling-to-zero", "flat", "noise-stays-flat", "all-zero", "one", "none"],
)
def test_sparkline(durations: list[float], expected: str) -> None:
    assert sparkline(durations) == expected


@pytest.mark.parametrize(
    ("limit", "recent", "message"),
    [(-1, 5, "limit"), (20, 0, "recent")],
    ids=["negative-limit", "no-recent-runs"],
)
def test_arguments_are_validated(limit: int, recent: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        slowest([], limit=limit, recent=recent)
