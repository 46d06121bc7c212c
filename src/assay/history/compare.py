"""Comparing two runs: what broke, what was fixed, what appeared, vanished or slowed down."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from assay.model import Outcome

_FAILING = frozenset({Outcome.FAILED, Outcome.ERROR, Outcome.TIMEOUT})


@dataclass(frozen=True, slots=True)
class ResultSummary:
    """One test's result in a run, reduced to what a comparison needs."""

    test_id: str
    outcome: Outcome
    duration: float

    @property
    def failing(self) -> bool:
        """Whether the test failed, errored or timed out."""
        return self.outcome in _FAILING


@dataclass(frozen=True, slots=True)
class Change:
    """One test seen from both runs; a side is None where the test is absent from that run."""

    test_id: str
    base: ResultSummary | None
    head: ResultSummary | None


@dataclass(frozen=True, slots=True)
class Slowdown:
    """A test that passed in both runs and took noticeably longer in the head run."""

    test_id: str
    base: ResultSummary
    head: ResultSummary

    @property
    def ratio(self) -> float:
        """How many times longer the head run took (infinite when the base took no time)."""
        return self.head.duration / self.base.duration if self.base.duration else float("inf")

    @property
    def delta(self) -> float:
        """Seconds added by the head run."""
        return self.head.duration - self.base.duration


@dataclass(frozen=True, slots=True)
class Comparison:
    """The differences between a base run and a head run.

    The categories answer separate questions, so a test can be in two: a new
    test that fails is in both `new_tests` and `new_failures`. Entries follow
    the head run's order (`removed_tests` the base run's), except `slowdowns`,
    which put the most seconds lost first.
    """

    new_failures: tuple[Change, ...] = ()
    fixed: tuple[Change, ...] = ()
    still_failing: tuple[Change, ...] = ()
    new_tests: tuple[Change, ...] = ()
    removed_tests: tuple[Change, ...] = ()
    slowdowns: tuple[Slowdown, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether every category is empty (still-failing tests count as something)."""
        return not (
            self.new_failures
            or self.fixed
            or self.still_failing
            or self.new_tests
            or self.removed_tests
            or self.slowdowns
        )


def compare(
    base: Iterable[ResultSummary],
    head: Iterable[ResultSummary],
    slowdown_ratio: float = 1.5,
    slowdown_min: float = 0.1,
) -> Comparison:
    """What changed from the `base` run to the `head` run.

    - new failures: failing in head, and passed, skipped or absent in base;
    - fixed: failing in base, passed in head;
    - still failing: failing in both;
    - new tests / removed tests: present in only one run;
    - slowdowns: passed in both, and head took at least `slowdown_ratio` times
      and at least `slowdown_min` seconds more than base.

    "Failing" means failed, error or timeout. When a run lists a test twice,
    its last entry counts.
    """
    if slowdown_ratio < 1:
        raise ValueError(f"slowdown_ratio must be at least 1, got {slowdown_ratio}")
    if slowdown_min < 0:
        raise ValueError(f"slowdown_min must not be negative, got {slowdown_min}")
    before = {r.test_id: r for r in base}
    after = {r.test_id: r for r in head}
    new_failures: list[Change] = []
    fixed: list[Change] = []
    still_failing: list[Change] = []
    new_tests: list[Change] = []
    slowdowns: list[Slowdown] = []
    for test_id, now in after.items():
        then = before.get(test_id)
        change = Change(test_id, then, now)
        if then is None:
            new_tests.append(change)
        if now.failing and (then is None or not then.failing):
            new_failures.append(change)
        elif then is not None and then.failing:
            if now.failing:
                still_failing.append(change)
            elif now.outcome is Outcome.PASSED:
                fixed.append(change)
        elif then is not None and _slowed(then, now, slowdown_ratio, slowdown_min):
            slowdowns.append(Slowdown(test_id, then, now))
    slowdowns.sort(key=lambda s: (-s.delta, s.test_id))
    return Comparison(
        new_failures=tuple(new_failures),
        fixed=tuple(fixed),
        still_failing=tuple(still_failing),
        new_tests=tuple(new_tests),
        removed_tests=tuple(Change(t, r, None) for t, r in before.items() if t not in after),
        slowdowns=tuple(slowdowns),
    )


def _slowed(base: ResultSummary, head: ResultSummary, ratio: float, minimum: float) -> bool:
    # A failed or skipped test's time says how far it got, not how fast it is.
    if base.outcome is not Outcome.PASSED or head.outcome is not Outcome.PASSED:
        return False
    return head.duration >= base.duration * ratio and head.duration >= base.duration + minimum
