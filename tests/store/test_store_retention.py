"""Retention: old runs go with their results, attempts and the artifacts only they used."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from assay.store import Store, queries
from assay.store.retention import Pruned, prune
from assay.store.webhooks import create_webhook, record_delivery
from fixtures.databases import opened_store, result, rows, scalar, write_run

ONLY_OLD = "only the old run printed this\n" * 300
SHARED = "both runs printed this\n" * 300


@pytest.fixture
def old_and_new(store: Store) -> tuple[int, int]:
    """An old run (2025) and a new one (now), sharing one long log; the old one has another."""
    old = write_run(
        store,
        [
            result("t::shared", stdout=SHARED),
            result("t::only old", "failed", stdout=ONLY_OLD, retried=1),
        ],
    )
    new = write_run(store, [result("t::shared", stdout=SHARED)], started_at=time.time())
    return old, new


def _digests(store: Store) -> tuple[str, str]:
    """The digests of the log only the old run has, and of the log both runs have."""
    found = dict(
        rows(
            store,
            "SELECT DISTINCT stdout_tail, stdout_artifact FROM attempts "
            "WHERE stdout_artifact IS NOT NULL",
        )
    )
    return found[ONLY_OLD[-4096:]], found[SHARED[-4096:]]


def test_prune_deletes_old_runs_and_their_orphaned_artifacts(
    store: Store, old_and_new: tuple[int, int]
) -> None:
    old, new = old_and_new
    only_old, shared = _digests(store)
    assert store.artifacts.path(only_old).is_file()

    pruned = prune(store, time.time() - 3600)

    assert (pruned.runs, pruned.results, pruned.artifacts) == (1, 2, 1)
    assert pruned.bytes_freed == len(ONLY_OLD)
    assert [r.id for r in queries.list_runs(store)] == [new]
    assert rows(store, "SELECT DISTINCT run_id FROM results") == [(new,)]
    assert rows(store, "SELECT DISTINCT run_id FROM attempts") == [(new,)]
    assert rows(store, "SELECT sha256 FROM artifacts") == [(shared,)]
    assert not store.artifacts.path(only_old).exists()
    assert store.artifacts.path(shared).read_text() == SHARED
    assert old not in {r.id for r in queries.list_runs(store)}


def test_a_dry_run_deletes_nothing_and_says_what_would_go(
    store: Store, old_and_new: tuple[int, int]
) -> None:
    before = queries.count_rows(store)
    files = sorted(store.artifacts.root.rglob("*"))
    dry = prune(store, time.time() - 3600, dry_run=True)
    assert queries.count_rows(store) == before
    assert sorted(store.artifacts.root.rglob("*")) == files
    assert scalar(store, "SELECT COUNT(*) FROM attempts") == 4
    real = prune(store, time.time() - 3600)
    assert (dry.runs, dry.results, dry.artifacts, dry.bytes_freed) == (
        real.runs,
        real.results,
        real.artifacts,
        real.bytes_freed,
    )


def test_nothing_old_enough_leaves_everything(store: Store, old_and_new: tuple[int, int]) -> None:
    before = queries.count_rows(store)
    pruned = prune(store, 0.0)
    assert (pruned.runs, pruned.results, pruned.artifacts, pruned.bytes_freed) == (0, 0, 0, 0)
    assert queries.count_rows(store) == before


def test_a_running_run_is_never_pruned(store: Store) -> None:
    running = write_run(store, [result("t::a")], finished=False)
    assert prune(store, time.time()).runs == 0
    assert [r.id for r in queries.list_runs(store)] == [running]


def test_every_project_is_pruned(store: Store, database_url: str, tmp_path: Path) -> None:
    write_run(store, [result("t::a")])
    with opened_store(database_url, tmp_path, project="other") as other:
        write_run(other, [result("t::a")])
    assert prune(store, time.time()).runs == 2
    assert scalar(store, "SELECT COUNT(*) FROM runs") == 0


def test_sqlite_file_shrinks_after_prune(tmp_path: Path) -> None:
    with opened_store(f"sqlite:///{tmp_path / 'assay.db'}", tmp_path) as store:
        # Many short tails (kept on the rows, not as artifacts): megabytes of pages to free.
        records = [result(f"t::{i}", stdout=f"{i} " + "x" * 3000) for i in range(1500)]
        write_run(store, records)
        write_run(store, records[:10], started_at=time.time())
        path = tmp_path / "assay.db"
        size = path.stat().st_size + Path(f"{path}-wal").stat().st_size
        pruned: Pruned = prune(store, time.time() - 3600)
        assert pruned.runs == 1
        assert pruned.database_bytes_before == size
        assert pruned.database_bytes_after is not None
        assert pruned.database_bytes_after < size / 4
        assert path.stat().st_size == pruned.database_bytes_after
        assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
        assert len(queries.results(store, queries.resolve_run(store, "last"))) == 10


def test_prune_deletes_webhook_delivery_attempts_before_the_cutoff(store: Store) -> None:
    hook = create_webhook(store, "https://hooks.example.com/", ["run.failed"])
    for at in (1_000.0, 2_000.0, time.time()):
        record_delivery(
            store,
            hook.id,
            event="run.failed",
            event_id=f"e{at}",
            attempt=1,
            at=at,
            status_code=500,
            error=None,
            duration=0.1,
            delivered=False,
            payload="{}",
        )
    dry = prune(store, 5_000.0, dry_run=True)
    assert dry.deliveries == 2
    assert scalar(store, "SELECT COUNT(*) FROM deliveries") == 3
    assert prune(store, 5_000.0).deliveries == 2
    assert scalar(store, "SELECT COUNT(*) FROM deliveries") == 1
