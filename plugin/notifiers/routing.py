"""Who is told where, in which language (901.1, 901.2).

The requester: their stated preference (`communication.channels.requesters`, by
e-mail or user id), else the default of their item's service level, else the
channel the ticket came in on; a channel with nothing configured to carry it is
passed over, and the ticket itself (a public reply) always works. The remaining
channels, in that order, are where follow-ups go next. Staff, the manager,
stakeholders and a major event's owner each have an Apprise setting of their own.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..models import Ticket
from .config import LANGUAGES, REQUESTER_CHANNELS, Communication

CHAT = ("feishu", "lark", "dingtalk", "wecom", "slack")
AUDIENCE_TARGETS = {"staff": "notify_staff", "manager": "notify_manager",
                    "stakeholders": "notify_stakeholders", "owner": "notify_major_event"}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]{2,}")
MAILABLE = re.compile(r"^[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"']+$")   # one plain address, nothing more


def preference(ticket: Ticket, comm: Communication) -> Mapping[str, Any]:
    r = ticket.requester
    for key in (r.email, r.login, r.id):
        if key and key.lower() in comm.preferences:
            return comm.preferences[key.lower()]
    return {}


def language_for(ticket: Ticket, comm: Communication, settings: Any) -> str:
    """The requester's stated language, else the one they wrote in, else the desk's."""
    stated = preference(ticket, comm).get("language")
    if stated:
        return stated
    text = ticket.text
    if _CJK.search(text):
        return "zh-CN"
    if _LATIN.search(text):
        return "en"
    desk = getattr(settings, "language", "zh-CN")
    return desk if desk in LANGUAGES else "zh-CN"


def desk_language(settings: Any) -> str:
    desk = getattr(settings, "language", "zh-CN")
    return desk if desk in LANGUAGES else "zh-CN"


def target_for(channel: str) -> str:
    return "" if channel == "ticket" else f"notify_{channel}"


def available(channel: str, ticket: Ticket, settings: Any) -> bool:
    if channel == "ticket":
        return True
    if channel == "email" and not MAILABLE.match(ticket.requester.email or ""):
        return False
    return channel in REQUESTER_CHANNELS and bool(getattr(settings, target_for(channel), None))


def came_in_on(ticket: Ticket) -> str:
    """A ticket from a chat channel is answered there; e-mail, web, portal and phone
    tickets on the ticket itself (the platform mails the requester or shows it)."""
    channel = (ticket.channel or "").lower()
    return channel if channel in CHAT else "ticket"


def requester_channels(ticket: Ticket, comm: Communication, settings: Any, level: str | None) -> list[str]:
    """The requester's channels, best first: the first is used, the rest are for follow-ups."""
    wanted = [preference(ticket, comm).get("channel"), comm.level_channels.get(level or ""),
              came_in_on(ticket), "ticket", "email", *CHAT]
    out: list[str] = []
    for channel in wanted:
        if channel and channel not in out and available(channel, ticket, settings):
            out.append(channel)
    return out


def audience_target(audience: str, settings: Any) -> str | None:
    """The Apprise setting of an audience other than the requester, if it is configured."""
    name = AUDIENCE_TARGETS.get(audience)
    return name if name and getattr(settings, name, None) else None
