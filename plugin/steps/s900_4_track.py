"""Tracking (跟踪): the desk owns every ticket from intake to closure and follows it.

- Stale tickets (plugin.tracking.stale): no progress for the working hours the
  settings give its value stream and priority → tag `enrich:stale`, and the
  communication step tells the group's lead (level 1), then the desk manager
  (level 2), each once per stretch without progress; a `reprocess` timer wakes the
  ticket when the next level falls due, progress moves it, waiting pauses it.
- Known outages (plugin.tracking.outage): a new ticket about an open major event is
  linked to it, tagged `enrich:known-outage`, and its requester told; when the major
  event's ticket is solved, a timer wakes each linked ticket, whose requester is then
  told once.

Pure: what it reads comes from the context (timeline, ledger view, settings, `now`);
what is said is left to the communication step, through this step's facts.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .. import workcal
from ..kpi.config import kpi_settings
from ..models import Findings, Link, StepContext, Ticket, TimerRequest
from ..notifiers.config import of as communication_of
from ..store import aware
from ..tracking import outage, stale
from ..tracking.config import Tracking
from ..tracking.config import of as tracking_of
from ..workcal import Calendar, CalendarError, for_level
from .base import StepSpec
from .s902_measure import priority_of, service_level_of

STEP = "tracking"
TAG_STALE = "enrich:stale"
TAG_OUTAGE = "enrich:known-outage"
REPROCESS = "reprocess"


def track(ticket: Ticket, ctx: StepContext) -> Findings:
    cfg = tracking_of(ctx.settings)
    now = ctx.now or ticket.updated_at or ticket.created_at
    if now is None:
        return Findings(STEP)
    kind = communication_of(ctx.settings).state_kind
    known = ctx.ledger.known or {}
    parts = [_stale(ticket, ctx, cfg, kind(ticket.state), known, now),
             _outage(ticket, ctx, cfg, kind, known, now)]
    return Findings(STEP, tags=frozenset().union(*(p.tags for p in parts)),
                    remove_tags=frozenset().union(*(p.remove_tags for p in parts)),
                    links=tuple(x for p in parts for x in p.links),
                    timers=tuple(t for p in parts for t in p.timers),
                    facts={k: v for p in parts for k, v in p.facts.items()})


# -- stale tickets ------------------------------------------------------------------

def _stale(ticket: Ticket, ctx: StepContext, cfg: Tracking, kind: str, known: Mapping[str, Any],
           now: datetime) -> Findings:
    mine = _stale_timers(ctx, ticket)
    if not cfg.stale_enabled or ctx.history is None or kind in ("resolved", "closed"):
        return Findings(STEP, remove_tags=frozenset({TAG_STALE}), timers=_cancel(mine),
                        facts={"stale_level": 0 if kind in ("resolved", "closed") else None})
    stream = _stream(ctx, known)
    first = cfg.stale_after(stream, priority_of(ticket, ctx))
    try:
        c = stale.clock(ctx.history, ticket.created_at, _calendar(ctx, ticket),
                        (first, first + cfg.manager_hours), now, watched_since=aware(known.get("first_seen_at")) or now)
    except CalendarError as exc:      # a year the holiday data lacks: say so, never guess
        return Findings(STEP, facts={"stale_level": None, "stale_error": exc.message})
    level = c.level(now)
    nxt = c.next_due(now)
    wanted = {f"stale:{c.event(level + 1)}"} if nxt else set()
    timers = [*_cancel({n: s for n, s in mine.items() if n not in wanted}),
              *([TimerRequest(f"stale:{c.event(level + 1)}", REPROCESS, nxt)] if nxt else [])]
    facts: dict[str, Any] = {
        "stale_level": level, "stale_minutes": round(c.minutes), "stale_paused": c.paused,
        "stale_since": c.since.isoformat() if c.since else None,
        "escalate": [{"level": n, "event": c.event(n), "since": c.since.isoformat() if c.since else None,
                      "hours": first if n == 1 else first + cfg.manager_hours,
                      "minutes": round(c.minutes), "stream": stream} for n in range(1, level + 1)]}
    return Findings(STEP, tags=frozenset({TAG_STALE}) if level else frozenset(),
                    remove_tags=frozenset() if level else frozenset({TAG_STALE}),
                    timers=tuple(timers), facts=facts)


def _stale_timers(ctx: StepContext, ticket: Ticket) -> dict[str, str]:
    """This ticket's pending stale timers by name."""
    suffix = f":{ticket.platform}:{ticket.id}"
    return {key[:-len(suffix)]: status for key, status in ctx.ledger.timers.items()
            if key.startswith("stale:") and key.endswith(suffix) and status == "pending"}


def _cancel(names: Mapping[str, str]) -> tuple[TimerRequest, ...]:
    return tuple(TimerRequest(name, REPROCESS, datetime.min, cancel=True) for name in sorted(names))


def _stream(ctx: StepContext, known: Mapping[str, Any]) -> str | None:
    found = ctx.found.get("classification")
    return (found.facts.get("value_stream") if found is not None else None) or known.get("value_stream")


def _calendar(ctx: StepContext, ticket: Ticket) -> Calendar:
    """The clock of the ticket's service level, as the KPI step keeps it (no clock: desk hours)."""
    base = workcal.of(ctx.settings)
    return for_level(base, service_level_of(ticket, ctx, kpi_settings(ctx.settings))[1]) or base


# -- known outages ------------------------------------------------------------------

def _outage(ticket: Ticket, ctx: StepContext, cfg: Tracking, kind, known: Mapping[str, Any],
            now: datetime) -> Findings:
    if not cfg.outage_enabled:
        return Findings(STEP)
    found = ctx.found.get("classification")
    facts = found.facts if found is not None else {}
    parent = ctx.ledger.outage_parent
    if known.get("outage_of") and parent:
        # Told of the fix only while its own ticket is still open: a requester whose ticket
        # was closed meanwhile has heard the end already.
        over = kind(parent.get("state")) in ("resolved", "closed")
        return Findings(STEP, facts={"outage_of": known["outage_of"], "outage": _about(parent), "outage_over": over,
                                     "outage_resolved": over and kind(ticket.state) not in ("resolved", "closed")})
    if ctx.ledger.outage_linked and kind(ticket.state) in ("resolved", "closed"):
        # A major event solved: wake every linked ticket, whose own run tells its requester.
        return Findings(STEP, timers=tuple(
            TimerRequest(f"outage-solved:{ticket.id}", REPROCESS, now, ticket_id=str(row["ticket_id"]))
            for row in ctx.ledger.outage_linked))
    if known or facts.get("major_event"):
        return Findings(STEP)          # only a new ticket is matched; a major event matches nothing
    major = outage.match(ticket.id, ticket.title, facts.get("category"), ticket.created_at or now,
                         ctx.ledger.open_major_events, cfg,
                         lambda state: kind(state) not in ("resolved", "closed"))
    if major is None:
        return Findings(STEP)
    link = Link(str(major["ticket_id"]), str(major.get("number") or major["ticket_id"]), "related")
    return Findings(STEP, tags=frozenset({TAG_OUTAGE}), links=(link,),
                    facts={"outage_of": str(major["ticket_id"]), "outage": _about(major), "outage_new": True})


def _about(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": str(row.get("ticket_id")), "number": str(row.get("number") or row.get("ticket_id")),
            "title": str(row.get("title") or "")}


SPEC = StepSpec(STEP, track, needs=("classification",), history=True)
