"""Where a person of the contact table hears (a group's lead, the desk manager): by
e-mail at their address through ENRICHER_NOTIFY_EMAIL, on a chat bot's setting
(ENRICHER_NOTIFY_FEISHU ...), or as an internal note on the ticket. Pure: the
outbox's dispatcher resolves the setting to URLs when it sends."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .config import Contact


@dataclass(frozen=True)
class Route:
    channel: str            # models.CHANNELS: "email", "feishu", ... or "ticket"
    target: str             # the Apprise setting's name ("notify_email"); "" on the ticket
    to: str | None = None   # the address, for e-mail


def route(contact: Contact | None, settings: Any) -> Route | None:
    """The contact's route, or None when nothing is configured to carry it (a chat
    channel whose setting is not set, e-mail without ENRICHER_NOTIFY_EMAIL)."""
    if contact is None:
        return None
    if contact.channel == "ticket":
        return Route("ticket", "")
    target = f"notify_{contact.channel}"
    if not getattr(settings, target, None):
        return None
    if contact.channel == "email":
        return Route("email", target, contact.email) if contact.email else None
    return Route(contact.channel, target)


def language(contact: Contact | None, settings: Any) -> str:
    desk = getattr(settings, "language", "zh-CN")
    return (contact.language if contact else None) or (desk if desk in ("zh-CN", "en") else "zh-CN")
