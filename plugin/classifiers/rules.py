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
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from .items import CatalogItem, Term

_ASCII = re.compile(r"^[\x00-\x7f]+$")
_SEP = re.compile(r"[\s\-_/]+")


@lru_cache(maxsize=32)   # one ticket's text is folded once, however many word lists look at it
def fold(text: str) -> str:
    """Full-width to half-width (NFKC), runs of spaces to one; case kept for display."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or ""))


def normalise(text: str) -> str:
    return fold(text).lower()


@lru_cache(maxsize=4096)
def compile_keyword(text: str, weight: float = 1.0) -> Term:
    term = normalise(text).strip()
    words = [w for w in _SEP.split(term.rstrip("*")) if w]
    if not _ASCII.match(term) or not words:
        return Term(fold(text).strip(), weight, None, key=term)
    first, rest = re.escape(words[0]), "".join(r"[\s\-_/]*" + re.escape(w) for w in words[1:])
    end = r"[a-z0-9]*" if term.endswith("*") else ""
    # The literal comes first so that re can skip ahead to it; the boundary before it is a
    # lookbehind placed after it. Matched against lower-cased text.
    regex = re.compile(rf"{first}(?<![a-z0-9]{first}){rest}{end}(?![a-z0-9])")
    return Term(text.strip(), weight, regex, anchor=max(words, key=len), lower=True)


@lru_cache(maxsize=32)
def _lower(folded: str) -> str:
    return folded.lower()


def term_hits(terms: Iterable[Term], folded: str) -> list[tuple[str, float]]:
    """(what matched, weight) for each term found in `fold`ed text, each term at most once.

    A word rule is shown by the text it matched, so "install*" reads "installed"."""
    lower = _lower(folded)
    same = len(lower) == len(folded)
    hits = []
    for t in terms:
        if t.regex is None:
            if t.key in lower:
                hits.append((t.text, t.weight))
        elif t.lower:
            if t.anchor in lower and (found := t.regex.search(lower)):
                shown = folded[found.start():found.end()] if same else found.group(0)
                hits.append((shown.strip(), t.weight))
        elif found := t.regex.search(folded):
            hits.append((found.group(0).strip(), t.weight))
    return hits


def word_hits(words: Iterable[str], text: str) -> list[str]:
    """Plain word lists (urgency, complaint ...) matched like keywords."""
    return [shown for shown, _ in term_hits(_compiled(tuple(words)), fold(text))]


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
    folded = fold(text)
    out = []
    for item in catalog:
        hits = term_hits(item.keywords + item.patterns, folded)
        if hits:
            out.append(RuleMatch(item, sum(w for _, w in hits), tuple(t for t, _ in hits)))
    out.sort(key=lambda m: -m.score)
    return out


def rule_distribution(matches: list[RuleMatch], smoothing: float) -> dict[str, float]:
    """score / (total + smoothing): a share that stays below 1 unless evidence is strong.

    One keyword of weight 1 alone gives 0.5 with the default smoothing of 1 - too
    little to act on at the default threshold of 0.6; two agreeing keywords give 0.67.
    """
    total = sum(m.score for m in matches)
    return {m.item.id: m.score / (total + smoothing) for m in matches}
