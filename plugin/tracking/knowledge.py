"""Knowledge suggestions (900.3: some queries are solved at first contact with a
self-help guide): how well an article answers a ticket, and the ranked, de-duplicated
list the `knowledge` step writes for the agent and offers the requester. Pure.

One scale for every source. A platform's own relevance cannot be compared across
platforms (Elasticsearch scores for Zammad, Confluence's for JSM, none for the
catalog's self-help links), so every article is scored here, from its title and
excerpt against the ticket's text:

    score = ½ · share of the ticket's terms the article's title and excerpt contain
          + ½ · share of the article title's terms the ticket contains

The first half is how much of the question the article speaks to; the second keeps a
narrow article about exactly this above a long one that mentions everything. Terms are
words for Latin text and character pairs (bigrams) for Chinese, which has no spaces:
"打印机卡纸" gives 打印 印机 机卡 卡纸, so "打印机" in a title still meets it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from ..classifiers.rules import normalise
from ..models import KnowledgeArticle, Ticket

STREAMS_FOR_REQUESTER = ("service_request", "consultation")
QUERY_BODY_CHARS = 80        # the title carries the topic; a long body only thins the query out
_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[a-z0-9]+(?:['.][a-z0-9]+)*")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Words that say nothing about the topic, in either language (a bigram for Chinese).
_STOP_WORDS = """a an and are as at be but by can cannot could do does for from has have how i i'm
    if in into is it its me my no not of on or our please so that the this to was we what when
    where which who why will with you your hi hello thanks thank
    您好 你好 请问 谢谢 麻烦 一下 我们 你们 无法 不能 怎么 如何 可以 什么 问题"""
_STOP = frozenset(_STOP_WORDS.split())


def terms(text: str) -> frozenset[str]:
    """Words (Latin, digits) and character bigrams (Chinese) of a text, lower-cased
    and width-folded (classifiers.rules.normalise), without the commonest words."""
    out: set[str] = set()
    for run in _RUN.findall(normalise(text or "")):
        if _CJK.match(run):
            out.update([run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)])
        elif len(run) > 1 or run.isdigit():
            out.add(run)
    return frozenset(out - _STOP)


def keywords(text: str, limit: int = 10) -> list[str]:
    """The distinct words and Chinese runs of a text, in order: what a platform's search
    is asked for (its own analyser splits Chinese again)."""
    seen: list[str] = []
    for run in _RUN.findall(normalise(text or "")):
        if run not in seen and run not in _STOP and (len(run) > 1 or _CJK.match(run)):
            seen.append(run)
    return seen[:limit]


def score(query: str, title: str, excerpt: str = "") -> float:
    """0..1: how well an article (title, excerpt) answers the query (module docstring)."""
    q, t = terms(query), terms(title)
    if not q or not t:
        return 0.0
    covered = len(q & (t | terms(excerpt))) / len(q)
    return round(0.5 * covered + 0.5 * len(t & q) / len(t), 3)


def query_of(ticket: Ticket) -> str:
    """What the knowledge base is searched with: the title and the start of the body."""
    body = " ".join((ticket.body or "").split())[:QUERY_BODY_CHARS]
    return f"{ticket.title or ''} {body}".strip()


def _key(url: str) -> str:
    return url.strip().rstrip("/").lower()


def suggestions(query: str, platform_articles: Iterable[KnowledgeArticle],
                self_help: Iterable[Mapping[str, Any]], max_results: int) -> list[KnowledgeArticle]:
    """The best `max_results` of the platform's matches and the catalog's self-help links,
    scored on one scale, best first, one per link (the higher score kept).

    A platform match that shares no term with the ticket is dropped: its search matched
    on something we cannot show the agent. The catalog's links stay whatever their score:
    an admin chose them for this catalog item."""
    scored = [replace(a, score=score(query, a.title, a.excerpt)) for a in platform_articles if a.url]
    scored = [a for a in scored if a.score > 0]
    for link in self_help:
        title, url = str(link.get("title") or "").strip(), str(link.get("url") or "").strip()
        if title and url:
            scored.append(KnowledgeArticle(title, url, "catalog", score=score(query, title)))
    best: dict[str, KnowledgeArticle] = {}
    for a in scored:
        kept = best.get(_key(a.url))
        if kept is None or a.score > kept.score:
            best[_key(a.url)] = a
    ranked = sorted(best.values(), key=lambda a: (-a.score, a.source == "catalog", a.title))
    return ranked[:max_results]


def strong(ranked: Iterable[KnowledgeArticle], value_stream: str | None, threshold: float) -> list[KnowledgeArticle]:
    """The matches good enough to offer the requester: only for a service request or a
    consultation (an incident needs an engineer, whatever a guide says)."""
    if value_stream not in STREAMS_FOR_REQUESTER:
        return []
    return [a for a in ranked if a.score >= threshold]


def offered(found: Mapping[str, Any]) -> list[dict[str, str]]:
    """The `knowledge` step's strong matches as the acknowledgement's template field
    (`found`: earlier steps' findings by name; the step may not be in the pipeline)."""
    step = found.get("knowledge")
    facts = getattr(step, "facts", None) or {}
    return [{"title": str(a["title"]), "url": str(a["url"])} for a in facts.get("strong") or ()
            if isinstance(a, Mapping) and a.get("title") and a.get("url")]
