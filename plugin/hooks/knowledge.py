"""Knowledge-base search answers turned into `KnowledgeArticle`s with links an agent (or
the requester) can click, for both platforms' REST clients, and the read the worker
makes for a new ticket when a step asks for it.

A knowledge base is an extra: not set up, not licensed, an older platform without the
API, a timeout, an answer of another shape — every one of them gives no suggestions
and one log line, never a failed delivery.

Zammad (`POST /api/v1/knowledge_bases/search`, KnowledgeBase::SearchController):
`{"result": [{id, type}], "details": [{id, type, url, title, body, subtitle?}]}`; with
the default `url_type` (public) an answer's `url` is its help-center path
(`/help/<locale>/<category>/<answer>`), or a full URL when the knowledge base has a
custom address. Titles and bodies come HTML-escaped (and with `<em>` marks when
highlighting is on).

Jira Service Management (`GET /rest/servicedeskapi/knowledgebase/article`, experimental):
a page `{size, start, limit, isLastPage, values: [{title, excerpt, source: {type:
"confluence", pageId, spaceKey}, content: {iframeSrc}}]}`. The article has no link of
its own: on Cloud the Confluence page is `<site>/wiki/spaces/<spaceKey>/pages/<pageId>`;
elsewhere (Data Center, whose Confluence lives on its own host) the `iframeSrc` the
portal renders it from.
"""
from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urljoin

from ..models import KnowledgeArticle, Ticket
from ..tracking import config as tracking_config
from ..tracking.knowledge import keywords, query_of

log = logging.getLogger("desk_enricher.knowledge")

ANSWER = "KnowledgeBase::Answer::Translation"
_TAG = re.compile(r"<[^>]+>")
_JSM_MARK = re.compile(r"@@@(end)?hl@@@")     # JSM's highlight marks, should highlight be on


def plain(value: Any) -> str:
    """Text from a search answer: tags and highlight marks dropped, entities decoded."""
    text = _JSM_MARK.sub("", _TAG.sub("", str(value or "")))
    return " ".join(html.unescape(text).split())


def safely(platform: str, search: Callable[[], list[KnowledgeArticle]]) -> list[KnowledgeArticle]:
    try:
        return search()
    except Exception as exc:  # noqa: BLE001 - a knowledge base never fails a delivery
        status = getattr(exc, "http_status", None)
        log.info("knowledge_unavailable", extra={"platform": platform, "status": status,
                                                 "error": getattr(exc, "key", type(exc).__name__)})
        return []


# -- Zammad -------------------------------------------------------------------------

def zammad_query(query: str) -> str:
    """The ticket's words as alternatives: Elasticsearch's query_string would otherwise
    want every word of a long text in one answer. Words are letters, digits and Chinese
    only, so none of query_string's syntax (quotes, colons, brackets) reaches it."""
    return " OR ".join(keywords(query))


def zammad_body(query: str, limit: int) -> dict[str, Any]:
    # Published answers only ("public"): they are what a requester can open too.
    return {"query": zammad_query(query), "flavor": "public", "index": ANSWER, "limit": limit,
            "highlight_enabled": False, "include_subtitle": True}


def zammad_articles(data: Any, root: str) -> list[KnowledgeArticle]:
    details = data.get("details") if isinstance(data, Mapping) else None
    out = []
    for d in details if isinstance(details, list) else ():
        if not isinstance(d, Mapping) or d.get("type", ANSWER) != ANSWER:
            continue
        title, url = plain(d.get("title")), str(d.get("url") or "").strip()
        if title and url:
            out.append(KnowledgeArticle(title, urljoin(root + "/", url), "zammad",
                                        excerpt=plain(d.get("body")), id=str(d.get("id") or "")))
    return out


# -- Jira Service Management --------------------------------------------------------

def jira_params(query: str, limit: int) -> dict[str, Any]:
    return {"query": " ".join(query.split())[:200], "highlight": "false", "limit": limit}


def jira_articles(data: Any, site: str, flavor: str) -> list[KnowledgeArticle]:
    values = data.get("values") if isinstance(data, Mapping) else None
    out = []
    for v in values if isinstance(values, list) else ():
        if not isinstance(v, Mapping):
            continue
        source = v.get("source") if isinstance(v.get("source"), Mapping) else {}
        title, url = plain(v.get("title")), _jira_url(v, source, site, flavor)
        if title and url:
            out.append(KnowledgeArticle(title, url, "jira", excerpt=plain(v.get("excerpt")),
                                        id=str(source.get("pageId") or "")))
    return out


def _jira_url(v: Mapping[str, Any], source: Mapping[str, Any], site: str, flavor: str) -> str:
    links = v.get("_links") if isinstance(v.get("_links"), Mapping) else {}
    given = links.get("web") or links.get("webui")
    if isinstance(given, str) and given:
        return urljoin(site + "/", given)
    page, space = source.get("pageId"), source.get("spaceKey")
    if flavor == "cloud" and page and space:
        return f"{site}/wiki/spaces/{space}/pages/{page}"
    content = v.get("content") if isinstance(v.get("content"), Mapping) else {}
    frame = content.get("iframeSrc")
    return urljoin(site + "/", frame) if isinstance(frame, str) and frame else ""


# -- the worker's read ----------------------------------------------------------------

def for_ticket(client: Any, ticket: Ticket, settings: Any) -> tuple[KnowledgeArticle, ...] | None:
    """The platform's matches for a new ticket (None: not read, so the step says so)."""
    cfg = tracking_config.of(settings)
    if not cfg.knowledge_enabled:
        return None
    query = query_of(ticket)
    if not query:
        return ()
    try:
        # Twice the number wanted: the desk's own scoring re-ranks them (tracking.knowledge).
        return tuple(client.search_knowledge(query, 2 * cfg.knowledge_max))
    except Exception as exc:  # noqa: BLE001 - the clients catch platform errors; this is the rest
        log.warning("knowledge_not_read", extra={"ticket": ticket.id, "error": type(exc).__name__})
        return None
