"""900.1 receive and record: is the ticket's record complete enough to work on?

Record quality is a KPI of its own (DOMAIN.md, KPIs): the share of the fields the
desk defines that the ticket actually carries. A pure step.
"""
from __future__ import annotations

from collections.abc import Callable

from ..models import Findings, StepContext, Ticket
from .base import StepSpec

STEP = "record_quality"
TAG_INCOMPLETE = "enrich:record-incomplete"

# field name -> (zh label, en label, how to read it off a Ticket)
CHECKS: dict[str, tuple[str, str, Callable[[Ticket], object]]] = {
    "title": ("标题", "title", lambda t: t.title),
    "body": ("问题描述", "description", lambda t: t.body),
    "channel": ("渠道", "channel", lambda t: t.channel),
    "requester_name": ("用户姓名", "user name", lambda t: t.requester.name),
    "requester_email": ("邮箱", "email", lambda t: t.requester.email),
    "requester_phone": ("电话", "phone", lambda t: t.requester.phone),
    "requester_organization": ("组织", "organization", lambda t: t.requester.organization),
    "requester_department": ("部门", "department", lambda t: t.requester.department),
    "requester_city": ("城市", "city", lambda t: t.requester.city),
    "requester_country": ("国家/地区", "country/region", lambda t: t.requester.country),
}


def check(ticket: Ticket, ctx: StepContext) -> Findings:
    cfg = ctx.settings.record_quality if ctx.settings is not None else {}
    required = [name for name in cfg.get("required", CHECKS) if name in CHECKS]
    threshold = cfg.get("threshold", 80)
    missing = [name for name in required if not str(CHECKS[name][2](ticket) or "").strip()]
    score = round(100 * (len(required) - len(missing)) / len(required)) if required else 100
    incomplete = score < threshold
    note = ()
    if missing:
        zh = "、".join(CHECKS[m][0] for m in missing)
        en = ", ".join(CHECKS[m][1] for m in missing)
        note = (f"记录质量 Record quality: {score}% — 缺少 missing: {zh} ({en})",)
    return Findings(
        step=STEP,
        fields={"enrich_record_quality": score},
        tags=frozenset({TAG_INCOMPLETE}) if incomplete else frozenset(),
        remove_tags=frozenset() if incomplete else frozenset({TAG_INCOMPLETE}),
        note=note,
        facts={"score": score, "missing": missing, "incomplete": incomplete})


SPEC = StepSpec(STEP, check)
