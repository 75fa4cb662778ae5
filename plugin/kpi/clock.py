"""The moments a ticket's KPIs are measured between, read off its timeline.

registered: created (the query entered 待受理); accepted: the first change out of a
registered state (处理中, or straight to pending or solved); first action: the earlier of
accepted and the first public reply by an engineer (DOMAIN.md: "from the user's request
to an engineer's first action"); resolved: the last solve, if no reopen came after it.
Paused spans are the waiting periods (on the requester or a third party) and the time a
ticket stood solved before it was reopened: neither is time the desk worked on it.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ..models import Ticket, Timeline
from ..timeline import waiting_periods
from ..workcal import Calendar

Span = tuple[datetime, datetime | None]     # end None: still going on


@dataclass(frozen=True)
class Moments:
    registered_at: datetime | None
    accepted_at: datetime | None
    first_reply_at: datetime | None
    resolved_at: datetime | None             # None while not solved (or reopened since)
    closed_at: datetime | None
    reopens: int
    waiting: tuple[Span, ...]
    solved_gaps: tuple[Span, ...]            # solved -> reopened

    @property
    def first_action_at(self) -> datetime | None:
        known = [t for t in (self.accepted_at, self.first_reply_at) if t is not None]
        return min(known) if known else None

    @property
    def waiting_now(self) -> bool:
        return bool(self.waiting) and self.waiting[-1][1] is None and self.resolved_at is None


def moments(ticket: Ticket, timeline: Timeline, registered: frozenset[str]) -> Moments:
    created = timeline.first("created")
    start = created.at if created else ticket.created_at
    reply = timeline.first("first_reply")
    resolved_at, closed_at, gaps, reopens = _solved(timeline)
    return Moments(registered_at=start, accepted_at=_accepted(timeline, created, start, registered),
                   first_reply_at=reply.at if reply else None, resolved_at=resolved_at,
                   closed_at=closed_at, reopens=reopens, waiting=tuple(waiting_periods(timeline)),
                   solved_gaps=gaps)


def _accepted(timeline: Timeline, created, start: datetime | None,
              registered: frozenset[str]) -> datetime | None:
    initial = (created.state if created else None) or ""
    if initial and initial.lower() not in registered:
        return start                          # opened by an agent, already in work
    for e in timeline.events:
        if e.kind == "state" and (e.old_state or "").lower() in registered \
                and (e.state or "").lower() not in registered:
            return e.at
    return None


def _solved(timeline: Timeline):
    resolved_at = closed_at = solved_since = None
    gaps: list[Span] = []
    reopens = 0
    for e in timeline.events:
        if e.kind == "resolved":
            resolved_at = solved_since = e.at
        elif e.kind == "closed":
            closed_at = e.at
            solved_since = solved_since or e.at          # merged/removed: done, not solved
        elif e.kind == "reopened":
            reopens += 1
            if solved_since is not None:
                gaps.append((solved_since, e.at))
            resolved_at = closed_at = solved_since = None
    return resolved_at, closed_at, tuple(gaps), reopens


def minutes(cal: Calendar, start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return cal.working_minutes(start, end)


def paused_minutes(cal: Calendar, spans: Iterable[Span], start: datetime, end: datetime) -> float:
    """Working minutes of the spans inside [start, end] (an open span runs to `end`)."""
    total = 0.0
    for a, b in spans:
        lo, hi = max(a, start), min(b or end, end)
        if hi > lo:
            total += cal.working_minutes(lo, hi)
    return total
