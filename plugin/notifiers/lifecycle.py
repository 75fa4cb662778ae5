"""Which notices a delivery calls for (901.3: a notice for every step of the ticket's
life): the acknowledgement of a new ticket, its routing, a state it entered
(waiting for the requester, resolved, closed with the survey, any other), and a
major event. Pure: what changed is read from the ticket and the ledger's view.

Each notice has an outbox event, so it is said at most once per ticket, event and
audience. Entering a state again after leaving it starts a new round
("resolved", "resolved.2", ...): a reopened ticket resolved again is asked again.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..models import StepContext, Ticket
from ..tracking.knowledge import offered
from . import survey
from .commitment import commitment
from .config import Communication
from .context import state_name

ASKING = ("waiting", "resolved")       # notices that ask the requester to confirm (901.5)


Fields = Callable[[str], Mapping[str, Any]]


def _none(_language: str) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Notice:
    name: str                                   # the template's notice
    event: str                                  # the outbox event: once per ticket and audience
    audiences: tuple[str, ...]
    fields: Fields = _none                      # the notice's own template fields, by language
    data: Mapping[str, Any] = field(default_factory=dict)  # kept with the intent (follow-ups read it)
    channel: str | None = None                  # a set channel (follow-ups, notes on the ticket)


def notices(ticket: Ticket, ctx: StepContext, comm: Communication, facts: Mapping[str, Any],
            now: datetime) -> list[Notice]:
    out: list[Notice] = []
    kind = comm.state_kind(ticket.state)
    if comm.acknowledgement and ticket.event == "create" and kind != "closed":
        out.append(Notice("ack", "ack", ("requester",), ack_fields(ticket.created_at or now, facts,
                                                                   ctx.settings, comm, offered(ctx.found))))
    if facts.get("value_stream") and facts.get("first", True) is not False:
        out.append(Notice("routed", "routed", comm.audiences.get("routed", ())))
    entered = _entered(ticket, ctx)
    # A requester is not told of a change their own message made (a reply reopens a ticket).
    theirs = kind == "open" and ticket.article_sender == "Customer" and not ticket.article_internal
    if entered is not None and not theirs:
        out.append(_state_notice(ticket, ctx, comm, kind, entered, now))
    if facts.get("major_event"):
        out.append(Notice("major_event", "major_event", comm.audiences.get("major_event", ()),
                          major_fields(facts)))
    return [n for n in out if n.audiences]


# -- each notice's own template fields, by language (the samples of `templates check` use them too)

def ack_fields(start: datetime, facts: Mapping[str, Any], settings: Any, comm: Communication,
               knowledge: Sequence[Mapping[str, str]] = ()) -> Fields:
    """`knowledge`: self-help guides ({title, url}) strong enough to offer the requester
    (the `knowledge` step's `strong`); always a list, empty when there are none."""
    return lambda lang: {"commitment": commitment(start, facts, settings, comm, lang),
                         "knowledge": [dict(k) for k in knowledge]}


def status_fields(old: str, new: str) -> Fields:
    return lambda lang: {"status": {"old": state_name(old, lang), "new": state_name(new, lang)}}


def survey_fields(settings: Any, comm: Communication, platform: str, ticket_id: str, now: datetime) -> Fields:
    secret = getattr(settings, "survey_secret", None)
    base = comm.survey_base_url or getattr(settings, "public_url", None)

    def fields(lang: str) -> Mapping[str, Any]:
        links = survey.links(base, secret, platform, ticket_id, lang, now) \
            if comm.survey_enabled and secret and base else []
        return {"survey": {"links": links, "days": comm.survey_days}}
    return fields


def major_fields(facts: Mapping[str, Any]) -> Fields:
    why = ", ".join(facts.get("major_event_words") or []) or \
        f"{facts.get('similar_recent')} similar tickets in the window"
    # `category` top-level: inline overrides written for release 0.1 name it so.
    return lambda lang: {"why": why, "category": str(facts.get("category_path") or "")}


def _entered(ticket: Ticket, ctx: StepContext) -> str | None:
    """The state the ticket was in when last seen, if it has left it since."""
    before = (ctx.ledger.known or {}).get("state")
    if not before or not ticket.state or before.strip().lower() == ticket.state.strip().lower():
        return None
    return before


def _state_notice(ticket: Ticket, ctx: StepContext, comm: Communication, kind: str, before: str,
                  now: datetime) -> Notice:
    if kind in ASKING:
        asks = {"asks": True, "at": now.isoformat(), "state": ticket.state}
        return Notice(kind, round_event(kind, ctx.ledger.messages), comm.audiences.get(kind, ()), data=asks)
    if kind == "closed":
        return Notice("survey", "survey", comm.audiences.get("survey", ()),
                      survey_fields(ctx.settings, comm, ticket.platform, ticket.id, now))
    return Notice("status", f"status.{slug(ticket.state)}", comm.audiences.get("status", ()),
                  status_fields(before, ticket.state))


def round_event(base: str, messages: tuple[Mapping[str, Any], ...]) -> str:
    """`base` the first time, `base.N` when the ticket enters the state the N-th time."""
    rounds = {m["event"] for m in messages if m["event"] == base or re.fullmatch(rf"{base}\.\d+", m["event"])}
    return base if not rounds else f"{base}.{len(rounds) + 1}"


def slug(state: str) -> str:
    return re.sub(r"\s+", "-", state.strip().lower())[:40] or "state"
