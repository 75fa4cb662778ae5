"""Notices to intents (901.3 package, 901.4 send): for each audience, its language,
channel and target, and the text from its template.

The requester hears on their first channel (plugin.notifiers.routing) in their
language; staff, the manager, stakeholders and a major event's owner on their
Apprise setting in the desk's language, skipped when it is not set (a 不满意 vote
falls back to an internal note, so the desk hears of it anyway). A notice already
said to an audience on this ticket, on any channel, is not said again.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..models import Intent, StepContext, Ticket
from ..tracking import contacts
from ..tracking.config import Contact
from . import context, routing, templates, tracking
from .config import Communication
from .lifecycle import Notice

NOTE_FALLBACK = {"dissatisfied"}     # notices the desk must get even without a chat setting


def intents(ticket: Ticket, ctx: StepContext, comm: Communication, facts: Mapping[str, Any],
            notices: list[Notice], channels: list[str]) -> list[Intent]:
    said = {(m["event"], m["audience"]) for m in ctx.ledger.messages}
    out: list[Intent] = []
    for notice in notices:
        for audience in notice.audiences:
            if (notice.event, audience) in said:
                continue
            intent = _for_requester(ticket, ctx, comm, facts, notice, channels) if audience == "requester" \
                else _for_desk(ticket, ctx, comm, facts, notice, audience)
            if intent is not None:
                out.append(intent)
    return out


def _for_requester(ticket: Ticket, ctx: StepContext, comm: Communication, facts: Mapping[str, Any],
                   notice: Notice, channels: list[str]) -> Intent:
    language = routing.language_for(ticket, comm, ctx.settings)
    channel = notice.channel if notice.channel in channels else (channels or ["ticket"])[0]
    title, body = _render(ticket, ctx, comm, facts, notice, "requester", language, channel)
    data = {**notice.data, "language": language}
    if channel == "email":
        # The reference keeps a reply in the ticket's thread; Reply-To sends it to the desk.
        title = f"{context.reference(ticket)} {title}"
        data.update(to=ticket.requester.email, reply_to=comm.reply_to or "")
    return Intent(event=notice.event, audience="requester", channel=channel, body=body, title=title,
                  public=channel == "ticket", target=routing.target_for(channel), data=data)


def _for_desk(ticket: Ticket, ctx: StepContext, comm: Communication, facts: Mapping[str, Any],
              notice: Notice, audience: str) -> Intent | None:
    person = tracking.lead_of(ticket, ctx, audience)
    if person is not None or audience == "lead":
        return _for_contact(ticket, ctx, comm, facts, notice, audience, person)
    language = routing.desk_language(ctx.settings)
    target = routing.audience_target(audience, ctx.settings)
    on_ticket = notice.channel == "ticket" or (target is None and notice.name in NOTE_FALLBACK)
    if target is None and not on_ticket:
        return None
    channel = "ticket" if on_ticket else "apprise"
    title, body = _render(ticket, ctx, comm, facts, notice, audience, language, channel)
    return Intent(event=notice.event, audience=audience, channel=channel, body=body, title=title,
                  public=False, target="" if on_ticket else target, data=dict(notice.data))


def _for_contact(ticket: Ticket, ctx: StepContext, comm: Communication, facts: Mapping[str, Any],
                 notice: Notice, audience: str, person: Contact | None) -> Intent | None:
    """A person of the contact table (a group's lead, the desk manager), on their channel."""
    route = contacts.route(person, ctx.settings)
    if route is None:
        return None            # no lead for the group, or their channel is not set up: the note still tells
    language = contacts.language(person, ctx.settings)
    title, body = _render(ticket, ctx, comm, facts, notice, audience, language, route.channel)
    data = {**notice.data, **({"to": route.to} if route.to else {})}
    return Intent(event=notice.event, audience=audience, channel=route.channel, body=body, title=title,
                  public=False, target=route.target, data=data)


def _render(ticket: Ticket, ctx: StepContext, comm: Communication, facts: Mapping[str, Any],
            notice: Notice, audience: str, language: str, channel: str) -> tuple[str, str]:
    fields = {**context.base(ticket, ctx.settings, comm, language, channel, facts), **notice.fields(language)}
    return templates.for_settings(ctx.settings).render(notice.name, audience, language, fields)
