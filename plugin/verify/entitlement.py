"""Entitlement: may this requester ask the desk for this service, on the day the query
arrived? The table (verification.entitlements) names who (organizations, e-mail
domains, requester groups), which services (catalog item ids, or globs on the id or
the category path in either language) and the contract dates.

An empty table means the desk does not check entitlements: skipped, and said so.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import date

from ..classifiers.catalog import CatalogItem
from .config import Entitlement, VerificationSettings
from .model import Check, Say, domain_in, domain_of

NAME = "entitlement"


@dataclass(frozen=True)
class Who:
    """The requester as the entitlement table sees them."""

    email: str = ""
    organization: str = ""


def covers(patterns: tuple[str, ...] | list[str], item: CatalogItem) -> bool:
    names = (item.id, item.path("zh-CN"), item.path("en"))
    return any(fnmatch.fnmatchcase(n.casefold(), p.casefold()) for p in patterns for n in names)


def holds(row: Entitlement, who: Who, groups: dict) -> bool:
    org = who.organization.strip().casefold()
    if org and org in {o.strip().casefold() for o in row.organizations}:
        return True
    if who.email and row.domains and domain_in(domain_of(who.email), row.domains):
        return True
    return bool(who.email) and any(who.email.lower() in groups.get(g, ()) for g in row.groups)


def check(who: Who, item: CatalogItem | None, day: date, cfg: VerificationSettings) -> Check:
    if not cfg.entitlements:
        return Check(NAME, "skipped", (Say("未配置服务权益表", "no entitlement table configured"),))
    if not who.email and not who.organization:
        return Check(NAME, "unknown", (Say("无法核验：请求人既无组织也无邮箱", "could not verify: the "
                                           "requester has no organization and no e-mail"),))
    mine = [r for r in cfg.entitlements if holds(r, who, dict(cfg.requester_groups))]
    if not mine:
        whom = who.organization or domain_of(who.email) or who.email
        return Check(NAME, "fail", (Say(f"“{whom}”没有服务合同", f"no contract for '{whom}'"),),
                     {"reason": "no_contract"})
    covering = [r for r in mine if item is None or covers(r.services, item)]
    if not covering:
        names = ", ".join(r.name for r in mine)
        return Check(NAME, "fail", (Say(f"合同（{names}）不包含服务 {item.path('zh-CN')}",
                                        f"contract(s) {names} do not cover {item.path('en')}"),),
                     {"reason": "service_not_covered", "contracts": [r.name for r in mine]})
    valid = [r for r in covering if _valid(r, day)]
    if not valid:
        return Check(NAME, "fail", tuple(_expired(r, day) for r in covering),
                     {"reason": "expired", "contracts": [r.name for r in covering]})
    return _granted(valid[0], item)


def _valid(row: Entitlement, day: date) -> bool:
    started = row.valid_from is None or row.valid_from <= day
    return started and (row.valid_to is None or day <= row.valid_to)


def _expired(row: Entitlement, day: date) -> Say:
    if row.valid_to is not None and day > row.valid_to:
        return Say(f"合同“{row.name}”已于 {row.valid_to} 到期",
                   f"contract '{row.name}' expired on {row.valid_to}")
    return Say(f"合同“{row.name}”自 {row.valid_from} 起生效", f"contract '{row.name}' starts on {row.valid_from}")


def _granted(row: Entitlement, item: CatalogItem | None) -> Check:
    until_zh = f"，有效期至 {row.valid_to}" if row.valid_to else ""
    until_en = f", valid until {row.valid_to}" if row.valid_to else ""
    level = f" ({row.service_level})" if row.service_level else ""
    if item is None:
        say = Say(f"合同“{row.name}”有效（服务尚未分类，仅核验了请求人）{until_zh}",
                  f"contract '{row.name}' is valid (service not classified yet: requester checked "
                  f"only){until_en}")
    else:
        say = Say(f"合同“{row.name}”包含 {item.path('zh-CN')}{level}{until_zh}",
                  f"contract '{row.name}' covers {item.path('en')}{level}{until_en}")
    return Check(NAME, "pass", (say,), {"contract": row.name, "service_level": row.service_level,
                                        "valid_to": row.valid_to.isoformat() if row.valid_to else None})
