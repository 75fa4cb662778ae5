"""Runs the steps in order and turns their findings into a WritePlan and intents.

Steps are pure: Ticket + StepContext in, Findings out; each sees the findings of
the steps before it. The plan is desired state minus current state, so an
unchanged ticket or a replayed delivery plans nothing.
"""
from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from .errors import SettingsError
from .hooks.base import CurrentState
from .hooks.markup import marker
from .models import NOTE_HEADER, Article, Findings, Intent, Link, StepContext, Ticket, WritePlan, canon
from .steps import STEPS, StepSpec


def resolve(names: Iterable[str]) -> list[StepSpec]:
    """The steps by name, in order; unknown names and broken dependencies stop start-up."""
    names = list(names)
    unknown = [n for n in names if n not in STEPS]
    if unknown:
        raise SettingsError(f"unknown pipeline step(s): {', '.join(unknown)}; "
                            f"known: {', '.join(sorted(STEPS))}")
    problems = []
    for i, name in enumerate(names):
        for need in STEPS[name].needs:
            if need not in names[:i]:
                where = "comes after it" if need in names else "is not in the pipeline"
                problems.append(f"step {name} needs {need}, which {where}")
    if problems:
        raise SettingsError("pipeline order: " + "; ".join(problems) + f" (order given: {', '.join(names)})",
                            key="bad_pipeline")
    return [STEPS[n] for n in names]


def needs_history(steps: Iterable[StepSpec]) -> bool:
    return any(s.history for s in steps)


def run(ticket: Ticket, ctx: StepContext, steps: list[StepSpec]) -> list[Findings]:
    found: dict[str, Findings] = {}
    out = []
    for spec in steps:
        result = spec.run(ticket, replace(ctx, found=dict(found)))
        found[spec.name] = result
        out.append(result)
    return out


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
         allowed_fields: Iterable[str], allowed_tags: Iterable[str] = ("*",), *,
         previous: Mapping[str, Any] | None = None, articles: Iterable[Article] = (),
         note_marker: str | None = None) -> WritePlan:
    """`previous` is what the ledger says the plugin last wrote: a step whose fields
    differ from it still speaks in the note when the fields already landed (a retry
    after the fields write succeeded and the note's did not), so no note is lost.
    `note_marker` (one per delivery) ends the note, so a retry of the same delivery
    finds it even when its findings read differently the second time."""
    fields, tags, remove = desired(findings, allowed_fields, allowed_tags)
    changed = {k: v for k, v in fields.items() if canon(current.fields.get(k)) != canon(v)}
    unsettled = set(changed) | ({k for k, v in fields.items() if canon(previous.get(k)) != canon(v)}
                                if previous is not None else set())
    have = {t.lower() for t in current.tags}
    add = sorted(t for t in tags if t.lower() not in have)
    drop = sorted(t for t in current.tags if t.lower() in {r.lower() for r in remove})
    add_set = {t.lower() for t in add}
    speaking = [f for f in findings if set(f.fields) & unsettled or {t.lower() for t in f.tags} & add_set]
    # A note only says something: fields that change without a line to explain them (KPI
    # minutes as time passes) make no note of their own. A step that writes nothing but
    # lines (knowledge suggestions) rides along in a note that is written anyway.
    note = render_note([f for f in findings if f in speaking or (f.note and not f.fields and not f.tags)]) \
        if unsettled and any(f.note for f in speaking) else None
    if note is not None and note_marker:
        note = f"{note}\nRef {note_marker}"
    if note is not None and (note in current.notes or (note_marker and note_marker in current.markers)):
        note = None   # an earlier try's write landed (it timed out, or the worker died): never twice
    pending = tuple(a for a in articles if a.marker not in current.markers)
    return WritePlan(ticket_id=ticket_id, fields=changed, add_tags=tuple(add),
                     remove_tags=tuple(drop), note=note, articles=pending,
                     links=links_to_add(ticket_id, current, findings))


def links_to_add(ticket_id: str, current: CurrentState, findings: list[Findings]) -> tuple[Link, ...]:
    """Links the findings ask for, minus those on the platform already (either side
    may have made them), one per other ticket, never to itself."""
    have = {str(x) for x in current.links} | {str(ticket_id)}
    wanted: dict[str, Link] = {}
    for f in findings:
        for link in f.links:
            if str(link.other_id) not in have:
                wanted.setdefault(str(link.other_id), link)
    return tuple(wanted.values())


def owners(findings: list[Findings], fields: Mapping[str, Any]) -> dict[str, str]:
    """Which step wrote each field of `fields` (the last one, as `desired` merges them): a
    correction is a correction of that step's work (a verification policy's group is no
    misclassification)."""
    out: dict[str, str] = {}
    for f in findings:
        out.update({name: f.step for name in f.fields if name in fields})
    return out


def render_note(findings: list[Findings]) -> str:
    lines = [line for f in findings for line in f.note]
    return "\n".join([f"[{NOTE_HEADER}]", *lines]) if lines else f"[{NOTE_HEADER}]"


def intents_of(findings: list[Findings]) -> list[Intent]:
    return [i for f in findings for i in f.intents]


def articles_for(platform: str, ticket_id: str, intents: Iterable[Intent],
                 done: Iterable[str] = ()) -> list[Article]:
    """The ticket-channel intents not yet carried out, as articles for the write plan."""
    finished = set(done)
    out = []
    for intent in intents:
        key = intent.key(platform, ticket_id)
        if intent.channel != "ticket" or key in finished:
            continue
        out.append(Article(key=key, marker=marker(key), body=intent.body,
                           public=intent.public, title=intent.title))
    return out


def facts_of(findings: list[Findings]) -> Mapping[str, Mapping[str, Any]]:
    return {f.step: dict(f.facts) for f in findings}
