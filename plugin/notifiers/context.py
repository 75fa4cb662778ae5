"""What a template can say: the fields every notice has (ticket, requester, desk,
how to reply) and the ones a notice adds. Plain dicts of text, so a template sees
only these names and StrictUndefined catches any other.

A field is "" when the ticket does not know it (a Jira portal user has no e-mail in
the webhook); `templates check` fails a template that prints such a field bare.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..models import Ticket
from .config import Communication

PRIORITY_NAMES = {"P1": ("低", "low"), "P2": ("普通", "normal"), "P3": ("高", "high"), "P4": ("紧急", "urgent")}
VOTES = {1: ("满意", "Satisfied"), 2: ("一般", "Neutral"), 3: ("不满意", "Dissatisfied")}
# Zammad's seeded states as a requester reads them; other names (JSM's) are shown as they are.
STATE_NAMES = {"new": ("新建", "new"), "open": ("处理中", "open"), "pending reminder": ("等待您答复", "waiting for you"),
               "pending close": ("已解决，待关闭", "resolved"), "closed": ("已关闭", "closed")}


def label(pair: tuple[str, str], language: str) -> str:
    return pair[0] if language == "zh-CN" else pair[1]


def reference(ticket: Ticket) -> str:
    """What threads a mail reply into the ticket: Zammad's ticket hook, or the issue key."""
    return f"[Ticket#{ticket.number}]" if ticket.platform == "zammad" else f"[{ticket.number}]"


def ticket_url(ticket: Ticket, settings: Any) -> str:
    """The agent's link to the ticket ("" when the platform URL is not configured)."""
    return link(ticket.platform, ticket.id, ticket.number, settings)


def link(platform: str, ticket_id: str, number: str, settings: Any) -> str:
    """The agent's link from a ledger row's fields: Zammad by id, Jira by issue key."""
    base = (getattr(settings, f"{platform}_url", None) or "").rstrip("/")
    if not base:
        return ""
    return f"{base}/#ticket/zoom/{ticket_id}" if platform == "zammad" else f"{base}/browse/{number}"


def category(facts: Mapping[str, Any], settings: Any, language: str) -> str:
    """The catalog path in the notice's language; "" while the ticket waits for triage."""
    item_id = facts.get("category")
    catalog = getattr(getattr(settings, "classification", None), "catalog", None) or ()
    item = next((i for i in catalog if i.id == item_id), None)
    return item.path(language) if item else str(facts.get("category_path") or "")


def ticket_info(ticket: Ticket, settings: Any, language: str, facts: Mapping[str, Any]) -> dict[str, Any]:
    priority = str(facts.get("priority") or "")
    names = PRIORITY_NAMES.get(priority)
    return {"number": ticket.number, "title": ticket.title.strip(), "platform": ticket.platform,
            "reference": reference(ticket), "state": ticket.state,
            "priority": f"{priority} {label(names, language)}" if names else priority,
            "category": category(facts, settings, language), "group": str(facts.get("group") or ""),
            "channel": ticket.channel or "", "url": ticket_url(ticket, settings),
            "requester": requester_info(ticket)}


def requester_info(ticket: Ticket) -> dict[str, str]:
    r = ticket.requester
    return {"name": r.name.strip() or (r.email.split("@")[0] if r.email else ""), "email": r.email,
            "organization": r.organization or ""}


def reply_info(ticket: Ticket, channel: str, comm: Communication) -> dict[str, str]:
    """How the requester answers this message so the answer lands in the ticket (901.5:
    never "do not reply"). `kind`: email (replying to this mail threads into the
    ticket), ticket (a reply on the ticket: the portal or the platform's mail), chat."""
    if channel == "ticket":
        kind = "email" if ticket.platform == "zammad" and ticket.channel == "email" else "ticket"
    elif channel == "email":
        kind = "email" if comm.reply_to else "ticket"
    else:
        kind = "chat"
    return {"kind": kind, "mailbox": comm.reply_to or "", "portal": comm.portal_url or ""}


def base(ticket: Ticket, settings: Any, comm: Communication, language: str, channel: str,
         facts: Mapping[str, Any]) -> dict[str, Any]:
    """The fields every notice has."""
    info = ticket_info(ticket, settings, language, facts)
    return {"ticket": info, "requester": info["requester"], "desk": {"name": comm.desk(language)},
            "reply": reply_info(ticket, channel, comm), "lang": language}


def vote_info(vote: Mapping[str, Any], language: str) -> dict[str, Any]:
    code = int(vote["code"])
    return {"code": code, "label": label(VOTES[code], language), "comment": str(vote.get("comment") or "")}


def state_name(state: str, language: str) -> str:
    names = STATE_NAMES.get((state or "").strip().lower())
    return label(names, language) if names else state
