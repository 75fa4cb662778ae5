"""Zammad REST client: URLs and auth, one short method per call, nothing of the
domain except `current_state` and `apply`, which speak the WritePlan.
See ../shared/platforms/zammad/REFERENCE.md §3."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ..errors import PlatformError
from ..models import NOTE_HEADER, Article, KnowledgeArticle, Link, WritePlan
from ..text import html_to_text, parse_time
from ..timeline import Timeline, zammad_timeline
from . import knowledge
from .base import CurrentState, add_links
from .markup import markers_in, to_html
from .rest import RestClient
from .zammad import ARTICLE_TYPES, payload_from_all

NOTE_SUBJECT = NOTE_HEADER   # the subject of the plugin's articles


class ZammadClient(RestClient):
    platform = "zammad"

    def __init__(self, base_url: str, token: str, **kw: Any):
        super().__init__(base_url.rstrip("/") + "/api/v1",
                         {"Authorization": f"Token token={token}"}, **kw)

    @classmethod
    def from_settings(cls, settings: Any) -> ZammadClient:
        if not settings.zammad_url or not settings.zammad_token:
            raise PlatformError("ENRICHER_ZAMMAD_URL and ENRICHER_ZAMMAD_TOKEN must be set",
                                key="not_configured")
        return cls(settings.zammad_url, settings.zammad_token, timeout=settings.http_timeout,
                   retries=settings.http_retries)

    def error_detail(self, resp) -> str:
        try:
            body = resp.json()
        except ValueError:
            return ""
        text = body.get("error_human") or body.get("error") if isinstance(body, dict) else None
        return f": {text}" if text else ""

    # -- reads ------------------------------------------------------------------
    def me(self) -> dict:
        return self.request("GET", "/users/me")

    def ticket_all(self, ticket_id: str) -> dict:
        return self.request("GET", f"/tickets/{ticket_id}", params={"all": "true"})

    def search_tickets(self, query: str, page: int = 1, per_page: int = 100) -> dict:
        return self.request("GET", "/tickets/search", params={
            "query": query, "page": page, "per_page": per_page, "sort_by": "updated_at",
            "order_by": "asc", "expand": "false"})

    def lookup_names(self, kind: str) -> dict[str, str]:
        """id -> name for ticket_states / ticket_priorities, fetched once per client."""
        cache = self.__dict__.setdefault("_names", {})
        if kind not in cache:
            cache[kind] = {str(r["id"]): r["name"] for r in self.request("GET", f"/{kind}")}
        return cache[kind]

    def updated_since(self, since: datetime, per_page: int = 100, max_pages: int = 50,
                      max_passes: int = 5):
        """(id, updated_at, updated_by_id) of tickets updated at or after `since`.

        While a sweep reads, workers write to the tickets it queued, which moves them to
        the end of the order, so later pages shift and an unseen ticket can slip into a
        page already read. It is still in the range: passes repeat until one finds
        nothing new (usually the second)."""
        stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        seen: set[str] = set()
        for _ in range(max_passes):
            found = 0
            for page in range(1, max_pages + 1):
                data = self.search_tickets(f"updated_at:>={stamp}", page=page, per_page=per_page)
                ids = data.get("tickets") or []
                assets = (data.get("assets") or {}).get("Ticket") or {}
                for tid in (str(i) for i in ids if str(i) not in seen):
                    seen.add(tid)
                    found += 1
                    t = assets.get(tid) or {}
                    yield tid, parse_time(t.get("updated_at")), str(t.get("updated_by_id"))
                if len(ids) < per_page:
                    break
            if not found:
                return

    def webhook_payload(self, ticket_id: str) -> bytes:
        """The default webhook body rebuilt from REST, for tickets whose webhook never came."""
        data = self.ticket_all(ticket_id)
        return json.dumps(payload_from_all(data, self.lookup_names("ticket_states"),
                                           self.lookup_names("ticket_priorities")),
                          separators=(",", ":"), ensure_ascii=False).encode()

    def find_user_id(self, login: str) -> str:
        for user in self.request("GET", "/users/search", params={"query": login}) or []:
            if login.lower() in (str(user.get("login")).lower(), str(user.get("email")).lower()):
                return str(user["id"])
        raise PlatformError(f"no Zammad user with login {login}", key="not_found")

    def search_knowledge(self, query: str, limit: int) -> list[KnowledgeArticle]:
        """Published knowledge-base answers matching `query`, with their help-center links;
        [] (and a log line) when there is no knowledge base or the search fails. A search
        changes nothing, but the POST is not retried: a suggestion is not worth the wait."""
        root = self.base_url.removesuffix("/api/v1")
        return knowledge.safely(self.platform, lambda: knowledge.zammad_articles(self.request(
            "POST", "/knowledge_bases/search", json=knowledge.zammad_body(query, limit), changes=False), root))

    def webhooks(self) -> list:
        return self.request("GET", "/webhooks")

    def triggers(self) -> list:
        return self.request("GET", "/triggers")

    def object_attributes(self) -> list:
        return self.request("GET", "/object_manager_attributes")

    # -- writes -----------------------------------------------------------------
    def update_ticket(self, ticket_id: str, body: dict) -> dict:
        return self.request("PUT", f"/tickets/{ticket_id}", json=body)

    def add_tag(self, ticket_id: str, tag: str) -> None:
        self.request("POST", "/tags/add", json={"object": "Ticket", "o_id": int(ticket_id),
                                                "item": tag}, expect_json=False)

    def remove_tag(self, ticket_id: str, tag: str) -> None:
        self.request("DELETE", "/tags/remove", json={"object": "Ticket", "o_id": int(ticket_id),
                                                     "item": tag}, expect_json=False)

    def create_webhook(self, body: dict) -> dict:
        return self.request("POST", "/webhooks", json=body)

    def update_webhook(self, webhook_id: int, body: dict) -> dict:
        return self.request("PUT", f"/webhooks/{webhook_id}", json=body)

    def create_trigger(self, body: dict) -> dict:
        return self.request("POST", "/triggers", json=body)

    def update_trigger(self, trigger_id: int, body: dict) -> dict:
        return self.request("PUT", f"/triggers/{trigger_id}", json=body)

    def create_object_attribute(self, body: dict) -> dict:
        return self.request("POST", "/object_manager_attributes", json=body)

    def execute_migrations(self) -> None:
        self.request("POST", "/object_manager_attributes_execute_migrations", expect_json=False)

    # -- the plan ---------------------------------------------------------------
    def bot_id(self) -> str:
        return str(self.me()["id"])

    def current_state(self, ticket_id: str) -> CurrentState:
        """One GET: `?all=true` is the only call that returns the ticket and its tags."""
        data = self.ticket_all(ticket_id)
        assets = data.get("assets") or {}
        ticket = (assets.get("Ticket") or {}).get(str(ticket_id)) or {}
        group = (assets.get("Group") or {}).get(str(ticket.get("group_id"))) or {}
        articles = sorted((assets.get("TicketArticle") or {}).values(), key=lambda a: a.get("id", 0))
        notes = tuple(a.get("body") or "" for a in articles if a.get("subject") == NOTE_SUBJECT)
        first = next((a for a in articles if a.get("subject") != NOTE_SUBJECT), None)
        markers = markers_in(a.get("body") for a in articles)
        return CurrentState(markers=markers,
            fields={k: v for k, v in ticket.items() if k.startswith("enrich_")},
            tags=tuple(data.get("tags") or ()), group=group.get("name"),
            updated_by_id=str(ticket.get("updated_by_id")) if ticket else None, notes=notes,
            description=_article_text(first) if first else None, raw=data,
            links=frozenset(str(x.get("link_object_value")) for x in data.get("links") or ()
                            if isinstance(x, dict) and x.get("link_object") == "Ticket"))

    def apply(self, plan: WritePlan, current: CurrentState | None = None) -> list[str]:
        """Fields and the internal note in one PUT; one call per tag change; one per
        article (public replies), one per link. Returns what it had to leave out (links
        Zammad refused)."""
        body: dict[str, Any] = {k: _wire(v) for k, v in plan.fields.items()}
        if plan.note:
            # internal is explicit: Zammad's default for a note is public.
            body["article"] = {"type": "note", "internal": True, "content_type": "text/plain",
                               "subject": NOTE_SUBJECT, "body": plan.note}
        if body:
            self.update_ticket(plan.ticket_id, body)
        for tag in plan.add_tags:
            self.add_tag(plan.ticket_id, tag)
        for tag in plan.remove_tags:
            self.remove_tag(plan.ticket_id, tag)
        for article in plan.articles:
            self.post_article(plan.ticket_id, article, current)
        return add_links(self.add_link, plan.ticket_id, plan.links)

    def add_link(self, ticket_id: str, link: Link) -> None:
        """`POST /links/add`: the source is named by its ticket NUMBER, the target by id
        (links_controller.rb). "normal" is Zammad's symmetric link type."""
        self.request("POST", "/links/add", json={
            "link_type": "normal", "link_object_source": "Ticket",
            "link_object_source_number": link.other_number,
            "link_object_target": "Ticket", "link_object_target_value": int(ticket_id)})

    def post_article(self, ticket_id: str, article: Article, current: CurrentState | None) -> dict:
        """A note, or a public reply of the ticket's channel type: an e-mail to the
        requester for e-mail tickets (Zammad sends it), else a web reply. The text is
        escaped into HTML and ends with the intent's marker, so a retry finds it.

        A public reply is sent as `System`, as Zammad's own trigger auto-replies are: only
        an Agent's public article sets `first_response_at`, so the plugin's acknowledgement
        does not meet the desk's first-response SLA for it. Zammad still mails it (only a
        Customer sender is not communicated)."""
        body = {"ticket_id": int(ticket_id), "internal": not article.public, "content_type": "text/html",
                "subject": article.title or NOTE_SUBJECT,
                "body": to_html(article.body) + f"<p><small>Ref {article.marker}</small></p>"}
        if not article.public:
            body["type"] = "note"
        else:
            body.update(_reply_kind(ticket_id, current), sender="System")
        return self.request("POST", "/ticket_articles", json=body)

    # -- history ----------------------------------------------------------------
    def ticket_history(self, ticket_id: str) -> dict:
        """`{"history": [...], "assets": {...}}`, oldest first (Ticket#history_get)."""
        return self.request("GET", f"/ticket_history/{ticket_id}")

    def timeline(self, ticket_id: str, current: CurrentState, *, bot_id: str | None = None,
                 states: dict[str, str] | None = None) -> Timeline:
        """The ticket's timeline for a step that asks for it: `current.raw` (the `?all=true`
        answer current_state read: KPI columns, articles) plus one call, the history.
        Pass `bot_id` to stay at one: else the bot is looked up once per client. Only a
        `current` without its raw record costs a second GET."""
        raw = current.raw if current.raw else self.ticket_all(ticket_id)
        bot = bot_id if bot_id is not None else self._bot_once()
        return zammad_timeline(raw, self.ticket_history(ticket_id), states=states, bot_id=bot)

    def _bot_once(self) -> str:
        if "_bot" not in self.__dict__:
            self.__dict__["_bot"] = self.bot_id()
        return self.__dict__["_bot"]


def _reply_kind(ticket_id: str, current: CurrentState | None) -> dict[str, Any]:
    assets = ((current.raw if current is not None else None) or {}).get("assets") or {}
    ticket = (assets.get("Ticket") or {}).get(str(ticket_id)) or {}
    customer = (assets.get("User") or {}).get(str(ticket.get("customer_id"))) or {}
    kind = ticket.get("create_article_type") or ARTICLE_TYPES.get(ticket.get("create_article_type_id"))
    if kind == "email" and customer.get("email"):
        return {"type": "email", "to": customer["email"]}
    return {"type": "web"}


def _article_text(article: dict) -> str:
    body = article.get("body") or ""
    return html_to_text(body) if str(article.get("content_type", "")).startswith("text/html") else body


def _wire(value: Any) -> Any:
    # Zammad object attributes have no float type: a confidence goes as text.
    return str(value) if isinstance(value, float) else value
