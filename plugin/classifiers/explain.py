"""The classification note: what decided a ticket, in words an agent can check.

A decided ticket names the rule words that matched and the model's two best
candidates with their probabilities; a ticket sent to triage also says what would
have decided it (the confidence it lacked, a close second, rules pointing elsewhere,
a model that sees none of the catalog in it, or no evidence at all).
"""
from __future__ import annotations

from collections.abc import Sequence

from .catalog import ClassificationSettings
from .items import CatalogItem, Decision
from .value_stream import Stream, stream_name

OTHER = "_other"          # the default model's label for tickets the catalog does not serve
CLOSE = 0.15              # a second candidate this near the first makes a ticket ambiguous
NONE = 0.05               # a best item this unlikely is no guess worth showing


def major_why(stream: Stream) -> str:
    if stream.major_words:
        return "matched " + ", ".join(f"'{w}'" for w in stream.major_words)
    return f"{stream.similar_recent} similar tickets in the window"


def _name(label: str, catalog: Sequence[CatalogItem], lang: str) -> str:
    if label == OTHER:
        return "不属于目录 none of the catalog"
    item = next((it for it in catalog if it.id == label), None)
    return item.service.get(lang) if item else label


def _words(terms: Sequence[str]) -> str:
    return ", ".join(f"'{t}'" for t in terms[:6])


def evidence(d: Decision, s: ClassificationSettings) -> list[str]:
    """Rule words, then the model's top two candidates."""
    out = []
    if d.terms:
        out.append("matched " + _words(d.terms))
    top = d.model_info.get("top") or []
    if top:
        out.append("model: " + ", ".join(f"{_name(k, s.catalog, s.language)} {p:.2f}" for k, p in top))
    return out


def would_decide(d: Decision, s: ClassificationSettings) -> str:
    """For a triaged ticket: what was missing, and what would have decided it."""
    lang, t = s.language, s.confidence_threshold
    top = d.model_info.get("top") or []
    if d.best is None or d.confidence < NONE:
        has_model = bool(top)
        start = "too little evidence for any item" if d.rule_items else "no keyword of any item in the text"
        return (start + ("" if has_model else " and no model")
                + (f"; the model sees {_name(top[0][0], s.catalog, lang)} ({top[0][1]:.2f})"
                   if has_model else "") + ": a keyword of the right item"
                + (" or the agent's choice (it trains the next model)" if has_model
                   else " or a trained model would decide it"))
    best = d.best.service.get(lang)
    why = [f"{best} needed {t:.2f}, had {d.confidence:.2f}"]
    if d.runner_up and d.runner_up[1] >= max(NONE, d.confidence - CLOSE):
        why.append(f"{d.runner_up[0].service.get(lang)} close at {d.runner_up[1]:.2f}")
    if top and top[0][0] not in {it.id for it in s.catalog}:
        why.append(f"the model sees {_name(top[0][0], s.catalog, lang)} ({top[0][1]:.2f})")
    others = [(i, w) for i, w in d.rule_items if i != d.best.id]
    if others:
        why.append("rules point to " + "; ".join(
            f"{_name(i, s.catalog, lang)} ({_words(w)})" for i, w in others[:2]))
    if not d.terms:
        why.append(f"no keyword of {best} in the text")
    why.append(f"a threshold of {d.confidence:.2f} would have chosen {best}")
    return "; ".join(why)


def reason(d: Decision, stream: Stream, level: int, group: str, s: ClassificationSettings) -> str:
    lang = s.language
    parts = evidence(d, s)
    if d.item:
        head = f"分类 Category: {d.item.path(lang)}"
        parts.append(f"confidence {d.confidence:.2f}")
    else:
        guess = f"; best guess {d.best.path(lang)}" if d.best and d.confidence >= NONE else ""
        head = (f"分类 Category: 待人工分诊 needs triage (confidence {d.confidence:.2f} < "
                f"{s.confidence_threshold:.2f}{guess})")
    text = f"{head}{' — ' + '; '.join(parts) if parts else ''}"
    if not d.item:
        text += f" · 何以判定 What would decide it: {would_decide(d, s)}"
    vs = stream_name(stream.value_stream, lang)
    if stream.major_event:
        vs += f" ({major_why(stream)})"
    elif stream.complaint:
        vs += f" ({stream.complaint})"
    return f"{text} · 类型 Value stream: {vs} · 优先级 Priority: P{level} · 组 Group: {group}"
