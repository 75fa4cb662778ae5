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

# The plugin's name on everything it writes: the internal note's header, the subject of
# its Zammad articles. Readers find the plugin's own writes by it.
NOTE_HEADER = "desk-enricher"


def canon(value: Any) -> str:
    """Compare values the way the platforms store them (text, lower-case booleans)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# In the ledger's record of what the plugin wrote on a ticket: which step wrote each field.
WRITTEN_BY = "_written_by"


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
    skipped: tuple[str, ...] = ()      # payload parts normalize could not read and did without

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
    intents: effects to carry out once (public replies, messages, survey invitations)
    links:  other tickets to link this one to on the platform (possible repeats)
    """

    step: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    remove_tags: frozenset[str] = frozenset()
    note: tuple[str, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)
    intents: tuple[Intent, ...] = ()
    timers: tuple[TimerRequest, ...] = ()
    links: tuple[Link, ...] = ()       # other tickets this one should be linked to on the platform


# Who an intent is for, and where it goes. `ticket` is the ticket itself (a note or a
# public reply through the platform's REST API); the others go through Apprise.
AUDIENCES = ("agents", "requester", "stakeholders", "staff", "manager", "owner", "lead")
CHANNELS = ("ticket", "email", "feishu", "lark", "dingtalk", "wecom", "slack", "apprise")


@dataclass(frozen=True)
class Intent:
    """An effect as data: something to say once to an audience on a channel.

    Steps return intents; the worker stores them in the outbox in the same
    transaction as the findings, under `key(platform, ticket_id)`, so a retry, a
    replay or a second worker never says the same thing twice. Bodies are plain
    text: the adapter or notifier escapes them for the target (HTML, ADF, wiki).
    """

    event: str                         # what it is about: "ack", "major_event", "survey", ...
    audience: str                      # one of AUDIENCES
    channel: str                       # one of CHANNELS
    body: str
    title: str = ""
    public: bool = False               # ticket channel: a reply the requester sees
    target: str = ""                   # Apprise URL(s) setting name or an address; never a secret
    data: Mapping[str, Any] = field(default_factory=dict)

    def key(self, platform: str, ticket_id: str) -> str:
        return f"{platform}:{ticket_id}:{self.event}:{self.audience}:{self.channel}"


@dataclass(frozen=True)
class TimerRequest:
    """A step asking to be woken later (recompute at the SLA deadline, follow up a
    question, expire a survey link). Set in the delivery's transaction, once per key;
    a later request with the same name moves it (`replace`) unless it already fired."""

    name: str                          # unique per ticket: "sla_deadline", "followup:ack:1"
    kind: str                          # the handler: "reprocess", "followup", ...
    due_at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)
    replace: bool = True               # move a pending timer of this name to the new time
    cancel: bool = False               # the reason for it went away: cancel a pending one
    ticket_id: str | None = None       # another ticket to wake (a major event's linked tickets)

    def key(self, platform: str, ticket_id: str) -> str:
        return f"{self.name}:{platform}:{self.ticket_id or ticket_id}"


@dataclass(frozen=True)
class Link:
    """A link to another ticket (a possible repeat). Zammad's links/add names the other
    ticket by number, Jira by key, the ledger by id: the link carries both."""

    other_id: str                      # the other ticket's REST id ("1043", "ITSD-43")
    other_number: str                  # what a person calls it ("31043", "ITSD-43")
    kind: str = "related"              # related | duplicate (Jira "Relates" / "Duplicate"; Zammad "normal")


@dataclass(frozen=True)
class Article:
    """A note or public reply the write plan posts, with the marker that finds it again."""

    key: str                           # the outbox key of the intent it carries out
    marker: str                        # short token written into the text ("de:1a2b3c4d5e")
    body: str
    public: bool = False
    title: str = ""


@dataclass(frozen=True)
class WritePlan:
    """Desired state minus current state: only what must change."""

    ticket_id: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    note: str | None = None            # internal note, never public
    articles: tuple[Article, ...] = ()  # public replies (and notes) from intents, posted once
    links: tuple[Link, ...] = ()       # links not yet on the platform

    @property
    def empty(self) -> bool:
        return not (self.fields or self.add_tags or self.remove_tags or self.note or self.articles
                    or self.links)


@dataclass(frozen=True)
class TimelineEvent:
    """One moment in a ticket's life, whatever platform it came from (UTC)."""

    at: datetime
    kind: str            # created | state | first_reply | reply | pending | resumed | resolved | closed | reopened
    by: str | None = None
    state: str | None = None          # the state after the change (platform name), when it is one
    old_state: str | None = None
    public: bool | None = None        # for replies: seen by the requester


@dataclass(frozen=True)
class Timeline:
    """A ticket's history as steps read it: ordered events plus the platform's SLA facts."""

    events: tuple[TimelineEvent, ...] = ()
    sla: Mapping[str, Any] = field(default_factory=dict)
    complete: bool = True             # False when a page could not be read (the step says so)

    def first(self, kind: str) -> TimelineEvent | None:
        return next((e for e in self.events if e.kind == kind), None)

    def of(self, kind: str) -> tuple[TimelineEvent, ...]:
        return tuple(e for e in self.events if e.kind == kind)


@dataclass(frozen=True)
class KnowledgeArticle:
    """A knowledge-base article or a catalog self-help link that may answer a ticket.

    `score` is 0..1 on one scale whatever the source: the platform's own relevance is
    not comparable across platforms, so clients rank by how much of the query the
    article's title and excerpt cover (plugin.tracking.knowledge.score)."""

    title: str
    url: str
    source: str                        # zammad | jira | catalog
    excerpt: str = ""
    score: float = 0.0
    id: str = ""                       # the platform's answer or page id, when it has one


@dataclass(frozen=True)
class LedgerView:
    """What the ledger knows around a ticket, read before the steps run (steps do no I/O)."""

    recent: tuple[Mapping[str, Any], ...] = ()            # tickets created in the major-event window
    requester_recent: tuple[Mapping[str, Any], ...] = ()  # the requester's tickets in the repeat window
    open_major_events: tuple[Mapping[str, Any], ...] = ()
    known: Mapping[str, Any] = field(default_factory=dict)   # this ticket's facts row, if any
    # 901: what was already said on this ticket (outbox rows: event, audience, channel,
    # title, status, created_at, data), its timers by key, and the requester's vote.
    messages: tuple[Mapping[str, Any], ...] = ()
    timers: Mapping[str, str] = field(default_factory=dict)      # timer key -> status
    survey: Mapping[str, Any] = field(default_factory=dict)      # the survey_votes row, if any
    # Known outages (issue 14): the major event this ticket was linked to (its facts row),
    # and, for a major event, the tickets linked to it.
    outage_parent: Mapping[str, Any] = field(default_factory=dict)
    outage_linked: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class StepContext:
    """Read-only context a step may consult. No I/O happens through it."""

    settings: Any = None
    now: datetime | None = None
    previous: Mapping[str, Any] = field(default_factory=dict)   # what the plugin wrote last time
    model: Any = None                                          # loaded learned classifier, if any
    recent: tuple[Mapping[str, Any], ...] = ()                 # recent tickets' facts (major-event window)
    found: Mapping[str, Findings] = field(default_factory=dict)  # earlier steps' findings by step name
    ledger: LedgerView = field(default_factory=LedgerView)
    history: Timeline | None = None                            # read only when a step needs it
    directory: Any = None                                      # verify.model.Directory, from the same GET
    knowledge: tuple[KnowledgeArticle, ...] | None = None      # platform KB matches, when a step asked
