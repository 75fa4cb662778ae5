"""What agents finally did on a ticket, kept in the ledger for the what-if report.

Read from the same listing the backfill pages through (no extra call): the plugin's
own fields as agents left them (`enrich_category`, `enrich_priority`,
`enrich_value_stream`: filled in during a trial, or corrected), Zammad's group, and
the state. `desk-enricher shadow-report --refresh` reads them again for tickets that
shadow mode saw through webhooks, whose final answer came after them. An empty
field is no answer, never a disagreement.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from ..store import utcnow
from ..tables import kv

PREFIX = "shadow:answer:"
KEYS = ("category", "group", "priority", "value_stream", "state")


def key(platform: str, ticket_id: str) -> str:
    return f"{PREFIX}{platform}:{ticket_id}"


def keep(ledger: Any, platform: str, ticket_id: str, answer: Mapping[str, Any], closed: bool,
         at: datetime | None = None) -> None:
    keep_many(ledger, platform, [(ticket_id, answer, closed)], at)


def keep_many(ledger: Any, platform: str, items: Iterable[tuple[str, Mapping[str, Any], bool]],
              at: datetime | None = None) -> int:
    """One transaction for many tickets (a refresh writes a page at a time)."""
    stamp = (at or utcnow()).isoformat()
    n = 0
    with ledger.transaction() as conn:
        for ticket_id, answer, closed in items:
            value = {**{k: _text(answer.get(k)) for k in KEYS}, "closed": bool(closed), "read_at": stamp}
            name = key(platform, ticket_id)
            if conn.execute(select(kv.c.key).where(kv.c.key == name)).first():
                conn.execute(update(kv).where(kv.c.key == name).values(value=value))
            else:
                conn.execute(insert(kv).values(key=name, value=value))
            n += 1
    return n


def load(ledger: Any, platform: str | None = None) -> dict[tuple[str, str], dict[str, Any]]:
    """(platform, ticket_id) -> answer, for every ticket with one (of one platform)."""
    like = PREFIX + (f"{platform}:" if platform else "") + "%"
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(kv.c.key, kv.c.value).where(kv.c.key.like(like))).all()
    out = {}
    for name, value in rows:
        plat, _, tid = name[len(PREFIX):].partition(":")
        out[(plat, tid)] = dict(value or {})
    return out


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)
