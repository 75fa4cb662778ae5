"""The what-if report's figures: what the plugin decided (ticket_facts, and the plans
and findings of each ticket) beside what agents finally did (answers.py), and what it
wrote or would have written (plans) and said or would have said (outbox).

Rules a reader can check by hand (tests/test_shadow_report.py does):
- Agents' answer is the closed ticket's value (an open ticket's may still change).
- A ticket counts for a dimension when agents left a value there; an empty field is
  no answer. The plugin's triage (no category) on an answered ticket is a miss.
- Category agreement is by catalog item: a value is matched to an item by its id or
  its path in either language, so "网络/VPN/…" and "Network/VPN/…" agree.
- Value streams compare by key (事件 = Incident = incident); groups and priorities
  as written.
"""
from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from ..classifiers.catalog import find_item
from ..classifiers.value_stream import STREAMS
from ..manifest import load_manifest
from ..tables import findings, outbox, plans, ticket_facts
from . import answers, listing
from .reads import Memo, Pace, Timing, backfill_client

DIMENSIONS = ("category", "service", "group", "priority", "value_stream")
TRIAGE = "待分诊 triage"
CHUNK = 500
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def build(settings: Any, ledger: Any, start: datetime | None, end: datetime | None,
          platform: str | None = None) -> dict[str, Any]:
    facts = _facts(ledger, start, end, platform)
    merged = _plans(ledger, {(r["platform"], r["ticket_id"]) for r in facts})
    found = _findings(ledger, [d for p in merged.values() for d in p["deliveries"]])
    said = answers.load(ledger, platform)
    catalog, lang = settings.classification.catalog, settings.language
    rows = [_row(r, merged.get(_key(r)), found, said.get(_key(r)) or {}, catalog, lang) for r in facts]
    manifest = load_manifest()
    return {"generated_at": _iso(datetime.now(UTC)), "language": lang,
            "period": {"from": _iso(start), "to": _iso(end)},
            "platforms": sorted({r["platform"] for r in rows}), "tickets": len(rows),
            "modes": dict(Counter(r["mode"] or "none" for r in rows)),
            "closed": sum(1 for r in rows if r["closed"]), "answered": sum(1 for r in rows if r["answered"]),
            "agreement": {d: agreement(rows, d) for d in DIMENSIONS},
            "confusion": confusion(rows, "service"),
            "triage": {"count": sum(1 for r in rows if r["triage"]), "share": _share(
                sum(1 for r in rows if r["triage"]), len(rows))},
            "messages": messages(ledger, {_key(r) for r in rows}),
            "verification": dict(Counter(r["verification"] or "not recorded" for r in rows)),
            "steps": steps_written([merged[_key(r)] for r in rows if _key(r) in merged], manifest),
            "rows": rows}


# -- reading the ledger -----------------------------------------------------------

def _key(r: Mapping[str, Any]) -> tuple[str, str]:
    return r["platform"], r["ticket_id"]


def _facts(ledger: Any, start, end, platform) -> list[dict[str, Any]]:
    q = select(ticket_facts)
    if start is not None:
        q = q.where(ticket_facts.c.created_at >= _db_time(ledger, start))
    if end is not None:
        q = q.where(ticket_facts.c.created_at < _db_time(ledger, end))
    if platform:
        q = q.where(ticket_facts.c.platform == platform)
    with ledger.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q.order_by(ticket_facts.c.created_at)).mappings()]


