"""The desk's working calendar: which minutes count toward a service level.

5x8 counts working minutes only: working days of the official calendar (China's
public holidays and make-up working days, 调休, from the chinese-calendar package),
with the desk's own days laid over it from the settings, and the desk's working
hours (default 09:00-12:00 and 13:00-18:00, Asia/Shanghai). 7x24 counts every
minute. Times come in and go out in UTC; the time zone applies only here.

A day the holiday data does not cover (a year not yet published) is an error that
says how to add it, never a guess.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar

from .errors import SettingsError

DEFAULT_HOURS = ((time(9), time(12)), (time(13), time(18)))
ALWAYS = "7x24"
OFFICE = "5x8"


class CalendarError(SettingsError):
    key = "calendar_not_covered"


@dataclass(frozen=True)
class Calendar:
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    hours: tuple[tuple[time, time], ...] = DEFAULT_HOURS
    level: str = OFFICE                       # 5x8: working minutes; 7x24: every minute
    days: Mapping[date, bool] = field(default_factory=dict)   # the desk's own: True = working
    holidays: str = "cn"                      # cn: official calendar with 调休; none: weekends only
    # Years the desk declared in `days` (e.g. next year's holidays, published before the
    # holiday package covers them): there, a day not listed is a working day Monday to Friday.
    declared_years: frozenset[int] = frozenset()

    # -- days -------------------------------------------------------------------------
    def is_working_day(self, day: date) -> bool:
        if self.level == ALWAYS:
            return True
        if day in self.days:
            return self.days[day]
        if self.holidays == "none":
            return day.weekday() < 5
        try:
            return _official_workday(day)
        except CalendarError:
            if day.year in self.declared_years:
                return day.weekday() < 5
            raise

    def periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's working periods as UTC instants."""
        if self.level == ALWAYS:
            start = datetime.combine(day, time(0), self.zone)
            return [(start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC))]
        if not self.is_working_day(day):
            return []
        return [(datetime.combine(day, a, self.zone).astimezone(UTC),
                 datetime.combine(day, b, self.zone).astimezone(UTC)) for a, b in self.hours]

    # -- minutes ------------------------------------------------------------------------
    def working_minutes(self, start: datetime, end: datetime) -> float:
        """Minutes between two UTC instants that count under this service level."""
        if end <= start:
            return 0.0
        if self.level == ALWAYS:
            return (end - start).total_seconds() / 60
        total = 0.0
        for day in self._days(start, end):
            for a, b in self.periods(day):
                lo, hi = max(a, start), min(b, end)
                if hi > lo:
                    total += (hi - lo).total_seconds() / 60
        return total

    def add_working_minutes(self, start: datetime, minutes: float) -> datetime:
        """The instant `minutes` working minutes after `start` (a deadline)."""
        if self.level == ALWAYS:
            return start + timedelta(minutes=minutes)
        left = timedelta(minutes=minutes)
        day = start.astimezone(self.zone).date()
        for _ in range(3700):                 # ten years of days: a deadline is never further
            for a, b in self.periods(day):
                lo = max(a, start)
                if b <= lo:
                    continue
                if b - lo >= left:
                    return lo + left
                left -= b - lo
            day += timedelta(days=1)
        raise CalendarError("no working time in the next ten years: check the calendar settings")

    def in_hours(self, at: datetime) -> bool:
        return any(a <= at < b for a, b in self.periods(at.astimezone(self.zone).date()))

    def next_open(self, at: datetime) -> datetime:
        """`at` itself inside working hours, else the start of the next working period."""
        day = at.astimezone(self.zone).date()
        for _ in range(3700):
            for a, b in self.periods(day):
                if at < b:
                    return max(a, at)
            day += timedelta(days=1)
        raise CalendarError("no working time in the next ten years: check the calendar settings")

    def _days(self, start: datetime, end: datetime) -> Iterable[date]:
        day, last = start.astimezone(self.zone).date(), end.astimezone(self.zone).date()
        while day <= last:
            yield day
            day += timedelta(days=1)


@lru_cache(maxsize=4096)
def _official_workday(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        first, last = min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year
        raise CalendarError(f"the official holiday data covers {first}-{last}; "
                            f"{day.isoformat()} is not covered: {COVERAGE_FIX}") from None


# What an admin does about a year the holiday data does not cover (errors and `doctor`).
COVERAGE_FIX = ("list that year's holidays and make-up working days under calendar.days in the "
                "settings file (its other days then count Monday to Friday), or upgrade the "
                "chinese-calendar package")


def of(settings: Any) -> Calendar:
    """The desk's calendar from the settings (validated at load), or the default one."""
    return getattr(settings, "calendar", None) or Calendar()


def for_level(base: Calendar, level: str | None) -> Calendar | None:
    """The calendar of a catalog item's service level; None when it sets no clock
    ('by meeting time', '-')."""
    if level in (None, "", OFFICE):
        return base
    if level == ALWAYS:
        return Calendar(zone=base.zone, level=ALWAYS)
    return None


_RANGE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def from_settings(section: Mapping[str, Any] | None) -> Calendar:
    """The `calendar:` section of the settings file, validated; errors name the key."""
    section = dict(section or {})
    try:
        zone = ZoneInfo(section.get("time_zone") or "Asia/Shanghai")
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"calendar.time_zone: unknown time zone {section.get('time_zone')!r}") from None
    hours = tuple(_hours(h) for h in section.get("working_hours") or ()) or DEFAULT_HOURS
    days = {_day(k): _kind(k, v) for k, v in (section.get("days") or {}).items()}
    holidays = section.get("holidays", "cn")
    if holidays not in ("cn", "none"):
        raise SettingsError("calendar.holidays: cn (official calendar with 调休) or none (weekends only)")
    return Calendar(zone=zone, hours=hours, days=days, holidays=holidays,
                    declared_years=frozenset(d.year for d in days))


def _hours(text: str) -> tuple[time, time]:
    m = _RANGE.match(str(text).strip())
    if not m or not (0 <= int(m[1]) < 24 and 0 <= int(m[3]) <= 24):
        raise SettingsError(f"calendar.working_hours: {text!r} is not like 09:00-12:00")
    a, b = time(int(m[1]), int(m[2])), (time(int(m[3]), int(m[4])) if int(m[3]) < 24 else time.max)
    if b <= a:
        raise SettingsError(f"calendar.working_hours: {text!r} ends before it starts")
    return a, b


def _day(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise SettingsError(f"calendar.days: {value!r} is not a date like 2027-01-01") from None


def _kind(day: Any, value: Any) -> bool:
    if value in ("workday", "working", True):
        return True
    if value in ("holiday", "off", False):
        return False
    raise SettingsError(f"calendar.days.{day}: {value!r} must be workday or holiday")
