"""Events the engine emits while a run progresses; handlers react to them.

Events are past tense and immutable. The engine emits them from one thread,
in a well-defined order: `RunStarted`, then for each test `TestStarted`,
`AttemptStarted` and `AttemptFinished` for each attempt (an attempt that
ends at once, such as a missing program, has no `AttemptStarted`) and
`TestFinished`, then `RunFinished`.
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
class AttemptStarted:
    """An attempt's process is running; its output grows in two files until it finishes.

    `stdout` and `stderr` are paths in this process (`/proc/self/fd/N` for
    pooled files) that can be read while the attempt runs, and only until
    `AttemptFinished`: after that the files are reused for other tests.
    """

    test: CommandTest
    number: int
    stdout: str
    stderr: str


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


Event: TypeAlias = (
    RunStarted | TestStarted | AttemptStarted | AttemptFinished | TestFinished | RunFinished
)
