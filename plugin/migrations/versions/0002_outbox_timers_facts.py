"""The outbox, timers, ticket facts and model versions; `sent` moves into the outbox.

Release 0.1 kept one row per major-event alert in `sent` (key
"major_event:{platform}:{ticket_id}"). Each becomes a `sent` outbox row under the key
the new step gives the same alert, so an upgraded desk never alerts twice for a ticket
it already alerted on. A 0.1 row left unconfirmed (the process died between claiming
and sending) blocked any resend in 0.1; it stays `sent` here too, with a note saying so.

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

TZ = sa.DateTime(timezone=True)
UNCONFIRMED = "migrated from release 0.1: the send was never confirmed"


def upgrade() -> None:
    outbox = _create_outbox()
    _create_timers()
    _create_ticket_facts()
    _create_model_versions()
    _move_sent(outbox)
    op.drop_table("sent")


def _create_outbox() -> sa.Table:
    table = op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(300), nullable=False, unique=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("ticket_id", sa.String(64), nullable=False),
        sa.Column("delivery_id", sa.Integer),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("audience", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("public", sa.Boolean, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_at", TZ, nullable=False),
        sa.Column("owner", sa.String(200)),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("sent_at", TZ),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_at"])
    return table


def _create_timers() -> None:
    op.create_table(
        "timers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(300), nullable=False, unique=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(20)),
        sa.Column("ticket_id", sa.String(64)),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("due_at", TZ, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("owner", sa.String(200)),
        sa.Column("lease_until", TZ),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("fired_at", TZ),
    )
    op.create_index("ix_timers_due", "timers", ["status", "due_at"])


def _create_ticket_facts() -> None:
    op.create_table(
        "ticket_facts",
        sa.Column("platform", sa.String(20), primary_key=True),
        sa.Column("ticket_id", sa.String(64), primary_key=True),
        sa.Column("number", sa.String(64)),
        sa.Column("title", sa.String(500)),
        sa.Column("created_at", TZ),
        sa.Column("updated_at", TZ),
        sa.Column("first_seen_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ, nullable=False),
        sa.Column("state", sa.String(64)),
        sa.Column("channel", sa.String(40)),
        sa.Column("language", sa.String(10)),
        sa.Column("requester_id", sa.String(200)),
        sa.Column("requester_org", sa.String(200)),
        sa.Column("owner", sa.String(200)),
        sa.Column("group_name", sa.String(200)),
        sa.Column("category", sa.String(200)),
        sa.Column("item_id", sa.String(100)),
        sa.Column("value_stream", sa.String(40)),
        sa.Column("priority", sa.String(40)),
        sa.Column("confidence", sa.Float),
        sa.Column("triage", sa.Boolean),
        sa.Column("major_event", sa.Boolean),
        sa.Column("record_quality", sa.Integer),
        sa.Column("corrected", sa.Boolean, nullable=False),
    )
    op.create_index("ix_facts_created", "ticket_facts", ["created_at"])


def _create_model_versions() -> None:
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("trained_at", TZ, nullable=False),
        sa.Column("n_samples", sa.Integer, nullable=False),
        sa.Column("n_eval", sa.Integer, nullable=False),
        sa.Column("accuracy", sa.Float),
        sa.Column("macro_f1", sa.Float),
        sa.Column("running_accuracy", sa.Float),
        sa.Column("running_macro_f1", sa.Float),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text),
    )


def _move_sent(outbox: sa.Table) -> None:
    sent = sa.table("sent", sa.column("key", sa.String), sa.column("ok", sa.Boolean),
                    sa.column("at", TZ))
    rows = op.get_bind().execute(sa.select(sent.c.key, sent.c.ok, sent.c.at)
                                   .order_by(sent.c.at, sent.c.key)).all()
    if rows:
        op.bulk_insert(outbox, [_outbox_row(key, ok, at) for key, ok, at in rows])


def _outbox_row(key: str, ok: bool, at) -> dict:
    # 0.1 wrote only "major_event:{platform}:{ticket_id}"; anything else keeps its key whole.
    event, platform, ticket_id = key.split(":", 2) if key.count(":") >= 2 else ("major_event", "", key)
    # The key Intent.key gives the same alert: "{platform}:{ticket_id}:{event}:{audience}:{channel}".
    new_key = f"{platform}:{ticket_id}:{event}:owner:apprise" if platform else key
    return {"key": new_key, "platform": platform, "ticket_id": ticket_id, "delivery_id": None,
            "event": event, "audience": "owner", "channel": "apprise", "public": False,
            "title": "", "body": "", "target": "notify_major_event", "data": {}, "status": "sent",
            "attempts": 1, "next_at": at, "owner": None, "last_error": None if ok else UNCONFIRMED,
            "created_at": at, "sent_at": at}


def downgrade() -> None:
    raise RuntimeError("going back to release 0.1 means restoring the backup taken before")
