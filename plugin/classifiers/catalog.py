"""The service catalog (问询分类) and the classification settings.

A desk describes its catalog as data: category / service / item names in zh and en,
keywords and patterns an admin can read, the item's default value stream, service
level and group. `load_catalog` validates that data and names the bad item and field;
`default_catalog` is DOMAIN.md's example catalog from `default_catalog.yaml`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate

from ..errors import SettingsError
from .catalog_fields import NamesField, TermsField
from .items import STEP, CatalogItem, Names, SelfHelp, Term, find_item

# The catalog's types live in items.py (shared with rules, value stream and step, so that
# none imports another for a type); they are named here too, where callers look for them.
__all__ = ["DEFAULT_FILE", "LANGUAGES", "SERVICE_LEVELS", "STEP", "TRIAGE_GROUP", "CatalogItem",
           "ClassificationSettings", "Names", "SelfHelp", "default_catalog", "find_item",
           "load_catalog", "load_settings"]

LANGUAGES = ("zh-CN", "en")
SERVICE_LEVELS = ("5x8", "7x24", "by meeting time", "-")
ITEM_STREAMS = ("incident", "service_request", "consultation")
DEFAULT_FILE = Path(__file__).with_name("default_catalog.yaml")
TRIAGE_GROUP = {"zh-CN": "一线服务台", "en": "Service Desk triage"}


# --- schema ---------------------------------------------------------------------

class KeywordsSchema(Schema):
    class Meta:
        unknown = RAISE

    zh = TermsField(load_default=())
    en = TermsField(load_default=())


class SelfHelpSchema(Schema):
    class Meta:
        unknown = RAISE

    title = NamesField(allow_plain=True, required=True)
    url = fields.String(required=True, validate=validate.Regexp(
        r"^(https?://|/)\S+$", error="must be an http(s) URL or a path starting with /"))

    @post_load
    def make(self, data, **kw):
        return SelfHelp(**data)


class CatalogItemSchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", error="must be letters, digits, '.', '_' or '-'"))
    category = NamesField(required=True)
    service = NamesField(required=True)
    item = NamesField(required=True)
    keywords = fields.Nested(KeywordsSchema, load_default=lambda: {"zh": (), "en": ()})
    patterns = TermsField(regex=True, load_default=())
    examples = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list)
    object_class = NamesField(allow_plain=True, load_default=None)
    channels = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list)
    mode = NamesField(allow_plain=True, load_default=None)
    service_level = fields.String(load_default="5x8", validate=validate.OneOf(SERVICE_LEVELS))
    default_group = NamesField(allow_plain=True, load_default=None)
    value_stream = fields.String(required=True, validate=validate.OneOf(ITEM_STREAMS))
    self_help = fields.List(fields.Nested(SelfHelpSchema), load_default=list)
    protected = fields.Boolean(load_default=False)
    third_party = NamesField(allow_plain=True, load_default=None)

    @post_load
    def make(self, data, **kw):
        kws = data.pop("keywords")
        return CatalogItem(keywords=_dedupe(kws["zh"] + kws["en"]),
                           examples=tuple(data.pop("examples")),
                           channels=tuple(data.pop("channels")),
                           self_help=tuple(data.pop("self_help")), **data)


def _dedupe(terms: tuple[Term, ...]) -> tuple[Term, ...]:
    """A term listed under both languages counts once, with its larger weight."""
    best: dict[str, Term] = {}
    for t in terms:
        key = t.text.lower()
        if key not in best or t.weight > best[key].weight:
            best[key] = t
    return tuple(best.values())


def _flatten(messages: Any, prefix: str = "") -> list[str]:
    if isinstance(messages, Mapping):
        return [line for k, v in messages.items() for line in _flatten(v, f"{prefix}{k}.")]
    msgs = messages if isinstance(messages, list) else [messages]
    return [f"{prefix.rstrip('.')}: {m}" for m in msgs]


def load_catalog(data: Any) -> tuple[CatalogItem, ...]:
    """Validate a catalog (a list of item mappings); SettingsError names item and field."""
    if not isinstance(data, list) or not data:
        raise SettingsError("catalog: must be a non-empty list of items")
    items: list[CatalogItem] = []
    seen: set[str] = set()
    for i, raw in enumerate(data):
        name = f"catalog item {i}"
        if isinstance(raw, Mapping) and isinstance(raw.get("id"), str):
            name += f" ({raw['id']})"
        if not isinstance(raw, Mapping):
            raise SettingsError(f"{name}: must be a mapping")
        try:
            item = CatalogItemSchema().load(raw)
        except ValidationError as exc:
            raise SettingsError(f"{name}: " + "; ".join(_flatten(exc.messages))) from None
        if item.id in seen:
            raise SettingsError(f"{name}: id: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    return tuple(items)


@lru_cache(maxsize=1)
def default_catalog() -> tuple[CatalogItem, ...]:
    """DOMAIN.md's default catalog (11 items), validated like any desk's own."""
    with DEFAULT_FILE.open(encoding="utf-8") as fh:
        return load_catalog(yaml.safe_load(fh))


# --- settings -------------------------------------------------------------------

@dataclass(frozen=True)
class ClassificationSettings:
    """`settings.classification`. Word lists left None use value_stream's built-in lists."""

    catalog: tuple[CatalogItem, ...] = field(default_factory=default_catalog)
    language: str = "zh-CN"
    confidence_threshold: float = 0.6
    triage_group: str = ""               # "" -> TRIAGE_GROUP[language]
    model_path: str | None = None
    use_default_model: bool = True      # the shipped model, on the default catalog only
    model_weight: float = 0.5            # share of the model when rules matched as well
    rule_smoothing: float = 1.0          # evidence a rule score must outweigh to be sure
    vip_priority_boost: int = 1
    major_event_threshold: int = 5
    major_event_window_minutes: int = 30
    urgency_words: tuple[str, ...] | None = None
    impact_words: tuple[str, ...] | None = None
    complaint_words: tuple[str, ...] | None = None
    formal_complaint_words: tuple[str, ...] | None = None
    major_event_words: tuple[str, ...] | None = None

    def __post_init__(self):
        if not self.triage_group:
            object.__setattr__(self, "triage_group", TRIAGE_GROUP.get(self.language, TRIAGE_GROUP["en"]))


