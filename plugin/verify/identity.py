"""Identity: is the requester who they claim to be?

Four parts, from the platform's own record (Directory): the requester exists and is
active; the first message came from the registered address (or a configured alias);
its display name is the registered person's; the address's domain belongs to the
requester's organization (Zammad's organization domain, plus the settings' domains,
which are the only source on Jira). Missing data is "could not verify", never a pass.
"""
from __future__ import annotations

import re
import unicodedata

from .config import VerificationSettings
from .model import Check, Directory, Say, combine, domain_in, domain_of

NAME = "identity"


def check(d: Directory, cfg: VerificationSettings) -> Check:
    if d.status != "ok":
        why = d.error or "no directory data was read for this ticket"
        return Check(NAME, "unknown", (Say(f"无法核验：{why}", f"could not verify: {why}"),),
                     {"lookup": d.status})
    if not d.requester_found:
        return Check(NAME, "fail", (Say("目录中没有该请求人", "the requester is unknown to the directory"),),
                     {"requester": None})
    parts = [_active(d), *_sender(d, cfg), _domain(d, cfg)]
    return combine(NAME, parts, {"requester": d.requester_id, "email": d.email or None,
                                 "sender": d.sender_address or None,
                                 "organization": d.organization or None})


# Fixed sentences, by key (the ones with names in them are built where used).
SAY = {
    "active": Say("请求人存在且有效", "requester exists and is active"),
    "inactive": Say("请求人账号已停用", "the requester's account is inactive"),
    "agent": Say("由坐席代为登记，未核对发件人", "recorded by an agent on the requester's behalf: no sender to check"),
    "account": Say("由请求人本人账号提交", "raised from the requester's own account"),
    "no_message": Say("无法核验：找不到首条消息", "could not verify: no first message found"),
    "no_email": Say("无法核验：请求人没有登记邮箱", "could not verify: the requester has no registered e-mail"),
    "no_sender": Say("无法核验：首条消息没有发件地址", "could not verify: the first message has no sender address"),
    "no_address": Say("无法核验域名：没有邮箱地址", "could not verify the domain: no e-mail address"),
    "no_org_ok": Say("请求人不属于任何组织（设置允许）", "the requester has no organization (allowed by the settings)"),
    "no_org": Say("无法核验域名：请求人不属于任何组织", "could not verify the domain: the requester has no organization"),
}


def _active(d: Directory) -> tuple[str, Say]:
    return ("fail", SAY["inactive"]) if d.active is False else ("pass", SAY["active"])


def _sender(d: Directory, cfg: VerificationSettings) -> list[tuple[str, Say]]:
    if d.sender_kind in ("agent", "account"):
        return [("skipped" if d.sender_kind == "agent" else "pass", SAY[d.sender_kind])]
    for missing, key in ((d.sender_kind != "message", "no_message"), (not d.email, "no_email"),
                         (not d.sender_address, "no_sender")):
        if missing:
            return [("unknown", SAY[key])]
    parts = [_address(d, cfg)]
    named = d.sender_name and not name_matches(d.sender_name, d.name, d.sender_address)
    if cfg.check_display_name and named:
        parts.append(("fail", Say(f"发件人显示名“{d.sender_name}”与登记姓名“{d.name}”不符",
                                  f"display name '{d.sender_name}' does not match the registered name "
                                  f"'{d.name}'")))
    return parts


def _address(d: Directory, cfg: VerificationSettings) -> tuple[str, Say]:
    sender = d.sender_address
    if sender == d.email:
        return "pass", Say(f"发件人 {sender} 与登记邮箱一致", f"sender {sender} is the registered address")
    if _alias(d, cfg):
        return "pass", Say(f"发件人 {sender} 是登记的别名", f"sender {sender} is a known alias")
    return "fail", Say(f"发件人 {sender} 不是登记邮箱 {d.email}",
                       f"sender {sender} is not the registered address {d.email}")


def _alias(d: Directory, cfg: VerificationSettings) -> bool:
    return bool(d.sender_address) and d.sender_address in cfg.aliases.get(d.email, ())


def _domain(d: Directory, cfg: VerificationSettings) -> tuple[str, Say]:
    # An alias is trusted by the settings (it may be a private address): its owner's
    # registered address is the one whose domain must be the organization's.
    domain = domain_of(d.email if _alias(d, cfg) else (d.sender_address or d.email))
    org = d.organization
    if not domain:
        return "unknown", SAY["no_address"]
    if not org:
        return ("skipped", SAY["no_org_ok"]) if not cfg.require_organization else ("unknown", SAY["no_org"])
    domains = d.org_domains + cfg.org_domains.get(org.strip().lower(), ())
    if not domains:
        return "unknown", Say(f"无法核验域名：组织“{org}”没有登记域名",
                              f"could not verify the domain: organization '{org}' has no known domain")
    if domain_in(domain, domains):
        return "pass", Say(f"域名 {domain} 属于组织“{org}”", f"domain {domain} belongs to '{org}'")
    listed = ", ".join(domains)
    return "fail", Say(f"域名 {domain} 不属于组织“{org}”（{listed}）",
                       f"domain {domain} is not one of '{org}' ({listed})")


_SEP = re.compile(r"[\s._\-'\"·,()]+")


def _norm(text: str) -> str:
    return _SEP.sub("", unicodedata.normalize("NFKC", text).casefold())


def name_matches(display: str, registered: str, address: str) -> bool:
    """'Li Na', 'Na Li', 'li.na' and 'li.na@acme.example' all match Li Na <li.na@…>;
    'CEO Office' or another person's name do not. A Chinese name matches the
    registered name only (the address is pinyin: no reliable mapping)."""
    shown = _norm(display)
    if not shown or shown == _norm(address):
        return True
    words = [w for w in re.split(r"\s+", registered.strip()) if w]
    candidates = {_norm(registered), _norm("".join(reversed(words))), _norm(address.partition("@")[0])}
    return shown in candidates - {""}
