"""Retention: deleting old runs, the artifacts nothing refers to any more, and the space."""

from __future__ import annotations

from dataclasses import dataclass

from assay.store.store import Store


@dataclass(frozen=True, slots=True)
class Pruned:
    """What `prune` removed."""

    runs: int
    results: int
    artifacts: int
    bytes_freed: int
    database_bytes_before: int | None = None
    database_bytes_after: int | None = None
    deliveries: int = 0
    """Webhook delivery attempts recorded before the cutoff."""


def prune(store: Store, cutoff: float, *, dry_run: bool = False) -> Pruned:
    """Delete finished runs (of every project) started before `cutoff`, then orphaned artifacts.

    Webhook delivery attempts made before `cutoff` go too: the server keeps
    every attempt, so they would grow with every run announced.

    On SQLite the file is vacuumed afterwards so the space really goes back
    to the file system; PostgreSQL's autovacuum does that on its own.
    """
    from assay.store.connections import sqlite_path

    path = sqlite_path(store.url)
    size_before = _size(path)
    connection = store.connect()
    try:
        runs = [
            int(row[0])
            for row in connection.query(
                "SELECT id FROM runs WHERE started_at < :cutoff AND status != 'running'",
                {"cutoff": cutoff},
            )
        ]
        results = 0
        for chunk in _chunks(runs, 500):
            names = {f"r{i}": run_id for i, run_id in enumerate(chunk)}
            where = f"run_id IN ({', '.join(':' + n for n in names)})"
            results += int(
                connection.query(f"SELECT COUNT(*) FROM results WHERE {where}", names)[0][0]
            )
            # A dry run deletes too, and rolls back: only then does it see which
            # artifacts the deletion would orphan.
            connection.execute(f"DELETE FROM attempts WHERE {where}", names)
            connection.execute(f"DELETE FROM results WHERE {where}", names)
            connection.execute(
                f"DELETE FROM runs WHERE id IN ({', '.join(':' + n for n in names)})", names
            )
        orphans = [
            (str(row[0]), int(row[1]))
            for row in connection.query(
                "SELECT sha256, size FROM artifacts WHERE sha256 NOT IN ("
                "SELECT stdout_artifact FROM attempts WHERE stdout_artifact IS NOT NULL "
                "UNION SELECT stderr_artifact FROM attempts WHERE stderr_artifact IS NOT NULL)"
            )
        ]
        deliveries = int(
            connection.query(
                "SELECT COUNT(*) FROM deliveries WHERE at < :cutoff", {"cutoff": cutoff}
            )[0][0]
        )
        if dry_run:
            connection.rollback()
            return Pruned(
                len(runs),
                results,
                len(orphans),
                sum(s for _, s in orphans),
                size_before,
                size_before,
                deliveries,
            )
        connection.execute("DELETE FROM deliveries WHERE at < :cutoff", {"cutoff": cutoff})
        for chunk in _chunks([sha for sha, _ in orphans], 500):
            names = {f"a{i}": sha for i, sha in enumerate(chunk)}
            connection.execute(
                f"DELETE FROM artifacts WHERE sha256 IN ({', '.join(':' + n for n in names)})",
                names,
            )
        connection.commit()
    finally:
        connection.close()
    # Files go only after the rows are gone for good: a crash in between leaves
    # an orphaned file (harmless), never a row pointing at nothing.
    freed = sum(store.artifacts.remove(sha) for sha, _ in orphans)
    if path is not None:
        _vacuum(path)
    return Pruned(len(runs), results, len(orphans), freed, size_before, _size(path), deliveries)


def _vacuum(path: object) -> None:
    import sqlite3

    raw = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    try:
        raw.execute("VACUUM")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


def _size(path: object) -> int | None:
    from pathlib import Path

    if path is None:
        return None
    total = 0
    for suffix in ("", "-wal"):
        candidate = Path(f"{path}{suffix}")
        if candidate.exists():
            total += candidate.stat().st_size
    return total


def _chunks(items: list[int] | list[str], size: int) -> list[list[int] | list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
