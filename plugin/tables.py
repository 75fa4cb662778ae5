"""The ledger's tables (SQLAlchemy Core): one definition for SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import (
                        JSON,
                        Boolean,
                        Column,
                        DateTime,
                        Float,
                        Integer,
                        LargeBinary,
                        MetaData,
                        String,
                        Table,
                        Text,
                        UniqueConstraint,
)

metadata = MetaData()

deliveries = Table(
    "deliveries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(20), nullable=False),
    Column("delivery_key", String(200), nullable=False),
    Column("ticket_id", String(64)),
    Column("event", String(64)),
    Column("status", String(20), nullable=False),   # queued | processing | done | ignored | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("body", LargeBinary, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    UniqueConstraint("platform", "delivery_key", name="uq_delivery"),
)

outcomes = Table(
    "outcomes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", Integer, nullable=False, index=True),
    Column("platform", String(20), nullable=False),
    Column("ticket_id", String(64)),
    Column("outcome", String(20), nullable=False),   # enriched | unchanged | ignored | dead | retrying
    Column("writes", Integer, nullable=False, default=0),
    Column("reads", Integer, nullable=False, default=0),
    Column("duration_ms", Float),
    Column("detail", Text),
    Column("at", DateTime(timezone=True), nullable=False),
)

findings = Table(
    "findings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", Integer, nullable=False, index=True),
    Column("platform", String(20), nullable=False),
    Column("ticket_id", String(64), nullable=False),
    Column("step", String(64), nullable=False),
    Column("data", JSON, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

writes = Table(
    "writes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", Integer, index=True),
    Column("platform", String(20), nullable=False),
    Column("ticket_id", String(64)),
    Column("method", String(10), nullable=False),
    Column("path", String(500), nullable=False),
    Column("status", Integer),
    Column("at", DateTime(timezone=True), nullable=False),
)

tickets = Table(
    "tickets", metadata,
    Column("platform", String(20), primary_key=True),
    Column("ticket_id", String(64), primary_key=True),
    Column("written", JSON, nullable=False),          # field values the plugin wrote last
    Column("category", String(200)),
    Column("updated_at", DateTime(timezone=True)),    # the platform's updated_at we last processed
    Column("created_at", DateTime(timezone=True)),
    Column("enriched_at", DateTime(timezone=True), nullable=False),
)

corrections = Table(
    "corrections", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(20), nullable=False),
    Column("ticket_id", String(64), nullable=False),
    Column("field", String(64), nullable=False),
    Column("old", String(200)),
    Column("new", String(200)),
    Column("text", Text),
    Column("at", DateTime(timezone=True), nullable=False),
)

kv = Table(
    "kv", metadata,
    Column("key", String(200), primary_key=True),
    Column("value", JSON),
)

leases = Table(
    "leases", metadata,
    Column("name", String(200), primary_key=True),   # e.g. "ticket:zammad:1042"
    Column("owner", String(200), nullable=False),    # host:pid, to free a dead worker's leases
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

sent = Table(
    "sent", metadata,
    Column("key", String(300), primary_key=True),     # idempotency key of a message
    Column("channel", String(40), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
