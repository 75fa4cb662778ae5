"""The outbox: intents stored in the delivery's transaction, carried out once.

`add` runs inside the worker's one transaction per delivery. The `Dispatcher`
claims due rows (a conditional UPDATE, so two workers never take the same row),
carries each out and marks it sent; a failure waits with backoff and ends as a
dead letter that `desk-enricher replay` queues again.

Exactly once where the target can be checked: a ticket intent carries a marker
that the dispatcher looks for on the ticket before it posts. Where it cannot
(SMTP, chat webhooks), the only window for a second send is between the
channel accepting the message and the ledger commit that marks it sent (one
local transaction, milliseconds); a dispatcher killed inside it sends again
once the claim expires.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .models import Intent
from .tables import outbox


def _insert(conn):
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql if conn.dialect.name == "postgresql" \
        else None
    return dialect.insert(outbox) if dialect else insert(outbox)


def add(conn, platform: str, ticket_id: str, intents: Iterable[Intent], now: datetime, *,
        delivery_id: int | None = None, sent: Iterable[str] = (), shadow: bool = False) -> None:
    """Store intents once by key; those in `sent` were carried out by the write plan.
    In shadow mode every intent is kept as `shadow`: recorded, never sent."""
    done = set(sent)
    for intent in intents:
        key = intent.key(platform, ticket_id)
        row = {"key": key, "platform": platform, "ticket_id": ticket_id, "delivery_id": delivery_id,
               "event": intent.event, "audience": intent.audience, "channel": intent.channel,
               "public": intent.public, "title": intent.title, "body": intent.body,
               "target": intent.target, "data": dict(intent.data),
               "status": "shadow" if shadow else "sent" if key in done else "pending", "attempts": 0,
               "next_at": now, "created_at": now, "sent_at": now if key in done and not shadow else None}
        stmt = _insert(conn).values(**row)
        if hasattr(stmt, "on_conflict_do_nothing"):
            stmt = stmt.on_conflict_do_nothing(index_elements=["key"])
        conn.execute(stmt)
        if key in done and not shadow:
            conn.execute(update(outbox).where(outbox.c.key == key, outbox.c.status != "sent")
                         .values(status="sent", sent_at=now, owner=None))


def statuses(ledger: Any, keys: Iterable[str]) -> dict[str, str]:
    keys = list(keys)
    if not keys:
        return {}
    with ledger.engine.connect() as conn:
        return dict(conn.execute(select(outbox.c.key, outbox.c.status).where(outbox.c.key.in_(keys))).all())


def pending_ids(ledger: Any, platform: str, ticket_id: str) -> list[int]:
    with ledger.engine.connect() as conn:
        return list(conn.execute(select(outbox.c.id).where(
            outbox.c.platform == platform, outbox.c.ticket_id == ticket_id,
            outbox.c.status == "pending")).scalars())


def due_ids(ledger: Any, now: datetime, limit: int = 100) -> list[int]:
    """Pending rows whose time has come, and claims that outlived their holder."""
    with ledger.engine.connect() as conn:
        return list(conn.execute(select(outbox.c.id).where(
            outbox.c.status.in_(["pending", "sending"]), outbox.c.next_at <= now)
            .order_by(outbox.c.next_at).limit(limit)).scalars())


def claim(ledger: Any, row_id: int, owner: str, now: datetime, hold: float) -> Mapping[str, Any] | None:
    with ledger.transaction() as conn:
        n = conn.execute(update(outbox).where(
            outbox.c.id == row_id, or_(outbox.c.status == "pending", outbox.c.status == "sending"),
            outbox.c.next_at <= now).values(status="sending", owner=owner,
                                            next_at=now + timedelta(seconds=hold))).rowcount
        if n != 1:
            return None
        return dict(conn.execute(select(outbox).where(outbox.c.id == row_id)).mappings().one())


def finish(ledger: Any, row_id: int, owner: str, now: datetime) -> None:
    with ledger.transaction() as conn:
        conn.execute(update(outbox).where(outbox.c.id == row_id, outbox.c.owner == owner)
                     .values(status="sent", sent_at=now, owner=None, last_error=None))


def progress(ledger: Any, row_id: int, owner: str, data: Mapping[str, Any]) -> None:
    """Which of several channel URLs already took the message (a retry skips them)."""
    with ledger.transaction() as conn:
        conn.execute(update(outbox).where(outbox.c.id == row_id, outbox.c.owner == owner)
                     .values(data=dict(data)))


def fail(ledger: Any, row_id: int, owner: str, error: str, next_at: datetime | None) -> None:
    """next_at None: no tries left, a dead letter."""
    with ledger.transaction() as conn:
        conn.execute(update(outbox).where(outbox.c.id == row_id, outbox.c.owner == owner).values(
            status="dead" if next_at is None else "pending", owner=None, last_error=error[:500],
            attempts=outbox.c.attempts + 1, **({"next_at": next_at} if next_at is not None else {})))


def dead(ledger: Any) -> list[dict[str, Any]]:
    with ledger.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(
            outbox.c.id, outbox.c.key, outbox.c.channel, outbox.c.attempts, outbox.c.last_error)
            .where(outbox.c.status == "dead").order_by(outbox.c.id)).mappings()]


def requeue(ledger: Any, ids: Iterable[int], now: datetime) -> int:
    ids = list(ids)
    if not ids:
        return 0
    with ledger.transaction() as conn:
        return conn.execute(update(outbox).where(and_(outbox.c.id.in_(ids), outbox.c.status == "dead"))
                            .values(status="pending", attempts=0, next_at=now, last_error=None)).rowcount
