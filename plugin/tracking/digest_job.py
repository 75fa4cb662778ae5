"""The daily digest as a durable timer (kind `digest`, key `digest`): its I/O.

At `tracking.digest.at` in the desk's time zone on each working day of the desk
calendar (China's holidays and 调休 make-up days included), the job reads the open
tickets' ledger rows, composes one digest per lead (plugin.tracking.digest), renders
`digest.lead.j2` in the contact's language and stores the messages in the outbox in
one transaction; the scheduler's dispatcher sends them. Each message's key names the
group and the desk's date (`desk:digest:<group>:digest.<YYYY-MM-DD>:<audience>:<channel>`),
so a second firing that day (a worker killed mid-job, the timer run again) stores
nothing new and sends nothing twice.

Not sent: on a day that is not a working day; before the digest time (a timer moved
or fired early); to a lead whose channel is `ticket` (a digest belongs to no ticket) or
whose channel setting is not set. A day the holiday data does not cover sends nothing
and is logged each day until calendar.days lists it.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select

from .. import outbox, timers, workcal
from ..models import Intent
from ..notifiers import config as comm_config
from ..notifiers import templates
from ..store import aware
from ..tables import ticket_facts
from ..workcal import CalendarError
from . import config, contacts
from .digest import Digest, compose, is_due, next_due
from .digest_text import fields

log = logging.getLogger("desk_enricher.digest")

KIND = "digest"
PLATFORM = "desk"          # the outbox's platform for messages about no single ticket
COLUMNS = ("platform", "ticket_id", "number", "title", "created_at", "updated_at", "first_seen_at",
           "last_seen_at", "state", "group_name", "priority", "sla_breached", "sla_at_risk",
           "response_breached", "stale_level")


def wanted(settings: Any) -> bool:
    tr = config.of(settings)
    return tr.digest_enabled and bool(tr.contacts or tr.manager)


def ensure(ledger: Any, settings: Any, now: datetime) -> None:
    """At worker start: the timer set at the next digest time, or cancelled when the digest
    is off or nobody is in the contact table. A broken template stops the start here."""
    if not wanted(settings):
        timers.cancel(ledger, KIND)
        return
    templates.notice(KIND, settings)
    due = next_due(now, workcal.of(settings), config.of(settings).digest_at)
    if not timers.schedule(ledger, KIND, KIND, due, reset=True):
        timers.bring_forward(ledger, KIND, due)       # an earlier digest time; a missed one fires as it is


def run(settings: Any, ledger: Any, now: datetime) -> datetime | None:
    """The timer's handler: send today's digests if they are due; the next time."""
    if not wanted(settings):
        return None
    calendar, at = workcal.of(settings), config.of(settings).digest_at
    try:
        due = is_due(now, calendar, at)
    except CalendarError as exc:
        log.error("digest_calendar_not_covered", extra={"error": exc.message})
        due = False
    if due:
        send(settings, ledger, now)
    return next_due(now, calendar, at)


def send(settings: Any, ledger: Any, now: datetime) -> int:
    """Compose, render and store today's digests in one transaction. Returns how many."""
    day = now.astimezone(workcal.of(settings).zone).date()
    rows = open_rows(ledger, settings)
    digests = compose(rows, now, settings)
    messages = [m for m in (message(d, settings, day) for d in digests) if m is not None]
    with ledger.transaction() as conn:
        for ticket_id, intent in messages:
            outbox.add(conn, PLATFORM, ticket_id, [intent], now, shadow=getattr(settings, "mode", "") == "shadow")
    counted = sum(d.open for d in digests)
    log.info("digest", extra={"day": day.isoformat(), "messages": len(messages), "open": len(rows),
                              "unreported": len(rows) - counted})
    return len(messages)


def message(d: Digest, settings: Any, day: date) -> tuple[str, Intent] | None:
    """(the outbox's ticket_id, the intent) of one digest; None when it has no route."""
    route = contacts.route(d.contact, settings)
    if route is None or route.channel == "ticket":
        log.warning("digest_no_route", extra={"group": d.key or "(manager)", "channel": d.contact.channel})
        return None
    language = contacts.language(d.contact, settings)
    desk = comm_config.of(settings).desk(language)
    title, body = templates.for_settings(settings).render(
        KIND, "lead", language, {"desk": {"name": desk}, "lang": language, **fields(d, language, day)})
    intent = Intent(event=f"digest.{day.isoformat()}", audience=d.audience, channel=route.channel, body=body,
                    title=title, target=route.target, data={"to": route.to} if route.to else {})
    return outbox_id(d.key), intent


def outbox_id(group_key: str) -> str:
    """`digest:<group>` (the manager's: `digest`), within the outbox's 64 characters."""
    if not group_key:
        return "digest"
    if len(group_key) > 50:
        group_key = f"{group_key[:33]}~{hashlib.sha1(group_key.encode()).hexdigest()[:16]}"
    return f"digest:{group_key}"


def open_rows(ledger: Any, settings: Any) -> list[dict[str, Any]]:
    """ticket_facts rows not in a resolved or closed state (compose looks again)."""
    comm = comm_config.of(settings)
    done = sorted(comm.states.get("resolved", frozenset()) | comm.states.get("closed", frozenset()))
    c = ticket_facts.c
    state = func.lower(func.trim(c.state))
    query = select(*(c[name] for name in COLUMNS)).where(or_(c.state.is_(None), state.not_in(done)))
    with ledger.engine.connect() as conn:
        return [_aware(r) for r in conn.execute(query).mappings()]


def _aware(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: aware(v) if isinstance(v, datetime) else v for k, v in row.items()}

