"""The tables of Assay's own database, as SQLAlchemy models.

These models are the schema's single source: Alembic migrations are written
against them, and the read queries use them. The recorder's hot path writes
with plain SQL over the same tables (see `writes.py` for why).

Results and attempts have composite keys, (run, position) and (run,
position, number), that the writer knows before it inserts: a batch of
thousands of rows is one `executemany`, with no round trip to learn ids.
Times are seconds since the epoch (UTC) in plain floats, which read and sort
the same on every backend and need no conversion on the hot path.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """The declarative base of every row type."""


class ProjectRow(Base):
    """A project: the namespace of tests, named in config (default: the root folder)."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[float] = mapped_column(Float)


class TestRow(Base):
    """A test's stable identity within a project, with when it was first and last seen."""

    __test__ = False
    __tablename__ = "tests"
    __table_args__ = (UniqueConstraint("project_id", "key", name="uq_tests_project_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    suite: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20), default="run")
    file: Mapped[str | None] = mapped_column(Text)
    line: Mapped[int | None] = mapped_column(Integer)
    first_seen: Mapped[float] = mapped_column(Float)
    last_seen: Mapped[float] = mapped_column(Float)


class RunRow(Base):
    """One run: who started it where, on which commit, and how it ended."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_project_started", "project_id", "started_at"),
        Index("ix_runs_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    trigger: Mapped[str] = mapped_column(String(20))
    source: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    branch: Mapped[str | None] = mapped_column(String(255))
    commit: Mapped[str | None] = mapped_column(String(64))
    dirty: Mapped[bool | None] = mapped_column(Boolean)
    options: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float)
    duration: Mapped[float | None] = mapped_column(Float)
    total: Mapped[int] = mapped_column(Integer, default=0)
    passed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    timeouts: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    flaky: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text)
    key: Mapped[str | None] = mapped_column(String(64), unique=True)
    """A remote reporter's own id for the run, so that a retried start is not a second run."""


class ResultRow(Base):
    """One test's verdict in one run; `position` is its place in report order."""

    __tablename__ = "results"
    __table_args__ = (
        Index("ix_results_test_run", "test_id", "run_id"),
        Index("ix_results_run_outcome", "run_id", "outcome"),
    )

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    test_id: Mapped[int] = mapped_column(ForeignKey("tests.id", ondelete="CASCADE"))
    outcome: Mapped[str] = mapped_column(String(10))
    flaky: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    started_at: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)


class AttemptRow(Base):
    """One attempt of a result, kept even when a retry followed."""

    __tablename__ = "attempts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["run_id", "position"],
            ["results.run_id", "results.position"],
            ondelete="CASCADE",
        ),
        Index("ix_attempts_stdout_artifact", "stdout_artifact"),
        Index("ix_attempts_stderr_artifact", "stderr_artifact"),
    )

    run_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[float | None] = mapped_column(Float)
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    exit_code: Mapped[int | None] = mapped_column(Integer)
    signal: Mapped[str | None] = mapped_column(String(20))
    failures: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    stdout_tail: Mapped[str | None] = mapped_column(Text)
    stdout_size: Mapped[int] = mapped_column(Integer, default=0)
    stdout_artifact: Mapped[str | None] = mapped_column(
        ForeignKey("artifacts.sha256", ondelete="SET NULL")
    )
    stderr_tail: Mapped[str | None] = mapped_column(Text)
    stderr_size: Mapped[int] = mapped_column(Integer, default=0)
    stderr_artifact: Mapped[str | None] = mapped_column(
        ForeignKey("artifacts.sha256", ondelete="SET NULL")
    )


class ArtifactRow(Base):
    """A file kept by content (SHA-256) under the artifact store."""

    __tablename__ = "artifacts"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100), default="text/plain")
    created_at: Mapped[float] = mapped_column(Float)


class TokenRow(Base):
    """An API token of the server: only its SHA-256 is kept, with its scopes."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[float] = mapped_column(Float)
    last_used_at: Mapped[float | None] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float)


class WebhookRow(Base):
    """Where the server sends notifications of run events, and how to sign them."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(20), default="json")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[float] = mapped_column(Float)


class DeliveryRow(Base):
    """One attempt to deliver one webhook event, kept so that failures can be seen."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_webhook", "webhook_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(50))
    event_id: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[float] = mapped_column(Float)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)
    payload: Mapped[str] = mapped_column(Text)


class IngestBatchRow(Base):
    """A batch of a remote run's events that the server has written: retries are skipped.

    Batch 0 is the run's start, so the latest `received_at` is when the
    server last heard from the run's reporter.
    """

    __tablename__ = "ingest_batches"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[float] = mapped_column(Float)
