"""From the checks to what is written back: one status, a tag per flagged check, one
note listing every check in the ticket's language, and the routing policy.

Status precedence (the first that applies wins; every flagged check still gets its tag
and its line in the note, so nothing is hidden by the order):

1. unverified               identity failed or could not be verified, or entitlement
                            could not be verified: who is asking decides everything else
2. not_entitled             no valid contract covers this requester and service
3. out_of_scope             not in the catalog, or a third party's responsibility
4. identity_check_required  protected information: an extra check before acting
5. verified                 none of the above

Unknown scope (not classified yet: triage) and a possible repeat change no status: the
first has its own triage tag, the second its tag `enrich:repeat` and a link.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from ..models import Ticket
from .config import VerificationSettings
from .model import Check

FIELD = "enrich_verification"
TAGS = {"identity": "enrich:verify-identity", "entitlement": "enrich:verify-entitlement",
        "scope": "enrich:verify-scope", "protected": "enrich:verify-protected", "repeats": "enrich:repeat"}
PRECEDENCE = ("unverified", "not_entitled", "out_of_scope", "identity_check_required")
TITLES = {"identity": ("身份", "Identity"), "entitlement": ("服务权益", "Entitlement"),
          "scope": ("服务范围", "Scope"), "protected": ("受保护信息", "Protected information"),
          "repeats": ("重复问题", "Repeat")}
RESULT_WORDS = {"pass": ("通过", "pass"), "fail": ("未通过", "failed"),
                "unknown": ("无法核验", "could not verify"), "skipped": ("未检查", "not checked")}
# Where "fail" is a finding rather than a failure, the note says what was found.
FOUND_WORDS = {"protected": ("需额外身份核验", "extra identity check needed"),
               "repeats": ("可能重复", "possible repeat")}
STATUS_WORDS = {"verified": "已核验", "unverified": "身份未核实", "not_entitled": "无服务权益",
                "out_of_scope": "不在服务范围", "identity_check_required": "需额外身份核验"}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def calls_for(check: Check) -> str | None:
    """The status a check's result calls for (None: it changes no status)."""
    if check.name == "identity" and check.result in ("fail", "unknown"):
        return "unverified"
    if check.name == "entitlement":
        return {"fail": "not_entitled", "unknown": "unverified"}.get(check.result)
    if check.name == "scope" and check.result == "fail":
        return "out_of_scope"
    if check.name == "protected" and check.result == "fail":
        return "identity_check_required"
    return None


def status_of(checks: list[Check]) -> str:
    called = {calls_for(c) for c in checks}
    return next((s for s in PRECEDENCE if s in called), "verified")


def tags_of(checks: list[Check]) -> frozenset[str]:
    return frozenset(TAGS[c.name] for c in checks
                     if calls_for(c) or (c.name == "repeats" and c.result == "fail"))


def language_of(ticket: Ticket, cfg: VerificationSettings, default: str = "zh-CN") -> str:
    """auto: Chinese characters in the ticket mean zh-CN, other letters en; an empty
    ticket takes the desk's language (settings.language, zh-CN by default)."""
    if cfg.language != "auto":
        return cfg.language
    text = ticket.text
    if _CJK.search(text):
        return "zh-CN"
    return "en" if re.search(r"[A-Za-z]", text) else default


def note(status: str, checks: list[Check], lang: str, group: str | None = None) -> tuple[str, ...]:
    zh = lang != "en"
    head = (f"核验结论：{STATUS_WORDS[status]}（{status}）" if zh else f"Verification: {status}")
    lines = [head]
    for c in checks:
        title = TITLES[c.name][0 if zh else 1]
        found = c.result == "fail" and c.name in FOUND_WORDS
        words = FOUND_WORDS[c.name] if found else RESULT_WORDS[c.result]
        lines.append(f"- {title}：{words[0]} — {c.reason(lang)}" if zh
                     else f"- {title}: {words[1]} — {c.reason(lang)}")
    if group:
        lines.append(f"- 路由：按 {status} 策略建议转至“{group}”" if zh
                     else f"- Routing: the {status} policy suggests group '{group}'")
    return tuple(lines)


def policy_group(status: str, cfg: VerificationSettings) -> str | None:
    policy = cfg.policies.get(status)
    return policy.group if policy else None


def facts_of(status: str, checks: list[Check], lang: str, group: str | None) -> Mapping:
    by_name = {c.name: {"result": c.result, "reason": c.reason("en"), **dict(c.facts)} for c in checks}
    scope = by_name.get("scope", {})
    return {"status": status, "language": lang, "first": True, "checks": by_name,
            "tags": sorted(tags_of(checks)), "policy_group": group,
            "after_hours": scope.get("after_hours"), "next_open": scope.get("next_open")}

