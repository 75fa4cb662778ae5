"""The reconciler: nothing is missed when webhooks were lost.

Zammad stops retrying a webhook after about 100 s and Jira after about 30 min. A
sweep asks each platform for tickets updated since the last sweep and queues those
the plugin has not processed in their current state, as if their webhook had come.
The sweep position lives in the ledger, so it survives restarts.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from .errors import PlatformError
from .store import utcnow

log = logging.getLogger("desk_enricher.reconcile")

FIRST_LOOKBACK = timedelta(hours=24)
OVERLAP = timedelta(seconds=60)   # clocks and commit order differ: look back a little each time
LEASE = "reconcile"


def position_key(platform: str) -> str:
    return f"reconcile:{platform}:position"


def sweep(processor: Any, queue: Any, platform: str) -> int:
    """Queue every ticket updated since the last sweep that lacks our mark. Returns the count."""
    ledger = processor.ledger
    client = processor.client(platform)
    bot = processor.bot_id(platform)
    stored = ledger.get(position_key(platform))
    started = utcnow()
    since = datetime.fromisoformat(stored) if stored else started - FIRST_LOOKBACK
    queued = 0
    for ticket_id, updated_at, updated_by in client.updated_since(since):
        if not needs_processing(ledger.ticket(platform, ticket_id), updated_at, updated_by, bot):
            continue
        body = client.webhook_payload(ticket_id)
        stamp = updated_at.isoformat() if updated_at else "unknown"
        pk, new = ledger.accept(platform, f"reconcile:{ticket_id}:{stamp}", ticket_id, "reconcile", body)
        if new:
            queue.enqueue(pk)
            queued += 1
    # A finished sweep has seen every ticket updated before it started; the newest
    # timestamp it saw may be the plugin's own fresh write, past tickets not yet seen.
    ledger.put(position_key(platform), (started - OVERLAP).isoformat())
    client.take_calls()
    if queued:
        log.info("reconciled", extra={"platform": platform, "queued": queued})
    return queued


def needs_processing(known: dict | None, updated_at: datetime | None, updated_by: str | None,
                     bot_id: str | None) -> bool:
    """The plugin's mark: its own write was the last change, or it processed this state."""
    if bot_id and updated_by == bot_id:
        return False
    if known is None:
        return True
    seen = known.get("updated_at")
    return seen is None or updated_at is None or updated_at > seen


def sweep_all(processor: Any, queue: Any) -> dict[str, Any]:
    """One sweep of every configured platform; one sweeper at a time across workers."""
    ledger = processor.ledger
    token = ledger.take_lease(LEASE, 900)
    if token is None:
        return {}
    results: dict[str, Any] = {}
    try:
        for platform in processor.enabled_platforms():
            try:
                results[platform] = sweep(processor, queue, platform)
            except PlatformError as exc:
                # The next sweep starts from the same position: nothing is skipped.
                log.warning("reconcile_failed", extra={"platform": platform, "error": exc.key})
                results[platform] = exc.key
    finally:
        ledger.release_lease(LEASE, token)
    return results
