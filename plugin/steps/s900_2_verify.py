"""900.2 verify (确认/核验): who is asking, are they entitled, is it in scope, does it
need protected information, is it a repeat. The checks live in plugin.verify; this
is their place in the pipeline, after classification (it reads the catalog item).

Pure like every step: the directory facts come from the record the worker read
before the steps (ctx.directory), the requester's recent tickets from the ledger
view, the clock from ctx.now. A query is never dropped: an unverified one is
flagged, tagged and, if a policy says so, routed.

Decided once, like classification: when the ledger says the plugin already wrote a
status, later events change nothing, so an agent who verified the requester by phone
and set `enrich_verification` to verified is never overwritten.

Routing: a policy's group goes into `enrich_group`, which classification also writes;
this step runs after classification, and the plan takes the later step's value.
"""
from __future__ import annotations

from .. import workcal
from ..classifiers.catalog import CatalogItem, find_item
from ..classifiers.step import settings_of as classification_settings
from ..models import Findings, Link, StepContext, Ticket
from ..verify import entitlement, identity, outcome, protected, repeats, scope
from ..verify.config import VerificationSettings, settings_of
from ..verify.model import Check, Directory, Say
from .base import StepSpec

STEP = "verification"
FIELD = outcome.FIELD


def verify(ticket: Ticket, ctx: StepContext) -> Findings:
    cfg = settings_of(ctx.settings)
    previous = ctx.previous or {}
    if previous.get(FIELD):
        return Findings(STEP, facts={"status": ticket.fields.get(FIELD) or previous[FIELD], "first": False})
    lang = outcome.language_of(ticket, cfg, getattr(ctx.settings, "language", None) or "zh-CN")
    checks = run_checks(ticket, ctx, cfg)
    status = outcome.status_of(checks)
    group = outcome.policy_group(status, cfg)
    fields = {FIELD: status, **({"enrich_group": group} if group else {})}
    tags = outcome.tags_of(checks)
    return Findings(STEP, fields=fields, tags=tags, remove_tags=frozenset(outcome.TAGS.values()) - tags,
                    note=outcome.note(status, checks, lang, group),
                    facts=outcome.facts_of(status, checks, lang, group), links=links_of(checks, cfg))


def run_checks(ticket: Ticket, ctx: StepContext, cfg: VerificationSettings) -> list[Check]:
    item_id, item = _item(ctx)
    calendar = workcal.of(ctx.settings)
    arrived = ticket.created_at or ctx.now
    d = ctx.directory if isinstance(ctx.directory, Directory) else Directory()
    checks = [identity.check(d, cfg)]
    if arrived is None:   # no creation time and no clock: nothing dated can be checked
        return checks + [_no_time(n) for n in ("entitlement", "scope")] + \
            [protected.check(ticket.text, item, cfg), _no_time("repeats")]
    ent = entitlement.check(_who(d, ticket), item, arrived.astimezone(calendar.zone).date(), cfg)
    return checks + [
        ent, scope.check(item_id, item, arrived, calendar, ent.facts.get("service_level")),
        protected.check(ticket.text, item, cfg),
        repeats.check(ticket.id, ticket.title, item_id, arrived, ticket.requester.id,
                      ctx.ledger.requester_recent, cfg)]


def _who(d: Directory, ticket: Ticket) -> entitlement.Who:
    """The platform's record when it was read, else what the ticket itself says."""
    if d.status == "ok" and d.requester_found:
        return entitlement.Who(email=d.email, organization=d.organization)
    r = ticket.requester
    return entitlement.Who(email=(r.email or "").lower(), organization=r.organization or "")


def _no_time(name: str) -> Check:
    return Check(name, "unknown", (Say("无法核验：工单没有创建时间",
                                       "could not verify: the ticket has no creation time"),))


def links_of(checks: list[Check], cfg: VerificationSettings) -> tuple[Link, ...]:
    if cfg.repeat_link == "none":
        return ()
    found = next((c for c in checks if c.name == "repeats" and c.result == "fail"), None)
    matches = found.facts.get("matches", []) if found else []
    return tuple(Link(m["ticket_id"], m["number"], cfg.repeat_link) for m in matches)


def _item(ctx: StepContext) -> tuple[str | None, CatalogItem | None]:
    """The catalog item id classification chose (None: triage), and its catalog entry
    (None also when the id is not in the catalog: scope says so)."""
    classified = ctx.found.get("classification")
    item_id = (classified.facts if classified is not None else {}).get("category")
    return item_id, find_item(classification_settings(ctx).catalog, item_id) if item_id else None


SPEC = StepSpec(STEP, verify, needs=("classification",))
