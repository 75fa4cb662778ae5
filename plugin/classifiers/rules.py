"""Keyword and pattern rules an admin can read.

Chinese has no spaces between words, so a keyword with any non-ASCII character
matches as a substring of the normalised text. An all-ASCII keyword ("VPN",
"blue screen", "install*") matches case-insensitively on word boundaries; the
boundaries are ASCII letters and digits only, so "VPN连不上" still matches "VPN".
A trailing `*` allows any word ending ("install*" = install, installs, installing).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from .catalog import CatalogItem, Term

_ASCII = re.compile(r"^[\x00-\x7f]+$")
_SEP = re.compile(r"[\s\-_/]+")


def normalise(text: str) -> str:
    """Full-width to half-width (NFKC), lower case, runs of spaces to one."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "")).lower()


@lru_cache(maxsize=4096)
def compile_keyword(text: str, weight: float = 1.0) -> Term:
    term = normalise(text).strip()
    if not _ASCII.match(term):
        return Term(term, weight, None)
    prefix = term.endswith("*")
    words = [re.escape(w) for w in _SEP.split(term.rstrip("*")) if w]
    body = r"[\s\-_/]*".join(words) + (r"[a-z0-9]*" if prefix else "")
    return Term(text.strip(), weight, re.compile(rf"(?<![a-z0-9]){body}(?![a-z0-9])"))


def term_hits(terms: Iterable[Term], text: str) -> list[Term]:
    """The terms found in already-normalised text, each at most once."""
    return [t for t in terms if (t.text in text if t.regex is None else t.regex.search(text))]


def word_hits(words: Iterable[str], text: str) -> list[str]:
    """Plain word lists (urgency, complaint ...) matched like keywords."""
    return [t.text for t in term_hits(_compiled(tuple(words)), normalise(text))]


@lru_cache(maxsize=64)
def _compiled(words: tuple[str, ...]) -> tuple[Term, ...]:
    return tuple(compile_keyword(w) for w in words)


@dataclass(frozen=True)
class RuleMatch:
    item: CatalogItem
    score: float
    terms: tuple[str, ...]


def match(text: str, catalog: Iterable[CatalogItem]) -> list[RuleMatch]:
    """Items whose keywords or patterns occur in the text, best first."""
    norm = normalise(text)
    out = []
    for item in catalog:
        hits = term_hits(item.keywords, norm) + [p for p in item.patterns if p.regex.search(norm)]
        if hits:
            out.append(RuleMatch(item, sum(h.weight for h in hits), tuple(h.text for h in hits)))
    out.sort(key=lambda m: -m.score)
    return out


def rule_distribution(matches: list[RuleMatch], smoothing: float) -> dict[str, float]:
    """score / (total + smoothing): a share that stays below 1 unless evidence is strong.

    One keyword of weight 1 alone gives 0.5 with the default smoothing of 1 - too
    little to act on at the default threshold of 0.6; two agreeing keywords give 0.67.
    """
    total = sum(m.score for m in matches)
    return {m.item.id: m.score / (total + smoothing) for m in matches}
