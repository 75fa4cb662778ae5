"""The daily digest per group: what each group's lead reads on a working morning.

Pure: ticket_facts rows (dicts, times in UTC), `now` and the settings in, one `Digest`
per recipient out; `digest_job` reads the rows, renders the template and stores the
messages. `fields` turns a Digest into the template's words in one language.

- Open: every row whose state is not a resolved or closed one of the `communication.
  states` names; a waiting ticket is open.
- Age: working days since the ticket was created, by the desk calendar
  (settings.calendar): working minutes divided by one working day's minutes (8 h with
  the default hours). Bands: under 1, 1 to under 3, 3 to under 5, 5 and more.
- Breached: sla_breached or response_breached; about to breach: sla_at_risk and not
  breached. Stale: stale_level 1 (the lead was told) or 2 (the manager was told).
- Waiting on the requester too long: a waiting state, and the row's `updated_at` (the
  platform's time of the ticket's last change, as the last webhook carried it) at least
  `digest.waiting_too_long_working_hours` working hours ago. The ledger keeps no time of
  the state change itself, so any later change (a note, a field) restarts this clock.
- Who: each group with a lead in the contact table and at least one open ticket gets
  one digest. Open tickets of groups without a lead (or without a group) make one more
  digest for the desk manager, with a line counting them by group, when a manager is
  set; without one they are in nobody's digest (the job logs how many).
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from .. import workcal
from ..notifiers import config as comm_config
from ..notifiers.context import link
from ..workcal import ALWAYS, Calendar, CalendarError
from . import config
from .config import Contact

URGENCY = ("P4", "P3", "P2", "P1")           # most urgent first: P4 is the most urgent
BANDS = ((1.0, "<1"), (3.0, "1-3"), (5.0, "3-5"), (math.inf, "5+"))   # working days open, upper bound
CLOSED_KINDS = ("resolved", "closed")


@dataclass(frozen=True)
class Item:
    platform: str
    ticket_id: str
    number: str
    title: str
    priority: str             # P1..P4; "" when none was suggested
    age_days: float           # working days open
    url: str                  # "" when the platform's URL is not configured
    group: str = ""
    flag: str = ""            # breached: sla | response; stale: the level, "1" or "2"
    waited_hours: float = 0.0


@dataclass(frozen=True)
class Section:
    items: tuple[Item, ...] = ()
    more: int = 0             # listed beyond digest_max: "and N more"

    @property
    def total(self) -> int:
        return len(self.items) + self.more


@dataclass(frozen=True)
class Digest:
    key: str                  # the contact table's group key; "" for the manager's digest
    group: str                # the group as the platform names it; "" for the manager's
    contact: Contact
    audience: str             # lead | manager
    open: int
    by_priority: tuple[tuple[str, int], ...]   # URGENCY order, then "" (none) when there are any
    by_age: tuple[tuple[str, int], ...]        # BANDS order
    breached: Section
    at_risk: Section
    stale: Section
    waiting: Section
    unled: tuple[tuple[str, int], ...] = ()    # manager: open tickets by group without a lead


@dataclass(frozen=True)
class _Env:
    now: datetime
    calendar: Calendar
    kind: Callable[[str | None], str]          # state -> waiting | resolved | closed | open
    waiting_hours: float
    limit: int
    settings: Any


def compose(rows: Iterable[Mapping[str, Any]], now: datetime, settings: Any) -> list[Digest]:
    """One Digest per group lead with open tickets, and the manager's for groups without one."""
    tr = config.of(settings)
    env = _Env(now, workcal.of(settings), comm_config.of(settings).state_kind,
               tr.waiting_hours, tr.digest_max, settings)
    led: dict[str, list[Mapping[str, Any]]] = {}
    unled: list[Mapping[str, Any]] = []
    for row in rows:
        if env.kind(row.get("state")) in CLOSED_KINDS:
            continue
        key = (row.get("group_name") or "").strip().lower()
        (led.setdefault(key, []) if tr.lead(key) else unled).append(row)
    out = [_build(key, _name(group[0]), tr.contacts[key], "lead", group, env) for key, group in sorted(led.items())]
    if unled and tr.manager is not None:
        counts = Counter(_name(r) for r in unled)
        out.append(_build("", "", tr.manager, "manager", unled, env,
                         unled=tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))))
    return out


