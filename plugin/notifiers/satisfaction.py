"""The requester's verdict on the ticket (DOMAIN.md user feedback codes), from the
ledger's survey_votes row to what the ticket carries: the field
`enrich_satisfaction` (1/2/3), one tag `enrich:csat-<code>`, a line in the
internal note with the comment, and for 不满意 an alert to the desk manager.

The feedback page only records the vote; this runs in the worker, so the ticket is
written through the same write plan (desired minus current) as everything else.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .context import VOTES, vote_info
from .lifecycle import Notice

FIELD = "enrich_satisfaction"
TAGS = {code: f"enrich:csat-{code}" for code in VOTES}
COMMENT_CHARS = 500


@dataclass(frozen=True)
class Verdict:
    fields: Mapping[str, Any] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    remove: frozenset[str] = frozenset()
    note: tuple[str, ...] = ()
    notices: tuple[Notice, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)


def verdict(vote: Mapping[str, Any]) -> Verdict:
    if not vote or int(vote.get("code") or 0) not in VOTES:
        return Verdict()
    code = int(vote["code"])
    zh, en = VOTES[code]
    comment = " ".join(str(vote.get("comment") or "").split())[:COMMENT_CHARS]
    line = f"满意度 Satisfaction: {code} {zh} {en}" + (f" — “{comment}”" if comment else "")
    notices = ()
    if code == 3:
        # Once per ticket, whatever the requester votes later (the manager already knows).
        notices = (Notice("dissatisfied", "dissatisfied", ("manager",), vote_fields(vote)),)
    return Verdict(fields={FIELD: code}, tags=frozenset({TAGS[code]}),
                   remove=frozenset(t for c, t in TAGS.items() if c != code), note=(line,),
                   notices=notices, facts={"satisfaction": code, "satisfaction_revision": vote.get("revision")})


def vote_fields(vote: Mapping[str, Any]):
    return lambda lang: {"vote": vote_info(vote, lang)}
