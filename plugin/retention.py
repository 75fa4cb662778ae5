"""Retention: stored webhook bodies and ticket text are dropped `ENRICHER_RETENTION_DAYS`
after they stop being needed (0 keeps them forever).

The rows stay (counts, outcomes, findings and reports still add up); only the text
goes. A delivery keeps its body while it is queued, processing or dead, because
processing and `replay` read it; once done or ignored it is kept `days` after
`finished_at`. Corrections lose their free text, sent outbox rows their title and body.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update

from .tables import corrections, deliveries, outbox

# Rows per transaction: on SQLite each one holds the ledger's write lock, and intake
# waits on that lock, so a first purge of years of history must not take it in one go.
CHUNK = 500


def purge(ledger: Any, now: datetime, days: int) -> dict[str, int]:
    """Blank what is older than `days`; returns how many rows of each table changed."""
    counts = {"deliveries": 0, "corrections": 0, "outbox": 0}
    if days <= 0:
        return counts
    cutoff = now - timedelta(days=days)
    counts["deliveries"] = _in_chunks(ledger, deliveries, and_(
        deliveries.c.status.in_(("done", "ignored")),
        deliveries.c.finished_at < cutoff,
        deliveries.c.body != b""), {"body": b""})
    counts["corrections"] = _in_chunks(ledger, corrections, and_(
        corrections.c.at < cutoff, corrections.c.text.is_not(None)), {"text": None})
    # outbox.body is NOT NULL: an empty string is its "gone".
    counts["outbox"] = _in_chunks(ledger, outbox, and_(
        outbox.c.status == "sent", outbox.c.sent_at < cutoff,
        (outbox.c.body != "") | (outbox.c.title != "")), {"body": "", "title": ""})
    return counts


def _in_chunks(ledger: Any, table: Any, where: Any, values: dict[str, Any]) -> int:
    pk = table.c.id
    done, after = 0, 0
    while True:
        with ledger.transaction() as conn:
            ids = conn.execute(select(pk).where(where, pk > after).order_by(pk).limit(CHUNK)).scalars().all()
            if ids:
                conn.execute(update(table).where(pk.in_(ids)).values(**values))
        if not ids:
            return done
        done += len(ids)
        after = ids[-1]
