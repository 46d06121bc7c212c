"""Writing runs and results: the one write path for recording, imports and ingest.

Everything here is plain SQL with `:name` parameters over a `Connection`
(see `connections.py`), batched so a thousand results cost a handful of
statements. Callers own transactions: the recorder commits each batch, an
import commits once at the end so that a broken file leaves nothing behind.

A batch of results becomes a few `Statement`s before any of them runs, so
that one thread can build the next batch while another stores this one (as
an import does). On SQLite each statement takes the batch's rows as one
parameter, a JSON array, that `INSERT ... SELECT ... FROM json_each(:rows)`
unpacks: `sqlite3` would hold the GIL while binding every row's parameters,
which costs more than storing the row, whereas SQLite unpacks the JSON in C
with the GIL released. Other databases, and the rare batch JSON cannot carry
exactly, get one `executemany` per table.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from assay.model import Attempt, Outcome, Output
from assay.model.records import ResultRecord
from assay.store.artifacts import ArtifactStore
from assay.store.connections import Connection

TAIL = 4096
"""Characters of each output kept on the attempt row; logs over this many bytes become artifacts."""

# A JSON batch longer than this is split, well below SQLite's limit on one value (1e9 bytes).
_MAX_JSON = 64 * 1024 * 1024
_OUTCOMES = {outcome: outcome.value for outcome in Outcome}


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement ready to run: once with `params`, or once for each of `many`."""

    sql: str
    params: dict[str, Any] = field(default_factory=dict)
    many: list[dict[str, Any]] | None = None


@dataclass(frozen=True, slots=True)
class _Table:
    """How batches of rows go into a table: each row a tuple of values in `columns` order.

    A row may stop short: the columns after its last value take their SQL
    from `filler`, or NULL, which keeps the rows of passed tests down to a
    few values. `shared` gives the SQL of the columns that every row of a
    batch has in common (a parameter such as `:run_id`), and `lookups` the
    SQL that turns a row's value into the column's (`{}` stands for the value).
    """

    name: str
    shared: tuple[tuple[str, str], ...]
    columns: tuple[str, ...]
    filler: tuple[tuple[str, str], ...] = ()
    lookups: tuple[tuple[str, str], ...] = ()
    suffix: str = ""

    def insert(self, width: int, *, from_json: bool) -> str:
        """The INSERT for rows of `width` values: from `:name` parameters, or from `:rows`."""
        given = self.columns[:width]
        lookups = dict(self.lookups)
        own = [
            lookups.get(column, "{}").format(f"value ->> {i}" if from_json else f":{column}")
            for i, column in enumerate(given)
        ]
        filled = [(column, sql) for column, sql in self.filler if column not in given]
        names = ", ".join([c for c, _ in self.shared] + list(given) + [c for c, _ in filled])
        values = ", ".join([sql for _, sql in self.shared] + own + [sql for _, sql in filled])
        # SQLite reads ON CONFLICT after a bare FROM as a join's ON; the WHERE ends the FROM.
        source = (
            f"SELECT {values} FROM json_each(:rows) WHERE true"
            if from_json
            else f"VALUES ({values})"
        )
        return f"INSERT INTO {self.name} ({names}) {source} {self.suffix}"


_TESTS = _Table(
    "tests",
    shared=(("project_id", ":project_id"), ("first_seen", ":seen"), ("last_seen", ":seen")),
    columns=("key", "name", "suite", "kind", "file", "line"),
    suffix="""ON CONFLICT (project_id, key) DO UPDATE SET
    name = excluded.name, suite = excluded.suite, kind = excluded.kind,
    file = excluded.file, line = excluded.line, last_seen = excluded.last_seen""",
)
# fmt: off
_RESULTS = _Table(
    "results",
    shared=(("run_id", ":run_id"),),
    columns=("position", "test_id", "outcome", "duration", "started_at", "attempts", "flaky",
             "reason", "message"),
    filler=(("attempts", "1"), ("flaky", "FALSE")),
    # A result names its test by key; the test was stored by the statement before.
    lookups=(("test_id", "(SELECT id FROM tests WHERE project_id = :project_id AND key = {})"),),
)
_ATTEMPTS = _Table(
    "attempts",
    shared=(("run_id", ":run_id"),),
    columns=("position", "outcome", "started_at", "duration", "number", "exit_code", "signal",
             "failures", "notes", "stdout_tail", "stdout_size", "stdout_artifact",
             "stderr_tail", "stderr_size", "stderr_artifact"),
    filler=(("number", "1"), ("stdout_size", "0"), ("stderr_size", "0")),
)
# fmt: on
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


