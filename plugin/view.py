"""The read-only ledger view a step gets: read here, before the steps run, so the
steps themselves stay pure (no database inside a step)."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from .models import LedgerView, Ticket
from .store import aware
from .tables import outbox, survey_votes, ticket_facts, tickets, timers
from .tracking.config import of as tracking_of

REPEAT_WINDOW = timedelta(days=7)
MAJOR_EVENT_OPEN = timedelta(hours=24)
_FACTS = (ticket_facts.c.ticket_id, ticket_facts.c.number, ticket_facts.c.title, ticket_facts.c.created_at,
          ticket_facts.c.category, ticket_facts.c.item_id, ticket_facts.c.value_stream, ticket_facts.c.state)


def ledger_view(ledger: Any, ticket: Ticket, settings: Any, now: datetime) -> LedgerView:
    window = timedelta(minutes=getattr(settings, "major_event_window_minutes", 60))
    open_for = timedelta(hours=tracking_of(settings).outage_open_hours) if settings is not None else MAJOR_EVENT_OPEN
    since = (ticket.created_at or now) - window
    with ledger.engine.connect() as conn:
        recent = conn.execute(select(tickets.c.ticket_id, tickets.c.category, tickets.c.created_at)
                              .where(tickets.c.platform == ticket.platform,
                                     tickets.c.created_at >= since)).mappings().all()
        mine = conn.execute(select(*_FACTS).where(
            ticket_facts.c.platform == ticket.platform, ticket_facts.c.requester_id == ticket.requester.id,
            ticket_facts.c.ticket_id != ticket.id, ticket_facts.c.created_at >= now - REPEAT_WINDOW)
            .order_by(ticket_facts.c.created_at.desc()).limit(20)).mappings().all() \
            if ticket.requester.id else []
        majors = conn.execute(select(*_FACTS).where(
            ticket_facts.c.platform == ticket.platform, ticket_facts.c.major_event.is_(True),
            ticket_facts.c.created_at >= now - max(open_for, MAJOR_EVENT_OPEN))).mappings().all()
        known = conn.execute(select(ticket_facts).where(
            ticket_facts.c.platform == ticket.platform, ticket_facts.c.ticket_id == ticket.id)).mappings().first()
        said = _communication(conn, ticket)
        outages = _outages(conn, ticket, known)
    return LedgerView(recent=tuple(_aware(r) for r in recent), requester_recent=tuple(_aware(r) for r in mine),
                      open_major_events=tuple(_aware(r) for r in majors), known=dict(known) if known else {},
                      **said, **outages)


def _outages(conn, ticket: Ticket, known) -> dict[str, Any]:
    """The major event this ticket is linked to, and the tickets linked to this one."""
    facts = ticket_facts.c
    parent = conn.execute(select(*_FACTS, facts.major_event).where(
        facts.platform == ticket.platform, facts.ticket_id == known["outage_of"])).mappings().first() \
        if known and known.get("outage_of") else None
    linked = conn.execute(select(facts.ticket_id, facts.number, facts.state).where(
        facts.platform == ticket.platform, facts.outage_of == ticket.id)).mappings().all() \
        if known else []
    return {"outage_parent": _aware(parent) if parent else {}, "outage_linked": tuple(_aware(r) for r in linked)}


def _communication(conn, ticket: Ticket) -> dict[str, Any]:
    """What the communication step reads: messages said, timers set, the requester's vote."""
    mine = (outbox.c.platform == ticket.platform) & (outbox.c.ticket_id == ticket.id)
    said = conn.execute(select(outbox.c.event, outbox.c.audience, outbox.c.channel, outbox.c.title,
                               outbox.c.status, outbox.c.created_at, outbox.c.data)
                        .where(mine).order_by(outbox.c.id)).mappings().all()
    set_ = conn.execute(select(timers.c.key, timers.c.status).where(
        timers.c.platform == ticket.platform, timers.c.ticket_id == ticket.id)).all()
    vote = conn.execute(select(survey_votes).where(
        survey_votes.c.platform == ticket.platform, survey_votes.c.ticket_id == ticket.id)).mappings().first()
    return {"messages": tuple(_aware(r) for r in said), "timers": {k: s for k, s in set_},
            "survey": _aware(vote) if vote else {}}


def _aware(row) -> dict[str, Any]:
    return {k: aware(v) if isinstance(v, datetime) else v for k, v in dict(row).items()}
