"""The catalog's value types, shared by the rules, the catalog schema, the value stream
and the step: a module they all import, so none of them imports another for a type."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

STEP = "classification"


@dataclass(frozen=True)
class Names:
    """A text in both catalog languages."""

    zh: str
    en: str

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.zh


@dataclass(frozen=True)
class Term:
    """One rule: a keyword (substring for CJK, word match for ASCII) or a regex."""

    text: str                 # as the admin wrote it (shown in the reason line)
    weight: float
    regex: re.Pattern | None  # None: substring match of `key` in lower-cased text
    key: str = ""
    anchor: str = ""          # a literal the text must contain before the regex is tried
    lower: bool = False       # the regex is lower-case and runs on lower-cased text


@dataclass(frozen=True)
class SelfHelp:
    title: Names
    url: str


@dataclass(frozen=True)
class CatalogItem:
    id: str
    category: Names
    service: Names
    item: Names
    value_stream: str
    keywords: tuple[Term, ...] = ()
    patterns: tuple[Term, ...] = ()
    examples: tuple[str, ...] = ()
    object_class: Names | None = None
    channels: tuple[str, ...] = ()
    mode: Names | None = None
    service_level: str = "5x8"
    default_group: Names | None = None
    self_help: tuple[SelfHelp, ...] = ()
    protected: bool = False
    third_party: Names | None = None   # who is responsible instead of the desk (900.2 scope)

    def path(self, language: str = "zh-CN") -> str:
        """What the plugin writes: "category/service/item" in the catalog language."""
        return "/".join(n.get(language) for n in (self.category, self.service, self.item))

    def paths(self) -> set[str]:
        return {self.path("zh-CN"), self.path("en")}

    def group(self, language: str = "zh-CN") -> str | None:
        return self.default_group.get(language) if self.default_group else None


@dataclass(frozen=True)
class Decision:
    """What the step concluded from the rules and the model, and why."""

    item: CatalogItem | None          # None: below the threshold, human triage
    best: CatalogItem | None          # the best guess, whether sure or not
    confidence: float
    terms: tuple[str, ...] = ()
    model_p: float | None = None
    model_info: Mapping[str, Any] = field(default_factory=dict)
    runner_up: tuple[CatalogItem, float] | None = None   # the second item and its confidence
    rule_items: tuple[tuple[str, tuple[str, ...]], ...] = ()   # (item id, words) per matched item


def find_item(catalog: Iterable[CatalogItem], value: Any) -> CatalogItem | None:
    """The item a stored value names: its id or its path in either language."""
    if not value:
        return None
    text = str(value).strip()
    for item in catalog:
        if text == item.id or text in item.paths():
            return item
    return None
