"""The ledger's tables (SQLAlchemy Core): one definition for SQLite and PostgreSQL."""
from __future__ import annotations

from sqlalchemy import (
                        JSON,
                        Boolean,
                        Column,
                        DateTime,
                        Float,
                        Index,
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

# The outbox: every effect a step asked for (a note, a public reply, a message on a
# channel, a survey invitation), stored in the same transaction as the findings and
# carried out once. `key` is the intent's stable key (ticket, event, audience, channel).
outbox = Table(
    "outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(300), nullable=False, unique=True),
    Column("platform", String(20), nullable=False),
    Column("ticket_id", String(64), nullable=False),
    Column("delivery_id", Integer),
    Column("event", String(64), nullable=False),
    Column("audience", String(20), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("public", Boolean, nullable=False, default=False),
    Column("title", Text, nullable=False, default=""),
    Column("body", Text, nullable=False),
    Column("target", String(200), nullable=False, default=""),
    Column("data", JSON, nullable=False),
    Column("status", String(20), nullable=False),    # pending | sending | sent | dead | shadow
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_at", DateTime(timezone=True), nullable=False),
    Column("owner", String(200)),                    # the dispatcher holding a 'sending' row
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Index("ix_outbox_due", "status", "next_at"),
)

# Durable timers: due-at jobs that survive restarts and fire once across workers.
timers = Table(
    "timers", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(300), nullable=False, unique=True),   # e.g. "sweep", "followup:zammad:42:1"
    Column("kind", String(64), nullable=False),                # the handler's name
    Column("platform", String(20)),
    Column("ticket_id", String(64)),
    Column("payload", JSON, nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),    # pending | running | done | dead | cancelled
    Column("attempts", Integer, nullable=False, default=0),
    Column("owner", String(200)),
    Column("lease_until", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("fired_at", DateTime(timezone=True)),
    Index("ix_timers_due", "status", "due_at"),
)

# Typed per-ticket facts a report can query (one row per ticket, kept current).
ticket_facts = Table(
    "ticket_facts", metadata,
    Column("platform", String(20), primary_key=True),
    Column("ticket_id", String(64), primary_key=True),
    Column("number", String(64)),
    Column("title", String(500)),
    Column("created_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
    Column("first_seen_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("state", String(64)),
    Column("channel", String(40)),
    Column("language", String(10)),
    Column("requester_id", String(200)),
    Column("requester_org", String(200)),
    Column("owner", String(200)),
    Column("group_name", String(200)),
    Column("category", String(200)),
    Column("item_id", String(100)),
    Column("value_stream", String(40)),
    Column("priority", String(40)),
    Column("confidence", Float),
    Column("triage", Boolean),
    Column("major_event", Boolean),
    Column("record_quality", Integer),
    Column("corrected", Boolean, nullable=False, default=False),
    Column("verification", String(40)),               # 900.2 status (issue 10, revision 0004)
    # KPIs (issue 12, revision 0003): times UTC, minutes are working minutes of the
    # ticket's service level; a flag is NULL while it can still go either way.
    Column("registered_day", String(10)),             # created_at's date in the desk's time zone
    Column("service_level", String(10)),              # 5x8 | 7x24 | none
    Column("accepted_at", DateTime(timezone=True)),
    Column("first_response_at", DateTime(timezone=True)),
    Column("resolved_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("response_minutes", Float),
    Column("first_response_minutes", Float),
    Column("resolution_minutes", Float),
    Column("handling_minutes", Float),
    Column("waiting_minutes", Float),
    Column("response_breached", Boolean),
    Column("sla_breached", Boolean),
    Column("sla_at_risk", Boolean),
    Column("reopened", Boolean),
    Column("repeat", Boolean),
    Column("misclassified", Boolean),
    Column("satisfaction", Integer),                  # 1 满意, 2 一般, 3 不满意 (the survey fills it)
    # The desk owning its tickets (issue 14, revision 0007).
    Column("outage_of", String(64)),                  # the open major event's ticket id it was linked to
    Column("stale_level", Integer),                   # 0 moving, 1 lead told, 2 manager told
    Column("knowledge_suggested", Integer),           # articles suggested to the agent
    Column("self_help_resolved", Boolean),            # resolved after a suggestion, no agent reply
    Index("ix_facts_created", "created_at"),
)

# The requester's answer to the satisfaction survey (901.5), one row per ticket: voting
# again updates it. The feedback page writes it; the communication step writes it to
# the ticket (revision 0005).
survey_votes = Table(
    "survey_votes", metadata,
    Column("platform", String(20), primary_key=True),
    Column("ticket_id", String(64), primary_key=True),
    Column("code", Integer, nullable=False),          # 1 满意 | 2 一般 | 3 不满意
    Column("comment", Text),
    Column("language", String(10)),
    Column("revision", Integer, nullable=False),     # votes cast so far; each one is written back
    Column("first_voted_at", DateTime(timezone=True), nullable=False),
    Column("voted_at", DateTime(timezone=True), nullable=False),
)

# Learned models the desk has trained: figures of each candidate, which one runs.
model_versions = Table(
    "model_versions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("path", String(500), nullable=False),
    Column("trained_at", DateTime(timezone=True), nullable=False),
    Column("n_samples", Integer, nullable=False),
    Column("n_eval", Integer, nullable=False, default=0),
    Column("accuracy", Float),
    Column("macro_f1", Float),
    Column("running_accuracy", Float),      # the running model on the same held-out tickets
    Column("running_macro_f1", Float),
    Column("status", String(20), nullable=False),   # promoted | refused | rolled_back | active
    Column("reason", Text),
)

# Every delivery's write plan, live or shadow: what was written, or would have been
# (shadow mode's record, the what-if report's input, an audit trail).
plans = Table(
    "plans", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", Integer, nullable=False, index=True),
    Column("platform", String(20), nullable=False),
    Column("ticket_id", String(64), nullable=False),
    Column("mode", String(10), nullable=False),      # live | shadow
    Column("plan", JSON, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
