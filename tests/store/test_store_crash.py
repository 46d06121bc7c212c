"""The kill-9 test: Assay killed mid-run leaves an intact database and an `interrupted` run."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest

from assay.store import queries
from fixtures.databases import HistoryProject
from fixtures.projects import CLI_TIMEOUT, clean_environ

SLEEPERS = "tests:\n" + "".join(
    f"  - name: sleeper {i:02d}\n    run: [sleep, '0.2']\n" for i in range(30)
)
# What the poll reads: the running run's id and its committed results (position, outcome).
_COMMITTED = (
    "SELECT runs.id, results.position, results.outcome FROM runs "
    "JOIN results ON results.run_id = runs.id WHERE runs.status = 'running' "
    "ORDER BY results.position"
)

Rows = list[tuple[Any, ...]]


def _sqlite_reader(project: HistoryProject) -> Callable[[], Rows]:
    path = project.root / ".assay" / "assay.db"

    def read() -> Rows:
        if not path.exists():
            return []
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as connection:
                return connection.execute(_COMMITTED).fetchall()
        except sqlite3.OperationalError:  # no tables yet
            return []

    return read


def _postgres_reader(project: HistoryProject) -> Callable[[], Rows]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import ProgrammingError
    from sqlalchemy.pool import NullPool

    engine = create_engine(project.url, poolclass=NullPool)

    def read() -> Rows:
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(_COMMITTED))]
        except ProgrammingError:  # no tables yet
            return []

    return read


def _wait_for_commits(read: Callable[[], Rows], child: subprocess.Popen[str]) -> Rows:
    """Poll until the child has committed a running run with a few results."""
    # Only a safety net against a child that never records; nothing here is timed.
    deadline = time.monotonic() + CLI_TIMEOUT
    while time.monotonic() < deadline:
        found = read()
        if len(found) >= 3:
            return found
        if child.poll() is not None:
            pytest.fail(f"assay ended ({child.returncode}) before it was killed")
        time.sleep(0.02)
    pytest.fail("assay committed no results in time")


def test_kill_9_mid_run(recorded: HistoryProject) -> None:
    recorded.write("sleepers.assay.yaml", SLEEPERS)
    sqlite = recorded.url.startswith("sqlite")
    read = _sqlite_reader(recorded) if sqlite else _postgres_reader(recorded)
    child = subprocess.Popen(
        [sys.executable, "-m", "assay", "run", "-j", "1"],
        cwd=recorded.root,
        env=clean_environ({**recorded.environ, "TMPDIR": str(recorded.runs)}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        committed = _wait_for_commits(read, child)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=CLI_TIMEOUT)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        assert child.stderr is not None
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    run_id = committed[0][0]

    if sqlite:
        with sqlite3.connect(recorded.root / ".assay" / "assay.db") as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    # Nothing has opened the store since: the run is still marked as running.
    assert read()[: len(committed)] == committed

    store = recorded.store()
    store.connect().close()
    run = queries.get_run(store, run_id)
    assert run.status == "interrupted"
    assert run.reason == "the recording process ended without finishing the run"
    stored = queries.results(store, run_id, with_attempts=True)
    assert len(stored) >= len(committed)
    assert [(run_id, r.position, r.outcome) for r in stored[: len(committed)]] == committed
    assert [r.key for r in stored] == [
        f"sleepers.assay.yaml::sleeper {i:02d}" for i in range(len(stored))
    ]
    assert all(r.outcome == "passed" and len(r.attempts) == 1 for r in stored)

    listed = recorded.cli("runs")
    assert listed.code == 0, listed
    (line,) = [line for line in listed.stdout.splitlines() if line.startswith(f"{run_id} ")]
    assert "interrupted" in line.split()

    # The database goes on working: the next run records as usual.
    again = recorded.cli("run", "-k", "sleeper 00")
    assert again.code == 0, again
    assert queries.get_run(recorded.store(), queries.resolve_run(store, "last")).status == "passed"
