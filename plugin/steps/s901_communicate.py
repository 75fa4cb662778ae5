"""901 communicating with users: what the desk says about this ticket, to whom, on
which channel, as intents (sent once each through the outbox), plus the requester's
satisfaction vote written back to the ticket.

- 901.1 audience and 901.2 channel: plugin.notifiers.routing
- 901.3 package: plugin.notifiers.lifecycle (which notice) and templates
- 901.4 send: the intents; the worker stores them and the dispatcher sends them
- 901.5 confirmations and feedback: plugin.notifiers.followup and .satisfaction

Intents name the setting that holds the channel URLs, never the URLs: they carry
tokens and live in the environment only; the dispatcher resolves them when it sends.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..models import Findings, StepContext, Ticket
from ..notifiers import compose, config, followup, lifecycle, routing, satisfaction, tracking
from ..notifiers.commitment import service_level
from .base import StepSpec

STEP = "communication"


def communicate(ticket: Ticket, ctx: StepContext) -> Findings:
    comm = config.of(ctx.settings)
    classified = ctx.found.get("classification")
    facts: Mapping[str, Any] = classified.facts if classified is not None else {}
    now = ctx.now or datetime.now(UTC)
    channels = routing.requester_channels(ticket, comm, ctx.settings, service_level(facts, ctx.settings))
    notices = lifecycle.notices(ticket, ctx, comm, facts, now)
    tracked = ctx.found.get("tracking")          # the desk following its tickets, when in the pipeline
    if tracked is not None:
        notices += tracking.notices(ticket, ctx, comm, tracked.facts)
    asked_again, timers = followup.due(ticket, ctx, comm, channels, now)
    verdict = satisfaction.verdict(ctx.ledger.survey)
    intents = compose.intents(ticket, ctx, comm, facts, [*notices, *asked_again, *verdict.notices], channels)
    return Findings(STEP, fields=verdict.fields, tags=verdict.tags, remove_tags=verdict.remove,
                    note=verdict.note, intents=tuple(intents), timers=tuple(timers),
                    facts={"intents": [f"{i.event}:{i.audience}:{i.channel}" for i in intents],
                           "channels": channels, **verdict.facts})


SPEC = StepSpec(STEP, communicate, needs=("classification",))
