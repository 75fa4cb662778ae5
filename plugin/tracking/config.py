"""The settings file's `tracking:` section: the desk following every ticket it owns
(受理 → 调派 → 维护 → 跟踪 → 反馈). Who leads each group (the contact table), when a
ticket without progress is escalated and to whom, when each lead gets the daily
digest, how new tickets are matched to an open major event, and how knowledge
articles are suggested.

Validated with marshmallow when the settings load (a typo stops start-up with the
key named); `of(settings)` gives the read-only `Tracking` with every default filled in.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

PRIORITIES = ("P1", "P2", "P3", "P4")
STREAMS = ("incident", "service_request", "consultation", "complaint", "major_event")
# Where a lead or the manager hears: an address by e-mail (ENRICHER_NOTIFY_EMAIL carries it),
# a chat bot's setting (ENRICHER_NOTIFY_FEISHU ...), or an internal note on the ticket.
CONTACT_CHANNELS = ("email", "feishu", "lark", "dingtalk", "wecom", "slack", "ticket")
# Working hours without progress before the first escalation, by suggested priority (P4 is
# the most urgent: DOMAIN.md), unless a value stream says otherwise.
DEFAULT_STALE_HOURS = {"P4": 1.0, "P3": 4.0, "P2": 8.0, "P1": 16.0}
_HOURS = validate.Range(min=0.1, max=2000)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class ContactSchema(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    channel = fields.String(load_default="email", validate=validate.OneOf(CONTACT_CHANNELS))
    email = fields.Email(load_default=None)
    language = fields.String(load_default=None, validate=validate.OneOf(["zh-CN", "en"]))

    @validates_schema
    def _addressable(self, data, **_):
        if data.get("channel", "email") == "email" and not data.get("email"):
            raise ValidationError("channel email needs an email address", "email")


def _by_priority():
    return fields.Dict(keys=fields.String(validate=validate.OneOf(PRIORITIES)),
                       values=fields.Float(validate=_HOURS), load_default=dict)


class StaleSchema(_Strict):
    enabled = fields.Boolean(load_default=True)
    # First level (the group's lead): working hours without progress, by priority, and per
    # value stream where a stream keeps other hours (a complaint is chased sooner).
    after_working_hours = _by_priority()
    streams = fields.Dict(keys=fields.String(validate=validate.OneOf(STREAMS)),
                          values=fields.Dict(keys=fields.String(validate=validate.OneOf(PRIORITIES)),
                                             values=fields.Float(validate=_HOURS)), load_default=dict)
    # Second level (the desk manager): this many further working hours without progress.
    manager_after_working_hours = fields.Float(load_default=4.0, validate=_HOURS)


def _clock(value: str) -> None:
    try:
        time.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationError("a time of day, HH:MM") from None


class DigestSchema(_Strict):
    enabled = fields.Boolean(load_default=True)
    at = fields.String(load_default="09:00", validate=_clock)     # the desk's time zone, working days only
    waiting_too_long_working_hours = fields.Float(load_default=16.0, validate=_HOURS)
    max_tickets = fields.Integer(load_default=30, validate=validate.Range(min=1, max=500))


class OutageSchema(_Strict):
    enabled = fields.Boolean(load_default=True)
    # A new ticket matches an open major event on the same catalog item inside this many
    # minutes of it, or on text this similar (0..1, word overlap) at any time it is open.
    window_minutes = fields.Integer(load_default=240, validate=validate.Range(min=1, max=10_080))
    similarity = fields.Float(load_default=0.5, validate=validate.Range(min=0.05, max=1))
    open_hours = fields.Integer(load_default=24, validate=validate.Range(min=1, max=720))


class KnowledgeSchema(_Strict):
    enabled = fields.Boolean(load_default=True)
    max_results = fields.Integer(load_default=3, validate=validate.Range(min=1, max=10))
    # A match at least this strong (0..1) is offered to the requester in the acknowledgement
    # of a service request or consultation; weaker ones go to the agent's note only.
    strong_score = fields.Float(load_default=0.6, validate=validate.Range(min=0, max=1))


class TrackingSchema(_Strict):
    contacts = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=200)),
                           values=fields.Nested(ContactSchema), load_default=dict)
    manager = fields.Nested(ContactSchema, load_default=None)
    stale = fields.Nested(StaleSchema, load_default=lambda: StaleSchema().load({}))
    digest = fields.Nested(DigestSchema, load_default=lambda: DigestSchema().load({}))
    outage = fields.Nested(OutageSchema, load_default=lambda: OutageSchema().load({}))
    knowledge = fields.Nested(KnowledgeSchema, load_default=lambda: KnowledgeSchema().load({}))


@dataclass(frozen=True)
class Contact:
    name: str
    channel: str = "email"
    email: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Tracking:
    """The section as steps and jobs read it."""

    contacts: Mapping[str, Contact] = field(default_factory=dict)    # group name (lower case) -> lead
    manager: Contact | None = None
    stale_enabled: bool = True
    stale_hours: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_STALE_HOURS))
    stale_streams: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    manager_hours: float = 4.0
    digest_enabled: bool = True
    digest_at: time = time(9, 0)
    waiting_hours: float = 16.0
    digest_max: int = 30
    outage_enabled: bool = True
    outage_window_minutes: int = 240
    outage_similarity: float = 0.5
    outage_open_hours: int = 24
    knowledge_enabled: bool = True
    knowledge_max: int = 3
    knowledge_strong: float = 0.6

    def lead(self, group: str | None) -> Contact | None:
        return self.contacts.get((group or "").strip().lower())

    def stale_after(self, value_stream: str | None, priority: str | None) -> float:
        """Working hours without progress before the lead hears of it."""
        own = self.stale_streams.get(value_stream or "", {})
        return own.get(priority or "") or self.stale_hours.get(priority or "") or self.stale_hours["P2"]


def _contact(raw: Mapping[str, Any] | None) -> Contact | None:
    return Contact(**raw) if raw else None


def of(settings: Any) -> Tracking:
    raw = (getattr(settings, "file", None) or {}).get("tracking")
    d = raw if raw is not None else TrackingSchema().load({})
    return Tracking(
        contacts={k.strip().lower(): _contact(v) for k, v in d["contacts"].items()},
        manager=_contact(d["manager"]),
        stale_enabled=d["stale"]["enabled"],
        stale_hours={**DEFAULT_STALE_HOURS, **d["stale"]["after_working_hours"]},
        stale_streams={k: dict(v) for k, v in d["stale"]["streams"].items()},
        manager_hours=d["stale"]["manager_after_working_hours"],
        digest_enabled=d["digest"]["enabled"], digest_at=time.fromisoformat(d["digest"]["at"]),
        waiting_hours=d["digest"]["waiting_too_long_working_hours"], digest_max=d["digest"]["max_tickets"],
        outage_enabled=d["outage"]["enabled"], outage_window_minutes=d["outage"]["window_minutes"],
        outage_similarity=d["outage"]["similarity"], outage_open_hours=d["outage"]["open_hours"],
        knowledge_enabled=d["knowledge"]["enabled"], knowledge_max=d["knowledge"]["max_results"],
        knowledge_strong=d["knowledge"]["strong_score"])
