"""History queries over 1,000,000 stored results (1,000 runs of 1,000 tests), in SQLite.

Each of `runs`, `show`, `flaky`, `slowest` and one test's `history` should
answer in under 300 ms. Shown twice: the query inside a warm process, and the
whole `assay` command (which also pays for starting Python and SQLAlchemy).
"""

from __future__ import annotations

import os
import random
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.common import ASSAY, report, timed

RUNS = int(os.environ.get("BENCH_RUNS", "1000"))  # fewer for a quick look
TESTS = 1000


def populate(store: object, runs: int = RUNS, tests: int = TESTS) -> None:
    """Record `runs` runs of `tests` tests, a few of them flaky or failing."""
    from assay.model import Attempt, Failure, Outcome
    from assay.model.records import ResultRecord, TestRecord
    from assay.store import writes

    rng = random.Random(7)
    records = [
        TestRecord(id=f"tests/suite{i // 50}.assay.yaml::test {i}", name=f"test {i}")
        for i in range(tests)
    ]
    begin = datetime(2026, 1, 1, tzinfo=UTC)
    connection = store.connect()  # type: ignore[attr-defined]
    project = writes.project_id(connection, store.project, begin.timestamp())  # type: ignore[attr-defined]
    for r in range(runs):
        at = begin + timedelta(hours=r)
        info = writes.RunInfo(trigger="cli", started_at=at.timestamp(), commit=f"{r // 3:040x}")
        run_id = writes.start_run(connection, project, info)
        batch = []
        for position, test in enumerate(records):
            flaky = position % 97 == 0 and rng.random() < 0.3
            failed = position % 211 == 0 and rng.random() < 0.5
            outcome = Outcome.FAILED if failed else Outcome.PASSED
            duration = 0.01 + (position % 13) * 0.05 * rng.random()
            failures = (Failure("exit", f"exit code {rng.randint(1, 9)}, expected 0"),)
            attempts = [
                Attempt(
                    1,
                    outcome,
                    at,
                    duration,
                    1 if failed else 0,
                    failures=failures if failed else (),
                )
            ]
            if flaky:
                attempts = [
                    Attempt(1, Outcome.FAILED, at, duration, 1, failures=failures),
                    Attempt(2, Outcome.PASSED, at, duration, 0),
                ]
            batch.append(
                (position, ResultRecord(test, outcome, tuple(attempts), flaky=flaky, started_at=at))
            )
        writes.write_results(connection, project, run_id, batch, store.artifacts, at.timestamp())  # type: ignore[attr-defined]
        writes.finish_run(connection, run_id, finished_at=at.timestamp() + 60, duration=60.0)
        connection.commit()
    connection.close()


def main() -> None:
    """Build the database, then time each query in-process and as a command."""
    from assay.history.stored import flaky_tests, slowest_tests
    from assay.store import Store, queries

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        url = f"sqlite:///{root}/history.db"
        store = Store(url, root / "artifacts", "bench")
        start = time.perf_counter()
        populate(store)
        report(f"building {RUNS * TESTS:,} results", time.perf_counter() - start)
        key = "tests/suite1.assay.yaml::test 97"
        last = queries.resolve_run(store, "last")
        checks = {
            "runs": (lambda: queries.list_runs(store), ["runs"]),
            "show last": (
                lambda: queries.results(store, last, outcomes=queries.BAD, with_attempts=True),
                ["show", "last"],
            ),
            "flaky": (lambda: flaky_tests(store), ["flaky"]),
            "slowest": (lambda: slowest_tests(store), ["slowest"]),
            "history of one test": (lambda: queries.test_history(store, key), ["history", key]),
        }
        for name, (query, _) in checks.items():
            query()
            report(f"{name} (query, warm)", timed(query, 5), "s", "target < 0.300 s")
        env = {**os.environ, "ASSAY_PROJECT": "bench"}
        for name, (_, args) in checks.items():
            command = [*ASSAY, *args, "--db", url]
            report(
                f"assay {name} (whole command)",
                timed(
                    lambda c=command: subprocess.run(c, check=True, capture_output=True, env=env),
                    3,
                ),
            )
        store.close()
