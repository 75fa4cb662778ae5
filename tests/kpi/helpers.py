"""Tickets with a history, built the way the platforms report them (Zammad's history and
`?all=true` record, through the real timeline builder), in the desk's local time."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from plugin.models import Findings, LedgerView, Requester, StepContext, Ticket
from plugin.steps.s902_measure import measure
from plugin.timeline import zammad_timeline

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    """'2026-10-09 17:30' in Asia/Shanghai, as the UTC instant the platforms store."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(UTC)


def iso(text: str) -> str:
    return local(text).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def zammad_history(created: str, changes: list[tuple[str, str, str]], replies: list[str] = (),
                   kpi: dict[str, Any] | None = None, state: str | None = None):
    """changes: (local time, from state, to state); replies: local times of agent replies."""
    history = [{"id": 1, "o_id": 1, "object": "Ticket", "type": "created", "created_by_id": 3,
                "created_at": iso(created)}]
    for i, (at, old, new) in enumerate(changes, start=2):
        history.append({"id": i, "o_id": 1, "object": "Ticket", "type": "updated", "attribute": "state",
                        "value_from": old, "value_to": new, "created_by_id": 5, "created_at": iso(at)})
    articles = {"1": {"id": 1, "sender": "Customer", "internal": False, "created_by_id": 3,
                      "created_at": iso(created)}}
    for i, at in enumerate(replies, start=2):
        articles[str(i)] = {"id": i, "sender": "Agent", "internal": False, "created_by_id": 5,
                            "created_at": iso(at)}
    now_state = state or (changes[-1][2] if changes else "new")
    ticket = {"id": 1, "created_at": iso(created), "created_by_id": 3, "state": now_state, **(kpi or {})}
    raw = {"ticket_id": 1, "assets": {"Ticket": {"1": ticket}, "TicketArticle": articles}}
    return zammad_timeline(raw, {"history": history}, bot_id=99)


def ticket(created: str, **kw: Any) -> Ticket:
    return Ticket(platform=kw.pop("platform", "zammad"), id=kw.pop("id", "1"), number="31001",
                  title=kw.pop("title", "打印机卡纸"), body="三楼打印机卡纸", requester=Requester(id="7"),
                  created_at=local(created), **kw)


def classified(item: str | None = "desktop.software_fault", priority: str = "P2", **facts: Any) -> Findings:
    return Findings("classification", fields={"enrich_priority": priority},
                    facts={"category": item, **facts})


def run(t: Ticket, history, now: str, *, found: Findings | None = None, settings: Any = None,
        ledger: LedgerView | None = None, previous: dict | None = None) -> Findings:
    ctx = StepContext(settings=settings, now=local(now), history=history, previous=previous or {},
                      found={"classification": found or classified()}, ledger=ledger or LedgerView())
    return measure(t, ctx)