class CatalogField(fields.Field):
    def _deserialize(self, value, attr, data, **kw):
        try:
            return load_catalog(value)
        except SettingsError as exc:
            raise ValidationError(exc.message) from None


def _words(**kw):
    return fields.List(fields.String(validate=validate.Length(min=1)), load_default=None, **kw)


class ClassificationSettingsSchema(Schema):
    class Meta:
        unknown = RAISE

    catalog = CatalogField(load_default=None)
    language = fields.String(load_default="zh-CN", validate=validate.OneOf(LANGUAGES))
    confidence_threshold = fields.Float(load_default=0.6, validate=validate.Range(min=0, max=1))
    triage_group = fields.String(load_default="")
    model_path = fields.String(load_default=None)
    use_default_model = fields.Boolean(load_default=True)
    model_weight = fields.Float(load_default=0.5, validate=validate.Range(min=0, max=1))
    rule_smoothing = fields.Float(load_default=1.0, validate=validate.Range(min=0.01, max=100))
    vip_priority_boost = fields.Integer(load_default=1, validate=validate.Range(min=0, max=3))
    major_event_threshold = fields.Integer(load_default=5, validate=validate.Range(min=2))
    major_event_window_minutes = fields.Integer(load_default=30, validate=validate.Range(min=1))
    urgency_words = _words()
    impact_words = _words()
    complaint_words = _words()
    formal_complaint_words = _words()
    major_event_words = _words()

    @post_load
    def make(self, data, **kw):
        if data["catalog"] is None:
            data["catalog"] = default_catalog()
        for key, value in data.items():
            if isinstance(value, list):
                data[key] = tuple(value)
        return ClassificationSettings(**data)


def load_settings(data: Mapping[str, Any] | None) -> ClassificationSettings:
    """Validate `classification:` settings; SettingsError lists every bad field."""
    try:
        return ClassificationSettingsSchema().load(dict(data or {}))
    except ValidationError as exc:
        raise SettingsError("classification: " + "; ".join(_flatten(exc.messages))) from None

