"""Marshmallow fields of the catalog: bilingual names and admin-readable rule terms."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, fields

from .items import Names, Term
from .rules import compile_keyword

__all__ = ["Names", "NamesField", "TermsField"]


class NamesField(fields.Field):
    """{zh, en}; a plain string means the same text in both (only where allowed)."""

    def __init__(self, *, allow_plain: bool = False, **kw):
        super().__init__(**kw)
        self.allow_plain = allow_plain

    def _deserialize(self, value, attr, data, **kw):
        if isinstance(value, str) and self.allow_plain and value.strip():
            return Names(value.strip(), value.strip())
        if not isinstance(value, Mapping):
            raise ValidationError("must be a mapping {zh: ..., en: ...}"
                                  + (" or a text" if self.allow_plain else ""))
        unknown = set(value) - {"zh", "en"}
        if unknown:
            raise ValidationError(f"unknown language key(s): {', '.join(sorted(map(str, unknown)))}")
        bad = [k for k in ("zh", "en") if not isinstance(value.get(k), str) or not value[k].strip()]
        if bad:
            raise ValidationError(f"missing or empty text for: {', '.join(bad)}")
        return Names(value["zh"].strip(), value["en"].strip())


class TermsField(fields.Field):
    """A list of terms: "text" (weight 1) or {term|pattern: text, weight: w}."""

    def __init__(self, *, regex: bool = False, **kw):
        super().__init__(**kw)
        self.regex = regex

    def _deserialize(self, value, attr, data, **kw):
        if not isinstance(value, list):
            raise ValidationError("must be a list")
        return tuple(self._one(i, v) for i, v in enumerate(value))

    def _one(self, i: int, value: Any) -> Term:
        key = "pattern" if self.regex else "term"
        weight: Any = 1.0
        if isinstance(value, Mapping):
            weight = value.get("weight", 1.0)
            value = value.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(f"entry {i}: must be a text or {{{key}: text, weight: number}}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight <= 10:
            raise ValidationError(f"entry {i} ({value!r}): weight must be a number in (0, 10]")
        if self.regex:
            try:
                return Term(value, float(weight), re.compile(value, re.IGNORECASE))
            except re.error as exc:
                raise ValidationError(f"entry {i} ({value!r}): not a valid regex: {exc}") from None
        return compile_keyword(value, float(weight))
