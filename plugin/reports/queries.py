"""The review report's figures: SQL aggregates over ticket_facts (SQLAlchemy Core, the
same on SQLite and PostgreSQL): two grouped scans of the period, never the rows themselves.

Each scan returns sums and counts, not averages, so groups fold together exactly
(days into weeks) and every average is computed once, in `figures`.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, literal_column, or_, select

from ..tables import ticket_facts
from .params import ReportRequest

c = ticket_facts.c
NONE_KEY = "(none)"
TOP_CATEGORIES = 10
FULL_SCAN_SHARE = 0.3


def _yes(condition) -> Any:
    return func.sum(case((condition, 1), else_=0))


SUMS = {
    "tickets": func.count(),
    "resolved": func.count(c.resolved_at),
    "response_sum": func.sum(c.response_minutes), "response_n": func.count(c.response_minutes),
    "response_met": _yes(c.response_breached.is_(False)), "response_judged": func.count(c.response_breached),
    "sla_met": _yes(c.sla_breached.is_(False)), "sla_judged": func.count(c.sla_breached),
    "first_sum": func.sum(c.first_response_minutes), "first_n": func.count(c.first_response_minutes),
    "resolution_sum": func.sum(c.resolution_minutes), "resolution_n": func.count(c.resolution_minutes),
    "handling_sum": func.sum(c.handling_minutes), "handling_n": func.count(c.handling_minutes),
    "share_sum": func.sum(case((c.resolution_minutes > 0,
                                func.coalesce(c.waiting_minutes, 0.0) / c.resolution_minutes))),
    "share_n": _yes(c.resolution_minutes > 0),
    "misclassified": _yes(or_(c.misclassified.is_(True), c.corrected.is_(True))),
    "quality_sum": func.sum(c.record_quality), "quality_n": func.count(c.record_quality),
    "reopened": _yes(c.reopened.is_(True)), "repeat": _yes(c.repeat.is_(True)),
    "satisfied": _yes(c.satisfaction == 1), "neutral": _yes(c.satisfaction == 2),
    "dissatisfied": _yes(c.satisfaction == 3),
    # Suggested and resolved (self_help_resolved is only said once a ticket is done), and of
    # those, resolved with no public agent reply (plugin.steps.s900_3_knowledge).
    "self_help_judged": _yes(and_(c.knowledge_suggested > 0, c.self_help_resolved.is_not(None))),
    "self_help": _yes(and_(c.knowledge_suggested > 0, c.self_help_resolved.is_(True))),
}
_COLUMNS = [expr.label(name) for name, expr in SUMS.items()]
# Two scans, each grouped finely and folded here: who/where (agent, group, category) and
# when/how (day, channel). Far fewer groups than rows, and half the scans of one query
# per dimension (a scan costs the same whatever it groups by).
WHO = {"by_agent": c.owner, "by_group": c.group_name, "by_category": c.category}
WHEN = {"trend": c.registered_day, "channels": c.channel}


def build(engine: Any, req: ReportRequest) -> dict[str, Any]:
    with engine.connect() as conn:
        created = _created_column(conn, req)
        where = [created >= req.period.start, created < req.period.end]
        if req.platform:
            where.append(c.platform == req.platform)
        who = _scan(conn, WHO, where)
        when = _scan(conn, WHEN, where)
    summary = figures(fold(sums for _, sums in who))
    grouped = {**{name: _by(who, i) for i, name in enumerate(WHO)},
               **{name: _by(when, i) for i, name in enumerate(WHEN)}}
    by_category = _ranked(grouped["by_category"])
    return {
        "period": {"from": req.period.first.isoformat(), "to": req.period.last.isoformat(),
                   "time_zone": req.period.zone.key, "platform": req.platform, "trend_unit": req.trend},
        "summary": summary,
        "satisfaction": {k: summary[k] for k in ("satisfied", "neutral", "dissatisfied", "satisfaction_answers")},
        "channels": [{"key": key, "tickets": f["tickets"], "share": _rate(f["tickets"], summary["tickets"])}
                     for key, f in _ranked(grouped["channels"])],
        "top_categories": [{"key": key, "tickets": f["tickets"], "share": _rate(f["tickets"], summary["tickets"])}
                           for key, f in by_category[:TOP_CATEGORIES]],
        "by_agent": [{"key": k, **f} for k, f in _ranked(grouped["by_agent"])],
        "by_group": [{"key": k, **f} for k, f in _ranked(grouped["by_group"])],
        "by_category": [{"key": k, **f} for k, f in by_category],
        "trend": trend(grouped["trend"], req.period.first, req.period.last, req.trend),
    }


def _created_column(conn: Any, req: ReportRequest) -> Any:
    """created_at, or on SQLite, when the period holds much of the ledger, created_at
    with the index turned off (unary +, SQLite's own way): SQLite has no statistics to
    see that reading the table straight through beats a lookup per row (a third less
    work for a quarter of 100,000 tickets). PostgreSQL's planner decides by itself."""
    if conn.dialect.name != "sqlite":
        return c.created_at
    inside = conn.execute(select(func.count()).where(c.created_at >= req.period.start,
                                                     c.created_at < req.period.end)).scalar()
    total = conn.execute(select(func.count()).select_from(ticket_facts)).scalar()
    if not total or inside < FULL_SCAN_SHARE * total:
        return c.created_at
    return literal_column("+ticket_facts.created_at", type_=c.created_at.type)


def _scan(conn: Any, keys: Mapping[str, Any], where: list) -> list[tuple[tuple[str, ...], dict[str, float]]]:
    cols = list(keys.values())
    rows = conn.execute(select(*cols, *_COLUMNS).where(*where).group_by(*cols)).all()
    n = len(cols)
    return [(tuple(NONE_KEY if k in (None, "") else str(k) for k in row[:n]), _plain(row[n:])) for row in rows]


def _by(scanned: list[tuple[tuple[str, ...], dict[str, float]]], i: int) -> dict[str, dict[str, float]]:
    parts: dict[str, list[dict[str, float]]] = {}
    for keys, sums in scanned:
        parts.setdefault(keys[i], []).append(sums)
    return {key: fold(group) for key, group in parts.items()}


def _plain(values: Iterable[Any]) -> dict[str, float]:
    # PostgreSQL sums integers as Decimal; empty sums are NULL.
    return {name: float(v) if isinstance(v, Decimal) else (v or 0) for name, v in zip(SUMS, values, strict=True)}


def _ranked(groups: Mapping[str, Mapping[str, float]]) -> list[tuple[str, dict[str, Any]]]:
    done = [(key, figures(sums)) for key, sums in groups.items()]
    return sorted(done, key=lambda kf: (-kf[1]["tickets"], kf[0] == NONE_KEY, kf[0]))


def fold(groups: Iterable[Mapping[str, float]]) -> dict[str, float]:
    out = dict.fromkeys(SUMS, 0)
    for sums in groups:
        for name in SUMS:
            out[name] += sums.get(name, 0)
    return out


def trend(days: Mapping[str, Mapping[str, float]], first: date, last: date, unit: str) -> list[dict[str, Any]]:
    """Every day (or week, from its Monday) of the period, empty ones too: a gap in the
    chart is a quiet day, not a missing one. Tickets not yet measured have no day."""
    buckets: dict[date, list[Mapping[str, float]]] = {}
    day = first
    while day <= last:
        start = day - timedelta(days=day.weekday()) if unit == "week" else day
        buckets.setdefault(start, []).append(days.get(day.isoformat(), {}))
        day += timedelta(days=1)
    return [{"key": start.isoformat(), **figures(fold(parts))} for start, parts in buckets.items()]


def _avg(total: float, n: float) -> float | None:
    return round(total / n, 1) if n else None


def _rate(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(s: Mapping[str, float]) -> dict[str, Any]:
    """The figures of one group from its sums (definitions: plugin/reports/definitions.py)."""
    answers = s["satisfied"] + s["neutral"] + s["dissatisfied"]
    return {
        "tickets": int(s["tickets"]), "resolved": int(s["resolved"]),
        "avg_response_minutes": _avg(s["response_sum"], s["response_n"]),
        "response_attainment": _rate(s["response_met"], s["response_judged"]),
        "response_judged": int(s["response_judged"]),
        "sla_attainment": _rate(s["sla_met"], s["sla_judged"]), "sla_judged": int(s["sla_judged"]),
        "avg_first_response_minutes": _avg(s["first_sum"], s["first_n"]),
        "avg_resolution_minutes": _avg(s["resolution_sum"], s["resolution_n"]),
        "avg_handling_minutes": _avg(s["handling_sum"], s["handling_n"]),
        "avg_waiting_share": _rate(s["share_sum"], s["share_n"]),
        "misclassified": int(s["misclassified"]),
        "misclassification_rate": _rate(s["misclassified"], s["tickets"]),
        "avg_record_quality": _rate(s["quality_sum"], s["quality_n"] * 100),   # scores are 0-100
        "reopened": int(s["reopened"]), "repeat": int(s["repeat"]),
        "satisfied": int(s["satisfied"]), "neutral": int(s["neutral"]),
        "dissatisfied": int(s["dissatisfied"]), "satisfaction_answers": int(answers),
        "satisfied_share": _rate(s["satisfied"], answers),
        "self_help_resolved": int(s["self_help"]), "self_help_judged": int(s["self_help_judged"]),
        "self_help_resolution": _rate(s["self_help"], s["self_help_judged"]),
    }
