"""The Zammad simulator's knowledge base: `POST /api/v1/knowledge_bases/search`
(KnowledgeBase::SearchController, SearchKnowledgeBaseBackend) over answers a test adds.

Modelled: `{"result": [{id, type}], "details": [{id, type, icon, date, url, title, body,
subtitle?}]}` with the translation's id; titles and bodies HTML-escaped as the
controller's `displayable` does, the body cut to 100 characters; `flavor` public shows
published answers, agent internal ones too, drafts never; `locale`, `knowledge_base_id`
and `limit` narrow it; `url_type` public gives the help-center path
`/help/<locale>/<category id>-<slug>/<answer id>-<slug>`, agent the API path.
Matching stands in for Elasticsearch's query_string: alternatives joined by `OR` each
match as a substring of the title or body; without `OR` every word must match (the
backend's AND default). `kb_missing = True` answers like a Zammad without the route.
"""
from __future__ import annotations

import html
import re
from typing import Any

from .zammad_base import SimError, now_iso

ANSWER = "KnowledgeBase::Answer::Translation"


def _slug(text: str) -> str:
    # Rails' parameterize: ASCII letters and digits; a Chinese title leaves nothing.
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))


class KnowledgeBase:
    """ZammadSimulator's knowledge base (a mixin): answers with one translation each."""

    kb_missing = False

    def kb_answers(self) -> list[dict]:
        return self.__dict__.setdefault("kb_answer_list", [])

    def add_kb_answer(self, title: str, body: str, *, locale: str = "zh-cn", category: str = "常见问题",
                      published: bool = True, internal: bool = False, kb_id: int = 1) -> dict:
        """An answer as an editor writes it (published, internal, or a draft when neither)."""
        with self.lock:
            answers = self.kb_answers()
            n = len(answers) + 1
            categories = self.__dict__.setdefault("kb_categories", {})
            answer = {"answer_id": n, "id": 100 + n, "kb_id": kb_id, "locale": locale.lower(),
                      "category_id": categories.setdefault(category, len(categories) + 1),
                      "category": category, "title": title, "body": body, "published": published,
                      "internal": internal, "updated_at": now_iso()}
            answers.append(answer)
            return answer

    def kb_search(self, data: dict) -> dict:
        if self.kb_missing:
            raise SimError(404, "No route matches [POST] /api/v1/knowledge_bases/search")
        query = str(data.get("query") or "").strip()
        index = data.get("index")
        if not query or (index and ANSWER not in (index if isinstance(index, list) else [index])):
            return {"result": [], "details": []}
        found = [(hits, a) for a in self._visible(data) if (hits := _hits(query, a))]
        found.sort(key=lambda ha: (-ha[0], ha[1]["id"]))
        answers = [a for _, a in found][:_limit(data.get("limit"))]
        return {"result": [{"id": a["id"], "type": ANSWER} for a in answers],
                "details": [self._details(a, data) for a in answers]}

    def _visible(self, data: dict) -> list[dict]:
        agent = data.get("flavor") == "agent"
        locale, kb = data.get("locale"), data.get("knowledge_base_id")
        return [a for a in self.kb_answers()
                if (a["published"] or (agent and a["internal"]))
                and (not locale or a["locale"] == str(locale).lower())
                and (kb in (None, "") or str(a["kb_id"]) == str(kb))]

    def _details(self, a: dict, data: dict) -> dict:
        if data.get("url_type") == "agent":
            url = f"/api/v1/knowledge_bases/{a['kb_id']}/answers/{a['answer_id']}?include_contents={a['id']}"
        else:
            url = (f"/help/{a['locale']}/{a['category_id']}-{_slug(a['category'])}"
                   f"/{a['answer_id']}-{_slug(a['title'])}")
        body = a["body"] if len(a["body"]) <= 100 else a["body"][:97] + "..."
        out = {"id": a["id"], "type": ANSWER, "icon": "knowledge-base-answer", "date": a["updated_at"],
               "url": url, "title": html.escape(a["title"]), "body": " ".join(html.escape(body).split())}
        if data.get("include_subtitle"):
            out["subtitle"] = html.escape(a["category"])
        return out


def _hits(query: str, answer: dict) -> int:
    text = f"{answer['title']} {answer['body']}".lower()
    if " OR " in query:
        return sum(1 for alt in query.split(" OR ") if alt.strip() and alt.strip().lower() in text)
    words = query.lower().split()
    return len(words) if all(w in text for w in words) else 0


def _limit(value: Any) -> int | None:
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return None
