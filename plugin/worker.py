"""Processing one accepted delivery: the I/O around the pure pipeline.

normalize ─► read current state (one GET) ─► steps ─► plan ─► apply ─► ledger.
Processing is idempotent: the plan is computed against the ticket as it is now,
so a retry, a replay or a redelivery after a crash writes nothing already there.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from . import pipeline
from .errors import EnricherError, PlatformError
from .hooks import ADAPTERS
from .models import StepContext, Ticket
from .store import Ledger, utcnow

log = logging.getLogger("desk_enricher.worker")

LEASE_SECONDS = 120.0


class TicketBusy(Exception):
    """Another worker holds this ticket; try again shortly (keeps per-ticket order)."""


class Processor:
    def __init__(self, settings: Any, ledger: Ledger, manifest: Mapping[str, Any], *,
                 clients: Mapping[str, Any] | None = None, model_source: Callable[[], Any] | None = None,
                 after_apply: Callable[..., None] | None = None):
        self.settings = settings
        self.ledger = ledger
        self.adapters = {name: cls(settings) for name, cls in ADAPTERS.items()}
        self._clients = dict(clients or {})
        self.steps = pipeline.resolve(step_names(settings, manifest))
        self.allowed_fields = [f["name"] for f in manifest["fields"]]
        self.allowed_tags = [t["name"] for t in manifest["tags"]]
        self.model_source = model_source or (lambda: None)
        self.after_apply = after_apply
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

    def process(self, delivery_id: int, attempt: int = 1) -> str:
        """Returns the outcome; raises PlatformError (maybe retryable) or TicketBusy."""
        row = self.ledger.delivery(delivery_id)
        if row is None or row["status"] in ("done", "ignored"):
            return "already"
        started = time.monotonic()
        adapter = self.adapters[row["platform"]]
        payload = adapter.parse(row["body"])
        intake = adapter.intake(payload, self.bot_id(row["platform"]))
        if intake.outcome != "process":
            self._finish(row, "ignored", started, detail=intake.reason)
            return "ignored"
        lease = f"ticket:{row['platform']}:{intake.ticket_id}"
        if not self.ledger.take_lease(lease, LEASE_SECONDS):
            raise TicketBusy(lease)
        try:
            self.ledger.set_status(delivery_id, "processing", attempts=attempt)
            outcome = self._enrich(row, adapter.normalize(payload), started)
        finally:
            self.ledger.release_lease(lease)
        return outcome

    def _enrich(self, row: dict, ticket: Ticket, started: float) -> str:
        client = self.client(row["platform"])
        current = client.current_state(ticket.id)
        ticket = replace(ticket, fields={**ticket.fields, **current.fields}, tags=current.tags,
                         group=current.group or ticket.group,
                         **{k: v for k, v in current.overrides.items() if v is not None})
        if not ticket.body and current.description:
            # An attribute-only update carries no message: the record still has its description.
            ticket = replace(ticket, body=current.description)
        known = self.ledger.ticket(ticket.platform, ticket.id) or {}
        ctx = self._context(ticket, known)
        found = pipeline.run(ticket, ctx, self.steps)
        plan = pipeline.plan(ticket.id, current, found, self.allowed_fields, self.allowed_tags)
        if not plan.empty:
            client.apply(plan)
        facts = pipeline.facts_of(found)
        if self.after_apply is not None:
            self.after_apply(ticket=ticket, facts=facts, plan=plan, delivery_id=row["id"])
        calls = client.take_calls()
        corrections = _corrections(facts)
        for c in corrections:
            self.ledger.record_correction(ticket.platform, ticket.id, c["field"], c.get("from"),
                                          c.get("to"), text=ticket.text[:2000])
        wanted, _, _ = pipeline.desired(found, self.allowed_fields, self.allowed_tags)
        written = {**(known.get("written") or {}), **wanted,
                   **{c["field"]: c.get("to") for c in corrections}}
        meta = {"category": (facts.get("classification") or {}).get("category")
                or known.get("category"),
                "updated_at": ticket.updated_at, "created_at": ticket.created_at or utcnow()}
        self.ledger.record_result(row["id"], ticket.platform, ticket.id,
                                  [(f.step, _jsonable(f.facts)) for f in found],
                                  [(c.method, c.path, c.status) for c in calls if c.method != "GET"],
                                  written, meta)
        n_writes = sum(1 for c in calls if c.method != "GET")
        outcome = "enriched" if n_writes else "unchanged"
        self._finish(row, "done", started, outcome=outcome, writes=n_writes,
                     reads=len(calls) - n_writes)
        log.info("enriched", extra={"delivery": row["delivery_key"], "ticket": ticket.id,
                                    "outcome": outcome, "writes": n_writes})
        return outcome

    def _context(self, ticket: Ticket, known: Mapping[str, Any]) -> StepContext:
        now = utcnow()
        window = timedelta(minutes=self.settings.major_event_window_minutes)
        recent = tuple(self.ledger.recent_tickets(ticket.platform, (ticket.created_at or now) - window))
        return StepContext(settings=self.settings, now=now, previous=known.get("written") or {},
                           model=self.model_source(), recent=recent)

    def _finish(self, row: dict, status: str, started: float, *, outcome: str | None = None,
                writes: int = 0, reads: int = 0, detail: str | None = None) -> None:
        self.ledger.set_status(row["id"], status)
        self.ledger.record_outcome(row["id"], row["platform"], row["ticket_id"], outcome or status,
                                   writes_made=writes, reads=reads,
                                   duration_ms=(time.monotonic() - started) * 1000, detail=detail)

    def fail(self, delivery_id: int, error: EnricherError, attempt: int) -> None:
        """The last try failed (or the error cannot be retried): dead letter."""
        row = self.ledger.delivery(delivery_id)
        if row is None:
            return
        self.ledger.set_status(delivery_id, "dead", error=error.message, attempts=attempt)
        self.ledger.record_outcome(delivery_id, row["platform"], row["ticket_id"], "dead",
                                   detail=error.message)
        log.warning("dead_letter", extra={"delivery": row["delivery_key"],
                                          "ticket": row["ticket_id"], "error": error.key})


def step_names(settings: Any, manifest: Mapping[str, Any]) -> list[str]:
    configured = (getattr(settings, "file", None) or {}).get("pipeline", {}).get("steps")
    return list(configured or manifest["pipeline"])


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
