"""What an import has read so far, filled in while its records stream past."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from assay.model import Outcome, Output
from assay.model.records import ResultRecord

# `Outcome.value` is a descriptor call, measurably slow once per result of a large import.
_VALUES = {outcome: outcome.value for outcome in Outcome}


@dataclass
class ImportStats:
    """Counters and run-level facts of one imported file, complete once its reader is exhausted.

    `unknown_elements` counts what the reader met but could not place (an
    XML element such as `"<weird>"`, an attribute such as `"<testcase @retries>"`,
    a report-log line such as `"$report_type=Custom"`), so that nothing is
    dropped silently. `stdout` and `stderr` hold output written outside any
    test case (JUnit `<system-out>` at suite level), bounded like test output.
    `interrupted` says why the report looks cut short, when it does.
    """

    cases: int = 0
    by_outcome: Counter[str] = field(default_factory=Counter)
    unknown_elements: Counter[str] = field(default_factory=Counter)
    started_at: datetime | None = None
    name: str | None = None
    flaky: int = 0
    stdout: Output | None = None
    stderr: Output | None = None
    interrupted: str | None = None

    def tally(self, result: ResultRecord) -> ResultRecord:
        """Count `result` and hand it back."""
        self.cases += 1
        self.by_outcome[_VALUES[result.outcome]] += 1
        self.flaky += result.flaky
        return result

    def saw_start(self, moment: datetime) -> None:
        """Keep `moment` if it is the earliest start seen."""
        if self.started_at is None or moment < self.started_at:
            self.started_at = moment
