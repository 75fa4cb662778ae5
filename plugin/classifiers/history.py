"""Training data from the desk's own history: `desk-enricher train --from zammad|jira`.

Closed tickets with their final category: where an agent corrected the plugin, the
ticket carries the agent's category, so corrections feed the next training. Labels
are catalog item ids (what the classification step maps a model's labels to).
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ..hooks import ADAPTERS
from ..text import html_to_text
from . import training
from .items import find_item

MAX_PAGES = 50


def _settings():
    from ..settings import load_settings
    return load_settings()


def _label(settings: Any, value: Any) -> str | None:
    item = find_item(settings.classification.catalog, value)
    return item.id if item else None


def _when(value: Any) -> datetime | None:
    """When the ticket was decided (closed or last updated): retraining holds out the newest."""
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def zammad_history() -> Iterator[tuple[str, str, datetime | None]]:
    settings = _settings()
    client = ADAPTERS["zammad"](settings).client()
    for page in range(1, MAX_PAGES + 1):
        data = client.search_tickets("state.name:closed AND enrich_category:*", page=page)
        ids = data.get("tickets") or []
        for tid in ids:
            ticket = ((data.get("assets") or {}).get("Ticket") or {}).get(str(tid), {})
            label = _label(settings, ticket.get("enrich_category"))
            if label:
                yield (_zammad_text(client.ticket_all(str(tid))), label,
                       _when(ticket.get("close_at") or ticket.get("updated_at")))
        if len(ids) < 100:
            return


def _zammad_text(data: dict) -> str:
    assets = data.get("assets") or {}
    ticket = (assets.get("Ticket") or {}).get(str(data.get("ticket_id"))) or {}
    articles = sorted((assets.get("TicketArticle") or {}).values(), key=lambda a: a.get("id", 0))
    first = next((a for a in articles if a.get("subject") != "desk-enricher"), {})
    body = first.get("body") or ""
    if str(first.get("content_type", "")).startswith("text/html"):
        body = html_to_text(body)
    return f"{ticket.get('title', '')}\n{body}".strip()


def jira_history() -> Iterator[tuple[str, str, datetime | None]]:
    settings = _settings()
    client = ADAPTERS["jira"](settings).client()
    field = (client.own_fields().get("enrich_category") or {}).get("id")
    if not field:
        return
    for issue in client.search("statusCategory = Done ORDER BY updated DESC",
                               f"summary,description,updated,{field}", max_pages=MAX_PAGES):
        fields = issue.get("fields") or {}
        label = _label(settings, fields.get(field))
        if label:
            description = fields.get("description")
            text = description if isinstance(description, str) else ""
            yield f"{fields.get('summary', '')}\n{text}".strip(), label, _when(fields.get("updated"))


training.register_history_source("zammad", zammad_history)
training.register_history_source("jira", jira_history)
