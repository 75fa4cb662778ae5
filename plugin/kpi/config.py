"""The settings file's `kpi:` section: the response limit, resolution targets per
priority, when an SLA counts as at risk, which states mean "registered" (待受理).

Working hours, holidays and the time zone are the `calendar:` section's (plugin.workcal):
one calendar for every clock the desk keeps.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import RAISE, Schema, fields, post_load, validate

# Working minutes to resolve, by the plugin's suggested priority (P4 urgent .. P1 low):
# urgent within half a working day, high within one, normal three, low five (5x8).
DEFAULT_TARGETS = {"P4": 240.0, "P3": 480.0, "P2": 1440.0, "P1": 2400.0, "default": 1440.0}
# State names (case-insensitive) in which a query waits to be accepted (待受理). Jira's
# are the JSM template's "new" category; the platforms' other states mean accepted.
DEFAULT_REGISTERED = {"zammad": ("new",),
                      "jira": ("open", "to do", "new", "waiting for support")}
LEVELS = ("5x8", "7x24", "none")


@dataclass(frozen=True)
class KpiSettings:
    response_limit_minutes: float = 5.0
    resolution_minutes: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    at_risk_share: float = 0.8
    registered_states: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_REGISTERED))
    default_service_level: str = "5x8"       # for tickets with no catalog item (triage)

    def target(self, priority: str | None) -> float:
        return self.resolution_minutes.get(priority or "", self.resolution_minutes["default"])

    def registered(self, platform: str) -> frozenset[str]:
        return frozenset(s.lower() for s in self.registered_states.get(platform, ("new",)))


_MINUTES = validate.Range(min=0, min_inclusive=False, max=525_600)   # up to a year


class KpiSchema(Schema):
    class Meta:
        unknown = RAISE

    response_limit_minutes = fields.Float(load_default=5.0, validate=_MINUTES)
    resolution_minutes = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=40)),
                                     values=fields.Float(validate=_MINUTES), load_default=dict)
    at_risk_share = fields.Float(load_default=0.8, validate=validate.Range(
        min=0, max=1, min_inclusive=False, max_inclusive=False))
    registered_states = fields.Dict(keys=fields.String(validate=validate.OneOf(["zammad", "jira"])),
                                    values=fields.List(fields.String(validate=validate.Length(min=1)),
                                                       validate=validate.Length(min=1)),
                                    load_default=dict)
    default_service_level = fields.String(load_default="5x8", validate=validate.OneOf(LEVELS))

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> KpiSettings:
        # A desk names only the targets it changes; the rest keep their defaults.
        targets = {**DEFAULT_TARGETS, **data.pop("resolution_minutes")}
        states = {**DEFAULT_REGISTERED, **{k: tuple(v) for k, v in data.pop("registered_states").items()}}
        return KpiSettings(resolution_minutes=targets, registered_states=states, **data)


DEFAULTS = KpiSettings()


def kpi_settings(settings: Any) -> KpiSettings:
    """`settings.file["kpi"]` (validated at start-up by plugin.settings), else the defaults."""
    found = (getattr(settings, "file", None) or {}).get("kpi") if settings is not None else None
    return found if isinstance(found, KpiSettings) else DEFAULTS
