"""The kinds of timer the worker fires, and the recurring ones it keeps set.

- sweep: the reconciler (lost tasks queued again, missed webhooks found), every
  ENRICHER_RECONCILE_SECONDS;
- purge: the retention of webhook bodies and ticket text, daily;
- reprocess: run the pipeline again for one ticket at a set time (a deadline, a
  follow-up), through a delivery rebuilt from REST like the reconciler's;
- retrain: the learned classifier retrained from the desk's closed tickets and
  corrections, weekly; promoted only if not worse (plugin.classifiers.retrain);
- digest: each group lead's daily digest, at tracking.digest.at on working days
  (plugin.tracking.digest_job).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from . import timers
from .store import utcnow
from .timers import Handler

SWEEP, PURGE, REPROCESS, RETRAIN, DIGEST = "sweep", "purge", "reprocess", "retrain", "digest"
RETRAIN_EVERY = timedelta(days=7)


def handlers(settings: Any, queue: Any) -> dict[str, Handler]:
    def sweep(_row: Mapping[str, Any], now: datetime) -> datetime | None:
        queue.sweep()
        return utcnow() + timedelta(seconds=settings.reconcile_seconds) if settings.reconcile_seconds else None

    def purge(_row: Mapping[str, Any], now: datetime) -> datetime | None:
        from .retention import purge as run_purge
        run_purge(queue.ledger, now, settings.retention_days)
        return now + timedelta(days=1)

    def reprocess(row: Mapping[str, Any], now: datetime) -> None:
        reprocess_ticket(queue, row["platform"], row["ticket_id"], f"timer:{row['key']}:{row['due_at'].isoformat()}")

    def retrain(_row: Mapping[str, Any], now: datetime) -> datetime | None:
        from .classifiers.retrain import retrain as run_retrain
        run_retrain(settings, queue.ledger, now)     # figures kept in model_versions, refused or not
        return now + RETRAIN_EVERY

    def digest(_row: Mapping[str, Any], now: datetime) -> datetime | None:
        from .tracking import digest_job
        return digest_job.run(settings, queue.ledger, now)

    return {SWEEP: Handler(sweep, hold_seconds=900), PURGE: Handler(purge, hold_seconds=3600),
            REPROCESS: Handler(reprocess, hold_seconds=120), RETRAIN: Handler(retrain, hold_seconds=3 * 3600),
            DIGEST: Handler(digest, hold_seconds=600)}


def reprocess_ticket(queue: Any, platform: str, ticket_id: str, delivery_key: str) -> int | None:
    """Queue the ticket as if its webhook had come; the key makes a second firing a no-op."""
    client = queue.processor.client(platform)
    body = client.webhook_payload(ticket_id)
    client.take_calls()
    pk, new = queue.ledger.accept(platform, delivery_key, ticket_id, "timer", body)
    if new:
        queue.enqueue(pk)
    return pk


def ensure_recurring(ledger: Any, settings: Any, now: datetime | None = None) -> None:
    """At worker start: the sweep runs at once (back from downtime), the purge daily."""
    now = now or utcnow()
    if settings.reconcile_seconds:
        if not timers.schedule(ledger, SWEEP, SWEEP, now, reset=True):
            timers.bring_forward(ledger, SWEEP, now)
    else:
        timers.cancel(ledger, SWEEP)
    # Weekly, the first a day after the first start: a new install has little history yet.
    timers.schedule(ledger, RETRAIN, RETRAIN, now + timedelta(days=1))
    if getattr(settings, "retention_days", 0):
        timers.schedule(ledger, PURGE, PURGE, now + timedelta(minutes=5), reset=True)
    from .tracking import digest_job
    digest_job.ensure(ledger, settings, now)     # at the next digest time, or cancelled
