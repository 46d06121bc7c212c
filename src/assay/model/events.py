"""Events the engine emits while a run progresses; handlers react to them.

Events are past tense and immutable. The engine emits them from one thread,
in a well-defined order: `RunStarted`, then for each test `TestStarted`,
one `AttemptFinished` per attempt and `TestFinished`, then `RunFinished`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

from assay.model.results import Attempt, Result, RunResult
from assay.model.tests import CommandTest


@dataclass(frozen=True, slots=True)
class RunStarted:
    """A run began with these tests selected, in report order."""

    tests: tuple[CommandTest, ...]
    started_at: datetime
    jobs: int


@dataclass(frozen=True, slots=True)
class TestStarted:
    """A test's first attempt is about to start."""

    __test__ = False

    test: CommandTest


@dataclass(frozen=True, slots=True)
class AttemptFinished:
    """One attempt of a test ended; more may follow if it has retries left."""

    test: CommandTest
    attempt: Attempt


@dataclass(frozen=True, slots=True)
class TestFinished:
    """A test has its final result (also emitted for skipped tests)."""

    __test__ = False

    result: Result


@dataclass(frozen=True, slots=True)
class RunFinished:
    """The run ended, normally or cut short (see `RunResult.interrupted`)."""

    result: RunResult


Event: TypeAlias = RunStarted | TestStarted | AttemptFinished | TestFinished | RunFinished
