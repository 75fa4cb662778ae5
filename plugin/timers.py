"""Durable timers: due-at jobs in the ledger that survive restarts and fire once.

A timer is a row (key, kind, payload, due_at). The scheduler in each worker
process polls every few seconds, claims a due timer with a conditional UPDATE
(one claimant wins, however many workers poll), runs its kind's handler and marks
it done, or sets it again when the handler returns its next time (a recurring
timer such as the reconciler's sweep). A claim holds for the kind's hold time; a
worker killed while holding it loses it then, and the timer fires again elsewhere,
so handlers are written to be safe to run twice.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from .retrying import backoff, transient_db_error
from .store import aware, lease_owner, utcnow
from .tables import timers

log = logging.getLogger("desk_enricher.timers")

POLL_SECONDS = 2.0
OVERDUE = timedelta(seconds=30)      # the promise: a timer fires within 30 s of its time
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Handler:
    run: Callable[[Mapping[str, Any], datetime], datetime | None]   # (timer row, now) -> next due
    hold_seconds: float = 300.0


def schedule(ledger: Any, key: str, kind: str, due_at: datetime, payload: Mapping[str, Any] | None = None,
             *, platform: str | None = None, ticket_id: str | None = None, reset: bool = False) -> bool:
    """Set a timer once by key. With `reset`, a finished one (done, dead, cancelled) is
    set again. Returns True if this call set it."""
    now = utcnow()
    try:
        with ledger.transaction() as conn:
            conn.execute(insert(timers).values(key=key, kind=kind, platform=platform, ticket_id=ticket_id,
                                               payload=dict(payload or {}), due_at=due_at, status="pending",
                                               attempts=0, created_at=now))
        return True
    except IntegrityError:
        if not reset:
            return False
    with ledger.transaction() as conn:
        return conn.execute(update(timers).where(
            timers.c.key == key, timers.c.status.in_(["done", "dead", "cancelled"]))
            .values(status="pending", due_at=due_at, attempts=0, owner=None, last_error=None,
                    payload=dict(payload or {}))).rowcount == 1


def set_requested(conn: Any, platform: str, ticket_id: str, requests: Any, now: datetime) -> None:
    """Steps' TimerRequests, inside the delivery's transaction: set once by key, moved
    while still pending when the step asks for another time, cancelled when asked."""
    for r in requests:
        key = r.key(platform, ticket_id)
        row = conn.execute(select(timers.c.id, timers.c.status).where(timers.c.key == key)).first()
        if r.cancel:
            if row is not None:
                conn.execute(update(timers).where(timers.c.id == row.id, timers.c.status == "pending")
                             .values(status="cancelled"))
        elif row is None:
            conn.execute(insert(timers).values(key=key, kind=r.kind, platform=platform,
                                               ticket_id=r.ticket_id or ticket_id,
                                               payload=dict(r.payload), due_at=r.due_at, status="pending",
                                               attempts=0, created_at=now))
        elif r.replace and row.status in ("pending", "cancelled"):
            conn.execute(update(timers).where(timers.c.id == row.id).values(
                due_at=r.due_at, payload=dict(r.payload), status="pending", kind=r.kind))


def bring_forward(ledger: Any, key: str, when: datetime) -> None:
    """A pending timer due later fires at `when` instead (a worker back from downtime sweeps at once)."""
    with ledger.transaction() as conn:
        conn.execute(update(timers).where(timers.c.key == key, timers.c.status == "pending",
                                          timers.c.due_at > when).values(due_at=when))


def cancel(ledger: Any, key: str) -> bool:
    with ledger.transaction() as conn:
        return conn.execute(update(timers).where(timers.c.key == key, timers.c.status == "pending")
                            .values(status="cancelled")).rowcount == 1


def due_ids(ledger: Any, now: datetime, limit: int = 50) -> list[int]:
    with ledger.engine.connect() as conn:
        return list(conn.execute(select(timers.c.id).where(or_(
            and_(timers.c.status == "pending", timers.c.due_at <= now),
            and_(timers.c.status == "running", timers.c.lease_until <= now)))
            .order_by(timers.c.due_at).limit(limit)).scalars())


def claim(ledger: Any, timer_id: int, owner: str, now: datetime, hold: float) -> dict[str, Any] | None:
    with ledger.transaction() as conn:
        n = conn.execute(update(timers).where(timers.c.id == timer_id, or_(
            and_(timers.c.status == "pending", timers.c.due_at <= now),
            and_(timers.c.status == "running", timers.c.lease_until <= now)))
            .values(status="running", owner=owner, lease_until=now + timedelta(seconds=hold))).rowcount
        if n != 1:
            return None
        row = dict(conn.execute(select(timers).where(timers.c.id == timer_id)).mappings().one())
    row["due_at"] = aware(row["due_at"])
    return row


def complete(ledger: Any, timer_id: int, owner: str, now: datetime, next_due: datetime | None) -> None:
    values: dict[str, Any] = {"owner": None, "lease_until": None, "fired_at": now, "last_error": None}
    values.update({"status": "pending", "due_at": next_due, "attempts": 0} if next_due else {"status": "done"})
    with ledger.transaction() as conn:
        conn.execute(update(timers).where(timers.c.id == timer_id, timers.c.owner == owner).values(**values))


def failed(ledger: Any, row: Mapping[str, Any], owner: str, error: str, now: datetime) -> bool:
    """Try again with backoff, or dead after MAX_ATTEMPTS. Returns True if dead."""
    attempt = (row["attempts"] or 0) + 1
    dead = attempt >= MAX_ATTEMPTS
    values = {"status": "dead" if dead else "pending", "attempts": attempt, "owner": None,
              "lease_until": None, "last_error": error[:500]}
    if not dead:
        values["due_at"] = now + timedelta(seconds=backoff(attempt, 5.0, 600.0))
    with ledger.transaction() as conn:
        conn.execute(update(timers).where(timers.c.id == row["id"], timers.c.owner == owner).values(**values))
    return dead


def counts(ledger: Any, now: datetime) -> dict[str, dict[str, int]]:
    """By kind: pending, due (time has come), overdue (past the 30 s promise), dead."""
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(
            timers.c.kind,
            func.sum(_when(timers.c.status == "pending")),
            func.sum(_when(and_(timers.c.status.in_(["pending", "running"]), timers.c.due_at <= now))),
            func.sum(_when(and_(timers.c.status.in_(["pending", "running"]), timers.c.due_at <= now - OVERDUE))),
            func.sum(_when(timers.c.status == "dead"))).group_by(timers.c.kind)).all()
    return {kind: {"pending": int(p or 0), "due": int(d or 0), "overdue": int(o or 0), "dead": int(x or 0)}
            for kind, p, d, o, x in rows}


def _when(condition):
    return case((condition, 1), else_=0)


class Scheduler:
    """Fires due timers and sends due outbox rows, every POLL_SECONDS, in one thread."""

    def __init__(self, ledger: Any, handlers: Mapping[str, Handler], dispatcher: Any = None,
                 poll_seconds: float = POLL_SECONDS):
        self.ledger = ledger
        self.handlers = dict(handlers)
        self.dispatcher = dispatcher
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> dict[str, int]:
        fired = {"fired": 0, "failed": 0}
        for timer_id in due_ids(self.ledger, utcnow()):
            result = self.fire(timer_id)
            if result in fired:
                fired[result] += 1
        if self.dispatcher is not None:
            self.dispatcher.run_due()
        return fired

    def fire(self, timer_id: int) -> str:
        owner = lease_owner()
        row = self.ledger_claim(timer_id, owner)
        if row is None:
            return "taken"
        handler = self.handlers.get(row["kind"])
        now = utcnow()
        if handler is None:
            failed(self.ledger, row, owner, f"no handler for timer kind {row['kind']}", now)
            return "failed"
        try:
            next_due = handler.run(row, now)
        except Exception as exc:  # noqa: BLE001 - a timer's failure is recorded and retried, never fatal
            log.warning("timer_failed", extra={"timer": row["key"], "error": f"{type(exc).__name__}: {exc}"[:300]})
            failed(self.ledger, row, owner, f"{type(exc).__name__}: {exc}", utcnow())
            return "failed"
        complete(self.ledger, timer_id, owner, utcnow(), next_due)
        log.info("timer_fired", extra={"timer": row["key"], "late_s": round((now - row["due_at"]).total_seconds(), 2)})
        return "fired"

    def ledger_claim(self, timer_id: int, owner: str) -> dict[str, Any] | None:
        kind = None
        with self.ledger.engine.connect() as conn:
            kind = conn.execute(select(timers.c.kind).where(timers.c.id == timer_id)).scalar()
        hold = self.handlers[kind].hold_seconds if kind in self.handlers else 60.0
        return claim(self.ledger, timer_id, owner, utcnow(), hold)

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception as exc:  # noqa: BLE001 - a database hiccup must not end the scheduler
                level = logging.WARNING if transient_db_error(exc) else logging.ERROR
                log.log(level, "scheduler_error", extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
            self._stop.wait(self.poll_seconds)
