"""The stale clock: working time a ticket has gone without progress.

Progress is what the requester would see move: the ticket created, a state change,
or an agent's public reply (the timeline leaves out the plugin's own replies, and
internal notes are not progress). The clock runs in the working hours of the
ticket's calendar from the last progress, and stands still while the ticket waits on
the requester or a third party: that wait is not the desk's. A ticket waiting now,
or solved, is not stale at all.

Level 1 (the group's lead) falls due after `stale_after(stream, priority)` working
hours, level 2 (the desk manager) after `manager_hours` more. Each level of each
stretch without progress is its own event, so progress followed by a new stretch
escalates again, and the same stretch never twice. Pure: the step gives the
timeline, the calendar and `now`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..models import Timeline
from ..timeline import waiting_periods
from ..workcal import Calendar

PROGRESS = ("created", "state", "first_reply", "reply")


@dataclass(frozen=True)
class StaleClock:
    since: datetime | None                 # the last progress
    minutes: float                         # working minutes without progress, pauses left out
    paused: bool                           # waiting now: the clock stands still
    due: tuple[datetime | None, ...]       # when each level falls due (None: paused, never)

    def level(self, now: datetime) -> int:
        return sum(1 for at in self.due if at is not None and at <= now)

    def next_due(self, now: datetime) -> datetime | None:
        return next((at for at in self.due if at is not None and at > now), None)

    def event(self, level: int) -> str:
        """The outbox event of one level of this stretch: said once."""
        stamp = self.since.strftime("%Y%m%dT%H%M%S") if self.since else "0"
        return f"stale.{level}.{stamp}"


def last_progress(timeline: Timeline, created: datetime | None) -> datetime | None:
    moments = [e.at for e in timeline.events if e.kind in PROGRESS and (e.kind != "reply" or e.public)]
    if created is not None:
        moments.append(created)
    return max(moments) if moments else None


def clock(timeline: Timeline, created: datetime | None, cal: Calendar, level_hours: tuple[float, ...],
          now: datetime, watched_since: datetime | None = None) -> StaleClock:
    """`level_hours`: cumulative working hours at which each level falls due.
    `watched_since`: when the plugin first saw the ticket. The clock starts no earlier:
    a desk installing the plugin does not escalate its whole backlog on the first day."""
    since = last_progress(timeline, created)
    if since is not None and watched_since is not None:
        since = max(since, watched_since)
    if since is None or since > now:
        return StaleClock(since, 0.0, False, tuple(None for _ in level_hours))
    pauses = [(max(start, since), end) for start, end in waiting_periods(timeline) if end is None or end > since]
    paused = any(end is None for _, end in pauses)
    minutes = cal.working_minutes(since, now) - sum(cal.working_minutes(s, min(e or now, now))
                                                     for s, e in pauses if s < now)
    if paused:
        return StaleClock(since, max(minutes, 0.0), True, tuple(None for _ in level_hours))
    return StaleClock(since, max(minutes, 0.0), False,
                      tuple(_after(cal, since, hours * 60, pauses) for hours in level_hours))


def _after(cal: Calendar, since: datetime, minutes: float, pauses: list[tuple[datetime, datetime | None]]
           ) -> datetime:
    """The moment `minutes` working minutes have run from `since`, pauses left out (all ended)."""
    at = cal.add_working_minutes(since, minutes)
    for start, end in sorted(pauses):
        if end is not None and start < at:
            # The clock stood still from start to end: push the deadline by what it covered.
            at = cal.add_working_minutes(at, cal.working_minutes(start, end))
    return at
