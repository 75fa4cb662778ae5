"""Verification facts per ticket (issue 10): the 900.2 status (verified, unverified,
not_entitled, out_of_scope, identity_check_required) as a column of ticket_facts,
nullable: rows written before this revision have none until processed again.

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch: SQLite alters a table by copying it; PostgreSQL gets a plain ALTER TABLE.
    with op.batch_alter_table("ticket_facts") as batch:
        batch.add_column(sa.Column("verification", sa.String(40), nullable=True))


def downgrade() -> None:
    raise RuntimeError("the ledger does not go back to an older release")
