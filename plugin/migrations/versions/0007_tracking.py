"""The desk owning its tickets (issue 14): per ticket, the open major event it was
linked to as a known outage, the stale-escalation level reached, how many knowledge
articles were suggested, and whether it was resolved after a suggestion without an
agent's public reply (the self-help KPI of the review). All nullable: rows written
before this revision have none until processed again.

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket_facts") as batch:
        batch.add_column(sa.Column("outage_of", sa.String(64), nullable=True))
        batch.add_column(sa.Column("stale_level", sa.Integer, nullable=True))
        batch.add_column(sa.Column("knowledge_suggested", sa.Integer, nullable=True))
        batch.add_column(sa.Column("self_help_resolved", sa.Boolean, nullable=True))


def downgrade() -> None:
    raise RuntimeError("the ledger does not go back to an older release")
