"""The acknowledgement's promise: when the desk will respond (900.1, DOMAIN.md
"response time"). Minutes by suggested priority (urgent or major within 1 hour,
general within 1 working day), counted on the working calendar of the item's
service level; a ticket that arrives outside working hours is counted from the
next working period, and the notice says so."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .. import workcal
from ..workcal import ALWAYS, Calendar, for_level
from .config import Communication

WEEKDAYS = {"zh-CN": "一二三四五六日", "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WORKING_DAY = 480        # 09:00-12:00 and 13:00-18:00


def service_level(facts: Mapping[str, Any], settings: Any) -> str | None:
    """The service level of the ticket's catalog item (None before it is classified)."""
    catalog = getattr(getattr(settings, "classification", None), "catalog", None) or ()
    item = next((i for i in catalog if i.id == facts.get("category")), None)
    return item.service_level if item else None


def calendar_for(facts: Mapping[str, Any], settings: Any) -> Calendar:
    """The calendar of the ticket's catalog item; the desk's own when the item sets no
    clock of its own (meeting support, or not classified yet)."""
    base = workcal.of(settings)
    return for_level(base, service_level(facts, settings)) or base


def minutes_for(facts: Mapping[str, Any], comm: Communication) -> int:
    minutes = comm.commitments.get(str(facts.get("priority") or "P2"), comm.commitments["P2"])
    return min(minutes, comm.commitments["P4"]) if facts.get("major_event") else minutes


def commitment(start: datetime, facts: Mapping[str, Any], settings: Any, comm: Communication,
               language: str) -> dict[str, Any]:
    cal = calendar_for(facts, settings)
    minutes = minutes_for(facts, comm)
    due = cal.add_working_minutes(start, minutes)
    inside = cal.in_hours(start)
    return {"within": duration(minutes, cal, language), "due": when(due, cal.zone, language),
            "out_of_hours": not inside, "opens": when(cal.next_open(start), cal.zone, language),
            "zone": str(cal.zone.key), "due_at": due.isoformat()}


def duration(minutes: int, cal: Calendar, language: str) -> str:
    zh = language == "zh-CN"
    if cal.level != ALWAYS and minutes % WORKING_DAY == 0:
        days = minutes // WORKING_DAY
        return f"{days} 个工作日内" if zh else f"within {days} working day{'s' if days > 1 else ''}"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} 小时内" if zh else f"within {hours} hour{'s' if hours > 1 else ''}"
    return f"{minutes} 分钟内" if zh else f"within {minutes} minutes"


def when(at: datetime, zone: ZoneInfo, language: str) -> str:
    """A time a person reads: local to the desk, with the weekday."""
    local = at.astimezone(zone)
    if language == "zh-CN":
        return f"{local.month}月{local.day}日 周{WEEKDAYS['zh-CN'][local.weekday()]} {local:%H:%M}"
    return f"{WEEKDAYS['en'][local.weekday()]} {local.day} {MONTHS[local.month - 1]} {local:%H:%M}"
