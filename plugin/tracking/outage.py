"""Known outages: a new ticket about an open major event (重大事件) is linked to it and
its requester told that the desk already knows; when the major event's ticket is
solved, every linked ticket's requester is told once.

A new ticket matches an open major event when it is about the same catalog item and
arrived within the window after it, or when its title reads like the major event's
(the repeat check's similarity: difflib on normalised titles, see
plugin.verify.repeats). The major event's own ticket, and a ticket that is itself
a major event, match nothing. Pure: the step gives the ledger's rows.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from ..verify.repeats import similarity
from .config import Tracking


def match(ticket_id: str, title: str, item_id: str | None, arrived: datetime,
          majors: Iterable[Mapping[str, Any]], cfg: Tracking, is_open) -> Mapping[str, Any] | None:
    """The open major event this new ticket is about, the most recent first; else None.
    `is_open(state)` tells an open state from a solved or closed one."""
    window = timedelta(minutes=cfg.outage_window_minutes)
    best: tuple[float, datetime, Mapping[str, Any]] | None = None
    for row in majors:
        if str(row.get("ticket_id")) == str(ticket_id) or not is_open(row.get("state")):
            continue
        started = row.get("created_at")
        same_item = bool(item_id) and row.get("item_id") == item_id and started is not None \
            and started - timedelta(minutes=5) <= arrived <= started + window
        alike = similarity(title, str(row.get("title") or ""))
        if not same_item and alike < cfg.outage_similarity:
            continue
        rank = (1.0 if same_item else alike, started or arrived, row)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best else None
