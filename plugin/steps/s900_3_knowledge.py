"""900.3 suggest a self-help article: some queries are solved at first contact with a
self-help guide. For a new ticket, the platform's knowledge base (read by the worker:
ctx.knowledge) and the catalog item's self-help links are ranked on one scale
(plugin.tracking.knowledge); the best go to the agent in an internal note, and, for a
service request or a consultation, the strong ones to the requester in the
acknowledgement (the communication step reads `strong`).

Later deliveries say nothing new. They measure the review's self-help KPI: a ticket
that had suggestions and is now resolved or closed with no public agent reply in its
timeline was resolved by self-help (`self_help_resolved` True); with one, False; not
resolved, or a timeline that cannot tell, leaves it unsaid.

Its lines ride along in the delivery's one internal note, which a new ticket always
gets (the classification writes its fields): no note or call of its own.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..models import Findings, KnowledgeArticle, StepContext, Ticket, Timeline
from ..notifiers import config as communication
from ..tracking import config as tracking
from ..tracking.knowledge import query_of, strong, suggestions
from .base import StepSpec

STEP = "knowledge"
SOURCES = {"zammad": "Zammad 知识库 KB", "jira": "Confluence 知识库 KB", "catalog": "服务目录 catalog"}
DONE = ("resolved", "closed")


def suggest(ticket: Ticket, ctx: StepContext) -> Findings:
    cfg = tracking.of(ctx.settings)
    if not cfg.knowledge_enabled:
        return Findings(STEP)
    known = ctx.ledger.known or {}
    if not known or ticket.event == "create":
        return _first(ticket, ctx, cfg)
    return _later(ticket, ctx, known)


def _first(ticket: Ticket, ctx: StepContext, cfg: tracking.Tracking) -> Findings:
    found = ctx.found.get("classification")
    classified: Mapping[str, Any] = found.facts if found is not None else {}
    ranked = suggestions(query_of(ticket), ctx.knowledge or (), classified.get("self_help") or (),
                         cfg.knowledge_max)
    offer = strong(ranked, classified.get("value_stream"), cfg.knowledge_strong)
    facts = {"articles": _rows(ranked), "strong": _rows(offer), "suggested": len(ranked),
             "platform_read": ctx.knowledge is not None}
    return Findings(STEP, facts=facts, note=note(ranked, offer) if ranked else ())


def _later(ticket: Ticket, ctx: StepContext, known: Mapping[str, Any]) -> Findings:
    facts: dict[str, Any] = {"first": False}
    if (known.get("knowledge_suggested") or 0) > 0 and _resolved(ticket, ctx):
        worked = agent_replied(ctx.history)
        if worked is not None:
            facts["self_help_resolved"] = not worked
    return Findings(STEP, facts=facts)


def _resolved(ticket: Ticket, ctx: StepContext) -> bool:
    """The platform state says so; without one, the last done or reopened event does."""
    if ticket.state:
        return communication.of(ctx.settings).state_kind(ticket.state) in DONE
    events = [e for e in (ctx.history.events if ctx.history else ()) if e.kind in (*DONE, "reopened")]
    return bool(events) and events[-1].kind in DONE


def agent_replied(history: Timeline | None) -> bool | None:
    """A public reply by an agent (not the plugin) anywhere in the timeline; None when
    there is no timeline, or none was found in one that is not complete."""
    if history is None:
        return None
    if any(e.kind in ("first_reply", "reply") and e.public for e in history.events):
        return True
    return False if history.complete else None


def _rows(articles: Iterable[KnowledgeArticle]) -> list[dict[str, Any]]:
    return [{"title": a.title, "url": a.url, "source": a.source, "score": a.score, "id": a.id}
            for a in articles]


def note(ranked: list[KnowledgeArticle], offer: list[KnowledgeArticle]) -> tuple[str, ...]:
    """The agent's lines: each match with its link and score, the strong ones starred."""
    strong_urls = {a.url for a in offer}
    lines = ["知识库推荐 Knowledge suggestions — 可能解答此工单的文章 articles that may answer this ticket:"]
    for n, a in enumerate(ranked, 1):
        star = " ★" if a.url in strong_urls else ""
        lines.append(f"{n}. {a.title} — {a.url} (匹配度 score {a.score:.2f}, {SOURCES.get(a.source, a.source)}){star}")
    if offer:
        lines.append("★ 强匹配，适合用户自助（受理回复中一并推荐） strong match, fit for self-help "
                     "(offered to the requester with the acknowledgement)")
    else:
        lines.append("可转发给用户自助解决 You may forward them to the requester for self-help.")
    return tuple(lines)


SPEC = StepSpec(STEP, suggest, needs=("classification",), knowledge=True, history=True)
