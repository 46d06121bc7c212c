"""The API's request and response bodies (`*Create` in, `*Read` out).

Responses are built from the store's frozen records with `from_attributes`,
so the API shows what the store returns and nothing more.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from assay.store.queries import StoredResult
from assay.store.webhooks import URL_PATTERN, URL_RULE

MAX_ID = 2**31 - 1
"""The largest id or position the API takes: what an INTEGER column holds on PostgreSQL."""

Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]
"""Text the API stores or looks up: PostgreSQL's text cannot hold a NUL character."""


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

    suite: Text = Field(min_length=1, max_length=1000, examples=["examples"])
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

    name: Text = Field(min_length=1, max_length=100)
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


# -- Webhooks (admin).

WebhookEvent = Literal["run.finished", "run.failed", "test.flaky_detected"]
WebhookFormat = Literal["json", "slack"]
_SECRET = r"^[\x21-\x7e]+$"  # visible ASCII: a secret is typed into receivers' configs


def _webhook_url(url: object) -> object:
    # Before the pattern, to say what is wrong in words rather than in a regular expression.
    import re

    if isinstance(url, str) and not re.fullmatch(URL_PATTERN, url):
        raise ValueError(URL_RULE)
    return url


class WebhookCreate(BaseModel):
    """A webhook to add; without a `secret`, the server makes one and returns it once."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1,
        max_length=2000,
        pattern=URL_PATTERN,
        examples=["https://ci.example.com/hooks/assay"],
    )
    events: list[WebhookEvent] = Field(min_length=1, max_length=3)
    secret: str | None = Field(default=None, min_length=16, max_length=200, pattern=_SECRET)
    format: WebhookFormat = "json"
    active: bool = Field(default=True, strict=True)

    _url = field_validator("url", mode="before")(_webhook_url)


class WebhookUpdate(BaseModel):
    """Changes to a webhook; a field left out (or null) stays as it is."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=1, max_length=2000, pattern=URL_PATTERN)
    events: list[WebhookEvent] | None = Field(default=None, min_length=1, max_length=3)
    secret: str | None = Field(default=None, min_length=16, max_length=200, pattern=_SECRET)
    format: WebhookFormat | None = None
    active: bool | None = Field(default=None, strict=True)

    _url = field_validator("url", mode="before")(_webhook_url)


class WebhookRead(_Read):
    """A webhook, without its secret."""

    id: int
    url: str
    events: list[str]
    format: str
    active: bool
    created_at: datetime


class WebhookCreated(WebhookRead):
    """A new webhook and its signing secret, shown this once."""

    secret: str


class DeliveryRead(BaseModel):
    """One attempt to deliver an event: the answer (or error), and the body that was sent."""

    id: int
    webhook_id: int
    event: str
    event_id: str
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration: float
    delivered: bool
    payload: dict[str, object]


__all__ += [
    "DeliveryRead",
    "WebhookCreate",
    "WebhookCreated",
    "WebhookRead",
    "WebhookUpdate",
]
