"""Writing runs and results: the one write path for recording, imports and ingest.

Everything here is plain SQL with `:name` parameters over a `Connection`
(see `connections.py`), batched so a thousand results cost a handful of
statements. Callers own transactions: the recorder commits each batch, an
import commits once at the end so that a broken file leaves nothing behind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assay.model import Attempt, Output
from assay.model.records import ResultRecord
from assay.store.artifacts import ArtifactStore
from assay.store.connections import Connection

TAIL = 4096
"""Characters of each output kept on the attempt row; longer logs become artifacts."""

_IN_CHUNK = 500

_UPSERT_TEST = """
INSERT INTO tests (project_id, key, name, suite, kind, file, line, first_seen, last_seen)
VALUES (:project_id, :key, :name, :suite, :kind, :file, :line, :seen, :seen)
ON CONFLICT (project_id, key) DO UPDATE SET
    name = excluded.name, suite = excluded.suite, kind = excluded.kind,
    file = excluded.file, line = excluded.line, last_seen = excluded.last_seen
"""
_INSERT_RESULT = """
INSERT INTO results (run_id, position, test_id, outcome, flaky, attempts, duration,
                     started_at, reason, message)
VALUES (:run_id, :position, :test_id, :outcome, :flaky, :attempts, :duration,
        :started_at, :reason, :message)
"""
_INSERT_ATTEMPT = """
INSERT INTO attempts (run_id, position, number, outcome, started_at, duration, exit_code,
                      signal, failures, notes, stdout_tail, stdout_size, stdout_artifact,
                      stderr_tail, stderr_size, stderr_artifact)
VALUES (:run_id, :position, :number, :outcome, :started_at, :duration, :exit_code,
        :signal, :failures, :notes, :stdout_tail, :stdout_size, :stdout_artifact,
        :stderr_tail, :stderr_size, :stderr_artifact)
"""
_INSERT_ARTIFACT = """
INSERT INTO artifacts (sha256, size, media_type, created_at)
VALUES (:sha256, :size, :media_type, :created_at)
ON CONFLICT (sha256) DO NOTHING
"""


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What is known about a run when it starts."""

    trigger: str
    started_at: float
    source: str | None = None
    host: str | None = None
    pid: int | None = None
    branch: str | None = None
    commit: str | None = None
    dirty: bool | None = None
    options: dict[str, Any] | None = None


def project_id(connection: Connection, name: str, now: float) -> int:
    """The id of the project called `name`, created if new."""
    connection.execute(
        "INSERT INTO projects (name, created_at) VALUES (:name, :now) "
        "ON CONFLICT (name) DO NOTHING",
        {"name": name, "now": now},
    )
    return int(connection.query("SELECT id FROM projects WHERE name = :name", {"name": name})[0][0])


def start_run(connection: Connection, project: int, info: RunInfo) -> int:
    """Insert a run with status `running`; returns its id."""
    rows = connection.query(
        "INSERT INTO runs (project_id, status, trigger, source, host, pid, branch, "
        '"commit", dirty, options, started_at, total, passed, failed, errors, timeouts, '
        "skipped, flaky) VALUES (:project_id, 'running', :trigger, :source, :host, :pid, "
        ":branch, :commit, :dirty, :options, :started_at, 0, 0, 0, 0, 0, 0, 0) RETURNING id",
        {
            "project_id": project,
            "trigger": info.trigger,
            "source": info.source,
            "host": info.host,
            "pid": info.pid,
            "branch": info.branch,
            "commit": info.commit,
            "dirty": info.dirty,
            "options": json.dumps(info.options, sort_keys=True) if info.options else None,
            "started_at": info.started_at,
        },
    )
    return int(rows[0][0])


def update_git(
    connection: Connection, run_id: int, branch: str | None, commit: str | None, dirty: bool | None
) -> None:
    """Fill in the checkout a run tested, once it is known."""
    connection.execute(
        'UPDATE runs SET branch = :branch, "commit" = :commit, dirty = :dirty WHERE id = :id',
        {"branch": branch, "commit": commit, "dirty": dirty, "id": run_id},
    )


def write_results(
    connection: Connection,
    project: int,
    run_id: int,
    batch: Sequence[tuple[int, ResultRecord]],
    artifacts: ArtifactStore,
    now: float,
) -> None:
    """Insert a batch of `(position, record)` results with their attempts and logs."""
    if not batch:
        return
    tests: dict[str, dict[str, Any]] = {}
    for _, record in batch:
        t = record.test
        tests[t.id] = {
            "project_id": project,
            "key": t.id,
            "name": t.name,
            "suite": t.suite,
            "kind": t.kind,
            "file": t.file,
            "line": t.line,
            "seen": now,
        }
    connection.executemany(_UPSERT_TEST, list(tests.values()))
    ids = _test_ids(connection, project, list(tests))
    results: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    stored: list[dict[str, Any]] = []
    for position, record in batch:
        results.append(
            {
                "run_id": run_id,
                "position": position,
                "test_id": ids[record.test.id],
                "outcome": record.outcome.value,
                "flaky": record.flaky,
                "attempts": len(record.attempts),
                "duration": record.duration,
                "started_at": record.started_at.timestamp() if record.started_at else None,
                "reason": record.reason,
                "message": _message(record),
            }
        )
        for attempt in record.attempts:
            row = _attempt_row(run_id, position, attempt, artifacts, stored, now)
            attempts.append(row)
    connection.executemany(_INSERT_ARTIFACT, stored)
    connection.executemany(_INSERT_RESULT, results)
    connection.executemany(_INSERT_ATTEMPT, attempts)


