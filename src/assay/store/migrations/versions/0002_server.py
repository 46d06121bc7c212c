"""The server's tables: tokens, webhooks and their deliveries, ingested batches.

Also gives runs a `key`: a remote reporter's own id for its run, so that a
start it retries after a lost answer does not make a second run.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the server's tables and the runs' key."""
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("key", sa.String(64)))
        runs.create_unique_constraint("uq_runs_key", ["key"])
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", sa.String(100), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_used_at", sa.Float),
        sa.Column("revoked_at", sa.Float),
    )
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("events", sa.Text, nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("format", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "webhook_id",
            sa.Integer,
            sa.ForeignKey("webhooks.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("event", sa.String(50), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("duration", sa.Float, nullable=False),
        sa.Column("delivered", sa.Boolean, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_index("ix_deliveries_webhook", "deliveries", ["webhook_id", "id"])
    op.create_table(
        "ingest_batches",
        sa.Column(
            "run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("received_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    """Drop what `upgrade` made."""
    op.drop_table("ingest_batches")
    op.drop_index("ix_deliveries_webhook", "deliveries")
    op.drop_table("deliveries")
    op.drop_table("webhooks")
    op.drop_table("tokens")
    with op.batch_alter_table("runs") as runs:
        runs.drop_constraint("uq_runs_key", type_="unique")
        runs.drop_column("key")
