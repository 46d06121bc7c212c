"""Flaky-test detection that explains itself.

A test is flaky when its outcome changes while nothing it depends on did.
Three signals point at that, and each one comes with a reason a person can
check against the run history:

- it passed on a retry within a run;
- it passed and failed on the same commit;
- it flips between pass and fail more often than `FlakyConfig.flip_rate`.

Runs in which most tests failed are left out altogether: that is an
infrastructure incident (a dead database, a full disk), not the test's doing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Protocol

from assay.model import Outcome

# How many run ids a reason lists before it says "and N more".
_LISTED_RUNS = 6


class Observation(Protocol):
    """What flaky detection reads of a result: `Sample`, or a stored result with the same fields."""

    @property
    def test_id(self) -> str: ...
    @property
    def run_id(self) -> int: ...
    @property
    def run_started_at(self) -> datetime: ...
    @property
    def commit(self) -> str | None: ...
    @property
    def outcome(self) -> Outcome: ...
    @property
    def flaky(self) -> bool: ...
    @property
    def run_failed_ratio(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Sample:
    """One test's result in one run, as flaky detection sees it.

    `flaky` says the test passed on a retry within the run; `run_failed_ratio`
    is the share of the run's tests that failed, errored or timed out.
    """

    test_id: str
    run_id: int
    run_started_at: datetime
    commit: str | None
    outcome: Outcome
    flaky: bool
    run_failed_ratio: float


@dataclass(frozen=True, slots=True)
class FlakyConfig:
    """Thresholds for `find_flaky`.

    `window` is how many of a test's most recent runs are looked at;
    `min_samples` is how many it needs before its flip rate counts;
    `flip_rate` is the share of consecutive runs that change between pass and
    fail from which a test is called flaky; runs where more than
    `mass_failure` of the tests failed are ignored.
    """

    window: int = 30
    min_samples: int = 5
    flip_rate: float = 0.2
    mass_failure: float = 0.5

    def __post_init__(self) -> None:
        if self.window < 1:
            raise ValueError(f"the flaky window must be at least 1 run, got {self.window}")
        if self.min_samples < 2:
            raise ValueError(f"min_samples must be at least 2, got {self.min_samples}")
        if not 0 <= self.flip_rate <= 1:
            raise ValueError(f"flip_rate must be between 0 and 1, got {self.flip_rate}")
        if not 0 <= self.mass_failure <= 1:
            raise ValueError(f"mass_failure must be between 0 and 1, got {self.mass_failure}")


@dataclass(frozen=True, slots=True)
class FlakyTest:
    """A test judged flaky: how flaky (`score`, 0 to 1) and why.

    `samples` is how many runs were looked at; `last_seen` is when the most
    recent run showing flaky behaviour started.
    """

    __test__ = False

    test_id: str
    score: float
    reasons: tuple[str, ...]
    samples: int
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class _Signal:
    """One kind of evidence: the share of runs showing it, and its explanation."""

    strength: float
    reason: str
    last_seen: datetime


def find_flaky(
    samples: Iterable[Observation], config: FlakyConfig | None = None
) -> list[FlakyTest]:
    """The flaky tests among `samples`, most flaky first (then by id).

    Skipped results, and every result of a run where more than
    `config.mass_failure` of the tests failed, are not samples. Each test is
    judged on its last `config.window` samples, by three signals, each with a
    strength between 0 and 1:

    - r, retries: the share of runs in which it passed only on a retry;
    - c, same-commit contradictions: the share of runs that disagree with the
      other outcome on a commit where it both passed and failed (the smaller
      of the two counts, per commit);
    - f, flips: the share of consecutive runs whose outcomes differ between pass
      and fail, counted only with at least `config.min_samples` samples, at
      least two flips (one flip is a regression or a fix, not flakiness) and a
      rate of at least `config.flip_rate`.

    The score is ``1 - (1 - r) * (1 - c) * (1 - f)``: any signal alone makes a
    test flaky, and the score is roughly the chance that a run is disturbed by
    it. A test that always fails, or always passes, shows none of them.
    """
    if config is None:
        config = FlakyConfig()
    histories: defaultdict[str, list[Observation]] = defaultdict(list)
    for sample in samples:
        if sample.outcome is not Outcome.SKIPPED and sample.run_failed_ratio <= config.mass_failure:
            histories[sample.test_id].append(sample)
    found = []
    for test_id, history in histories.items():
        history.sort(key=lambda s: (s.run_started_at, s.run_id))
        judged = _judge(test_id, history[-config.window :], config)
        if judged is not None:
            found.append(judged)
    found.sort(key=lambda f: (-f.score, f.test_id))
    return found


def _judge(test_id: str, history: Sequence[Observation], config: FlakyConfig) -> FlakyTest | None:
    """The verdict on one test's windowed history, or None when it looks stable."""
    signals = [
        s
        for s in (_retries(history), _contradictions(history), _flips(history, config))
        if s is not None
    ]
    if not signals:
        return None
    steady = 1.0
    for signal in signals:
        steady *= 1.0 - signal.strength
    return FlakyTest(
        test_id=test_id,
        score=min(1.0, max(0.0, 1.0 - steady)),
        reasons=tuple(s.reason for s in signals),
        samples=len(history),
        last_seen=max(s.last_seen for s in signals),
    )


