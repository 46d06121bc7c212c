"""The write path: test identities, run totals, and stale `running` runs."""

from __future__ import annotations

import subprocess
import sys
import warnings
from dataclasses import replace
from pathlib import Path

import pytest

import assay
from assay.model.records import TestRecord
from assay.store import Store, queries, writes
from assay.store.connections import host_pid
from fixtures.databases import T0, HistoryProject, opened_store, result, rows, scalar, write_run

A = "tests/a.assay.yaml::alpha"
B = "tests/a.assay.yaml::beta"


def test_a_test_keeps_its_identity_across_runs(store: Store) -> None:
    first = T0.timestamp()
    write_run(store, [result(A), result(B)], started_at=first)
    renamed = replace(
        result(A), test=TestRecord(id=A, name="alpha", suite="renamed", file="moved.yaml", line=9)
    )
    write_run(store, [renamed], started_at=first + 60)
    assert rows(
        store, "SELECT key, suite, file, line, first_seen, last_seen FROM tests ORDER BY key"
    ) == [
        (A, "renamed", "moved.yaml", 9, first, first + 60),
        (B, "demo", "tests/a.assay.yaml", 3, first, first),
    ]
    assert scalar(store, "SELECT COUNT(DISTINCT test_id) FROM results") == 2


def test_the_same_key_in_two_projects_is_two_tests(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    write_run(store, [result(A)])
    with opened_store(database_url, tmp_path, project="other") as other:
        write_run(other, [result(A)])
    assert rows(store, "SELECT name FROM projects ORDER BY name") == [("demo",), ("other",)]
    assert scalar(store, "SELECT COUNT(*) FROM tests WHERE key = :key", key=A) == 2


@pytest.mark.parametrize(
    ("outcomes", "status"),
    [
        (["passed", "skipped"], "passed"),
        (["skipped"], "passed"),
        (["passed", "failed"], "failed"),
        (["passed", "error"], "failed"),
        (["timeout"], "failed"),
        ([], "passed"),
    ],
    ids=["passed-and-skipped", "only-skipped", "a-failure", "an-error", "a-timeout", "empty"],
)
def test_a_runs_status_follows_its_results(store: Store, outcomes: list[str], status: str) -> None:
    run_id = write_run(store, [result(f"t::{i}", o) for i, o in enumerate(outcomes)])
    run = queries.get_run(store, run_id)
    assert run.status == status
    assert run.total == len(outcomes)
    assert (run.passed, run.failed, run.errors, run.timeouts, run.skipped) == tuple(
        outcomes.count(o) for o in ("passed", "failed", "error", "timeout", "skipped")
    )


def test_finishing_an_interrupted_run_keeps_the_reason(store: Store) -> None:
    connection = store.connect()
    try:
        project = writes.project_id(connection, store.project, 0.0)
        run_id = writes.start_run(connection, project, writes.RunInfo("api", T0.timestamp()))
        writes.write_results(
            connection, project, run_id, [(0, result(A, retried=1))], store.artifacts, 0.0
        )
        status = writes.finish_run(
            connection, run_id, finished_at=1.0, duration=2.5, interrupted="the deadline passed"
        )
        connection.commit()
    finally:
        connection.close()
    assert status == "interrupted"
    run = queries.get_run(store, run_id)
    assert (run.status, run.reason, run.duration, run.flaky, run.passed) == (
        "interrupted",
        "the deadline passed",
        2.5,
        1,
        1,
    )


def _dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    return int(child.stdout)


def _running(store: Store, host: str | None, pid: int | None) -> int:
    connection = store.connect()
    try:
        project = writes.project_id(connection, store.project, 0.0)
        info = writes.RunInfo("cli", T0.timestamp(), host=host, pid=pid)
        run_id = writes.start_run(connection, project, info)
        connection.commit()
    finally:
        connection.close()
    return run_id


def test_opening_the_store_marks_runs_of_dead_processes_interrupted(
    store: Store, database_url: str, tmp_path: Path
) -> None:
    host, pid = host_pid()
    dead = _running(store, host, _dead_pid())
    no_pid = _running(store, host, None)
    alive = _running(store, host, pid)
    elsewhere = _running(store, "another-host.example", _dead_pid())
    # The store that wrote them was already prepared; a new one (a new process) checks.
    with opened_store(database_url, tmp_path) as reopened:
        reopened.connect().close()
        statuses = {r.id: (r.status, r.reason) for r in queries.list_runs(reopened)}
    stale = ("interrupted", "the recording process ended without finishing the run")
    assert statuses == {
        dead: stale,
        no_pid: stale,
        alive: ("running", None),
        elsewhere: ("running", None),
    }


def test_mark_interrupted_counts_what_it_marked(store: Store) -> None:
    host, _ = host_pid()
    _running(store, host, _dead_pid())
    connection = store.connect()
    try:
        assert writes.mark_interrupted(connection, host) == 1
        assert writes.mark_interrupted(connection, host) == 0
        connection.commit()
    finally:
        connection.close()


def test_a_nul_character_in_output_is_recorded(recorded: HistoryProject) -> None:
    # PostgreSQL text cannot hold NUL: the stored tail has U+FFFD in its place.
    recorded.write("nul.assay.yaml", "tests:\n  - name: nul\n    run: printf 'a\\000b\\n'\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcome = assay.run(settings=recorded.settings())
    assert [str(w.message) for w in caught] == []
    assert outcome.run_id is not None
    (stored,) = queries.results(recorded.store(), outcome.run_id, with_attempts=True)
    assert stored.attempts[0].stdout_tail is not None
    assert stored.attempts[0].stdout_tail.startswith("a")
    assert stored.attempts[0].stdout_size == 4
