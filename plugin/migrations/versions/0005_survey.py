"""Satisfaction survey (issue 11): the requester's vote per ticket, `survey_votes`.
(ticket_facts.satisfaction, which reports read, came with the KPI revision 0003.)

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "survey_votes",
        sa.Column("platform", sa.String(20), primary_key=True),
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("code", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("language", sa.String(10)),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("first_voted_at", TZ, nullable=False),
        sa.Column("voted_at", TZ, nullable=False),
    )


def downgrade() -> None:
    raise RuntimeError("the ledger does not go back to an older release")