def _retries(history: Sequence[Observation]) -> _Signal | None:
    """Passing on a retry: the same code gave two outcomes in one run."""
    retried = [s for s in history if s.flaky]
    if not retried:
        return None
    last = retried[-1]
    return _Signal(
        strength=len(retried) / len(history),
        reason=(
            f"passed on retry in {len(retried)} of {_plural(len(history), 'run')}"
            f" (last: run {last.run_id})"
        ),
        last_seen=last.run_started_at,
    )


def _contradictions(history: Sequence[Observation]) -> _Signal | None:
    """Passing and failing on one commit; the reason names the most recent such commit."""
    by_commit: defaultdict[str, list[Observation]] = defaultdict(list)
    for sample in history:
        if sample.commit is not None:
            by_commit[sample.commit].append(sample)
    mixed = {
        commit: runs
        for commit, runs in by_commit.items()
        if any(_passed(s) for s in runs) and not all(_passed(s) for s in runs)
    }
    if not mixed:
        return None
    disagreeing = 0
    for runs in mixed.values():
        passes = sum(1 for s in runs if _passed(s))
        disagreeing += min(passes, len(runs) - passes)
    commit, runs = max(
        mixed.items(), key=lambda item: (item[1][-1].run_started_at, item[1][-1].run_id)
    )
    reason = f"passed and failed on the same commit {_short(commit)} (runs {_run_ids(runs)})"
    if len(mixed) > 1:
        reason += f" and on {_plural(len(mixed) - 1, 'other commit')}"
    return _Signal(disagreeing / len(history), reason, runs[-1].run_started_at)


def _flips(history: Sequence[Observation], config: FlakyConfig) -> _Signal | None:
    """Changing between pass and fail from one run to the next, too often to be code changes."""
    if len(history) < config.min_samples:
        return None
    flipped = [after for before, after in pairwise(history) if _passed(before) != _passed(after)]
    rate = len(flipped) / (len(history) - 1)
    if len(flipped) < 2 or rate < config.flip_rate:
        return None
    return _Signal(
        strength=rate,
        reason=(
            f"flipped between pass and fail {len(flipped)} times in {len(history)} runs"
            f" (rate {rate:.2f} >= {config.flip_rate:.2f})"
        ),
        last_seen=flipped[-1].run_started_at,
    )


def _passed(sample: Observation) -> bool:
    # Skipped samples never get this far, so anything else failed, errored or timed out.
    return sample.outcome is Outcome.PASSED


def _short(commit: str) -> str:
    """A full commit hash cut to the seven characters people recognise; other names unchanged."""
    return commit[:7] if re.fullmatch(r"[0-9a-f]{12,}", commit) else commit


def _run_ids(runs: Sequence[Observation]) -> str:
    ids = [str(s.run_id) for s in runs]
    if len(ids) <= _LISTED_RUNS:
        return ", ".join(ids)
    shown = _LISTED_RUNS - 1
    return f"{', '.join(ids[:shown])} and {len(ids) - shown} more"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
