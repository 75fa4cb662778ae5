"""KPI facts per ticket (issue 12): the times, working minutes and flags the review
report adds up, as columns of ticket_facts (all nullable: rows written before this
revision simply have no KPIs until their ticket is processed again).

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
COLUMNS = (
    ("registered_day", sa.String(10)), ("service_level", sa.String(10)),
    ("accepted_at", TZ), ("first_response_at", TZ), ("resolved_at", TZ), ("closed_at", TZ),
    ("response_minutes", sa.Float), ("first_response_minutes", sa.Float),
    ("resolution_minutes", sa.Float), ("handling_minutes", sa.Float), ("waiting_minutes", sa.Float),
    ("response_breached", sa.Boolean), ("sla_breached", sa.Boolean), ("sla_at_risk", sa.Boolean),
    ("reopened", sa.Boolean), ("repeat", sa.Boolean), ("misclassified", sa.Boolean),
    ("satisfaction", sa.Integer),
)


def upgrade() -> None:
    # batch: SQLite alters a table by copying it; PostgreSQL gets plain ALTER TABLEs.
    with op.batch_alter_table("ticket_facts") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    raise RuntimeError("the ledger does not go back to an older release")
