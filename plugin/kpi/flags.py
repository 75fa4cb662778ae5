"""The yes/no KPIs that are not clocks: repeat, misclassified. Both stay set once set
(the ledger row remembers): a window that moves on or a correction that is undone later
does not unmake what the review counts."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from ..models import StepContext, Ticket

REPEAT_WINDOW = timedelta(days=7)


def repeat(ticket: Ticket, ctx: StepContext, item_id: str | None) -> bool:
    """Another query of the same requester about the same thing shortly before this one:
    the verification step's verdict when it ran, else the ledger's view."""
    if ctx.ledger.known.get("repeat"):
        return True
    said = _verification_says(ctx)
    if said is not None:
        return said
    created = ticket.created_at
    if created is None:
        return False
    for other in ctx.ledger.requester_recent:
        at = other.get("created_at")
        if not isinstance(at, datetime) or not (created - REPEAT_WINDOW <= at < created):
            continue
        if item_id and other.get("item_id") == item_id:
            return True
        if not item_id and _same_words(other.get("title"), ticket.title):
            return True
    return False


def _verification_says(ctx: StepContext) -> bool | None:
    found = ctx.found.get("verification")
    facts: Mapping[str, Any] = found.facts if found is not None else {}
    checks = facts.get("checks") if isinstance(facts.get("checks"), Mapping) else {}
    check = checks.get("repeats")        # its first run; later runs keep what it decided then
    if isinstance(check, Mapping) and check.get("result") in ("pass", "fail"):
        return check["result"] == "fail"
    return None


def _same_words(a: Any, b: str) -> bool:
    return bool(a) and " ".join(str(a).lower().split()) == " ".join(b.lower().split())


def misclassified(ctx: StepContext) -> bool:
    """An agent changed the category (or group) the plugin set: the classification step
    reports it as a correction; the ledger remembers earlier ones."""
    known = ctx.ledger.known
    if known.get("misclassified") or known.get("corrected"):
        return True
    found = ctx.found.get("classification")
    return bool(found is not None and found.facts.get("correction"))
