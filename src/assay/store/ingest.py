"""Remote runs, stored so that a retry never stores anything twice.

`assay run --report-to` names its run with a key of its own and sends its
results in numbered batches, retrying whatever got no answer. A retry can
reach the server after the first try was stored (only the answer was lost),
or while it is still being stored, so both steps are idempotent:

- `open_run` finds the run with the key, or starts it: a retried start is
  the same run (`runs.key` is unique, so two racing starts make one run);
- `write_batch` stores a batch in one transaction that begins by claiming
  `(run, seq)` in `ingest_batches`; a batch already claimed is skipped
  whole, and a racing second try waits for the first's commit, then skips.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from assay.errors import NotFoundError, UsageError
from assay.model.records import ResultRecord
from assay.store import writes
from assay.store.connections import Connection
from assay.store.store import Store


@dataclass(frozen=True, slots=True)
class RunEnd:
    """How a remote run ended, as its `run.finished` event says."""

    duration: float
    interrupted: str | None = None


def open_run(store: Store, key: str, project: str, info: writes.RunInfo) -> tuple[int, bool]:
    """The id of the run with `key`, started now as `info` says if there is none; and if new."""
    connection = store.connect()
    try:
        found = _run_with_key(connection, key)
        if found is not None:
            return found, False
        try:
            project_id = writes.project_id(connection, project, info.started_at)
            run_id = writes.start_run(connection, project_id, info, key=key)
            # Batch 0 is the start itself: when the server last heard from the reporter
            # is then always a server time (`abandon_idle`), whatever the client's clock.
            connection.execute(
                "INSERT INTO ingest_batches (run_id, seq, received_at) VALUES (:id, 0, :now)",
                {"id": run_id, "now": time.time()},
            )
            connection.commit()
        except Exception as error:
            connection.rollback()
            # Another try of the same start won the race for the key: that run is ours.
            found = _run_with_key(connection, key) if _is_integrity_error(error) else None
            if found is None:
                raise
            return found, False
        return run_id, True
    finally:
        connection.close()


def write_batch(
    store: Store,
    run_id: int,
    key: str,
    seq: int,
    results: Sequence[tuple[int, ResultRecord]],
    end: RunEnd | None,
    now: float,
) -> bool:
    """Store batch `seq` of remote run `run_id` once; False if it was stored before.

    `key` must be the run's own key, which only the reporter that started it
    knows: a token that may send results cannot write into someone else's
    run by guessing its id. `results` are `(position, record)` pairs; `end`,
    if given, finishes the run. Raises `NotFoundError` when there is no
    remote run `run_id` with that key, and
    `UsageError` for a new batch of a finished run or results at positions
    the run already has.
    """
    connection = store.connect()
    try:
        found = connection.query(
            "SELECT project_id, started_at, finished_at FROM runs WHERE id = :id AND key = :key",
            {"id": run_id, "key": key},
        )
        if not found:
            # Runs executed by the server or recorded elsewhere take no results from outside.
            raise NotFoundError(f"no remote run {run_id}")
        project_id, started_at, finished_at = found[0]
        claimed = connection.query(
            "INSERT INTO ingest_batches (run_id, seq, received_at) VALUES (:run_id, :seq, :now) "
            "ON CONFLICT (run_id, seq) DO NOTHING RETURNING seq",
            {"run_id": run_id, "seq": seq, "now": now},
        )
        if not claimed:
            connection.rollback()
            return False
        if finished_at is not None:
            raise UsageError(f"run {run_id} is finished: it takes no more batches")
        try:
            writes.write_results(connection, int(project_id), run_id, results, store.artifacts, now)
        except Exception as error:
            if _is_integrity_error(error):
                raise UsageError(
                    f"batch {seq} has results at positions that run {run_id} already has"
                ) from None
            raise
        if end is not None:
            writes.finish_run(
                connection,
                run_id,
                finished_at=float(started_at) + end.duration,
                duration=end.duration,
                interrupted=end.interrupted,
            )
        connection.commit()
        return True
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()


def _run_with_key(connection: Connection, key: str) -> int | None:
    rows = connection.query("SELECT id FROM runs WHERE key = :key", {"key": key})
    return int(rows[0][0]) if rows else None


def _is_integrity_error(error: Exception) -> bool:
    # The DB-API names this error alike in every driver: sqlite3 raises its own, and
    # SQLAlchemy wraps psycopg's in one of the same name.
    return type(error).__name__ == "IntegrityError"


def abandon_idle(store: Store, *, idle: float, now: float) -> list[tuple[int, str]]:
    """End the remote runs that sent nothing for `idle` seconds as `interrupted`.

    A reporter that was killed, or gave up on an unreachable server, never
    sends `run.finished`; without this its run would stay `running` for
    good. Returns each run ended, with the reason stored.
    """
    reason = f"no results from its reporter for {idle:g}s"
    connection = store.connect()
    try:
        rows = connection.query(
            "SELECT runs.id, runs.started_at, MAX(ingest_batches.received_at) FROM runs "
            "LEFT JOIN ingest_batches ON ingest_batches.run_id = runs.id "
            "WHERE runs.key IS NOT NULL AND runs.status = 'running' "
            "GROUP BY runs.id, runs.started_at"
        )
        ended = []
        for run_id, started_at, heard in rows:
            if heard is not None and heard < now - idle:
                duration = max(0.0, float(heard) - float(started_at))
                writes.finish_run(
                    connection,
                    int(run_id),
                    finished_at=float(heard),
                    duration=duration,
                    interrupted=reason,
                )
                ended.append((int(run_id), reason))
        connection.commit()
        return ended
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()
