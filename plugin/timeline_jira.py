"""Jira's changelog, comments and SLA fields as a timeline (see plugin/timeline.py)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from .models import Timeline
from .timeline_core import Events, Phase, initial_state, records, text_id, user_id, utc

# Changelog items name statuses but not their category; these are the JSM template
# names, and the current status adds its own category on top.
JIRA_STATUS = {"open": "new", "to do": "new", "new": "new", "waiting for support": "new",
               "in progress": "indeterminate", "waiting for customer": "indeterminate",
               "pending": "indeterminate", "escalated": "indeterminate",
               "work in progress": "indeterminate", "resolved": "done", "closed": "done",
               "done": "done", "canceled": "done", "cancelled": "done", "declined": "done",
               "completed": "done"}
JIRA_PENDING = frozenset({"waiting for customer", "pending"})
JIRA_CLOSED = frozenset({"closed", "canceled", "cancelled"})


def jira_timeline(fields: Any, changelog_values: Any, *, bot_id: str | None = None,
                  sla_names: Mapping[str, str] | None = None,
                  status_categories: Mapping[str, str] | None = None,
                  pending: Iterable[str] = JIRA_PENDING, closed: Iterable[str] = JIRA_CLOSED) -> Timeline:
    """`fields`: the issue's fields; `changelog_values`: changelog entries, any order.
    `sla_names` maps SLA field ids to names; `status_categories` adds name -> category."""
    out = Events()
    f = fields if isinstance(fields, Mapping) else {}
    if not isinstance(changelog_values, list) or len(records(changelog_values)) != len(changelog_values):
        out.complete = False
    phase = _jira_phaser(f, status_categories, pending, closed)
    for entry in records(changelog_values):
        _jira_entry(out, entry, phase)
    _jira_replies(out, f, text_id(bot_id))
    if f.get("resolutiondate") and f.get("resolution") and not any(e.kind == "resolved" for e in out.events):
        out.add(utc(f["resolutiondate"]), "resolved", state=_status_name(f))   # history cut short
    out.add(utc(f.get("created")), "created", user_id(f.get("creator") or f.get("reporter")),
            initial_state(out.events, _status_name(f)))
    return out.timeline(*jira_sla(f, sla_names or {}))


def _status_name(f: Mapping[str, Any]) -> str | None:
    status = f.get("status")
    return text_id(status.get("name")) if isinstance(status, Mapping) else None


def _jira_phaser(f: Mapping[str, Any], extra: Mapping[str, str] | None, pending: Iterable[str],
                 closed: Iterable[str]) -> Callable[[str | None], Phase]:
    categories = {**JIRA_STATUS, **{str(k).lower(): str(v).lower() for k, v in (extra or {}).items()}}
    status = f.get("status") if isinstance(f.get("status"), Mapping) else {}
    category = status.get("statusCategory")
    if status.get("name") and isinstance(category, Mapping) and category.get("key"):
        categories[str(status["name"]).lower()] = str(category["key"]).lower()
    waits, ends = {p.lower() for p in pending}, {c.lower() for c in closed}

    def phase(name: str | None) -> Phase:
        low = (name or "").strip().lower()
        done = categories.get(low) == "done"
        return Phase(pending=low in waits, done=done, solved=done, closed=low in ends)
    return phase


def _jira_entry(out: Events, entry: Mapping[str, Any], phase: Callable[[str | None], Phase]) -> None:
    items = records(entry.get("items"))
    status = next((i for i in items if _item_field(i) == "status"), None)
    resolution = next((i for i in items if _item_field(i) == "resolution"), None)
    if status is None and resolution is None:
        return
    old = text_id(status.get("fromString")) if status else None
    new = text_id(status.get("toString")) if status else None
    before, after = (phase(old), phase(new)) if status else (Phase(), Phase())
    if resolution is not None:
        # Jira's own meaning of resolved: a resolution is set (cleared = reopened).
        was = bool(resolution.get("from") or resolution.get("fromString"))
        now = bool(resolution.get("to") or resolution.get("toString"))
        before = replace(before, done=before.done or was, solved=before.solved or was)
        after = replace(after, done=after.done or now, solved=after.solved or now)
    out.change(utc(entry.get("created")), user_id(entry.get("author")), old, new, before, after)


def _item_field(item: Mapping[str, Any]) -> str:
    return str(item.get("fieldId") or item.get("field") or "").lower()


def _jira_replies(out: Events, f: Mapping[str, Any], bot: str | None) -> None:
    page = f.get("comment")
    comments = records(page.get("comments")) if isinstance(page, Mapping) else []
    if isinstance(page, Mapping) and isinstance(page.get("total"), int) and page["total"] > len(comments):
        out.complete = False    # the issue GET returned only part of the comments
    reporter = user_id(f.get("reporter"))
    for comment in comments:
        author = comment.get("author") if isinstance(comment.get("author"), Mapping) else {}
        who = user_id(author)
        customer = author.get("accountType") == "customer" or (who is not None and who == reporter)
        if who is None or customer or (bot and who == bot) or not _jira_public(comment):
            continue
        out.add(utc(comment.get("created")), "reply", who, public=True)


def _jira_public(comment: Mapping[str, Any]) -> bool:
    if comment.get("visibility"):
        return False        # restricted to a role or group: the customer never sees it
    if isinstance(comment.get("jsdPublic"), bool):
        return comment["jsdPublic"]
    for prop in records(comment.get("properties")):
        if prop.get("key") == "sd.public.comment":
            value = prop.get("value") if isinstance(prop.get("value"), Mapping) else {}
            return str(value.get("internal")).lower() != "true"
    return True             # JSM makes an agent's comment public unless told otherwise


def jira_sla(f: Mapping[str, Any], names: Mapping[str, str]) -> tuple[dict[str, Any], bool]:
    """JSM SLA fields by name (id when unnamed); (facts, every SLA field was readable)."""
    facts: dict[str, Any] = {}
    ok = True
    for fid, value in f.items():
        looks = isinstance(value, Mapping) and ({"completedCycles", "ongoingCycle"} & set(value))
        if not looks:
            ok = ok and (fid not in names or value is None)
            continue
        try:
            facts[names.get(fid) or text_id(value.get("name")) or fid] = _sla(fid, value)
        except (AttributeError, TypeError, ValueError):
            ok = False
    return facts, ok


def _sla(fid: str, value: Mapping[str, Any]) -> dict[str, Any]:
    cycles = [_cycle(c) for c in value.get("completedCycles") or []]
    ongoing = value.get("ongoingCycle")
    if ongoing is not None and not isinstance(ongoing, Mapping):
        raise TypeError("ongoingCycle")
    latest = ongoing or (value.get("completedCycles") or [{}])[-1]
    return {"field": fid, "cycles": cycles, "running": ongoing is not None,
            "breached": any(c["breached"] for c in cycles) or bool(ongoing and ongoing.get("breached")),
            "paused": bool(ongoing.get("paused")) if ongoing else None,
            "goal_ms": _millis(latest.get("goalDuration")),
            "elapsed_ms": _millis(latest.get("elapsedTime")),
            "remaining_ms": _millis(latest.get("remainingTime")),
            "breach_at": _sd_time(latest.get("breachTime"))}


def _cycle(cycle: Any) -> dict[str, Any]:
    if not isinstance(cycle, Mapping):
        raise TypeError("completed cycle")
    return {"start": _sd_time(cycle.get("startTime")), "stop": _sd_time(cycle.get("stopTime")),
            "breached": bool(cycle.get("breached")), "goal_ms": _millis(cycle.get("goalDuration")),
            "elapsed_ms": _millis(cycle.get("elapsedTime"))}


def _millis(value: Any) -> int | None:
    millis = value.get("millis") if isinstance(value, Mapping) else None
    return millis if isinstance(millis, int) and not isinstance(millis, bool) else None


def _sd_time(value: Any) -> datetime | None:
    if isinstance(value, Mapping):
        return utc(value.get("epochMillis")) or utc(value.get("iso8601")) or utc(value.get("jira"))
    return utc(value)
