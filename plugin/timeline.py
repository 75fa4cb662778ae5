"""A ticket's history as one platform-neutral timeline. Pure: no I/O, no clock.

Zammad: the `GET /tickets/{id}?all=true` answer (ticket with its KPI columns, articles)
plus `GET /ticket_history/{id}`. Jira: the issue fields (created, status, resolution,
comments, SLA fields) plus the changelog. Both come down to the same events, so a step
measures waiting time or counts reopenings without knowing the platform.

Kinds: `created`; `state` (every state change, platform names); `first_reply` and
`reply` (public replies by an agent other than the plugin's bot: all replies are
first_reply + reply); `pending` (a waiting period starts) and `resumed` (it ends back
in work); `resolved` (the work is done: Zammad `closed`, Jira a done status or a
resolution set); `closed` (Zammad closed/merged/removed, Jira Closed/Canceled);
`reopened` (out of a done state back into an open one). Every time is UTC.

Odd or missing data never raises: what cannot be read is left out and the timeline
says `complete=False`, so a step can decline to conclude from it.
"""
from __future__ import annotations

from datetime import datetime

from .models import Timeline, TimelineEvent
from .timeline_core import utc
from .timeline_jira import JIRA_CLOSED, JIRA_PENDING, JIRA_STATUS, jira_sla, jira_timeline
from .timeline_zammad import ZAMMAD_STATES, zammad_sla, zammad_timeline

__all__ = ["JIRA_CLOSED", "JIRA_PENDING", "JIRA_STATUS", "ZAMMAD_STATES", "Timeline", "TimelineEvent",
           "jira_sla", "jira_timeline", "utc", "waiting_periods", "zammad_sla", "zammad_timeline"]

_ENDS_WAIT = frozenset({"resumed", "resolved", "closed", "reopened"})


def waiting_periods(timeline: Timeline) -> list[tuple[datetime, datetime | None]]:
    """(start, end) of each waiting period in order; end is None while still waiting."""
    periods: list[tuple[datetime, datetime | None]] = []
    start: datetime | None = None
    for event in timeline.events:
        if event.kind == "pending" and start is None:
            start = event.at
        elif event.kind in _ENDS_WAIT and start is not None:
            periods.append((start, event.at))
            start = None
    if start is not None:
        periods.append((start, None))
    return periods
