"""Results as history keeps them: a test's identity and verdict, whoever ran it.

A `Result` carries the `CommandTest` that Assay executed. Results that come
from elsewhere (a JUnit file, a pytest report log, a remote run) have no such
test, only an identity. `ResultRecord` is the shape both are stored and
analysed in; `ResultRecord.of` turns an executed `Result` into one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from assay.model.results import Attempt, Outcome, Result


@dataclass(frozen=True, slots=True)
class TestRecord:
    """A test's stable identity (`id`, see DESIGN.md) and where it was written."""

    __test__ = False

    id: str
    name: str
    suite: str = ""
    kind: str = "run"
    file: str | None = None
    line: int | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ResultRecord:
    """One test's verdict in one run, with every attempt behind it."""

    test: TestRecord
    outcome: Outcome
    attempts: tuple[Attempt, ...] = ()
    reason: str | None = None
    flaky: bool = False
    started_at: datetime | None = None

    @property
    def duration(self) -> float:
        """Seconds spent over all attempts."""
        return sum(a.duration for a in self.attempts)

    @classmethod
    def of(cls, result: Result) -> ResultRecord:
        """The record of a test Assay executed."""
        test = result.test
        return cls(
            test=TestRecord(
                id=test.id,
                name=test.name,
                suite=test.suite,
                kind=test.kind,
                file=test.location.path.as_posix(),
                line=test.location.line,
                tags=tuple(sorted(test.tags)),
            ),
            outcome=result.outcome,
            attempts=result.attempts,
            reason=result.reason,
            flaky=result.flaky,
            started_at=result.attempts[0].started_at if result.attempts else None,
        )
