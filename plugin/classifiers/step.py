"""The classification step: rules + learned model -> catalog item, value stream,
priority, group; human triage when unsure; agents' corrections are never overwritten.

Combination (documented for admins): the rules give each matched item
score / (total score + rule_smoothing). With a model whose labels are catalog ids,
the model's probability is mixed with the rules' normalised scores, the rules
weighing (1 - model_weight) x total / (total + rule_smoothing): no rule match
leaves the model alone, strong agreeing rules raise the confidence, disagreeing
rules lower it. The confidence is the best item's combined value.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ..models import WRITTEN_BY, Findings, StepContext, Ticket
from . import rules
from .catalog import ClassificationSettings
from .explain import major_why, reason
from .items import STEP, CatalogItem, Decision, find_item
from .value_stream import (
    ALL_STREAM_TAGS,
    PRIORITIES,
    Stream,
    decide_priority,
    decide_stream,
    stream_name,
    stream_tag,
)

log = logging.getLogger(__name__)

TAG_TRIAGE = "enrich:triage"
TAG_MAJOR = "enrich:major-event"
TAG_FORMAL_COMPLAINT = "enrich:complaint-formal"
TAG_PROTECTED = "enrich:protected"


# --- settings -------------------------------------------------------------------

_DEFAULT: list[ClassificationSettings] = []


def settings_of(ctx: StepContext) -> ClassificationSettings:
    """The step's settings: given directly (tests), or `settings.classification`, which
    plugin.settings validates at start-up; defaults when there is neither."""
    s = ctx.settings
    if isinstance(s, ClassificationSettings):
        return s
    embedded = getattr(s, "classification", None) if s is not None else None
    if isinstance(embedded, ClassificationSettings):
        return embedded
    if not _DEFAULT:
        _DEFAULT.append(ClassificationSettings())
    return _DEFAULT[0]


# --- deciding -------------------------------------------------------------------

def _model_scores(model: Any, text: str, ids: set[str]) -> tuple[dict[str, float], dict]:
    """Model probabilities for catalog ids only; a model on other labels only informs."""
    if model is None:
        return {}, {}
    try:
        probs = model.scores(text)
    except Exception:   # a broken model must not stop enrichment: rules still work
        log.exception("model_predict_failed")
        return {}, {"error": "predict failed"}
    if not probs:
        return {}, {}
    ranked = sorted(probs, key=lambda k: -probs[k])
    usable = {k: v for k, v in probs.items() if k in ids}
    info = {"label": ranked[0], "probability": round(float(probs[ranked[0]]), 4), "used": bool(usable),
            "version": getattr(model, "version", None),
            "top": [[k, round(float(probs[k]), 4)] for k in ranked[:2]]}
    return usable, info


def decide(text: str, model: Any, s: ClassificationSettings) -> Decision:
    matches = rules.match(text, s.catalog)
    by_id = {it.id: it for it in s.catalog}
    model_p, info = _model_scores(model, text, set(by_id))
    ruled = rules.rule_distribution(matches, s.rule_smoothing)
    if model_p:
        total = sum(ruled.values())
        w_rules = (1 - s.model_weight) * total
        norm = {k: v / total for k, v in ruled.items()} if total else {}
        combined = {k: (1 - w_rules) * model_p.get(k, 0.0) + w_rules * norm.get(k, 0.0)
                    for k in set(model_p) | set(norm)}
    else:
        combined = ruled
    rule_items = tuple((m.item.id, m.terms) for m in matches)
    if not combined:
        return Decision(None, None, 0.0, model_info=info, rule_items=rule_items)
    ranked = sorted(combined, key=lambda k: (-combined[k], -ruled.get(k, 0.0)))
    best_id = ranked[0]
    best = by_id[best_id]
    confidence = max(0.0, min(1.0, combined[best_id]))
    terms = next((m.terms for m in matches if m.item.id == best_id), ())
    sure = confidence >= s.confidence_threshold
    second = (by_id[ranked[1]], combined[ranked[1]]) if len(ranked) > 1 else None
    return Decision(best if sure else None, best, confidence, terms, model_p.get(best_id), info,
                    second, rule_items)


def corrections(ticket: Ticket, previous: Mapping[str, Any], s: ClassificationSettings) -> list[dict]:
    """Where an agent changed what the plugin wrote: a misclassification for the ledger."""
    out = []
    # A group another step set (a verification policy's) is not this step's suggestion.
    ours = (previous.get(WRITTEN_BY) or {}).get("enrich_group", STEP) == STEP
    suggested = previous.get("enrich_group") if ours else None
    triaged = previous.get("enrich_triage") in (True, "true", "True") or not ours
    # A triage suggestion is not a classification: changing it is no misclassification.
    for name in ("enrich_category",) + (() if triaged else ("enrich_group",)):
        before, now = previous.get(name), ticket.fields.get(name)
        if before and now and str(now) != str(before):
            out.append({"field": name, "from": before, "to": now})
    if (suggested and not triaged and suggested != s.triage_group and ticket.group
            and ticket.group != suggested and _moved_away(ticket, suggested)
            and not any(c["field"] == "enrich_group" for c in out)):
        out.append({"field": "enrich_group", "from": suggested, "to": ticket.group})
    return out


def _moved_away(ticket: Ticket, suggested: str) -> bool:
    """The plugin suggests a group, it does not move the ticket: a different group is a
    correction only when the history shows the ticket taken out of the suggested one.
    Without history (Zammad's payload has none) only an edit of the suggestion counts."""
    return any(h.field == "group" and h.old == suggested for h in ticket.history)


# --- findings -------------------------------------------------------------------

def window_end(ticket: Ticket, ctx: StepContext):
    """The burst window ends when the ticket was created: "did it arrive among many alike?"
    has one answer, so a replay, or an update days later, decides the same way."""
    return ticket.created_at or ctx.now


def classify(ticket: Ticket, ctx: StepContext) -> Findings:
    s = settings_of(ctx)
    previous = ctx.previous or {}
    current = ticket.fields.get("enrich_category")
    # Decided once: a category, or a triage decision (a value stream but no category),
    # whether the ledger remembers it or only the ticket does (a crash before recording).
    decided = (previous.get("enrich_category") or previous.get("enrich_value_stream")
               or ticket.fields.get("enrich_value_stream"))
    if decided or current:
        return _follow_up(ticket, ctx, s, previous, current or previous.get("enrich_category"))
    return _first(ticket, ctx, s)


def _first(ticket: Ticket, ctx: StepContext, s: ClassificationSettings) -> Findings:
    text, lang = ticket.text, s.language
    d = decide(text, ctx.model, s)
    stream = decide_stream(text, d.item, ticket.id, ctx.recent, window_end(ticket, ctx), s)
    level, factors = decide_priority(text, d.item, stream, ticket.requester.vip, s)
    group = (d.item.group(lang) if d.item else None) or s.triage_group
    triage = d.item is None
    fields: dict[str, Any] = {
        "enrich_value_stream": stream_name(stream.value_stream, lang),
        "enrich_priority": f"P{level}", "enrich_group": group,
        "enrich_confidence": round(d.confidence, 2), "enrich_triage": triage}
    if d.item:
        fields["enrich_category"] = d.item.path(lang)
    tags = _stream_tags(stream) | ({TAG_TRIAGE} if triage else set())
    if d.item and d.item.protected:
        tags.add(TAG_PROTECTED)
    facts = {**_stream_facts(stream, d.item), "priority": f"P{level}",
             "priority_name": PRIORITIES[level].en, "priority_factors": factors,
             "confidence": round(d.confidence, 4), "triage": triage, "group": group,
             "matched": list(d.terms), "model": dict(d.model_info),
             "candidate": d.best.id if d.best else None,
             "runner_up": [d.runner_up[0].id, round(d.runner_up[1], 4)] if d.runner_up else None,
             "protected": bool(d.item and d.item.protected),
             "self_help": [{"title": h.title.get(lang), "url": h.url}
                           for h in (d.item.self_help if d.item else ())]}
    remove = (ALL_STREAM_TAGS | {TAG_TRIAGE, TAG_MAJOR, TAG_FORMAL_COMPLAINT}) - tags
    return Findings(step=STEP, fields=fields, tags=frozenset(tags), remove_tags=frozenset(remove),
                    note=(reason(d, stream, level, group, s),), facts=facts)


def _follow_up(ticket: Ticket, ctx: StepContext, s: ClassificationSettings,
               previous: Mapping[str, Any], category: Any) -> Findings:
    """Never re-classify (no flip-flop), never overwrite an agent; only escalate to a major event."""
    item = find_item(s.catalog, category)
    stream = decide_stream(ticket.text, item, ticket.id, ctx.recent, window_end(ticket, ctx), s)
    facts: dict[str, Any] = {**_stream_facts(stream, item), "first": False}
    found = corrections(ticket, previous, s)
    if found:
        facts["correction"] = found[0] if len(found) == 1 else found
    major_name = stream_name("major_event", s.language)
    already = major_name in (previous.get("enrich_value_stream"),
                             ticket.fields.get("enrich_value_stream"))
    if not stream.major_event or already:
        facts["value_stream"] = None    # unchanged: what was written stays
        return Findings(step=STEP, facts=facts)
    tags = _stream_tags(stream)
    note = (f"重大事件 Major event: {major_why(stream)} — 优先级 Priority: P4",)
    return Findings(step=STEP, fields={"enrich_value_stream": major_name, "enrich_priority": "P4"},
                    tags=frozenset(tags), remove_tags=frozenset(ALL_STREAM_TAGS - tags),
                    note=note, facts={**facts, "priority": "P4", "escalated": True})


def _stream_tags(stream: Stream) -> set[str]:
    tags = {stream_tag(stream.value_stream)}
    if stream.major_event:
        tags.add(TAG_MAJOR)
    if stream.complaint == "formal":
        tags.add(TAG_FORMAL_COMPLAINT)
    return tags


def _stream_facts(stream: Stream, item: CatalogItem | None) -> dict[str, Any]:
    return {"category": item.id if item else None,
            "category_path": item.path() if item else None,
            "value_stream": stream.value_stream, "complaint": stream.complaint,
            "major_event": stream.major_event, "major_event_words": list(stream.major_words),
            "similar_recent": stream.similar_recent}
