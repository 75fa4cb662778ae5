"""The digest's words: a `Digest` as the fields of the template `digest.lead.j2`, in one
language, and a sample of them for `desk-enricher templates check`.

The template sees `desk.name`, `lang` and `digest` (below); never the `ticket` fields
of the per-ticket notices, since a digest is about many tickets.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from ..notifiers.context import PRIORITY_NAMES, link
from .config import Contact
from .digest import Digest, Item, Section

WORDS = {
    "": ("未定级", "no priority"),
    "<1": ("不足 1 个工作日", "under 1 working day"),
    "1-3": ("1–3 个工作日", "1 to 3 working days"),
    "3-5": ("3–5 个工作日", "3 to 5 working days"),
    "5+": ("5 个工作日及以上", "5 working days or more"),
    "sla": ("已超解决时限", "resolution overdue"),
    "response": ("已超响应时限", "response overdue"),
    "1": ("已提醒组长", "lead reminded"),
    "2": ("已上报经理", "escalated to the manager"),
    "no_group": ("未分组", "no group"),
    "unled": ("无组长的组", "groups without a lead"),
    "no_title": ("（无标题）", "(no title)"),
}


def word(name: str, language: str) -> str:
    zh, en = WORDS[name]
    return zh if language == "zh-CN" else en


def fields(d: Digest, language: str, day: date) -> dict[str, Any]:
    """{"digest": ...} for the template: counts, the four lists and their "and N more"."""
    lead = d.audience == "lead"
    return {"digest": {
        "date": day.isoformat(), "lead": d.contact.name, "for_manager": not lead,
        "group": (d.group or word("no_group", language)) if lead else word("unled", language),
        "open": d.open,
        "priorities": [{"name": priority(p, language), "count": n} for p, n in d.by_priority],
        "ages": [{"band": word(band, language), "count": n} for band, n in d.by_age],
        "breached": _section(d.breached, language), "at_risk": _section(d.at_risk, language),
        "stale": _section(d.stale, language), "waiting": _section(d.waiting, language),
        "unled": [{"group": g or word("no_group", language), "count": n} for g, n in d.unled],
        "unled_total": sum(n for _, n in d.unled)}}


def priority(code: str, language: str) -> str:
    names = PRIORITY_NAMES.get(code)
    if not names:
        return word("", language)
    return f"{code} {names[0] if language == 'zh-CN' else names[1]}"


def _section(section: Section, language: str) -> dict[str, Any]:
    return {"tickets": [_ticket(i, language) for i in section.items], "more": section.more,
            "total": section.total}


def _ticket(item: Item, language: str) -> dict[str, Any]:
    return {"number": item.number, "title": item.title or word("no_title", language),
            "priority": priority(item.priority, language), "age": f"{item.age_days:.1f}",
            "waited": f"{item.waited_hours:.1f}", "url": item.url,
            "group": item.group or word("no_group", language),
            "note": word(item.flag, language) if item.flag else ""}


def sample(ticket: Any, settings: Any, at: datetime) -> Callable[[str], dict[str, Any]]:
    """Fields of a digest around one sample ticket, every list and line filled in."""
    one = Item(platform=ticket.platform, ticket_id=ticket.id, number=ticket.number, title=ticket.title,
               priority="P3", age_days=6.5, url=link(ticket.platform, ticket.id, ticket.number, settings),
               group="一线服务台")
    d = Digest(key="一线服务台", group="一线服务台", contact=Contact(name="王组长"), audience="lead", open=7,
               by_priority=(("P4", 1), ("P3", 3), ("P2", 2), ("P1", 0), ("", 1)),
               by_age=(("<1", 2), ("1-3", 3), ("3-5", 1), ("5+", 1)),
               breached=Section((replace(one, flag="sla"),), more=2), at_risk=Section((one,)),
               stale=Section((replace(one, flag="2"),)), waiting=Section((replace(one, waited_hours=20.0),)),
               unled=(("", 2), ("网络组", 1)))
    return lambda language: fields(d, language, at.date())
