"""Shared types of the verification checks: what a check concludes, and the directory
facts about the requester that the worker reads before the steps run (steps do no I/O).
Kept apart so the checks, the directory reader and the step import one module."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# pass: checked and fine; fail: checked and flagged; unknown: could not verify (data
# missing or a lookup failed: never a silent pass); skipped: not configured or not
# applicable (the reason says which).
RESULTS = ("pass", "fail", "unknown", "skipped")


@dataclass(frozen=True)
class Say:
    """One sentence in both note languages; the note picks the ticket's."""

    zh: str
    en: str

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.zh


@dataclass(frozen=True)
class Check:
    name: str                                  # identity | entitlement | scope | protected | repeats
    result: str                                # one of RESULTS
    reasons: tuple[Say, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)

    def reason(self, language: str) -> str:
        return ("; " if language == "en" else "；").join(r.get(language) for r in self.reasons)


def combine(name: str, parts: list[tuple[str, Say]], facts: Mapping[str, Any] | None = None) -> Check:
    """Sub-checks to one: any fail fails, else any unknown is unknown, else pass (a
    check whose parts were all skipped is skipped)."""
    results = [r for r, _ in parts]
    if "fail" in results:
        result = "fail"
    elif "unknown" in results:
        result = "unknown"
    elif results and all(r == "skipped" for r in results):
        result = "skipped"
    else:
        result = "pass"
    return Check(name, result, tuple(s for _, s in parts), dict(facts or {}))


@dataclass(frozen=True)
class Directory:
    """What the platform's own record says about the requester and the first message.

    status: ok; failed (the record could not be read: every check that needs it says
    "could not verify"); absent (nobody read it: a step run outside the worker).
    sender_kind: message (a message with a From address), account (raised from the
    requester's own signed-in account: portal, JSM), agent (an agent recorded it on
    the requester's behalf), or "" (no first message found).
    """

    status: str = "absent"
    error: str = ""
    requester_found: bool = False
    requester_id: str = ""
    active: bool | None = None
    email: str = ""
    name: str = ""
    organization: str = ""
    org_domains: tuple[str, ...] = ()          # domains the platform gives the organization
    sender_kind: str = ""
    sender_address: str = ""
    sender_name: str = ""


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().lower() if "@" in address else ""


def domain_in(domain: str, domains: tuple[str, ...] | list[str] | set[str]) -> bool:
    """acme.example and its subdomains (mail.acme.example), nothing else."""
    domain = domain.lower()
    return any(domain == d or domain.endswith("." + d) for d in (x.lower().lstrip("@.") for x in domains))
