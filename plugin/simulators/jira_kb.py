"""The Jira simulator's knowledge base: Confluence pages linked to the service desks, as
Jira Service Management's (experimental) search answers for them:

    GET /rest/servicedeskapi/knowledgebase/article?query=..&highlight=..&start=..&limit=..
    GET /rest/servicedeskapi/servicedesk/{id}/knowledgebase/article?...

A page of `{_expands, size, start, limit, isLastPage, _links, values: [{title, excerpt,
source: {type: "confluence", pageId, spaceKey}, content: {iframeSrc}}]}` (the
developer.atlassian.com reference). `query` and `highlight` are required; highlighting
wraps the matched words in JSM's `@@@hl@@@ … @@@endhl@@@` marks. An article matches
when a word of the query (a character pair, for Chinese) is in its title or body; the
most matches first. `kb_status = 404` (or 403 …) answers every search with that error,
as a site without a linked knowledge base or a Confluence licence would.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from flask import Response, request

from .jira_base import SITE, JiraError

if TYPE_CHECKING:
    from .jira import JiraSimulator

_CJK = re.compile(r"[\u3400-\u9fff]+")


class KnowledgeBase:
    """JiraSimulator's linked knowledge base (a mixin)."""

    kb_status: int | None = None

    def kb_articles(self) -> list[dict]:
        return self.__dict__.setdefault("kb_article_list", [])

    def add_kb_article(self, title: str, body: str, *, space_key: str = "IT",
                       service_desks: tuple[str, ...] = ("1",)) -> dict:
        """A Confluence page in the space linked to these service desks."""
        with self.lock:
            pages = self.kb_articles()
            page = {"pageId": str(8786177 + len(pages)), "spaceKey": space_key, "title": title,
                    "body": body, "service_desks": tuple(service_desks)}
            pages.append(page)
            return page


def _words(query: str) -> list[str]:
    out = []
    for word in query.lower().split():
        runs = _CJK.findall(word)
        out.extend(r[i:i + 2] for r in runs for i in range(max(len(r) - 1, 1)))
        out.extend(w for w in _CJK.sub(" ", word).split() if len(w) > 1)
    return list(dict.fromkeys(out))


def _mark(text: str, words: list[str]) -> str:
    for w in sorted(words, key=len, reverse=True):
        text = re.sub(re.escape(w), lambda m: f"@@@hl@@@{m.group(0)}@@@endhl@@@", text, flags=re.IGNORECASE)
    return text


def _view(page: dict, words: list[str], highlight: bool) -> dict[str, Any]:
    excerpt = page["body"][:150]
    return {"title": _mark(page["title"], words) if highlight else page["title"],
            "excerpt": _mark(excerpt, words) if highlight else excerpt,
            "source": {"type": "confluence", "pageId": page["pageId"], "spaceKey": page["spaceKey"]},
            "content": {"iframeSrc": f"{SITE}/rest/servicedeskapi/knowledgebase/article/view/{page['pageId']}"}}


def kb_search(sim: JiraSimulator, sd_id: str | None = None) -> Response:
    if sim.kb_status:
        raise JiraError(sim.kb_status, ["The knowledge base is not available."])
    query, highlight = request.args.get("query"), request.args.get("highlight")
    if not query or highlight not in ("true", "false"):
        raise JiraError(400, ["The 'query' and 'highlight' parameters are required."])
    pages = sim.kb_articles()
    if sd_id is not None:
        if sd_id not in {"1", *(d for p in pages for d in p["service_desks"])}:   # 1: the seeded desk
            raise JiraError(404, [f"Service Desk with ID {sd_id} does not exist."])
        pages = [p for p in pages if sd_id in p["service_desks"]]
    words = _words(query)
    hits = [(sum(w in f"{p['title']} {p['body']}".lower() for w in words), n, p) for n, p in enumerate(pages)]
    found = [_view(p, words, highlight == "true") for k, _, p in sorted(hits, key=lambda h: (-h[0], h[1])) if k]
    try:
        start, limit = int(request.args.get("start", 0)), int(request.args.get("limit", 50))
    except ValueError:
        raise JiraError(400, ["start and limit must be numbers."]) from None
    page = found[start:start + limit]
    return sim._json({"_expands": [], "size": len(page), "start": start, "limit": limit,
                      "isLastPage": start + limit >= len(found),
                      "_links": {"base": f"{SITE}/rest/servicedeskapi", "context": ""}, "values": page})
