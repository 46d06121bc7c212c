"""Analysis over recorded runs: flaky tests, failure clusters, comparisons, slowest tests, shards.

Everything here is a pure function over plain records; reading them from the
store is the caller's job, so this package never touches a database or a clock.
"""

from __future__ import annotations

from assay.history.compare import Change, Comparison, ResultSummary, Slowdown, compare
from assay.history.flaky import FlakyConfig, FlakyTest, Sample, find_flaky
from assay.history.shards import failed_first, last_failed, shard
from assay.history.signatures import Cluster, FailureSample, cluster, signature
from assay.history.slowest import DurationSample, SlowTest, slowest, sparkline

__all__ = [
    "Change",
    "Cluster",
    "Comparison",
    "DurationSample",
    "FailureSample",
    "FlakyConfig",
    "FlakyTest",
    "ResultSummary",
    "Sample",
    "SlowTest",
    "Slowdown",
    "cluster",
    "compare",
    "failed_first",
    "find_flaky",
    "last_failed",
    "shard",
    "signature",
    "slowest",
    "sparkline",
]
