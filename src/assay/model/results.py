"""Verdicts: what happened to each attempt, each test and the whole run.

A verdict is data, never an exception: a failed expectation is a `Failure`
record on an `Attempt`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from assay.model.tests import CommandTest


class Outcome(enum.Enum):
    """How a test (or one attempt of it) ended."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    TIMEOUT = "timeout"
    SKIPPED = "skipped"

    @property
    def ok(self) -> bool:
        """Whether this outcome lets dependants run."""
        return self is Outcome.PASSED


@dataclass(frozen=True, slots=True)
class Failure:
    """One expectation that did not hold, or the reason a test could not run.

    `expected` and `actual` are short printable forms; `diff` is a unified
    diff for exact and snapshot mismatches.
    """

    expectation: str
    message: str
    expected: str | None = None
    actual: str | None = None
    diff: str | None = None


@dataclass(frozen=True, slots=True)
class Output:
    """A bounded view of one captured stream: its head and tail, and its size."""

    text: str
    size: int
    truncated: bool = False
    path: str | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One execution of a test's command, kept even when a retry follows."""

    number: int
    outcome: Outcome
    started_at: datetime
    duration: float
    exit_code: int | None = None
    signal: str | None = None
    failures: tuple[Failure, ...] = ()
    stdout: Output | None = None
    stderr: Output | None = None
    workdir: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Result:
    """The verdict on one test: its final outcome and every attempt behind it."""

    __test__ = False

    test: CommandTest
    outcome: Outcome
    attempts: tuple[Attempt, ...] = ()
    reason: str | None = None
    flaky: bool = False

    @property
    def duration(self) -> float:
        """Seconds spent over all attempts."""
        return sum(a.duration for a in self.attempts)

    @property
    def failures(self) -> tuple[Failure, ...]:
        """The failures of the final attempt."""
        return self.attempts[-1].failures if self.attempts else ()


@dataclass(frozen=True, slots=True)
class RunResult:
    """Everything one run produced, in the order the tests were written."""

    results: tuple[Result, ...]
    started_at: datetime
    duration: float
    interrupted: str | None = None
    tmp_dir: str | None = None
    run_id: int | None = None
    """The id the run was recorded under in Assay's database, if it was."""

    def count(self, outcome: Outcome) -> int:
        """How many results ended with `outcome`."""
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def flaky(self) -> int:
        """How many results passed only on a retry."""
        return sum(1 for r in self.results if r.flaky)

    @property
    def ok(self) -> bool:
        """Whether every selected test passed or was skipped, and the run was not cut short."""
        return self.interrupted is None and all(
            r.outcome in (Outcome.PASSED, Outcome.SKIPPED) for r in self.results
        )

    def summary(self) -> str:
        """The closing line: `N passed, N failed, N skipped in X.XXs`."""
        parts = [
            f"{self.count(Outcome.PASSED)} passed",
            f"{self.count(Outcome.FAILED)} failed",
            f"{self.count(Outcome.SKIPPED)} skipped",
        ]
        for outcome, word in ((Outcome.ERROR, "error"), (Outcome.TIMEOUT, "timeout")):
            n = self.count(outcome)
            if n:
                parts.append(f"{n} {word}{'s' if n != 1 and word == 'error' else ''}")
        if self.flaky:
            parts.append(f"{self.flaky} flaky")
        return f"{', '.join(parts)} in {self.duration:.2f}s"
