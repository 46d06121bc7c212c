"""The analyses over what the store holds: the glue between `store.queries` and this package.

The analyses themselves stay pure (see the sibling modules); this module
reads their inputs from the store.
"""

from __future__ import annotations

from assay.history.compare import Comparison, ResultSummary, compare
from assay.history.flaky import FlakyConfig, FlakyTest, find_flaky
from assay.history.signatures import Cluster, FailureSample, cluster
from assay.history.slowest import SlowTest, slowest
from assay.model import Outcome
from assay.store import Store, queries


def flaky_tests(store: Store, config: FlakyConfig | None = None) -> list[FlakyTest]:
    """The project's flaky tests over the last `config.window` runs, with reasons."""
    config = config or FlakyConfig()
    # Stored samples have every field analysis reads; no copy into `Sample` is needed.
    return find_flaky(queries.samples(store, runs=config.window), config)


def slowest_tests(store: Store, *, runs: int = 30, limit: int = 20) -> list[SlowTest]:
    """The slowest tests over the last `runs` runs, with their trend."""
    return slowest(
        (s for s in queries.samples(store, runs=runs) if s.outcome is not Outcome.SKIPPED),
        limit=limit,
    )


def failure_clusters(store: Store, *, runs: int = 30) -> list[Cluster]:
    """Failures of the last `runs` runs, grouped by normalised signature."""
    return cluster(
        FailureSample(s.test_id, s.run_id, s.message or s.outcome.value, s.run_started_at)
        for s in queries.samples(store, runs=runs, outcomes=queries.BAD)
    )


def compare_runs(store: Store, base: int, head: int) -> Comparison:
    """What changed from run `base` to run `head`."""

    def summaries(run_id: int) -> list[ResultSummary]:
        return [
            ResultSummary(r.key, Outcome(r.outcome), r.duration)
            for r in queries.results(store, run_id)
        ]

    return compare(summaries(base), summaries(head))
