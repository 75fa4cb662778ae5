"""What the ledger keeps of one processed delivery, written in ONE transaction:
findings, the platform calls made, corrections, the ticket's written state and
typed facts, the outbox intents, the outcome and the delivery's status. A crash
before it commits leaves the delivery unfinished (it runs again, and the plan and
the intents' markers keep that from writing anything twice); after it, all is kept.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update

from . import outbox, timers
from .kpi import COLUMNS as KPI_COLUMNS
from .models import Findings, Intent, Ticket, WritePlan
from .store import utcnow
from .tables import corrections, deliveries, findings, outcomes, plans, ticket_facts, tickets, writes
from .tables import outbox as outbox_table


@dataclass(frozen=True)
class Processed:
    delivery_id: int
    ticket: Ticket
    found: list[Findings]
    calls: list[tuple[str, str, int | None]]            # (method, path, status) of writes
    written: Mapping[str, Any]                           # our field values as the ticket now has them
    corrections: list[Mapping[str, Any]] = field(default_factory=list)
    intents: list[Intent] = field(default_factory=list)
    sent: frozenset[str] = frozenset()                   # intent keys the write plan carried out
    outcome: str = "enriched"
    reads: int = 0
    duration_ms: float | None = None
    detail: str | None = None
    plan: WritePlan | None = None                        # what was (or in shadow mode would be) written
    mode: str = "live"


def processed(ledger: Any, p: Processed, jsonable) -> list[int]:
    """Record it all; returns the ids of outbox rows still to send (for the dispatcher)."""
    t = p.ticket
    now = utcnow()
    with ledger.transaction() as conn:
        for f in p.found:
            conn.execute(insert(findings).values(delivery_id=p.delivery_id, platform=t.platform,
                                                 ticket_id=t.id, step=f.step, data=jsonable(f.facts), at=now))
        for method, path, status in p.calls:
            conn.execute(insert(writes).values(delivery_id=p.delivery_id, platform=t.platform, ticket_id=t.id,
                                               method=method, path=path, status=status, at=now))
        for c in p.corrections:
            conn.execute(insert(corrections).values(
                platform=t.platform, ticket_id=t.id, field=c["field"], old=_text(c.get("from")),
                new=_text(c.get("to")), text=t.text[:2000], at=now))
        facts = {f.step: f.facts for f in p.found}
        _upsert(conn, tickets, t, {"written": jsonable(dict(p.written)),
                                   "category": (facts.get("classification") or {}).get("category"),
                                   "updated_at": t.updated_at, "created_at": t.created_at or now,
                                   "enriched_at": now}, update_only=("category",))
        _upsert(conn, ticket_facts, t, facts_row(t, facts, p.written, bool(p.corrections), now),
                keep=("first_seen_at",))
        outbox.add(conn, t.platform, t.id, p.intents, now, delivery_id=p.delivery_id, sent=p.sent,
                   shadow=p.mode == "shadow")
        if p.plan is not None:
            conn.execute(insert(plans).values(delivery_id=p.delivery_id, platform=t.platform, ticket_id=t.id,
                                              mode=p.mode, plan=jsonable(plan_dict(p.plan)), at=now))
        if p.mode != "shadow":   # a shadow timer would fire live after the switch
            timers.set_requested(conn, t.platform, t.id, [r for f in p.found for r in f.timers], now)
        _finish(conn, p.delivery_id, t.platform, t.id, "done", p.outcome, now, writes=len(p.calls),
                reads=p.reads, duration_ms=p.duration_ms, detail=p.detail)
        pending = conn.execute(select(outbox_table.c.id).where(
            outbox_table.c.platform == t.platform, outbox_table.c.ticket_id == t.id,
            outbox_table.c.status == "pending")).scalars().all()
    return list(pending)


def plan_dict(plan: WritePlan) -> dict[str, Any]:
    return {"fields": dict(plan.fields), "add_tags": list(plan.add_tags), "remove_tags": list(plan.remove_tags),
            "note": plan.note, "articles": [{"key": a.key, "public": a.public, "title": a.title, "body": a.body}
                                            for a in plan.articles],
            "links": [{"other_id": x.other_id, "other_number": x.other_number, "kind": x.kind}
                      for x in plan.links]}


def finished(ledger: Any, delivery_id: int, platform: str, ticket_id: str | None, status: str,
             outcome: str, **extra: Any) -> None:
    """A delivery that ends without enrichment (ignored, dead): status and outcome together."""
    with ledger.transaction() as conn:
        _finish(conn, delivery_id, platform, ticket_id, status, outcome, utcnow(), **extra)


def _finish(conn, delivery_id, platform, ticket_id, status, outcome, now, *, writes=0, reads=0,
            duration_ms=None, detail=None, error=None, attempts=None) -> None:
    values: dict[str, Any] = {"status": status, "last_error": error, "finished_at": now}
    if attempts is not None:
        values["attempts"] = attempts
    conn.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(**values))
    conn.execute(insert(outcomes).values(delivery_id=delivery_id, platform=platform, ticket_id=ticket_id,
                                         outcome=outcome, writes=writes, reads=reads,
                                         duration_ms=duration_ms, detail=detail, at=now))


def facts_row(t: Ticket, facts: Mapping[str, Mapping[str, Any]], written: Mapping[str, Any],
              corrected: bool, now) -> dict[str, Any]:
    """The typed per-ticket facts a report queries; None where nothing is known yet."""
    c = facts.get("classification") or {}
    q = facts.get("record_quality") or {}
    row = {"number": t.number, "title": t.title[:500], "created_at": t.created_at, "updated_at": t.updated_at,
           "first_seen_at": now, "last_seen_at": now, "state": t.state or None,
           "channel": t.channel, "requester_id": t.requester.id or None,
           "requester_org": t.requester.organization, "owner": t.owner, "group_name": t.group,
           "category": written.get("enrich_category"), "item_id": c.get("category"),
           "value_stream": c.get("value_stream"), "priority": written.get("enrich_priority"),
           "confidence": c.get("confidence"), "triage": c.get("triage"),
           "major_event": c.get("major_event"), "record_quality": q.get("score"),
           "verification": (facts.get("verification") or {}).get("status"),
           "satisfaction": (facts.get("communication") or {}).get("satisfaction")}   # the survey vote
    tr, kb = facts.get("tracking") or {}, facts.get("knowledge") or {}
    row.update({"outage_of": tr.get("outage_of"), "stale_level": tr.get("stale_level"),
                "knowledge_suggested": kb.get("suggested"), "self_help_resolved": kb.get("self_help_resolved")})
    k = facts.get("kpi") or {}
    if k.get("measured"):
        row.update({name: k.get(name) for name in KPI_COLUMNS})
    if corrected:
        row["corrected"] = True
    return row


def _upsert(conn, table, t: Ticket, values: dict[str, Any], *, keep: Iterable[str] = (),
            update_only: Iterable[str] = ()) -> None:
    """Insert the ticket's row, or update it: `keep` columns keep their first value,
    `update_only` columns are not overwritten with None (a follow-up that knows less)."""
    key = (table.c.platform == t.platform) & (table.c.ticket_id == t.id)
    if conn.execute(select(table.c.ticket_id).where(key)).first() is None:
        conn.execute(insert(table).values(platform=t.platform, ticket_id=t.id, **values))
        return
    soft = set(update_only) | {k for k in values if table is ticket_facts}
    changes = {k: v for k, v in values.items() if k not in set(keep) and not (k in soft and v is None)}
    conn.execute(update(table).where(key).values(**changes))


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
