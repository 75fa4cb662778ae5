"""The platform's own SLA verdict, where it keeps one: the desk configured it there, so
it is not recomputed (Jira: "don't recompute SLAs yourself"). Zammad fills its KPI
columns only when an SLA with a calendar matched the ticket; Jira's SLA fields carry
cycles with `breached` and a breach time. None when the platform keeps no SLA.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..workcal import Calendar
from .clock import Moments
from .measure import Verdict

_ZAMMAD_DIFFS = ("first_response_diff_in_min", "update_diff_in_min", "close_diff_in_min")
_ZAMMAD_DUES = ("escalation_at", "first_response_escalation_at", "close_escalation_at")


def platform_verdict(platform: str, sla: Mapping[str, Any], cal: Calendar, m: Moments,
                     share: float, now: datetime) -> Verdict | None:
    if platform == "zammad" and any(k in sla for k in _ZAMMAD_DIFFS + _ZAMMAD_DUES):
        return _zammad(sla, cal, m, share, now)
    if platform == "jira":
        cycles = [v for v in sla.values() if isinstance(v, Mapping) and "breached" in v]
        return _jira(cycles, cal, m, share, now) if cycles else None
    return None


def _zammad(sla: Mapping[str, Any], cal: Calendar, m: Moments, share: float, now: datetime) -> Verdict:
    late = any(isinstance(sla.get(k), int) and sla[k] < 0 for k in _ZAMMAD_DIFFS)
    if m.resolved_at is not None:
        due = sla.get("close_escalation_at")
        return Verdict(breached=late or bool(due and m.resolved_at > due), source="zammad")
    due = sla.get("escalation_at")          # the earliest deadline still pending; None while waiting
    if late or (due is not None and now >= due):
        return Verdict(breached=True, source="zammad")
    if due is None or m.registered_at is None:
        return Verdict(source="zammad")
    return _warn(cal, m.registered_at, due, share, now, "zammad")


def _jira(cycles: list[Mapping[str, Any]], cal: Calendar, m: Moments, share: float,
          now: datetime) -> Verdict:
    if any(c.get("breached") for c in cycles):
        return Verdict(breached=True, source="jira")
    running = [c for c in cycles if c.get("running") and not c.get("paused") and c.get("breach_at")]
    if m.resolved_at is not None or not any(c.get("running") for c in cycles):
        return Verdict(breached=False if m.resolved_at is not None else None, source="jira")
    if not running:
        return Verdict(at_risk=any(_spent_share(c) >= share for c in cycles), source="jira")
    soonest = min(running, key=lambda c: c["breach_at"])
    due = soonest["breach_at"]
    if now >= due:
        return Verdict(breached=True, source="jira")
    at_risk = any(_spent_share(c) >= share for c in cycles if c.get("running"))
    goal, elapsed = soonest.get("goal_ms"), soonest.get("elapsed_ms")
    risk_at = None
    if not at_risk and goal and elapsed is not None:
        # JSM counts on its own SLA calendar; the warning time is ours, close enough to wake for.
        risk_at = cal.add_working_minutes(now, (share * goal - elapsed) / 60000)
    return Verdict(due=due, at_risk=at_risk, risk_at=risk_at, source="jira")


def _spent_share(cycle: Mapping[str, Any]) -> float:
    goal, elapsed = cycle.get("goal_ms"), cycle.get("elapsed_ms")
    return elapsed / goal if goal and elapsed is not None else 0.0


def _warn(cal: Calendar, start: datetime, due: datetime, share: float, now: datetime,
          source: str) -> Verdict:
    total = cal.working_minutes(start, due)
    spent = cal.working_minutes(start, now)
    if spent >= share * total:
        return Verdict(due=due, at_risk=True, source=source)
    return Verdict(due=due, risk_at=cal.add_working_minutes(start, share * total), source=source)
