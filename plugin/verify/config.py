"""`verification:` in the settings file, validated at start-up (plugin.settings nests
VerificationSchema in the file's schema); a bad value stops start-up with a line
naming the key, e.g. "verification.entitlements.0.valid_to: must not be before valid_from".
The README's settings reference documents every key with a worked example."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from ..classifiers.catalog import SERVICE_LEVELS
from ..classifiers.catalog_fields import Names, NamesField
from ..errors import SettingsError

STATUSES = ("verified", "unverified", "not_entitled", "out_of_scope", "identity_check_required")
KINDS = ("password", "account", "permission", "personal_data", "money")
LINK_KINDS = ("related", "duplicate", "none")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9-]+\.)+[a-z0-9-]+$")


@dataclass(frozen=True)
class Entitlement:
    """One row of the entitlement table: who (organizations, domains, requester groups)
    may ask for which services (catalog item ids or globs on id or path), at which
    service level, from when to when (dates inclusive; open when not given)."""

    name: str
    services: tuple[str, ...]
    organizations: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    service_level: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True)
class Policy:
    group: str | None = None          # suggested group (enrich_group) for tickets of this status


@dataclass(frozen=True)
class VerificationSettings:
    language: str = "auto"            # auto: the ticket's own (Chinese text -> zh-CN, else en)
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    org_domains: Mapping[str, tuple[str, ...]] = field(default_factory=dict)   # org name (lower) -> domains
    require_organization: bool = True
    check_display_name: bool = True
    requester_groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    entitlements: tuple[Entitlement, ...] = ()
    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=dict)      # kind -> extra words
    replace_keywords: bool = False
    checks: Mapping[str, Names] = field(default_factory=dict)                 # item glob or kind -> check
    repeat_window_hours: int = 72
    repeat_similarity: float = 0.6
    repeat_same_item: bool = True
    repeat_link: str = "related"
    repeat_max_links: int = 3
    policies: Mapping[str, Policy] = field(default_factory=dict)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def _domain(value: str) -> None:
    if not _DOMAIN.match(str(value).lower().lstrip("@")):
        raise ValidationError(f"{value!r} is not a domain like acme.example")


def _texts(**kw):
    return fields.List(fields.String(validate=validate.Length(min=1)), load_default=list, **kw)


class IdentitySchema(_Strict):
    aliases = fields.Dict(keys=fields.Email(), values=fields.List(fields.Email()), load_default=dict)
    org_domains = fields.Dict(keys=fields.String(validate=validate.Length(min=1)),
                              values=fields.List(fields.String(validate=_domain)), load_default=dict)
    require_organization = fields.Boolean(load_default=True)
    check_display_name = fields.Boolean(load_default=True)


class EntitlementSchema(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=1))
    organizations = _texts()
    domains = fields.List(fields.String(validate=_domain), load_default=list)
    groups = _texts()
    services = fields.List(fields.String(validate=validate.Length(min=1)), required=True,
                           validate=validate.Length(min=1))
    service_level = fields.String(load_default=None, validate=validate.OneOf(SERVICE_LEVELS))
    valid_from = fields.Date(load_default=None)
    valid_to = fields.Date(load_default=None)

    @validates_schema
    def _who_and_when(self, data, **kw):
        if not (data.get("organizations") or data.get("domains") or data.get("groups")):
            raise ValidationError("name at least one of organizations, domains, groups", "organizations")
        if data.get("valid_from") and data.get("valid_to") and data["valid_to"] < data["valid_from"]:
            raise ValidationError("must not be before valid_from", "valid_to")

    @post_load
    def make(self, data, **kw):
        return Entitlement(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


class ProtectedSchema(_Strict):
    keywords = fields.Dict(keys=fields.String(validate=validate.OneOf(KINDS)), values=_texts(),
                           load_default=dict)
    replace_keywords = fields.Boolean(load_default=False)
    checks = fields.Dict(keys=fields.String(validate=validate.Length(min=1)),
                         values=NamesField(allow_plain=True), load_default=dict)


class RepeatsSchema(_Strict):
    # The ledger view holds the requester's last 7 days (plugin/view.py): no longer window.
    window_hours = fields.Integer(load_default=72, validate=validate.Range(min=1, max=168))
    similarity = fields.Float(load_default=0.6, validate=validate.Range(min=0.3, max=1.0))
    same_item = fields.Boolean(load_default=True)
    link = fields.String(load_default="related", validate=validate.OneOf(LINK_KINDS))
    max_links = fields.Integer(load_default=3, validate=validate.Range(min=1, max=10))


class PolicySchema(_Strict):
    group = fields.String(load_default=None, validate=validate.Length(min=1))


# One key per status (not a free mapping): a misspelt status is named in the error.
PoliciesSchema = _Strict.from_dict({s: fields.Nested(PolicySchema, load_default=None) for s in STATUSES},
                                   name="PoliciesSchema")


def _nested(schema):
    return fields.Nested(schema, load_default=lambda: schema().load({}))


class VerificationSchema(_Strict):
    language = fields.String(load_default="auto", validate=validate.OneOf(["auto", "zh-CN", "en"]))
    identity = _nested(IdentitySchema)
    requester_groups = fields.Dict(keys=fields.String(validate=validate.Length(min=1)),
                                   values=fields.List(fields.Email()), load_default=dict)
    entitlements = fields.List(fields.Nested(EntitlementSchema), load_default=list)
    protected = _nested(ProtectedSchema)
    repeats = _nested(RepeatsSchema)
    policies = fields.Nested(PoliciesSchema, load_default=dict)

    @validates_schema
    def _groups_exist(self, data, **kw):
        known = set(data.get("requester_groups") or {})
        for i, row in enumerate(data.get("entitlements") or []):
            missing = [g for g in row.groups if g not in known]
            if missing:
                why = f"unknown requester group(s) {', '.join(missing)}: define them under requester_groups"
                raise ValidationError({"entitlements": {i: {"groups": [why]}}})

    @post_load
    def make(self, data, **kw):
        ident, prot, rep = data["identity"], data["protected"], data["repeats"]
        return VerificationSettings(
            language=data["language"],
            aliases={k.lower(): tuple(a.lower() for a in v) for k, v in ident["aliases"].items()},
            org_domains={k.strip().lower(): tuple(d.lower().lstrip("@") for d in v)
                         for k, v in ident["org_domains"].items()},
            require_organization=ident["require_organization"],
            check_display_name=ident["check_display_name"],
            requester_groups={k: tuple(a.lower() for a in v) for k, v in data["requester_groups"].items()},
            entitlements=tuple(data["entitlements"]),
            keywords={k: tuple(v) for k, v in prot["keywords"].items()},
            replace_keywords=prot["replace_keywords"], checks=dict(prot["checks"]),
            repeat_window_hours=rep["window_hours"], repeat_similarity=rep["similarity"],
            repeat_same_item=rep["same_item"], repeat_link=rep["link"], repeat_max_links=rep["max_links"],
            policies={k: Policy(**v) for k, v in data["policies"].items() if v})


def _flatten(messages: Any, prefix: str = "") -> list[str]:
    if isinstance(messages, Mapping):
        return [line for k, v in messages.items() for line in _flatten(v, f"{prefix}{k}.")]
    msgs = messages if isinstance(messages, list) else [messages]
    return [f"{prefix.rstrip('.')}: {m}" for m in msgs]


def load(section: Mapping[str, Any] | None) -> VerificationSettings:
    """Validate `verification:`; SettingsError names every bad key."""
    try:
        return VerificationSchema().load(dict(section or {}))
    except ValidationError as exc:
        raise SettingsError("verification: " + "; ".join(_flatten(exc.messages))) from None


_DEFAULT: list[VerificationSettings] = []


def settings_of(settings: Any) -> VerificationSettings:
    """The step's settings: given directly (tests), or `settings.file["verification"]`,
    which plugin.settings validates at start-up; defaults when there is neither."""
    if isinstance(settings, VerificationSettings):
        return settings
    found = (getattr(settings, "file", None) or {}).get("verification") if settings is not None else None
    if isinstance(found, VerificationSettings):
        return found
    if not _DEFAULT:
        _DEFAULT.append(VerificationSettings())
    return _DEFAULT[0]
