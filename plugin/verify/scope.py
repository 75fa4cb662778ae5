"""Scope: is the query about a service the desk provides, its own responsibility, and
did it arrive inside the service's hours?

The hours are the item's service level (or the contract's, when the entitlement row
sets one) on the desk's working calendar (plugin.workcal: 5x8 on the official
calendar with 调休, or 7x24). Outside the hours the query is still in scope: the note
and the facts carry the commitment, the start of the next working period
(`facts["next_open"]`, UTC ISO), which the communication step states to the user.
"""
from __future__ import annotations

from datetime import datetime

from ..classifiers.catalog import CatalogItem
from ..workcal import Calendar, CalendarError, for_level
from .model import Check, Say

NAME = "scope"


def check(item_id: str | None, item: CatalogItem | None, arrived: datetime, calendar: Calendar,
          level: str | None = None) -> Check:
    """`item_id` is what classification chose (None: triage), `item` its catalog entry
    (None when the id is not in the catalog), `level` a contract's service level."""
    if not item_id:
        return Check(NAME, "unknown", (Say("服务尚未分类（待人工分派），未核验服务范围与服务时间",
                                           "not classified yet (triage): scope and hours not checked"),))
    if item is None:
        return Check(NAME, "fail", (Say(f"服务 {item_id} 不在服务目录中",
                                        f"service {item_id} is not in the catalog"),),
                     {"reason": "not_in_catalog", "item": item_id})
    if item.third_party is not None:
        who = item.third_party
        return Check(NAME, "fail", (Say(f"{item.path('zh-CN')} 由第三方“{who.get('zh-CN')}”负责，不属于服务台",
                                        f"{item.path('en')} is the responsibility of {who.get('en')}, "
                                        "not the desk"),),
                     {"reason": "third_party", "third_party": who.get("en"), "item": item.id})
    return _hours(item, arrived, calendar, level or item.service_level)


def _hours(item: CatalogItem, arrived: datetime, calendar: Calendar, level: str) -> Check:
    facts = {"item": item.id, "service_level": level}
    cal = for_level(calendar, level)
    if cal is None:
        return Check(NAME, "pass", (Say(f"属于服务台服务；服务时间：{level}（无固定时段）",
                                        f"the desk's service; hours: {level} (no fixed hours)"),), facts)
    try:
        inside = cal.in_hours(arrived)
        opens = cal.next_open(arrived)
    except CalendarError as exc:
        return Check(NAME, "unknown", (Say(f"无法核验服务时间：{exc.message}",
                                           f"could not verify the service hours: {exc.message}"),), facts)
    if inside:
        return Check(NAME, "pass", (Say(f"属于服务台服务，在服务时间内到达（{level}）",
                                        f"the desk's service, arrived inside service hours ({level})"),),
                     {**facts, "after_hours": False})
    local = opens.astimezone(cal.zone).strftime("%Y-%m-%d %H:%M")
    zone = str(cal.zone)
    return Check(NAME, "pass", (Say(f"属于服务台服务；在服务时间（{level}）外到达，承诺于下一工作时段 {local}（{zone}）开始处理",
                                    f"the desk's service; arrived outside service hours ({level}): "
                                    f"handled from the next working period, {local} ({zone})"),),
                 {**facts, "after_hours": True, "next_open": opens.isoformat()})
