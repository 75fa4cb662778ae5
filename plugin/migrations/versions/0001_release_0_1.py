"""Release 0.1's ledger, exactly as its `metadata.create_all` made it.

An install of 0.1 has these tables but no alembic_version: `plugin.migrate` stamps
it at this revision, and a fresh database is built by it, so both go on from the
same schema. Frozen: never edit this file, add a revision instead.

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

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("delivery_key", sa.String(200), nullable=False),
        sa.Column("ticket_id", sa.String(64)),
        sa.Column("event", sa.String(64)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("finished_at", TZ),
        sa.UniqueConstraint("platform", "delivery_key", name="uq_delivery"),
    )
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", sa.Integer, nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("ticket_id", sa.String(64)),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("writes", sa.Integer, nullable=False),
        sa.Column("reads", sa.Integer, nullable=False),
        sa.Column("duration_ms", sa.Float),
        sa.Column("detail", sa.Text),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_outcomes_delivery_id", "outcomes", ["delivery_id"])
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", sa.Integer, nullable=False),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_findings_delivery_id", "findings", ["delivery_id"])
    op.create_table(
        "writes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", sa.Integer),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("ticket_id", sa.String(64)),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_writes_delivery_id", "writes", ["delivery_id"])
    _small_tables()


def _small_tables() -> None:
    op.create_table(
        "tickets",
        sa.Column("platform", sa.String(20), primary_key=True),
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("written", sa.JSON, nullable=False),
        sa.Column("category", sa.String(200)),
        sa.Column("updated_at", TZ),
        sa.Column("created_at", TZ),
        sa.Column("enriched_at", TZ, nullable=False),
    )
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("old", sa.String(200)),
        sa.Column("new", sa.String(200)),
        sa.Column("text", sa.Text),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_table(
        "kv",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("value", sa.JSON),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
    )
    op.create_table(
        "sent",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("at", TZ, nullable=False),
    )


def downgrade() -> None:
    raise RuntimeError("the ledger cannot go below release 0.1")