def finish_run(
    connection: Connection,
    run_id: int,
    *,
    finished_at: float,
    duration: float,
    interrupted: str | None = None,
) -> str:
    """Count the run's results, set its final status and duration; returns the status."""
    counts = {"passed": 0, "failed": 0, "error": 0, "timeout": 0, "skipped": 0}
    flaky = 0
    for outcome, n, f in connection.query(
        "SELECT outcome, COUNT(*), SUM(CASE WHEN flaky THEN 1 ELSE 0 END) FROM results "
        "WHERE run_id = :id GROUP BY outcome",
        {"id": run_id},
    ):
        counts[outcome] = int(n)
        flaky += int(f or 0)
    bad = counts["failed"] + counts["error"] + counts["timeout"]
    status = "interrupted" if interrupted else ("failed" if bad else "passed")
    connection.execute(
        "UPDATE runs SET status = :status, finished_at = :finished_at, duration = :duration, "
        "total = :total, passed = :passed, failed = :failed, errors = :errors, "
        "timeouts = :timeouts, skipped = :skipped, flaky = :flaky, reason = :reason "
        "WHERE id = :id",
        {
            "status": status,
            "finished_at": finished_at,
            "duration": duration,
            "total": sum(counts.values()),
            "passed": counts["passed"],
            "failed": counts["failed"],
            "errors": counts["error"],
            "timeouts": counts["timeout"],
            "skipped": counts["skipped"],
            "flaky": flaky,
            "reason": interrupted,
            "id": run_id,
        },
    )
    return status


def mark_interrupted(connection: Connection, host: str) -> int:
    """Mark this host's `running` runs whose process is gone as `interrupted`."""
    stale = [
        run_id
        for run_id, pid in connection.query(
            "SELECT id, pid FROM runs WHERE status = 'running' AND host = :host", {"host": host}
        )
        if pid is None or not _alive(int(pid))
    ]
    for run_id in stale:
        connection.execute(
            "UPDATE runs SET status = 'interrupted', reason = :reason WHERE id = :id",
            {"reason": "the recording process ended without finishing the run", "id": run_id},
        )
    return len(stale)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _test_ids(connection: Connection, project: int, keys: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for start in range(0, len(keys), _IN_CHUNK):
        chunk = keys[start : start + _IN_CHUNK]
        names = {f"k{i}": key for i, key in enumerate(chunk)}
        placeholders = ", ".join(f":{name}" for name in names)
        for test_id, key in connection.query(
            f"SELECT id, key FROM tests WHERE project_id = :project AND key IN ({placeholders})",
            {"project": project, **names},
        ):
            ids[key] = int(test_id)
    return ids


def _message(record: ResultRecord) -> str | None:
    failures = record.attempts[-1].failures if record.attempts else ()
    if not failures:
        return record.reason if record.outcome.value != "passed" else None
    first = failures[0]
    return f"{first.expectation}: {first.message}"


def _attempt_row(
    run_id: int,
    position: int,
    attempt: Attempt,
    artifacts: ArtifactStore,
    stored: list[dict[str, Any]],
    now: float,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "run_id": run_id,
        "position": position,
        "number": attempt.number,
        "outcome": attempt.outcome.value,
        "started_at": attempt.started_at.timestamp() if attempt.started_at else None,
        "duration": attempt.duration,
        "exit_code": attempt.exit_code,
        "signal": attempt.signal,
        "failures": json.dumps([_failure(f) for f in attempt.failures])
        if attempt.failures
        else None,
        "notes": json.dumps(list(attempt.notes)) if attempt.notes else None,
    }
    for stream, output in (("stdout", attempt.stdout), ("stderr", attempt.stderr)):
        tail, size, digest = _log(output, artifacts)
        row[f"{stream}_tail"], row[f"{stream}_size"], row[f"{stream}_artifact"] = tail, size, digest
        if digest is not None:
            stored.append(
                {"sha256": digest, "size": size, "media_type": "text/plain", "created_at": now}
            )
    return row


def _failure(failure: Any) -> dict[str, Any]:
    return {
        key: value
        for key in ("expectation", "message", "expected", "actual", "diff")
        if (value := getattr(failure, key)) is not None
    }


def _log(output: Output | None, artifacts: ArtifactStore) -> tuple[str | None, int, str | None]:
    """The tail kept on the row, the full size, and the artifact holding the whole log."""
    if output is None or output.size == 0:
        return None, 0, None
    tail = output.text[-TAIL:]
    if len(output.text) <= TAIL and not output.truncated:
        return tail, output.size, None
    if output.path is not None:
        path = Path(output.path)
        if path.is_file():
            # Logs saved for us are moved in; a log kept by --keep-tmp stays where it is.
            return (
                tail,
                output.size,
                artifacts.put_file(path, move=path.parent == artifacts.incoming),
            )
    return tail, output.size, artifacts.put_bytes(output.text.encode("utf-8", "replace"))
