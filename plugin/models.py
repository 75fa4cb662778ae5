"""The platform-neutral model every step works on.

Adapters turn a platform payload into a `Ticket`; steps turn a `Ticket` into
`Findings`; the pipeline turns findings plus the ticket's current state into a
`WritePlan`. All of them are plain frozen dataclasses: easy to build in tests,
safe to share between threads.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Requester:
    id: str
    name: str = ""
    email: str = ""
    login: str = ""
    organization: str | None = None
    organization_id: str | None = None
    vip: bool = False
    verified: bool = False
    active: bool = True
    roles: tuple[str, ...] = ()
    phone: str = ""
    department: str = ""
    city: str = ""
    country: str = ""


@dataclass(frozen=True)
class StateChange:
    field: str
    old: str | None
    new: str | None
    at: datetime | None = None
    by: str | None = None


@dataclass(frozen=True)
class Ticket:
    """A helpdesk ticket as the pipeline sees it, whatever platform it came from."""

    platform: str                      # registry key: "zammad" | "jira"
    id: str                            # the id the platform's REST API takes ("1042", "ITSD-42")
    number: str                        # what a person calls it ("31042", "ITSD-42")
    title: str
    body: str                          # plain text of the triggering message / description
    requester: Requester
    event: str = "update"              # "create" | "update" | "comment"
    state: str = ""
    priority: str = ""
    group: str | None = None
    owner: str | None = None
    channel: str | None = None         # email, web, phone, portal, chat ...
    request_type: str | None = None    # JSM request type / Zammad has none by default
    created_at: datetime | None = None
    updated_at: datetime | None = None
    updated_by_id: str | None = None
    article_sender: str | None = None  # Customer | Agent | System, when a message triggered the event
    article_internal: bool = False
    fields: Mapping[str, Any] = field(default_factory=dict)   # current custom-field values by our field name
    tags: tuple[str, ...] | None = None                     # None: the payload did not say (Zammad)
    sla: Mapping[str, Any] = field(default_factory=dict)     # platform SLA facts, when present
    history: tuple[StateChange, ...] = ()

    @property
    def text(self) -> str:
        """Title and body together: what the classifiers read."""
        return f"{self.title}\n{self.body}".strip()


@dataclass(frozen=True)
class Findings:
    """What one step concluded. Every part is optional; the pipeline merges them.

    fields: desired values of the plugin's own fields (names from manifest.json)
    tags:   tags/labels the ticket should carry
    remove_tags: tags of ours that no longer apply
    note:   lines for the internal note (one reason per line)
    facts:  anything the ledger or a later step should know (not written back)
    """

    step: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    remove_tags: frozenset[str] = frozenset()
    note: tuple[str, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WritePlan:
    """Desired state minus current state: only what must change."""

    ticket_id: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    note: str | None = None            # internal note, never public

    @property
    def empty(self) -> bool:
        return not (self.fields or self.add_tags or self.remove_tags or self.note)


@dataclass(frozen=True)
class StepContext:
    """Read-only context a step may consult. No I/O happens through it."""

    settings: Any = None
    now: datetime | None = None
    previous: Mapping[str, Any] = field(default_factory=dict)   # what the plugin wrote last time
    model: Any = None                                          # loaded learned classifier, if any
    recent: tuple[Mapping[str, Any], ...] = ()                 # recent tickets' facts (major-event window)
