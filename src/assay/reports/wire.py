"""The wire format: engine events as JSON, for live streams and remote runs.

The server sends these to browsers and other subscribers, and `assay run
--report-to` sends them to a server, which turns them back into records and
stores them. Each event is a JSON object with a `type`:

- `run.started`: `started_at` (epoch seconds), `jobs`, `tests` (each with
  its `position` in report order and its identity);
- `test.started`: `position`, `id`, `name`;
- `attempt.started`: `position`, `id`, `number`;
- `attempt.finished`: `position`, `id`, `attempt` (as in the JSON report);
- `test.finished`: `position`, `result` (identity, outcome, attempts);
- `run.finished`: `duration`, `interrupted`, `counts`.

A test's position is its place in the run's report order, which is what the
store keys results by.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from assay.model import (
    Attempt,
    AttemptFinished,
    AttemptStarted,
    Event,
    Failure,
    Outcome,
    Output,
    RunFinished,
    RunStarted,
    TestFinished,
    TestStarted,
)
from assay.model.records import ResultRecord, TestRecord
from assay.model.tests import CommandTest
from assay.reports.json_report import attempt_document

_OUTCOMES = {o.value: o for o in Outcome}


class WireError(ValueError):
    """A wire event that does not have the documented shape."""


class Encoder:
    """Turns one run's events into wire events; knows each test's position."""

    def __init__(self) -> None:
        self._positions: dict[str, int] = {}

    def encode(self, event: Event) -> dict[str, Any]:
        """The wire form of `event`."""
        if isinstance(event, RunStarted):
            self._positions = {t.id: i for i, t in enumerate(event.tests)}
            return {
                "type": "run.started",
                "started_at": event.started_at.timestamp(),
                "jobs": event.jobs,
                "tests": [{"position": i, **test_document(t)} for i, t in enumerate(event.tests)],
            }
        if isinstance(event, TestStarted):
            test = event.test
            return {
                "type": "test.started",
                "position": self.position(test),
                "id": test.id,
                "name": test.name,
            }
        if isinstance(event, AttemptStarted):
            return {
                "type": "attempt.started",
                "position": self.position(event.test),
                "id": event.test.id,
                "number": event.number,
            }
        if isinstance(event, AttemptFinished):
            return {
                "type": "attempt.finished",
                "position": self.position(event.test),
                "id": event.test.id,
                "attempt": attempt_document(event.attempt),
            }
        if isinstance(event, TestFinished):
            record = ResultRecord.of(event.result)
            return {
                "type": "test.finished",
                "position": self.position(event.result.test),
                "result": record_document(record),
            }
        assert isinstance(event, RunFinished)
        run = event.result
        counts = {o.value: run.count(o) for o in Outcome} | {"flaky": run.flaky}
        return run_finished(run.duration, run.interrupted, counts)

    def position(self, test: CommandTest) -> int:
        """A test's place in the run's report order."""
        return self._positions.get(test.id, len(self._positions))


def run_finished(
    duration: float | None, interrupted: str | None, counts: dict[str, int]
) -> dict[str, Any]:
    """A `run.finished` event: how long the run took, why it was cut short, its totals."""
    return {
        "type": "run.finished",
        "duration": duration,
        "interrupted": interrupted,
        "counts": counts,
    }


def test_document(test: CommandTest | TestRecord) -> dict[str, Any]:
    """A test's identity on the wire."""
    if isinstance(test, CommandTest):
        file: str | None = test.location.path.as_posix()
        line: int | None = test.location.line
    else:
        file, line = test.file, test.line
    return {
        "id": test.id,
        "name": test.name,
        "suite": test.suite,
        "kind": test.kind,
        "file": file,
        "line": line,
        "tags": sorted(test.tags),
    }


test_document.__test__ = False  # type: ignore[attr-defined]


def record_document(record: ResultRecord) -> dict[str, Any]:
    """A result on the wire: the test's identity, the verdict and every attempt."""
    return {
        "test": test_document(record.test),
        "outcome": record.outcome.value,
        "flaky": record.flaky,
        "reason": record.reason,
        "started_at": None if record.started_at is None else record.started_at.timestamp(),
        "attempts": [attempt_document(a) for a in record.attempts],
    }


def read_record(document: Any) -> ResultRecord:
    """The record a `record_document` describes; `WireError` if it is malformed."""
    try:
        test = document["test"]
        return ResultRecord(
            test=TestRecord(
                id=_text(test["id"]),
                name=_text(test["name"]),
                suite=_text(test.get("suite") or ""),
                kind=_text(test.get("kind") or "run"),
                file=test.get("file"),
                line=test.get("line"),
                tags=tuple(test.get("tags") or ()),
            ),
            outcome=_OUTCOMES[document["outcome"]],
            attempts=tuple(_attempt(a) for a in document.get("attempts") or ()),
            reason=document.get("reason"),
            flaky=bool(document.get("flaky")),
            started_at=_time(document.get("started_at")),
        )
    # OverflowError and OSError: a timestamp beyond what a datetime can hold.
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as error:
        raise WireError(f"malformed result: {type(error).__name__}: {error}") from None


def _attempt(document: dict[str, Any]) -> Attempt:
    return Attempt(
        number=int(document["number"]),
        outcome=_OUTCOMES[document["outcome"]],
        started_at=_time(document["started_at"]) or datetime.now(UTC),
        duration=float(document["duration"]),
        exit_code=document.get("exit_code"),
        signal=document.get("signal"),
        failures=tuple(
            Failure(
                expectation=_text(f["expectation"]),
                message=_text(f["message"]),
                expected=f.get("expected"),
                actual=f.get("actual"),
                diff=f.get("diff"),
            )
            for f in document.get("failures") or ()
        ),
        stdout=_output(document.get("stdout")),
        stderr=_output(document.get("stderr")),
        notes=tuple(_text(n) for n in document.get("notes") or ()),
    )


def _output(document: dict[str, Any] | None) -> Output | None:
    if document is None:
        return None
    return Output(
        text=_text(document["text"]),
        size=int(document["size"]),
        truncated=bool(document.get("truncated")),
    )


def _time(value: Any) -> datetime | None:
    """An epoch number, or an ISO 8601 text as the JSON report writes it."""
    if value is None:
        return None
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value), UTC)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value
