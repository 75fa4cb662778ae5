"""Processing one accepted delivery: the I/O around the pure pipeline.

normalize ─► read current state (one GET; the history only if a step asks) ─►
steps ─► plan ─► apply ─► one ledger transaction ─► send what the outbox holds.
Processing is idempotent: the plan is computed against the ticket as it is now,
and every article carries its intent's marker, so a retry, a replay or a
redelivery after a crash writes nothing already there.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from . import outbox, pipeline, record
from .errors import EnricherError, PlatformError
from .hooks import ADAPTERS
from .hooks import knowledge as kb
from .hooks.markup import marker
from .models import WRITTEN_BY, Intent, StepContext, Ticket
from .notifiers.dispatcher import Dispatcher
from .store import Ledger, utcnow
from .verify.directory import directory_of
from .view import ledger_view

log = logging.getLogger("desk_enricher.worker")

LEASE_SECONDS = 120.0


class TicketBusy(Exception):
    """Another worker holds this ticket; try again shortly (keeps per-ticket order)."""


class Processor:
    def __init__(self, settings: Any, ledger: Ledger, manifest: Mapping[str, Any], *,
                 clients: Mapping[str, Any] | None = None, model_source: Callable[[], Any] | None = None):
        self.settings = settings
        self.ledger = ledger
        self.adapters = {name: cls(settings) for name, cls in ADAPTERS.items()}
        self._clients = dict(clients or {})
        self.steps = pipeline.resolve(step_names(settings, manifest))
        self.history = pipeline.needs_history(self.steps)
        self.knowledge = any(s.knowledge for s in self.steps)
        self.allowed_fields = [f["name"] for f in manifest["fields"]]
        self.allowed_tags = [t["name"] for t in manifest["tags"]]
        self.model_source = model_source or (lambda: None)
        self.dispatcher = Dispatcher(settings, ledger, self.client)
        self.mode = getattr(settings, "mode", "live")
        self.shadow = self.mode == "shadow"
        self._bot_ids: dict[str, str] = {}

    def enabled_platforms(self) -> list[str]:
        return [n for n in self.adapters if getattr(self.settings, f"{n}_url", None)]

    def client(self, platform: str):
        if platform not in self._clients:
            self._clients[platform] = self.adapters[platform].client()
        return self._clients[platform]

    def bot_id(self, platform: str) -> str | None:
        if platform not in self._bot_ids:
            self._bot_ids[platform] = self.client(platform).bot_id()
        return self._bot_ids[platform]

    def process(self, delivery_id: int, attempt: int = 1, *, now: datetime | None = None) -> str:
        """Returns the outcome; raises PlatformError (maybe retryable) or TicketBusy.
        `now` is the steps' clock when it is not the wall clock: a backfill runs each ticket
        as it was when it arrived (its creation time), so windows and repeats look back from then."""
        row = self.ledger.delivery(delivery_id)
        if row is None or row["status"] in ("done", "ignored"):
            return "already"
        started = time.monotonic()
        adapter = self.adapters[row["platform"]]
        payload = adapter.parse(row["body"])
        # A timer's delivery (jobs.reprocess_ticket) asks for the run itself: the plugin's own
        # last write, which the rebuilt payload shows as the ticket's updater, must not end it.
        bot = None if row["event"] == "timer" else self.bot_id(row["platform"])
        intake = adapter.intake(payload, bot)
        if intake.outcome != "process":
            record.finished(self.ledger, row["id"], row["platform"], row["ticket_id"], "ignored", "ignored",
                            duration_ms=_ms(started), detail=intake.reason)
            return "ignored"
        lease = f"ticket:{row['platform']}:{intake.ticket_id}"
        token = self.ledger.take_lease(lease, LEASE_SECONDS)
        if token is None:
            raise TicketBusy(lease)
        try:
            # Read again under the lease: a worker that started while this delivery was
            # being processed may have queued it a second time, and the first may have
            # finished it between our first read and the lease.
            if (self.ledger.delivery(delivery_id) or {}).get("status") in ("done", "ignored"):
                return "already"
            self.ledger.set_status(delivery_id, "processing", attempts=attempt)
            outcome, pending = self._enrich(row, adapter.normalize(payload), started, lease, token, now)
        finally:
            self.ledger.release_lease(lease, token)
        if not self.shadow:
            self._dispatch_now(pending)
        return outcome

    def _dispatch_now(self, row_ids: list[int]) -> None:
        """Send at once, on this thread. The delivery is done whatever happens here: a
        failure waits in the outbox for the scheduler, never turns it into a dead letter."""
        for row_id in row_ids:
            try:
                self.dispatcher.dispatch(row_id)
            except Exception as exc:  # noqa: BLE001 - logged; the scheduler tries again
                log.warning("dispatch_deferred", extra={"outbox": row_id, "error": type(exc).__name__})

    def _enrich(self, row: dict, ticket: Ticket, started: float, lease: str, token: str,
                now: datetime | None = None):
        client = self.client(row["platform"])
        client.take_calls()   # never count calls an earlier, failed delivery left on this thread
        try:
            ticket, current = self._read(client, ticket)
            known = self.ledger.ticket(ticket.platform, ticket.id) or {}
            found = pipeline.run(ticket, self._context(client, ticket, current, known, now), self.steps)
            intents = pipeline.intents_of(found)
            taken = outbox.statuses(self.ledger, [i.key(ticket.platform, ticket.id) for i in intents])
            articles = pipeline.articles_for(ticket.platform, ticket.id, intents, done=taken)
            previous = known.get("written") or {}
            note = Intent(event=f"note-{row['id']}", audience="agents", channel="ticket", body="")
            plan = pipeline.plan(ticket.id, current, found, self.allowed_fields, self.allowed_tags,
                                 previous=previous, articles=articles,
                                 note_marker=marker(note.key(ticket.platform, ticket.id)))
            # Ticket intents now on the ticket (posted by this plan, or found by their marker),
            # and the note, are recorded in the outbox as sent: every effect is on the record.
            sent = {a.key for a in articles}
            if plan.note:
                intents = [*intents, replace(note, body=plan.note)]
                sent.add(note.key(ticket.platform, ticket.id))
            self.ledger.renew_lease(lease, token, LEASE_SECONDS)
            # Shadow mode: everything is decided and recorded, nothing reaches the platform.
            left_out = client.apply(plan, current) if not plan.empty and not self.shadow else []
        finally:
            calls = client.take_calls()
        return self._record(row, ticket, found, intents, sent, calls, previous, left_out, started, plan)

    def _read(self, client: Any, ticket: Ticket):
        current = client.current_state(ticket.id)
        ticket = replace(ticket, fields={**ticket.fields, **current.fields}, tags=current.tags,
                         group=current.group or ticket.group,
                         **{k: v for k, v in current.overrides.items() if v is not None})
        if not ticket.body and current.description:
            # An attribute-only update carries no message: the record still has its description.
            ticket = replace(ticket, body=current.description)
        return ticket, current

    def _context(self, client: Any, ticket: Ticket, current: Any, known: Mapping[str, Any],
                 now: datetime | None = None) -> StepContext:
        now = now or utcnow()
        view = ledger_view(self.ledger, ticket, self.settings, now)
        history = client.timeline(ticket.id, current, bot_id=self.bot_id(ticket.platform)) \
            if self.history else None
        # The knowledge base is searched once, for a ticket new to the ledger; never fails it.
        found = kb.for_ticket(client, ticket, self.settings) if self.knowledge and not known else None
        return StepContext(settings=self.settings, now=now, previous=known.get("written") or {},
                           model=self.model_source(), recent=view.recent, ledger=view, history=history,
                           directory=directory_of(ticket.platform, current.raw),   # from the same GET
                           knowledge=found)

    def _record(self, row, ticket, found, intents, sent, calls, previous, left_out, started, plan):
        facts = pipeline.facts_of(found)
        corrections = _corrections(facts)
        wanted, _, _ = pipeline.desired(found, self.allowed_fields, self.allowed_tags)
        written = {**previous, **wanted, **{c["field"]: c.get("to") for c in corrections},
                   WRITTEN_BY: {**(previous.get(WRITTEN_BY) or {}), **pipeline.owners(found, wanted)}}
        made = [(c.method, c.path, c.status) for c in calls if c.changes]
        outcome = "shadow" if self.shadow else "enriched" if made else "unchanged"
        detail = f"fields missing on the platform: {', '.join(left_out)}" if left_out else None
        if left_out:
            log.warning("fields_missing", extra={"ticket": ticket.id, "fields": left_out})
        pending = record.processed(self.ledger, record.Processed(
            delivery_id=row["id"], ticket=ticket, found=found, calls=made, written=written,
            corrections=corrections, intents=intents, sent=frozenset(sent),
            outcome=outcome, reads=len(calls) - len(made), duration_ms=_ms(started), detail=detail,
            plan=plan, mode=self.mode), _jsonable)
        log.info("enriched", extra={"delivery": row["delivery_key"], "ticket": ticket.id,
                                    "outcome": outcome, "writes": len(made), "mode": self.mode})
        return outcome, pending

    def fail(self, delivery_id: int, error: EnricherError, attempt: int) -> None:
        """The last try failed (or the error cannot be retried): dead letter."""
        row = self.ledger.delivery(delivery_id)
        if row is None:
            return
        record.finished(self.ledger, delivery_id, row["platform"], row["ticket_id"], "dead", "dead",
                        detail=error.message, error=error.message, attempts=attempt)
        log.warning("dead_letter", extra={"delivery": row["delivery_key"],
                                          "ticket": row["ticket_id"], "error": error.key})


def step_names(settings: Any, manifest: Mapping[str, Any]) -> list[str]:
    configured = (getattr(settings, "file", None) or {}).get("pipeline", {}).get("steps")
    return list(configured or manifest["pipeline"])


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000


def _corrections(facts: Mapping[str, Mapping[str, Any]]) -> list[dict]:
    out = []
    for step_facts in facts.values():
        c = step_facts.get("correction")
        out.extend(c if isinstance(c, list) else [c] if c else [])
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


__all__ = ["PlatformError", "Processor", "TicketBusy"]
