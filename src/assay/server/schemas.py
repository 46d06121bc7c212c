"""The API's request and response bodies (`*Create` in, `*Read` out).

Responses are built from the store's frozen records with `from_attributes`,
so the API shows what the store returns and nothing more.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assay.store.queries import StoredResult


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ProjectRead(_Read):
    """A project and how much history it has."""

    name: str
    runs: int
    last_run_at: datetime | None


class RunRead(_Read):
    """A run with its totals."""

    id: int
    project: str
    status: str
    trigger: str
    source: str | None
    host: str | None
    branch: str | None
    commit: str | None
    dirty: bool | None
    started_at: datetime
    duration: float | None
    total: int
    passed: int
    failed: int
    errors: int
    timeouts: int
    skipped: int
    flaky: int
    reason: str | None


class RunCreate(BaseModel):
    """A run to start: a registered suite path and options."""

    model_config = ConfigDict(extra="forbid")

    suite: str = Field(min_length=1, max_length=1000, examples=["examples"])
    keyword: str | None = Field(default=None, max_length=1000)
    tags: list[str] = Field(default_factory=list, max_length=50)
    jobs: int | None = Field(default=None, ge=1, le=1000)
    timeout: float | None = Field(default=None, gt=0, le=86400)


class RunCreated(BaseModel):
    """A run that was queued; follow it at `events`."""

    id: int
    status: str
    url: str
    events: str


class FailureRead(BaseModel):
    """One expectation that did not hold."""

    expectation: str | None = None
    message: str | None = None
    expected: str | None = None
    actual: str | None = None
    diff: str | None = None


class LogRead(BaseModel):
    """The stored tail of one stream, and where the whole log is."""

    tail: str | None
    size: int
    artifact: str | None


class AttemptRead(_Read):
    """One attempt of a test."""

    number: int
    outcome: str
    started_at: datetime | None
    duration: float
    exit_code: int | None
    signal: str | None
    failures: list[FailureRead]
    notes: list[str]
    stdout: LogRead
    stderr: LogRead


class ResultRead(_Read):
    """One test's result in a run."""

    run_id: int
    position: int
    key: str
    name: str
    suite: str
    kind: str
    file: str | None
    line: int | None
    outcome: str
    flaky: bool
    duration: float
    reason: str | None
    message: str | None
    attempts: list[AttemptRead] | None = None


class TestRead(_Read):
    """A test's identity in the project."""

    __test__ = False

    key: str
    name: str
    suite: str
    kind: str
    file: str | None
    line: int | None
    first_seen: datetime
    last_seen: datetime


class FlakyRead(BaseModel):
    """A flaky test, its score and the reasons it is called flaky."""

    test_id: str
    score: float
    reasons: list[str]
    samples: int
    last_seen: datetime


class SampleRead(BaseModel):
    """One result of a test in its history."""

    run_id: int
    at: datetime
    commit: str | None
    outcome: str
    flaky: bool
    duration: float
    message: str | None


class TestHistoryRead(BaseModel):
    """A test's recent results, oldest first, and whether it is flaky and why."""

    __test__ = False

    key: str
    samples: list[SampleRead]
    flaky: FlakyRead | None


class ChangeRead(BaseModel):
    """A test whose outcome differs between two runs."""

    test_id: str
    base: str | None
    head: str | None


class SlowdownRead(BaseModel):
    """A test that got slower (durations in seconds; `ratio` is null when the base took none)."""

    test_id: str
    base: float
    head: float
    ratio: float | None


class ComparisonRead(BaseModel):
    """What changed from one run to another."""

    base: int
    head: int
    new_failures: list[ChangeRead]
    fixed: list[ChangeRead]
    still_failing: list[ChangeRead]
    new_tests: list[ChangeRead]
    removed_tests: list[ChangeRead]
    slowdowns: list[SlowdownRead]


class ClusterRead(BaseModel):
    """Failures that share a normalised signature."""

    signature: str
    example: str
    count: int
    tests: list[str]
    runs: int
    first_seen: datetime
    last_seen: datetime


class TokenCreate(BaseModel):
    """A token to make."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scopes: list[Literal["read", "run", "admin"]] = Field(min_length=1, max_length=3)


class TokenRead(BaseModel):
    """A token, without its secret."""

    id: int
    name: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


class TokenCreated(TokenRead):
    """A new token and its secret, shown this once."""

    token: str


class SuiteRead(BaseModel):
    """A suite path the server may run."""

    path: str


class HealthRead(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok", "unavailable"]
    detail: str | None = None


def result_read(result: StoredResult, *, with_attempts: bool = False) -> ResultRead:
    """The API's view of a stored result."""
    attempts = None
    if with_attempts:
        attempts = [
            AttemptRead(
                number=a.number,
                outcome=a.outcome,
                started_at=a.started_at,
                duration=a.duration,
                exit_code=a.exit_code,
                signal=a.signal,
                failures=[FailureRead(**f) for f in a.failures],
                notes=list(a.notes),
                stdout=LogRead(tail=a.stdout_tail, size=a.stdout_size, artifact=a.stdout_artifact),
                stderr=LogRead(tail=a.stderr_tail, size=a.stderr_size, artifact=a.stderr_artifact),
            )
            for a in result.attempts
        ]
    return ResultRead(
        run_id=result.run_id,
        position=result.position,
        key=result.key,
        name=result.name,
        suite=result.suite,
        kind=result.kind,
        file=result.file,
        line=result.line,
        outcome=result.outcome,
        flaky=result.flaky,
        duration=result.duration,
        reason=result.reason,
        message=result.message,
        attempts=attempts,
    )


__all__ = [
    "AttemptRead",
    "ClusterRead",
    "ComparisonRead",
    "FlakyRead",
    "HealthRead",
    "ProjectRead",
    "ResultRead",
    "RunCreate",
    "RunCreated",
    "RunRead",
    "SampleRead",
    "SuiteRead",
    "TestHistoryRead",
    "TestRead",
    "TokenCreate",
    "TokenCreated",
    "TokenRead",
    "result_read",
]