def start_run(
    connection: Connection,
    project: int,
    info: RunInfo,
    *,
    status: str = "running",
    key: str | None = None,
) -> int:
    """Insert a run with status `running` (or `queued`, to be started later); returns its id."""
    rows = connection.query(
        "INSERT INTO runs (project_id, status, trigger, source, host, pid, branch, "
        '"commit", dirty, options, started_at, total, passed, failed, errors, timeouts, '
        "skipped, flaky, key) VALUES (:project_id, :status, :trigger, :source, :host, :pid, "
        ":branch, :commit, :dirty, :options, :started_at, 0, 0, 0, 0, 0, 0, 0, :key) "
        "RETURNING id",
        {
            "project_id": project,
            "status": status,
            "key": key,
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


def begin_run(connection: Connection, run_id: int, info: RunInfo) -> None:
    """Start a `queued` run: it is `running` from now, on this host and process."""
    connection.execute(
        "UPDATE runs SET status = 'running', started_at = :started_at, host = :host, "
        'pid = :pid, branch = :branch, "commit" = :commit WHERE id = :id',
        {
            "started_at": info.started_at,
            "host": info.host,
            "pid": info.pid,
            "branch": info.branch,
            "commit": info.commit,
            "id": run_id,
        },
    )


def set_dirty(connection: Connection, run_id: int, dirty: bool | None) -> None:
    """Record whether the work tree was dirty, once `git status` has said."""
    connection.execute(
        "UPDATE runs SET dirty = :dirty WHERE id = :id", {"dirty": dirty, "id": run_id}
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
    apply(connection, result_statements(connection.dialect, project, run_id, batch, artifacts, now))


def result_statements(
    dialect: str,
    project: int,
    run_id: int,
    batch: Sequence[tuple[int, ResultRecord]],
    artifacts: ArtifactStore,
    now: float,
) -> list[Statement]:
    """The statements that insert a batch of `(position, record)` results, in order.

    Building them needs no connection: only long logs are stored, as artifacts.
    """
    tests = {record.test.id: record.test for _, record in batch}
    results: list[tuple[Any, ...]] = []
    attempts: list[tuple[Any, ...]] = []
    stored: list[dict[str, Any]] = []
    # An import's records share a few start times; converting each once is measurably cheaper.
    stamps: dict[datetime, float] = {}
    for position, record in batch:
        started_at = record.started_at
        if started_at is not None and (stamp := stamps.get(started_at)) is None:
            stamp = stamps[started_at] = started_at.timestamp()
        row: tuple[Any, ...] = (
            position,
            record.test.id,
            _OUTCOMES[record.outcome],
            record.duration,
            None if started_at is None else stamp,
        )
        message = _message(record)
        plain = len(record.attempts) == 1 and not record.flaky and record.reason is None
        if not plain or message is not None:
            row += (len(record.attempts), record.flaky, _text(record.reason), _text(message))
        results.append(row)
        for attempt in record.attempts:
            attempts.append(_attempt_row(position, attempt, artifacts, stored, stamps, now))
    # Whole rows of tests, unlike the others: ids are given in the order the rows come.
    test_rows = [(t.id, t.name, t.suite, t.kind, t.file, t.line) for t in tests.values()]
    return [
        *_inserts(dialect, _TESTS, test_rows, {"project_id": project, "seen": now}),
        *([Statement(_INSERT_ARTIFACT, many=stored)] if stored else []),
        *_inserts(dialect, _RESULTS, results, {"run_id": run_id, "project_id": project}),
        *_inserts(dialect, _ATTEMPTS, attempts, {"run_id": run_id}),
    ]


def apply(connection: Connection, statements: Sequence[Statement]) -> None:
    """Run `statements` in order."""
    for statement in statements:
        if statement.many is None:
            connection.execute(statement.sql, statement.params)
        else:
            connection.executemany(statement.sql, statement.many)


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
            "SELECT id, pid FROM runs WHERE status IN ('running', 'queued') AND host = :host",
            {"host": host},
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


def _inserts(
    dialect: str, table: _Table, rows: list[tuple[Any, ...]], shared: dict[str, Any]
) -> list[Statement]:
    """The statements that insert `rows` into `table`, one or a few per width of row."""
    by_width: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_width.setdefault(len(row), []).append(row)
    statements = []
    for width, group in by_width.items():
        payloads = _json_arrays(group) if _unpacks_json(dialect) else None
        if payloads is None:
            many = [dict(zip(table.columns, row, strict=False), **shared) for row in group]
            statements.append(Statement(table.insert(width, from_json=False), many=many))
        else:
            sql = table.insert(width, from_json=True)
            statements += [Statement(sql, {**shared, "rows": payload}) for payload in payloads]
    return statements


def _unpacks_json(dialect: str) -> bool:
    # `->>`, and JSON functions built in by default, came with SQLite 3.38.
    return dialect == "sqlite" and sqlite3.sqlite_version_info >= (3, 38)


def _json_arrays(rows: list[tuple[Any, ...]]) -> list[str] | None:
    """`rows` as JSON arrays of at most `_MAX_JSON` characters; None if JSON cannot carry them."""
    try:
        payload = json.dumps(rows, ensure_ascii=False, allow_nan=False, check_circular=False)
    except ValueError:  # an infinite or NaN float, which JSON cannot spell
        return None
    if "\\u0000" in payload:  # SQLite's JSON functions end a string at a NUL character
        return None
    if len(payload) <= _MAX_JSON or len(rows) == 1:
        return [payload]
    half = len(rows) // 2
    first, second = _json_arrays(rows[:half]), _json_arrays(rows[half:])
    return None if first is None or second is None else first + second


def _text(value: str | None) -> str | None:
    """`value` fit for any backend: PostgreSQL's text cannot hold NUL characters."""
    if value is None or "\x00" not in value:
        return value
    return value.replace("\x00", "\ufffd")


def _message(record: ResultRecord) -> str | None:
    failures = record.attempts[-1].failures if record.attempts else ()
    if not failures:
        return record.reason if record.outcome is not Outcome.PASSED else None
    first = failures[0]
    return f"{first.expectation}: {first.message}"


def _attempt_row(
    position: int,
    attempt: Attempt,
    artifacts: ArtifactStore,
    stored: list[dict[str, Any]],
    stamps: dict[datetime, float],
    now: float,
) -> tuple[Any, ...]:
    """The values of an attempt's row for `_ATTEMPTS`; its long logs are stored."""
    started_at = attempt.started_at
    if started_at is not None and (stamp := stamps.get(started_at)) is None:
        stamp = stamps[started_at] = started_at.timestamp()
    row: tuple[Any, ...] = (
        position,
        _OUTCOMES[attempt.outcome],
        None if started_at is None else stamp,
        attempt.duration,
    )
    if attempt.number == 1 and not (
        attempt.exit_code is not None
        or attempt.signal is not None
        or attempt.failures
        or attempt.notes
        or attempt.stdout is not None
        or attempt.stderr is not None
    ):
        return row
    row += (
        attempt.number,
        attempt.exit_code,
        attempt.signal,
        json.dumps([_failure(f) for f in attempt.failures]) if attempt.failures else None,
        json.dumps(list(attempt.notes)) if attempt.notes else None,
    )
    for output in (attempt.stdout, attempt.stderr):
        tail, size, digest = _log(output, artifacts)
        row += (tail, size, digest)
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
    tail = _text(output.text[-TAIL:])
    # By bytes, as the runner decides which logs to save for us (`logs_over`): a log of
    # multi-byte text can be short in characters and still have been saved.
    if output.size <= TAIL and not output.truncated:
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
