"""The survey's ledger side: read a ticket's vote, record a new one.

Recording a vote and setting the "reprocess" timer that writes it to the ticket are
one transaction: a vote is never kept without the ticket being told, and the web
request does no platform call of its own (the worker does, through the write plan).
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from .. import timers
from ..models import TimerRequest
from ..store import aware
from ..tables import survey_votes, ticket_facts


def current(ledger: Any, platform: str, ticket_id: str) -> Mapping[str, Any] | None:
    with ledger.engine.connect() as conn:
        row = conn.execute(select(survey_votes).where(
            survey_votes.c.platform == platform, survey_votes.c.ticket_id == ticket_id)).mappings().first()
    return {k: aware(v) if isinstance(v, datetime) else v for k, v in row.items()} if row else None


def ticket(ledger: Any, platform: str, ticket_id: str) -> Mapping[str, Any]:
    """Number and title, to show the requester which ticket they are rating."""
    with ledger.engine.connect() as conn:
        row = conn.execute(select(ticket_facts.c.number, ticket_facts.c.title).where(
            ticket_facts.c.platform == platform, ticket_facts.c.ticket_id == ticket_id)).mappings().first()
    return dict(row) if row else {}


def record(ledger: Any, platform: str, ticket_id: str, code: int, comment: str, language: str,
           now: datetime) -> int:
    """Store the vote (a second one replaces the first) and ask for the ticket to be
    processed again now. Returns the vote's revision."""
    try:
        return _record(ledger, platform, ticket_id, code, comment, language, now)
    except IntegrityError:        # two first votes at once (PostgreSQL): the second updates
        return _record(ledger, platform, ticket_id, code, comment, language, now)


def _record(ledger, platform, ticket_id, code, comment, language, now) -> int:
    key = (survey_votes.c.platform == platform) & (survey_votes.c.ticket_id == ticket_id)
    values = {"code": code, "comment": comment or None, "language": language, "voted_at": now}
    with ledger.transaction() as conn:
        old = conn.execute(select(survey_votes.c.revision).where(key)).scalar()
        revision = (old or 0) + 1
        if old is None:
            conn.execute(insert(survey_votes).values(platform=platform, ticket_id=ticket_id, revision=1,
                                                     first_voted_at=now, **values))
        else:
            conn.execute(update(survey_votes).where(key).values(revision=revision, **values))
        timers.set_requested(conn, platform, ticket_id,
                             [TimerRequest(f"survey:{revision}", "reprocess", now)], now)
    return revision
