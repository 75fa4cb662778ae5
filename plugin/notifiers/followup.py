"""Follow-up of unanswered questions (901.5): a notice that asked the requester to
confirm ("is your problem solved?", "we need more from you") is asked again after
`followup.after_working_hours` working hours, each time on the requester's next
channel, at most `followup.max_attempts` times; then an internal note tells the
desk the requester did not answer.

Pure: the step reads what was said (ctx.ledger.messages: when, on which channel)
and which follow-up timers are set; it asks for a "reprocess" timer at the next
due time, and the pipeline, run again then, sends the follow-up. An answer is the
ticket leaving the state it was asked in (both platforms move a ticket on when its
requester replies), or a public message from the requester: that cancels the timer,
and a cancelled timer is never set again for that question.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .. import workcal
from ..models import StepContext, Ticket, TimerRequest
from ..workcal import Calendar
from .commitment import when
from .config import Communication
from .lifecycle import Notice

KIND = "reprocess"


def due(ticket: Ticket, ctx: StepContext, comm: Communication, channels: list[str],
        now: datetime) -> tuple[list[Notice], list[TimerRequest]]:
    asked = _open_question(ctx.ledger.messages)
    if asked is None:
        return [], []
    event = asked["event"]
    done = [m for m in ctx.ledger.messages if re.fullmatch(rf"followup\.{re.escape(event)}\.\d+", m["event"])]
    if any(m["event"] == f"no_answer.{event}" for m in ctx.ledger.messages):
        return [], []
    attempt = len(done) + 1
    name = f"followup:{event}:{attempt}"
    if ctx.ledger.timers.get(TimerRequest(name, KIND, now).key(ticket.platform, ticket.id)) == "cancelled":
        return [], []
    base = _at(done[-1] if done else asked, asked)
    due_at = workcal.of(ctx.settings).add_working_minutes(base, comm.followup_hours * 60)
    if _answered(ticket, asked):
        return [], [TimerRequest(name, KIND, due_at, cancel=True)]
    if now < due_at:
        return [], [TimerRequest(name, KIND, due_at, payload={"question": event, "attempt": attempt})]
    about = {"attempt": attempt, "max": comm.followup_max, "asked": asked.get("title") or "",
             "attempts": min(attempt - 1, comm.followup_max)}
    fields = followup_fields(about, _at(asked, asked), workcal.of(ctx.settings))
    if attempt > comm.followup_max:
        return [Notice("no_answer", f"no_answer.{event}", ("staff",), fields, channel="ticket")], []
    nxt = workcal.of(ctx.settings).add_working_minutes(now, comm.followup_hours * 60)
    notice = Notice("followup", f"followup.{event}.{attempt}", ("requester",), fields,
                    data={"at": now.isoformat(), "attempt": attempt, "question": event},
                    channel=_next_channel(channels, asked["channel"], attempt))
    return [notice], [TimerRequest(f"followup:{event}:{attempt + 1}", KIND, nxt,
                                   payload={"question": event, "attempt": attempt + 1})]


def _open_question(messages: tuple[Mapping[str, Any], ...]) -> Mapping[str, Any] | None:
    """The latest notice that asked the requester something (older ones were overtaken)."""
    asked = [m for m in messages if m["audience"] == "requester" and (m.get("data") or {}).get("asks")]
    return asked[-1] if asked else None


def _answered(ticket: Ticket, asked: Mapping[str, Any]) -> bool:
    state = str((asked.get("data") or {}).get("state") or "").strip().lower()
    moved = ticket.state.strip().lower() != state
    replied = ticket.article_sender == "Customer" and not ticket.article_internal and ticket.event != "create"
    return moved or replied


def _at(row: Mapping[str, Any], asked: Mapping[str, Any]) -> datetime:
    """When a message was asked: the step's own `now` then (kept in its data), so the
    timer it set and the time computed here are the same instant."""
    stamp = (row.get("data") or {}).get("at") or (asked.get("data") or {}).get("at")
    return datetime.fromisoformat(stamp) if stamp else row["created_at"]



def _next_channel(channels: list[str], first: str, attempt: int) -> str:
    if not channels:
        return "ticket"
    start = channels.index(first) if first in channels else 0
    return channels[(start + attempt) % len(channels)]


def followup_fields(about: Mapping[str, Any], asked_at: datetime, cal: Calendar):
    def fields(lang: str) -> Mapping[str, Any]:
        return {"followup": {**about, "asked_at": when(asked_at, cal.zone, lang)}}
    return fields
