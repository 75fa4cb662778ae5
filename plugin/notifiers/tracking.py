"""The notices of the desk owning its tickets (the tracking step's facts, said here):

- stale: an internal note on the ticket, and the group's lead (level 1) or the desk
  manager (level 2) told on their channel from the contact table;
- known_outage: the requester of a ticket linked to an open major event is told the
  desk already knows, and where updates appear;
- outage_resolved: told once when the major event's ticket is solved.

Each has its outbox event, so it is said once: a stale level once per stretch
without progress (the event names the stretch), the outage notices once per ticket.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .. import workcal
from ..models import StepContext, Ticket
from ..tracking.config import Contact
from ..tracking.config import of as tracking_of
from .commitment import when
from .config import Communication
from .lifecycle import Fields, Notice


def notices(ticket: Ticket, ctx: StepContext, comm: Communication, facts: Mapping[str, Any]) -> list[Notice]:
    out: list[Notice] = []
    for esc in facts.get("escalate") or ():
        fields = stale_fields(esc, ticket, ctx)
        out.append(Notice("stale", esc["event"], ("staff",), fields, channel="ticket"))
        out.append(Notice("stale", esc["event"], ("lead",) if esc["level"] == 1 else ("manager",), fields))
    about = facts.get("outage")
    if about and facts.get("outage_resolved"):
        out.append(Notice("outage_resolved", "outage_resolved", ("requester",), outage_fields(about, comm)))
    elif about and not facts.get("outage_over"):
        out.append(Notice("known_outage", "known_outage", ("requester",), outage_fields(about, comm)))
    return out


def lead_of(ticket: Ticket, ctx: StepContext, audience: str) -> Contact | None:
    """The contact-table person an audience means for this ticket: the lead of its
    group (the platform's group, else the one the classification suggested)."""
    cfg = tracking_of(ctx.settings)
    if audience == "manager":
        return cfg.manager
    if audience != "lead":
        return None
    found = ctx.found.get("classification")
    suggested = found.facts.get("group") if found is not None else None
    return cfg.lead(ticket.group) or cfg.lead(suggested)


def stale_fields(esc: Mapping[str, Any], ticket: Ticket, ctx: StepContext) -> Fields:
    cal = workcal.of(ctx.settings)
    since = datetime.fromisoformat(esc["since"]) if esc.get("since") else None
    lead = lead_of(ticket, ctx, "lead")
    manager = lead_of(ticket, ctx, "manager")

    def fields(lang: str) -> Mapping[str, Any]:
        return {"stale": {"level": esc["level"], "hours": _hours(esc["hours"]),
                          "worked": _hours(esc.get("minutes", 0) / 60),
                          "since": when(since, cal.zone, lang) if since else "",
                          "lead": lead.name if lead else "", "manager": manager.name if manager else "",
                          "group": ticket.group or ""}}
    return fields


def outage_fields(about: Mapping[str, Any], comm: Communication) -> Fields:
    return lambda lang: {"outage": {"number": str(about.get("number") or ""),
                                    "title": str(about.get("title") or ""), "portal": comm.portal_url or ""}}


def _hours(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"
