"""Zammad's ticket history and articles as a timeline (see plugin/timeline.py)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .models import Timeline
from .timeline_core import Events, Phase, initial_state, records, text_id, utc

# Zammad: state name -> category; custom states are named by their state type (an admin
# can pass {"awaiting parts": "pending"}). Seed ids (REFERENCE §3.5) for records that
# carry only `state_id`/`sender_id`, as the `?all=true` assets do.
ZAMMAD_STATES = {"new": "new", "open": "open", "pending reminder": "pending",
                 "pending close": "pending", "closed": "closed", "merged": "merged",
                 "removed": "removed"}
ZAMMAD_STATE_IDS = {1: "new", 2: "open", 3: "pending reminder", 4: "closed", 5: "merged",
                    6: "removed", 7: "pending close"}
ZAMMAD_SENDERS = {1: "Agent", 2: "Customer", 3: "System"}
ZAMMAD_KPI = ("first_response_at", "first_response_escalation_at", "first_response_in_min",
              "first_response_diff_in_min", "update_escalation_at", "update_in_min",
              "update_diff_in_min", "close_at", "close_escalation_at", "close_in_min",
              "close_diff_in_min", "last_close_at", "escalation_at", "last_contact_at",
              "last_contact_agent_at", "last_contact_customer_at", "pending_time")


def zammad_timeline(raw_all: Any, history: Any, *, states: Mapping[str, str] | None = None,
                    bot_id: str | int | None = None) -> Timeline:
    """`raw_all`: the `?all=true` answer; `history`: the ticket_history answer (or its list);
    `states`: state name -> category (new, open, pending, closed, merged, removed) for the
    site's own states, over ZAMMAD_STATES."""
    out = Events()
    raw = raw_all if isinstance(raw_all, Mapping) else {}
    ticket = _zammad_ticket(raw)
    entries = history.get("history") if isinstance(history, Mapping) else history
    if not ticket or not isinstance(entries, list) or len(records(entries)) != len(entries):
        out.complete = False
    names = {str(k).lower(): str(v).lower() for k, v in {**ZAMMAD_STATES, **(states or {})}.items()}
    for entry in records(entries):
        _zammad_state_entry(out, entry, names)
    articles = records(list(_assets(raw, "TicketArticle").values()))
    bot = text_id(bot_id)
    for article in articles:
        _zammad_reply(out, article, bot)
    if not articles and ticket.get("first_response_at"):
        # Articles not readable: Zammad's own first-response column still says when.
        out.add(utc(ticket["first_response_at"]), "reply", public=True)
    current = ticket.get("state") or ZAMMAD_STATE_IDS.get(ticket.get("state_id"))
    out.add(utc(ticket.get("created_at") or _zammad_created_at(entries)), "created",
            text_id(ticket.get("created_by_id")), initial_state(out.events, text_id(current)))
    return out.timeline(*zammad_sla(ticket))


def _assets(raw: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    assets = raw.get("assets")
    found = assets.get(kind) if isinstance(assets, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def _zammad_ticket(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    tickets = _assets(raw, "Ticket")
    found = tickets.get(str(raw.get("ticket_id")))
    if not isinstance(found, Mapping) and len(tickets) == 1:
        found = next(iter(tickets.values()))
    return found if isinstance(found, Mapping) else {}


def _zammad_created_at(entries: Any) -> Any:
    return next((e.get("created_at") for e in records(entries)
                 if e.get("type") == "created" and e.get("object") == "Ticket"), None)


def _zammad_phase(name: str | None, states: Mapping[str, str]) -> Phase:
    if not name:
        return Phase()
    low = name.strip().lower()
    kind = states.get(low) or ("pending" if low.startswith("pending") else "open")
    if kind.startswith("pending"):
        return Phase(pending=True)
    if kind == "closed":
        return Phase(done=True, solved=True, closed=True)
    if kind in ("merged", "removed"):
        return Phase(done=True, closed=True)
    return Phase()


def _zammad_state_entry(out: Events, entry: Mapping[str, Any], states: Mapping[str, str]) -> None:
    if (entry.get("object"), entry.get("type"), entry.get("attribute")) != ("Ticket", "updated", "state"):
        return
    old, new = text_id(entry.get("value_from")), text_id(entry.get("value_to"))
    out.change(utc(entry.get("created_at")), text_id(entry.get("created_by_id")), old, new,
               _zammad_phase(old, states), _zammad_phase(new, states))


def _zammad_reply(out: Events, article: Mapping[str, Any], bot: str | None) -> None:
    sender = article.get("sender") or ZAMMAD_SENDERS.get(article.get("sender_id"))
    author = text_id(article.get("created_by_id"))
    # `internal` must say false: Zammad always sends it, and a guess could leak a note.
    if sender != "Agent" or article.get("internal") not in (False,) or (bot and author == bot):
        return
    out.add(utc(article.get("created_at")), "reply", author, public=True)


def zammad_sla(ticket: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """Zammad's KPI columns, times as UTC; (facts, every present value was readable)."""
    facts: dict[str, Any] = {}
    ok = True
    for key in ZAMMAD_KPI:
        value = ticket.get(key)
        if value is None:
            continue
        if key.endswith("_min"):
            read = value if isinstance(value, int) and not isinstance(value, bool) else None
        else:
            read = utc(value)
        if read is None:
            ok = False
        else:
            facts[key] = read
    return facts, ok
