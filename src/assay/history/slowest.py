"""The slowest tests, and whether they are getting slower."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import median
from typing import Protocol

BARS = "▁▂▃▄▅▆▇█"

# How many of the latest durations a sparkline shows.
SPARKLINE_LENGTH = 20


class Timed(Protocol):
    """What `slowest` reads of a result: `DurationSample`, or a stored result."""

    @property
    def test_id(self) -> str: ...
    @property
    def run_id(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def duration(self) -> float: ...


@dataclass(frozen=True, slots=True)
class DurationSample:
    """How long one test took in one run, in seconds."""

    test_id: str
    run_id: int
    at: datetime
    duration: float


@dataclass(frozen=True, slots=True)
class SlowTest:
    """One test's recent durations, compared with its earlier ones.

    `trend` is `median_recent / median_before`: above 1 means slower lately;
    it and `median_before` are None when there are no earlier runs (or, for
    `trend`, when they took no time).
    """

    __test__ = False

    test_id: str
    last: float
    median_recent: float
    median_before: float | None
    trend: float | None
    runs: int
    sparkline: str


def slowest(samples: Iterable[Timed], limit: int = 20, recent: int = 5) -> list[SlowTest]:
    """The `limit` tests with the highest median over their `recent` latest runs, slowest first.

    Ties are broken by test id.
    """
    if limit < 0:
        raise ValueError(f"limit must not be negative, got {limit}")
    if recent < 1:
        raise ValueError(f"recent must be at least 1 run, got {recent}")
    histories: defaultdict[str, list[Timed]] = defaultdict(list)
    for sample in samples:
        histories[sample.test_id].append(sample)
    ranked = sorted(
        (_summarise(test_id, history, recent) for test_id, history in histories.items()),
        key=lambda t: (-t.median_recent, t.test_id),
    )
    return ranked[:limit]


def sparkline(durations: Sequence[float]) -> str:
    """One bar per duration, its height proportional to the duration (zero at the bottom).

    Bars start at zero, not at the smallest duration, so that noise of a few
    percent does not look like a cliff.
    """
    highest = max(durations, default=0.0)
    if highest <= 0:
        return BARS[0] * len(durations)
    top = len(BARS) - 1
    return "".join(
        BARS[min(top, max(0, math.ceil(d / highest * len(BARS)) - 1))] for d in durations
    )


def _summarise(test_id: str, history: list[Timed], recent: int) -> SlowTest:
    history.sort(key=lambda s: (s.at, s.run_id))
    durations = [s.duration for s in history]
    latest, earlier = durations[-recent:], durations[:-recent]
    median_recent = median(latest)
    median_before = median(earlier) if earlier else None
    return SlowTest(
        test_id=test_id,
        last=durations[-1],
        median_recent=median_recent,
        median_before=median_before,
        trend=median_recent / median_before if median_before else None,
        runs=len(history),
        sparkline=sparkline(durations[-SPARKLINE_LENGTH:]),
    )