def _plans(ledger: Any, keys: set[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """Each ticket's plans in one: what it wrote or would have written over its life (a
    later delivery's value wins, tags add up), and the deliveries they came from."""
    out: dict[tuple[str, str], dict] = {}
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(plans.c.platform, plans.c.ticket_id, plans.c.delivery_id, plans.c.mode,
                                   plans.c.plan).order_by(plans.c.id)).mappings()
        for r in rows:
            if _key(r) not in keys:
                continue
            one = out.setdefault(_key(r), {"deliveries": [], "mode": "shadow", "plan": {
                "fields": {}, "add_tags": [], "note": 0, "articles": []}})
            plan = r["plan"] or {}
            one["deliveries"].append(r["delivery_id"])
            one["mode"] = "live" if r["mode"] == "live" else one["mode"]
            one["plan"]["fields"].update(plan.get("fields") or {})
            one["plan"]["add_tags"] += [t for t in plan.get("add_tags") or () if t not in one["plan"]["add_tags"]]
            one["plan"]["note"] += bool(plan.get("note"))
            one["plan"]["articles"] += list(plan.get("articles") or ())
    return out


def _findings(ledger: Any, delivery_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    ids = list(delivery_ids)
    with ledger.engine.connect() as conn:
        for i in range(0, len(ids), CHUNK):
            q = select(findings.c.delivery_id, findings.c.step, findings.c.data).where(
                findings.c.delivery_id.in_(ids[i:i + CHUNK]))
            for d, step, data in conn.execute(q):
                out.setdefault(d, {})[step] = data or {}
    return out


def _first(found: Mapping[int, Any], deliveries: Iterable[int], step: str, key: str) -> Any:
    """A step's fact as first decided (on arrival; a follow-up does not decide again)."""
    return next((found[d][step][key] for d in deliveries
                 if (found.get(d) or {}).get(step, {}).get(key) is not None), None)


def _db_time(ledger: Any, t: datetime) -> datetime:
    # SQLite keeps naive UTC text; compare like with like.
    return t.astimezone(UTC).replace(tzinfo=None) if ledger.is_sqlite else t


# -- one ticket, both sides ---------------------------------------------------------

def _row(r: Mapping[str, Any], plan: Mapping[str, Any] | None, found: Mapping[int, Any],
         said: Mapping[str, Any], catalog: Any, lang: str) -> dict[str, Any]:
    item = find_item(catalog, r.get("item_id"))
    theirs = find_item(catalog, said.get("category"))
    fields = ((plan or {}).get("plan") or {}).get("fields") or {}
    plugin = {"category": item.id if item else None, "service": _service(item, None, lang),
              "group": _first(found, (plan or {}).get("deliveries") or (), "classification", "group")
              or fields.get("enrich_group"),
              "priority": r.get("priority"), "value_stream": r.get("value_stream")}
    agents = {"category": theirs.id if theirs else said.get("category"),
              "service": _service(theirs, said.get("category"), lang),
              "group": said.get("group"), "priority": said.get("priority"),
              "value_stream": stream_key(said.get("value_stream"))}
    if not said.get("closed"):
        agents = dict.fromkeys(agents)      # an open ticket's values are not the final answer yet
    return {"platform": r["platform"], "ticket_id": r["ticket_id"], "number": r.get("number"),
            "title": r.get("title"), "created_at": _iso(r.get("created_at")),
            "mode": (plan or {}).get("mode"), "closed": bool(said.get("closed")),
            "answered": any(agents[d] is not None for d in DIMENSIONS), "triage": bool(r.get("triage")),
            "confidence": r.get("confidence"), "verification": r.get("verification"),
            "plugin": plugin, "agents": agents,
            "labels": {"plugin": _label(item, None, lang), "agents": _label(theirs, said.get("category"), lang)}}


def _service(item: Any, raw: Any, lang: str) -> str | None:
    if item is not None:
        return f"{item.category.get(lang)}/{item.service.get(lang)}"
    return str(raw) if raw else None


def _label(item: Any, raw: Any, lang: str) -> str | None:
    return item.path(lang) if item is not None else (str(raw) if raw else None)


def stream_key(value: Any) -> str | None:
    if not value:
        return None
    text = str(value).strip()
    for key, names in STREAMS.items():
        if text.lower() in {key, names.get("zh-CN").lower(), names.get("en").lower()}:
            return key
    return text


# -- the figures --------------------------------------------------------------------

def agreement(rows: list[Mapping[str, Any]], dim: str) -> dict[str, Any]:
    answered = [r for r in rows if r["agents"][dim] is not None]
    agree = sum(1 for r in answered if r["plugin"][dim] == r["agents"][dim])
    undecided = sum(1 for r in answered if r["plugin"][dim] is None)
    return {"answered": len(answered), "agree": agree, "rate": _share(agree, len(answered)),
            "undecided": undecided, "rate_decided": _share(agree, len(answered) - undecided)}


def confusion(rows: list[Mapping[str, Any]], dim: str) -> dict[str, Any]:
    """Agents' value (rows) by the plugin's (columns), on answered tickets; the pairs
    that differ most often first."""
    pairs = Counter((r["agents"][dim], r["plugin"][dim] or TRIAGE) for r in rows if r["agents"][dim] is not None)
    by_agents, by_plugin = Counter(), Counter()
    for (a, p), n in pairs.items():
        by_agents[a] += n
        by_plugin[p] += n
    agents, plugin = [v for v, _ in by_agents.most_common()], [v for v, _ in by_plugin.most_common()]
    return {"dimension": dim, "agents": agents, "plugin": plugin,
            "cells": [[pairs.get((a, p), 0) for p in plugin] for a in agents],
            "top": [{"agents": a, "plugin": p, "count": n}
                    for (a, p), n in pairs.most_common() if a != p][:10]}


def messages(ledger: Any, keys: set[tuple[str, str]]) -> dict[str, Any]:
    """Outbox rows: 'would' (shadow: recorded, never sent) and 'live' (sent or to send)."""
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(outbox.c.platform, outbox.c.ticket_id, outbox.c.event, outbox.c.channel,
                                   outbox.c.public, outbox.c.status)).all()
    out: dict[str, Counter] = {"would": Counter(), "live": Counter()}
    for plat, tid, event, channel, public, status in rows:
        if (plat, tid) in keys:
            out["would" if status == "shadow" else "live"][_kind(event, channel, public)] += 1
    # What reaches a person: everything but the plugin's internal notes on the ticket.
    return {**{k: dict(v) for k, v in out.items()},
            "would_send": sum(n for k, n in out["would"].items() if k != "internal_notes")}


def _kind(event: str, channel: str, public: bool) -> str:
    if event.startswith("ack"):
        return "acknowledgements"
    if channel == "ticket":
        return "public_replies" if public else "internal_notes"
    return f"messages:{channel}"


def steps_written(merged: Iterable[Mapping[str, Any]], manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Per step: how many tickets each field and tag would be written on, and the values."""
    field_step = {f["name"]: f["step"] for f in manifest["fields"]}
    tag_steps = [(t["name"], t["step"]) for t in manifest["tags"]]
    out: dict[str, Any] = {}
    totals = Counter()
    for row in merged:
        plan = row.get("plan") or {}
        for name, value in (plan.get("fields") or {}).items():
            entry = out.setdefault(field_step.get(name, "?"), {"fields": {}, "tags": {}})
            f = entry["fields"].setdefault(name, {"tickets": 0, "values": Counter()})
            f["tickets"] += 1
            f["values"][str(value)] += 1
        for tag in plan.get("add_tags") or ():
            step = next((s for pattern, s in tag_steps if fnmatch.fnmatchcase(tag, pattern)), "?")
            tags = out.setdefault(step, {"fields": {}, "tags": {}})["tags"]
            tags[tag] = tags.get(tag, 0) + 1
        totals["notes"] += int(plan.get("note") or 0)
        for a in plan.get("articles") or ():
            totals["public_replies" if a.get("public") else "internal_articles"] += 1
    for entry in out.values():
        for f in entry["fields"].values():
            f["values"] = dict(f["values"].most_common(5))
    return {"by_step": out, "notes": totals["notes"], "public_replies": totals["public_replies"],
            "internal_articles": totals["internal_articles"]}


def refresh_answers(settings: Any, ledger: Any, platform: str, start: datetime | None,
                    end: datetime | None) -> int:
    """Read agents' values again from the platform's listing (search pages only)."""
    client = backfill_client(platform, settings, pace=Pace(getattr(settings, "backfill_rate", 0.0)),
                             memo=Memo(), timing=Timing())
    batch, n = [], 0
    for found in listing.tickets(platform, client, start or EPOCH, end or datetime.now(UTC), full=False):
        batch.append((found.ticket_id, found.answer, found.closed))
        if len(batch) >= CHUNK:
            n += answers.keep_many(ledger, platform, batch)
            batch = []
    return n + (answers.keep_many(ledger, platform, batch) if batch else 0)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _iso(t: datetime | None) -> str | None:
    if t is None:
        return None
    t = t if t.tzinfo else t.replace(tzinfo=UTC)
    return t.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
