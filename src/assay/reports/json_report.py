"""The JSON report: a versioned document with every result and every attempt.

The format is described by `run.schema.json` beside this module (JSON
Schema) and documented in `docs/json-report.md`. Consumers should check
`schema`; a change that breaks readers bumps its number.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assay.model import Attempt, Event, Failure, Outcome, Output, Result, RunFinished, RunResult

SCHEMA = "assay.run/1"
SCHEMA_FILE = Path(__file__).with_name("run.schema.json")


class JsonWriter:
    """Writes the run as JSON to `path` when the run finishes."""

    def __init__(self, path: Path, version: str) -> None:
        self.path = path
        self.version = version

    def handle(self, event: Event) -> None:
        """Write the report on `RunFinished`."""
        if isinstance(event, RunFinished):
            write_json(event.result, self.path, self.version)


def write_json(run: RunResult, path: Path, version: str) -> None:
    """Write the JSON report of `run` to `path`, creating its directory."""
    text = json.dumps(run_document(run, version), indent=2, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def run_document(run: RunResult, version: str) -> dict[str, Any]:
    """The JSON document for a run."""
    return {
        "schema": SCHEMA,
        "assay_version": version,
        "started_at": run.started_at.isoformat(),
        "duration": round(run.duration, 6),
        "interrupted": run.interrupted,
        "counts": {o.value: run.count(o) for o in Outcome} | {"flaky": run.flaky},
        "results": [_result(r) for r in run.results],
    }


def _result(result: Result) -> dict[str, Any]:
    test = result.test
    return {
        "id": test.id,
        "suite": test.suite,
        "name": test.name,
        "file": test.location.path.as_posix(),
        "line": test.location.line,
        "kind": test.kind,
        "tags": sorted(test.tags),
        "outcome": result.outcome.value,
        "flaky": result.flaky,
        "reason": result.reason,
        "duration": round(result.duration, 6),
        "attempts": [attempt_document(a) for a in result.attempts],
    }


def attempt_document(attempt: Attempt) -> dict[str, Any]:
    """One attempt as the JSON report (and the server's wire format) writes it."""
    return {
        "number": attempt.number,
        "outcome": attempt.outcome.value,
        "started_at": attempt.started_at.isoformat(),
        "duration": round(attempt.duration, 6),
        "exit_code": attempt.exit_code,
        "signal": attempt.signal,
        "failures": [_failure(f) for f in attempt.failures],
        "stdout": _output(attempt.stdout),
        "stderr": _output(attempt.stderr),
        "notes": list(attempt.notes),
    }


def _failure(failure: Failure) -> dict[str, Any]:
    return {
        "expectation": failure.expectation,
        "message": failure.message,
        "expected": failure.expected,
        "actual": failure.actual,
        "diff": failure.diff,
    }


def _output(output: Output | None) -> dict[str, Any] | None:
    if output is None:
        return None
    return {"text": output.text, "size": output.size, "truncated": output.truncated}
