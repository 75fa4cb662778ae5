"""The `communication:` section of the settings file (901): who hears of what, on
which channel, in which words, and when a question is asked again.

Validated with marshmallow when the settings load, so a typo stops start-up with
the key named. `of(settings)` gives the step a read-only view with the defaults
filled in; a missing section means every default.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

LANGUAGES = ("zh-CN", "en")
SERVICE_LEVELS = ("5x8", "7x24", "by meeting time", "-")
# Where a requester can be told something: the ticket itself, or through Apprise.
REQUESTER_CHANNELS = ("ticket", "email", "feishu", "lark", "dingtalk", "wecom", "slack")
PRIORITIES = ("P1", "P2", "P3", "P4")

# Every notice and the audiences it has a template for (901.1: each recipient type its own).
NOTICES: dict[str, tuple[str, ...]] = {
    "ack": ("requester",),
    "routed": ("requester", "staff"),
    "status": ("requester", "stakeholders"),
    "waiting": ("requester",),
    "resolved": ("requester", "stakeholders"),
    "survey": ("requester",),
    "major_event": ("owner", "staff", "manager"),
    "followup": ("requester",),
    "no_answer": ("staff",),
    "dissatisfied": ("manager",),
    # The desk owning its tickets (issue 14, plugin.notifiers.tracking).
    "stale": ("staff", "lead", "manager"),
    "known_outage": ("requester",),
    "outage_resolved": ("requester",),
    "digest": ("lead",),           # the daily digest per group (plugin.tracking.digest); a manager's too
}
# Who hears of what unless the settings say otherwise (the requester's acknowledgement
# has a switch of its own; follow-ups and alerts follow from the notices they belong to).
DEFAULT_AUDIENCES: dict[str, tuple[str, ...]] = {
    "routed": ("staff",), "status": ("requester",), "waiting": ("requester",),
    "resolved": ("requester", "stakeholders"), "survey": ("requester",), "major_event": ("owner",)}
DEFAULT_STATES = {
    # Zammad's seeded states, JSM's default workflow and the Chinese names desks give them.
    "waiting": ("pending reminder", "waiting for customer", "等待客户", "待用户确认"),
    "resolved": ("pending close", "resolved", "已解决"),
    "closed": ("closed", "done", "已关闭", "已完成"),
}


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class PreferenceSchema(_Strict):
    channel = fields.String(load_default=None, validate=validate.OneOf(REQUESTER_CHANNELS))
    language = fields.String(load_default=None, validate=validate.OneOf(LANGUAGES))


class ChannelsSchema(_Strict):
    # A requester's stated preference, by e-mail address or platform user id.
    requesters = fields.Dict(keys=fields.String(), values=fields.Nested(PreferenceSchema), load_default=dict)
    # The item's service level says which channel its requesters hear on.
    level_defaults = fields.Dict(keys=fields.String(validate=validate.OneOf(SERVICE_LEVELS)),
                                 values=fields.String(validate=validate.OneOf(REQUESTER_CHANNELS)),
                                 load_default=dict)


class FollowupSchema(_Strict):
    after_working_hours = fields.Float(load_default=8.0, validate=validate.Range(min=0.25, max=400))
    max_attempts = fields.Integer(load_default=2, validate=validate.Range(min=0, max=5))


class SurveySchema(_Strict):
    enabled = fields.Boolean(load_default=True)
    expire_days = fields.Integer(load_default=14, validate=validate.Range(min=1, max=365))
    # Where requesters reach /feedback/...; default ENRICHER_PUBLIC_URL.
    base_url = fields.Url(require_tld=False, schemes={"http", "https"}, load_default=None)


class StatesSchema(_Strict):
    waiting = fields.List(fields.String(), load_default=lambda: list(DEFAULT_STATES["waiting"]))
    resolved = fields.List(fields.String(), load_default=lambda: list(DEFAULT_STATES["resolved"]))
    closed = fields.List(fields.String(), load_default=lambda: list(DEFAULT_STATES["closed"]))


def _names(value: Any) -> None:
    if isinstance(value, str) and value.strip():
        return
    if isinstance(value, Mapping) and set(value) <= set(LANGUAGES) and all(
            isinstance(v, str) and v.strip() for v in value.values()) and value:
        return
    raise ValidationError("a name, or names by language: {zh-CN: ..., en: ...}")


def _templates_dir(value: str) -> None:
    if not Path(value).is_dir():
        raise ValidationError(f"{value} is not a directory")


class CommunicationSchema(_Strict):
    acknowledgement = fields.Boolean(load_default=True)
    desk_name = fields.Raw(load_default=lambda: {"zh-CN": "IT 服务台", "en": "IT Service Desk"},
                           validate=_names)
    reply_to = fields.Email(load_default=None)        # the desk's mailbox: replies land in the ticket
    portal_url = fields.Url(require_tld=False, schemes={"http", "https"}, load_default=None)
    templates_dir = fields.String(load_default=None, validate=_templates_dir)
    # Working minutes to the first response, by suggested priority (DOMAIN.md: urgent or
    # major within 1 hour, general within 1 working day).
    commitments = fields.Dict(keys=fields.String(validate=validate.OneOf(PRIORITIES)),
                              values=fields.Integer(validate=validate.Range(min=1)), load_default=dict)
    notices = fields.Dict(keys=fields.String(validate=validate.OneOf(sorted(NOTICES))),
                          values=fields.List(fields.String()), load_default=dict)
    channels = fields.Nested(ChannelsSchema, load_default=lambda: ChannelsSchema().load({}))
    followup = fields.Nested(FollowupSchema, load_default=lambda: FollowupSchema().load({}))
    survey = fields.Nested(SurveySchema, load_default=lambda: SurveySchema().load({}))
    states = fields.Nested(StatesSchema, load_default=lambda: StatesSchema().load({}))

    @validates_schema
    def _known_audiences(self, data, **_):
        for notice, audiences in (data.get("notices") or {}).items():
            wrong = sorted(set(audiences) - set(NOTICES.get(notice, ())))
            if wrong:
                raise ValidationError(f"{notice}: no template for audience(s) {', '.join(wrong)}; "
                                      f"known: {', '.join(NOTICES[notice])}", "notices")


DEFAULT_COMMITMENTS = {"P4": 60, "P3": 480, "P2": 480, "P1": 480}


@dataclass(frozen=True)
class Communication:
    """The section as the step reads it."""

    acknowledgement: bool = True
    desk_name: Mapping[str, str] = field(default_factory=dict)
    reply_to: str | None = None
    portal_url: str | None = None
    templates_dir: str | None = None
    commitments: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_COMMITMENTS))
    audiences: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_AUDIENCES))
    preferences: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    level_channels: Mapping[str, str] = field(default_factory=dict)
    followup_hours: float = 8.0
    followup_max: int = 2
    survey_enabled: bool = True
    survey_days: int = 14
    survey_base_url: str | None = None
    states: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def desk(self, language: str) -> str:
        return self.desk_name.get(language) or next(iter(self.desk_name.values()))

    def state_kind(self, state: str | None) -> str:
        """waiting | resolved | closed | open: what a platform state means for the notices."""
        low = (state or "").strip().lower()
        return next((kind for kind, names in self.states.items() if low in names), "open")


def of(settings: Any) -> Communication:
    """The validated section (or every default) as a Communication."""
    raw = (getattr(settings, "file", None) or {}).get("communication")
    data = raw if raw is not None else CommunicationSchema().load({})
    names = data["desk_name"]
    return Communication(
        acknowledgement=data["acknowledgement"],
        desk_name={lang: names for lang in LANGUAGES} if isinstance(names, str) else dict(names),
        reply_to=data["reply_to"], portal_url=data["portal_url"], templates_dir=data["templates_dir"],
        commitments={**DEFAULT_COMMITMENTS, **data["commitments"]},
        audiences={**DEFAULT_AUDIENCES, **{k: tuple(v) for k, v in data["notices"].items()}},
        preferences={k.lower(): v for k, v in data["channels"]["requesters"].items()},
        level_channels=dict(data["channels"]["level_defaults"]),
        followup_hours=data["followup"]["after_working_hours"], followup_max=data["followup"]["max_attempts"],
        survey_enabled=data["survey"]["enabled"], survey_days=data["survey"]["expire_days"],
        survey_base_url=data["survey"]["base_url"],
        states={k: frozenset(s.strip().lower() for s in v) for k, v in data["states"].items()})
