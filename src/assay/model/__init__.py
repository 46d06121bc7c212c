"""Domain types shared by every layer: tests, expectations, results, events.

This package imports nothing from its siblings, so every other package can
depend on it.
"""

from __future__ import annotations

from assay.model.events import (
    AttemptFinished,
    AttemptStarted,
    Event,
    RunFinished,
    RunStarted,
    TestFinished,
    TestStarted,
)
from assay.model.expectations import (
    ExitExpectation,
    Expectations,
    FileExpectation,
    Matcher,
    MatcherKind,
)
from assay.model.results import Attempt, Failure, Outcome, Output, Result, RunResult
from assay.model.tests import (
    CommandTest,
    FileSpec,
    Isolation,
    Limits,
    Location,
    Probe,
    PytestSpec,
    ServiceSpec,
)

__all__ = [
    "Attempt",
    "AttemptFinished",
    "AttemptStarted",
    "CommandTest",
    "Event",
    "ExitExpectation",
    "Expectations",
    "Failure",
    "FileExpectation",
    "FileSpec",
    "Isolation",
    "Limits",
    "Location",
    "Matcher",
    "MatcherKind",
    "Outcome",
    "Output",
    "Probe",
    "PytestSpec",
    "Result",
    "RunFinished",
    "RunResult",
    "RunStarted",
    "ServiceSpec",
    "TestFinished",
    "TestStarted",
]
