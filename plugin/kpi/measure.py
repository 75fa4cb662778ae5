"""Per-ticket KPIs from its moments: pure arithmetic on a calendar, no I/O, no clock of
its own (`now` comes in). Minutes are working minutes of the ticket's service level.

response      registered -> accepted, against the response limit (DOMAIN.md 响应时限)
first_response registered -> the first engineer action
resolution    first engineer action -> resolved, less the time it stood solved before a reopen
waiting       waiting periods inside the resolution span
handling      resolution - waiting
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..workcal import Calendar
from .clock import Moments, minutes, paused_minutes


@dataclass(frozen=True)
class Times:
    response: float | None = None
    first_response: float | None = None
    resolution: float | None = None
    waiting: float | None = None
    handling: float | None = None


@dataclass(frozen=True)
class Verdict:
    """A limit's outcome: breached True/False once known, None while it can still go
    either way; `due` is when it would be breached (for a timer), `at_risk` its warning."""
    breached: bool | None = None
    due: datetime | None = None
    at_risk: bool = False
    risk_at: datetime | None = None
    source: str | None = None                 # "desk" (our targets) | "zammad" | "jira"


def times(cal: Calendar, m: Moments) -> Times:
    response = minutes(cal, m.registered_at, m.accepted_at)
    start = m.first_action_at
    first = minutes(cal, m.registered_at, start)
    if start is None or m.resolved_at is None or m.resolved_at < start:
        return Times(response, first)
    solved = paused_minutes(cal, m.solved_gaps, start, m.resolved_at)
    resolution = max(0.0, cal.working_minutes(start, m.resolved_at) - solved)
    waiting = min(resolution, paused_minutes(cal, m.waiting, start, m.resolved_at))
    return Times(response, first, resolution, waiting, resolution - waiting)


def response_verdict(cal: Calendar, m: Moments, response: float | None, limit: float,
                     now: datetime) -> Verdict:
    if m.registered_at is None:
        return Verdict()
    if response is not None:
        return Verdict(breached=response > limit, source="desk")
    due = cal.add_working_minutes(m.registered_at, limit)
    # Still waiting for acceptance: breached from the deadline on, undecided before it.
    return Verdict(breached=True if now >= due else None, due=due, source="desk")


def desk_sla(cal: Calendar, m: Moments, target: float, share: float, now: datetime) -> Verdict:
    """Resolution against the desk's target: the clock runs from registration and stops
    while waiting on the requester or a third party, and while the ticket stands solved."""
    if m.registered_at is None:
        return Verdict()
    end = m.resolved_at or max(now, m.registered_at)
    spent = cal.working_minutes(m.registered_at, end) \
        - paused_minutes(cal, (*m.waiting, *m.solved_gaps), m.registered_at, end)
    if m.resolved_at is not None:
        return Verdict(breached=spent > target, source="desk")
    if spent >= target:
        return Verdict(breached=True, source="desk")
    warn = share * target
    if m.waiting_now:                          # the clock stands still: no deadline to wake for
        return Verdict(at_risk=spent >= warn, source="desk")
    due = cal.add_working_minutes(now, target - spent)
    risk_at = None if spent >= warn else cal.add_working_minutes(now, warn - spent)
    return Verdict(due=due, at_risk=spent >= warn, risk_at=risk_at, source="desk")
