"""902 service desk improvement, per ticket: measure it (plugin.kpi) and say so on the
ticket as numbers and tags, recomputed on every update and at each deadline.

Writes are few by construction: minutes are whole numbers from the platform's own
timestamps (a recomputation gives the same value, so the plan skips it); values not yet
known are left out rather than cleared; a tag changes only when its verdict does.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .. import workcal
from ..classifiers.items import find_item
from ..classifiers.step import settings_of
from ..kpi import flags
from ..kpi.clock import Moments, moments
from ..kpi.config import KpiSettings, kpi_settings
from ..kpi.measure import Times, Verdict, desk_sla, response_verdict, times
from ..kpi.platform_sla import platform_verdict
from ..models import Findings, StepContext, Ticket, TimerRequest
from ..workcal import Calendar, CalendarError, for_level
from .base import StepSpec

STEP = "kpi"
TAGS = {"response_breached": "kpi-response-breached", "sla_breached": "kpi-sla-breached",
        "sla_at_risk": "kpi-sla-at-risk", "reopened": "kpi-reopened", "repeat": "kpi-repeat",
        "misclassified": "kpi-misclassified"}
FIELDS = {"response": "enrich_response_minutes", "first_response": "enrich_first_response_minutes",
          "resolution": "enrich_resolution_minutes", "waiting": "enrich_waiting_minutes",
          "handling": "enrich_handling_minutes"}
TIMERS = ("kpi:response", "kpi:sla-risk", "kpi:sla-due")
LEVELS = {"5x8": "5x8", "7x24": "7x24"}          # catalog levels with a clock; others have none


def measure(ticket: Ticket, ctx: StepContext) -> Findings:
    if ctx.history is None:
        return Findings(STEP, facts={"measured": False, "reason": "no history"})
    cfg = kpi_settings(ctx.settings)
    base = workcal.of(ctx.settings)
    item_id, level = service_level_of(ticket, ctx, cfg)
    cal = for_level(base, level) or base           # no clock: minutes still on the desk's hours
    try:
        return _measure(ticket, ctx, cfg, cal, item_id, level)
    except CalendarError as exc:                   # a year the holiday data lacks: say, never guess
        return Findings(STEP, facts={"measured": False, "reason": exc.message})


def _measure(ticket: Ticket, ctx: StepContext, cfg: KpiSettings, cal: Calendar,
             item_id: str | None, level: str) -> Findings:
    now = ctx.now or ticket.updated_at or ticket.created_at    # a step keeps no clock of its own
    if now is None:
        return Findings(STEP, facts={"measured": False, "reason": "no time to measure against"})
    m = moments(ticket, ctx.history, cfg.registered(ticket.platform))
    t = times(cal, m)
    response = response_verdict(cal, m, t.response, cfg.response_limit_minutes, now)
    priority = priority_of(ticket, ctx)
    sla = platform_verdict(ticket.platform, ctx.history.sla, cal, m, cfg.at_risk_share, now)
    if sla is None and level != "none":
        sla = desk_sla(cal, m, cfg.target(priority), cfg.at_risk_share, now)
    sla = sla or Verdict()
    verdicts = {"response_breached": response.breached, "sla_breached": sla.breached,
                "sla_at_risk": bool(sla.at_risk and not sla.breached and m.resolved_at is None),
                "reopened": m.reopens > 0, "repeat": flags.repeat(ticket, ctx, item_id),
                "misclassified": flags.misclassified(ctx)}
    # Verification tags a repeat itself (enrich:repeat): one tag on the ticket is enough.
    said_elsewhere = {"repeat"} if "verification" in ctx.found else set()
    on = {TAGS[k] for k, v in verdicts.items() if v and k not in said_elsewhere}
    facts = {**_facts(cal, m, t, verdicts, level), "measured": True, "priority": priority,
             "item_id": item_id, "sla_source": sla.source, "sla_due": sla.due,
             "response_due": response.due, "reopens": m.reopens, "complete": ctx.history.complete,
             "response_limit_minutes": cfg.response_limit_minutes,
             "target_minutes": cfg.target(priority) if sla.source == "desk" else None}
    return Findings(STEP, fields=_fields(t), tags=frozenset(on),
                    remove_tags=frozenset(TAGS.values()) - on,
                    note=_note(ticket, t, verdicts, cfg), facts=facts,
                    timers=_timers(now, response, sla, m))


def service_level_of(ticket: Ticket, ctx: StepContext, cfg: KpiSettings) -> tuple[str | None, str]:
    found = ctx.found.get("classification")
    catalog = settings_of(ctx).catalog
    item = find_item(catalog, found.facts.get("category") if found is not None else None) \
        or find_item(catalog, ticket.fields.get("enrich_category"))
    if item is None:
        return None, cfg.default_service_level
    return item.id, LEVELS.get(item.service_level, "none")


def priority_of(ticket: Ticket, ctx: StepContext) -> str | None:
    found = ctx.found.get("classification")
    for source in ((found.fields if found is not None else {}), ticket.fields, ctx.previous or {}):
        if source.get("enrich_priority"):
            return str(source["enrich_priority"])
    return None


def _whole(value: float | None) -> int | None:
    # Whole minutes, half up: the same timestamps always give the same number.
    return None if value is None else int(value + 0.5)


def _fields(t: Times) -> dict[str, int]:
    values = {name: _whole(getattr(t, key)) for key, name in FIELDS.items()}
    return {k: v for k, v in values.items() if v is not None}


def _facts(cal: Calendar, m: Moments, t: Times, verdicts: Mapping[str, Any], level: str) -> dict[str, Any]:
    at = m.registered_at
    return {"registered_day": at.astimezone(cal.zone).date().isoformat() if at else None,
            "service_level": level, "accepted_at": m.accepted_at, "first_response_at": m.first_action_at,
            "resolved_at": m.resolved_at, "closed_at": m.closed_at,
            **{f"{k}_minutes": None if v is None else round(v, 2) for k, v in vars(t).items()},
            **verdicts}


def _note(ticket: Ticket, t: Times, verdicts: Mapping[str, Any], cfg: KpiSettings) -> tuple[str, ...]:
    """A line only when a breach is new on the ticket: the note says why the tag came."""
    have = {tag.lower() for tag in ticket.tags or ()}
    lines = []
    if verdicts["response_breached"] and TAGS["response_breached"] not in have:
        took = f"{_whole(t.response)} 分钟 min" if t.response is not None else "尚未受理 not accepted yet"
        lines.append(f"响应超时 Response limit breached: {took} > {cfg.response_limit_minutes:g} 分钟 min")
    if verdicts["sla_breached"] and TAGS["sla_breached"] not in have:
        lines.append("SLA 已超时 SLA breached")
    return tuple(lines)


def _timers(now: datetime, response: Verdict, sla: Verdict, m: Moments) -> tuple[TimerRequest, ...]:
    """Wake at the next deadline so a breach shows on time, not at the next update."""
    open_ = m.resolved_at is None
    wanted = {"kpi:response": response.due if response.breached is None else None,
              "kpi:sla-risk": sla.risk_at if open_ and not sla.at_risk else None,
              "kpi:sla-due": sla.due if open_ and not sla.breached else None}
    return tuple(TimerRequest(name, "reprocess", due, payload={"why": name}) if due and due > now
                 else TimerRequest(name, "reprocess", now, cancel=True)
                 for name, due in wanted.items())


SPEC = StepSpec(STEP, measure, needs=("classification",), history=True)
