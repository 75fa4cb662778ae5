"""The pieces both timeline builders share: what a state means (Phase), the event
collector that turns state changes into derived events, and tolerant readers."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from .models import Timeline, TimelineEvent
from .text import parse_time

_USER_KEYS = ("accountId", "name", "key")   # Cloud accountId; Data Center name/key


@dataclass(frozen=True)
class Phase:
    """What a state means for the timeline."""
    pending: bool = False
    done: bool = False
    solved: bool = False     # done by solving it (a merge is done, not solved)
    closed: bool = False


class Events:
    """Collects events; anything without a readable time marks the timeline incomplete."""

    def __init__(self) -> None:
        self.events: list[TimelineEvent] = []
        self.complete = True

    def add(self, at: datetime | None, kind: str, by: str | None = None, state: str | None = None,
            old_state: str | None = None, public: bool | None = None) -> None:
        if at is None:
            self.complete = False
            return
        self.events.append(TimelineEvent(at, kind, by, state, old_state, public))

    def change(self, at: datetime | None, by: str | None, old: str | None, new: str | None,
               before: Phase, after: Phase) -> None:
        if old is not None and old != new:   # a change from nothing is the creation itself
            self.add(at, "state", by, new, old)
        derived = (("pending", after.pending and not before.pending),
                   ("resumed", before.pending and not after.pending and not after.done),
                   ("resolved", after.solved and not before.done),
                   ("closed", after.closed and not before.closed),
                   ("reopened", before.done and not after.done))
        for kind, happened in derived:
            if happened:
                self.add(at, kind, by, new, old)

    def timeline(self, sla: Mapping[str, Any], sla_ok: bool = True) -> Timeline:
        # Stable sort: events of one change keep their order; `created` leads its instant.
        events = sorted(self.events, key=lambda e: (e.at, e.kind != "created"))
        first = next((i for i, e in enumerate(events) if e.kind == "reply"), None)
        if first is not None:
            events[first] = replace(events[first], kind="first_reply")
        return Timeline(tuple(events), dict(sla), self.complete and sla_ok)


# -- readers ----------------------------------------------------------------------

def utc(value: Any) -> datetime | None:
    """ISO-8601 with any offset, or epoch ms, to aware UTC; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        parsed = parse_time(value)
    except (ValueError, OverflowError, OSError):
        return None
    return parsed.astimezone(UTC) if parsed else None


def text_id(value: Any) -> str | None:
    return None if value is None or isinstance(value, (dict, list)) else str(value)


def user_id(user: Any) -> str | None:
    if not isinstance(user, Mapping):
        return None
    return next((str(user[k]) for k in _USER_KEYS if user.get(k)), None)


def records(value: Any) -> Iterable[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def initial_state(events: list[TimelineEvent], current: str | None) -> str | None:
    return next((e.old_state for e in events if e.kind == "state"), current)
