"""The first schema: projects, tests, runs, results, attempts, artifacts.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create every table and index."""
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "tests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("suite", sa.Text, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("file", sa.Text),
        sa.Column("line", sa.Integer),
        sa.Column("first_seen", sa.Float, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
        sa.UniqueConstraint("project_id", "key", name="uq_tests_project_key"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("source", sa.Text),
        sa.Column("host", sa.String(255)),
        sa.Column("pid", sa.Integer),
        sa.Column("branch", sa.String(255)),
        sa.Column("commit", sa.String(64)),
        sa.Column("dirty", sa.Boolean),
        sa.Column("options", sa.Text),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float),
        sa.Column("duration", sa.Float),
        *(
            sa.Column(name, sa.Integer, nullable=False)
            for name in ("total", "passed", "failed", "errors", "timeouts", "skipped", "flaky")
        ),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_runs_project_started", "runs", ["project_id", "started_at"])
    op.create_index("ix_runs_status", "runs", ["status"])
    op.create_table(
        "artifacts",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "results",
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("runs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column(
            "test_id", sa.Integer, sa.ForeignKey("tests.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("flaky", sa.Boolean, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("duration", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float),
        sa.Column("reason", sa.Text),
        sa.Column("message", sa.Text),
    )
    op.create_index("ix_results_test_run", "results", ["test_id", "run_id"])
    op.create_index("ix_results_run_outcome", "results", ["run_id", "outcome"])
    op.create_table(
        "attempts",
        sa.Column("run_id", sa.Integer, primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("started_at", sa.Float),
        sa.Column("duration", sa.Float, nullable=False),
        sa.Column("exit_code", sa.Integer),
        sa.Column("signal", sa.String(20)),
        sa.Column("failures", sa.Text),
        sa.Column("notes", sa.Text),
        sa.Column("stdout_tail", sa.Text),
        sa.Column("stdout_size", sa.Integer, nullable=False),
        sa.Column(
            "stdout_artifact",
            sa.String(64),
            sa.ForeignKey("artifacts.sha256", ondelete="SET NULL"),
        ),
        sa.Column("stderr_tail", sa.Text),
        sa.Column("stderr_size", sa.Integer, nullable=False),
        sa.Column(
            "stderr_artifact",
            sa.String(64),
            sa.ForeignKey("artifacts.sha256", ondelete="SET NULL"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id", "position"],
            ["results.run_id", "results.position"],
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_attempts_stdout_artifact", "attempts", ["stdout_artifact"])
    op.create_index("ix_attempts_stderr_artifact", "attempts", ["stderr_artifact"])


def downgrade() -> None:
    """Drop everything."""
    for table in ("attempts", "results", "artifacts", "runs", "tests", "projects"):
        op.drop_table(table)