def _build(key: str, group: str, contact: Contact, audience: str, rows: list[Mapping[str, Any]], env: _Env,
          unled: tuple[tuple[str, int], ...] = ()) -> Digest:
    items = [(_item(r, env), r) for r in rows]
    prio = Counter(i.priority for i, _ in items)
    ages = Counter(next(name for bound, name in BANDS if i.age_days < bound) for i, _ in items)
    breached = [replace(i, flag="sla" if r.get("sla_breached") else "response")
                for i, r in items if r.get("sla_breached") or r.get("response_breached")]
    at_risk = [i for i, r in items if r.get("sla_at_risk") and not (r.get("sla_breached") or r.get("response_breached"))]
    stale = [replace(i, flag=str(r["stale_level"])) for i, r in items if (r.get("stale_level") or 0) >= 1]
    waiting = [i for i, r in items if env.kind(r.get("state")) == "waiting" and i.waited_hours >= env.waiting_hours]
    return Digest(
        key=key, group=group, contact=contact, audience=audience, open=len(items),
        by_priority=tuple((p, prio[p]) for p in URGENCY) + ((("", prio[""]),) if prio[""] else ()),
        by_age=tuple((name, ages[name]) for _, name in BANDS),
        breached=_section(breached, env.limit), at_risk=_section(at_risk, env.limit),
        stale=_section(sorted(stale, key=lambda i: (-int(i.flag), _urgency(i))), env.limit, keep_order=True),
        waiting=_section(sorted(waiting, key=lambda i: -i.waited_hours), env.limit, keep_order=True),
        unled=unled)


def _item(row: Mapping[str, Any], env: _Env) -> Item:
    created = _utc(row.get("created_at") or row.get("first_seen_at")) or env.now
    changed = _utc(row.get("updated_at") or row.get("last_seen_at")) or created
    number = str(row.get("number") or row.get("ticket_id") or "")
    priority = row.get("priority") or ""
    return Item(platform=row["platform"], ticket_id=str(row["ticket_id"]), number=number,
                title=(row.get("title") or "").strip(), priority=priority if priority in URGENCY else "",
                age_days=round(env.calendar.working_minutes(created, env.now) / day_minutes(env.calendar), 1),
                url=link(row["platform"], str(row["ticket_id"]), number, env.settings), group=_name(row),
                waited_hours=round(env.calendar.working_minutes(changed, env.now) / 60, 1))


def _urgency(item: Item) -> tuple[int, float]:
    rank = URGENCY.index(item.priority) if item.priority in URGENCY else len(URGENCY)
    return rank, -item.age_days


def _section(items: list[Item], limit: int, keep_order: bool = False) -> Section:
    ordered = items if keep_order else sorted(items, key=_urgency)
    return Section(tuple(ordered[:limit]), max(0, len(ordered) - limit))


def _name(row: Mapping[str, Any]) -> str:
    return (row.get("group_name") or "").strip()


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def day_minutes(calendar: Calendar) -> float:
    """One working day's minutes: the sum of the working hours (every minute at 7x24)."""
    if calendar.level == ALWAYS:
        return 1440.0
    total = sum((datetime.combine(date.min, b) - datetime.combine(date.min, a)).total_seconds() / 60
                for a, b in calendar.hours)
    return total or 1440.0


# -- when --------------------------------------------------------------------------------
def is_due(now: datetime, calendar: Calendar, at: time) -> bool:
    """A digest goes out now: today (the desk's zone) is a working day and `at` has come.
    A day the holiday data does not cover raises CalendarError: never a guess."""
    local = now.astimezone(calendar.zone)
    return calendar.is_working_day(local.date()) and local.time() >= at


def next_due(now: datetime, calendar: Calendar, at: time) -> datetime:
    """The first `at` after `now` on a working day, in UTC. A day the holiday data does not
    cover is taken as due, so the job looks at it then and says why it sends nothing."""
    day = now.astimezone(calendar.zone).date()
    for _ in range(400):
        when = datetime.combine(day, at, calendar.zone).astimezone(UTC)
        if when > now:
            try:
                if calendar.is_working_day(day):
                    return when
            except CalendarError:
                return when
        day += timedelta(days=1)
    raise CalendarError("no working day in the next year: check calendar.days in the settings file")
