"""Runs the steps in order and turns their findings into a WritePlan.

Steps are pure: Ticket + StepContext in, Findings out. The plan is desired state
minus current state, so an unchanged ticket or a replayed delivery plans nothing.
"""
from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .classifiers import quality
from .errors import SettingsError
from .hooks.base import CurrentState
from .models import Findings, StepContext, Ticket, WritePlan

Step = Callable[[Ticket, StepContext], Findings]

NOTE_HEADER = "desk-enricher"


def _registry() -> dict[str, Step]:
    steps: dict[str, Step] = {quality.STEP: quality.check}
    try:
        from .classifiers import catalog
    except ImportError:   # classification is optional only while it is being installed
        return steps
    steps[catalog.STEP] = catalog.classify
    return steps


STEPS: dict[str, Step] = _registry()


def resolve(names: Iterable[str]) -> list[tuple[str, Step]]:
    unknown = [n for n in names if n not in STEPS]
    if unknown:
        raise SettingsError(f"unknown pipeline step(s): {', '.join(unknown)}; "
                            f"known: {', '.join(sorted(STEPS))}")
    return [(n, STEPS[n]) for n in names]


def run(ticket: Ticket, ctx: StepContext, steps: list[tuple[str, Step]]) -> list[Findings]:
    return [step(ticket, ctx) for _, step in steps]


def canon(value: Any) -> str:
    """Compare values the way the platform stores them (text, lower-case booleans)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def desired(findings: list[Findings], allowed_fields: Iterable[str],
            allowed_tags: Iterable[str] = ("*",)) -> tuple[dict, set, set]:
    allowed = set(allowed_fields)
    tag_patterns = list(allowed_tags)
    fields: dict[str, Any] = {}
    tags: set[str] = set()
    remove: set[str] = set()
    for f in findings:
        undeclared = set(f.fields) - allowed
        if undeclared:
            raise SettingsError(f"step {f.step} writes field(s) not declared in manifest.json: "
                                f"{', '.join(sorted(undeclared))}")
        stray = {t for t in f.tags if not any(fnmatch.fnmatchcase(t, p) for p in tag_patterns)}
        if stray:
            raise SettingsError(f"step {f.step} writes tag(s) not declared in manifest.json: "
                                f"{', '.join(sorted(stray))}")
        fields.update(f.fields)
        tags |= set(f.tags)
        remove |= set(f.remove_tags)
    return fields, tags, remove - tags


def plan(ticket_id: str, current: CurrentState, findings: list[Findings],
         allowed_fields: Iterable[str], allowed_tags: Iterable[str] = ("*",)) -> WritePlan:
    fields, tags, remove = desired(findings, allowed_fields, allowed_tags)
    changed = {k: v for k, v in fields.items() if canon(current.fields.get(k)) != canon(v)}
    have = {t.lower() for t in current.tags}
    add = sorted(t for t in tags if t.lower() not in have)
    drop = sorted(t for t in current.tags if t.lower() in {r.lower() for r in remove})
    add_set = {t.lower() for t in add}
    changing = [f for f in findings if set(f.fields) & set(changed)
                or {t.lower() for t in f.tags} & add_set]
    note = render_note(changing) if changed else None
    if note is not None and note in current.notes:
        note = None   # an earlier try's write landed after it timed out: never say it twice
    return WritePlan(ticket_id=ticket_id, fields=changed, add_tags=tuple(add),
                     remove_tags=tuple(drop), note=note)


def render_note(findings: list[Findings]) -> str:
    lines = [line for f in findings for line in f.note]
    return "\n".join([f"[{NOTE_HEADER}]", *lines]) if lines else f"[{NOTE_HEADER}]"


def facts_of(findings: list[Findings]) -> Mapping[str, Mapping[str, Any]]:
    return {f.step: dict(f.facts) for f in findings}
