"""Protected information: does handling this query touch passwords, accounts,
permissions, personal data or money? Then the agent must do an extra identity check
before acting, and the note names which one.

Two sources: the catalog item's `protected` flag, and keyword lists in Chinese and
English by kind (settings add words, or replace the lists). The check to do comes
from `verification.protected.checks`, keyed by an item glob (id or category path)
or by a kind; the built-in text per kind otherwise.
"""
from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from functools import lru_cache

from ..classifiers.catalog import CatalogItem
from ..classifiers.catalog_fields import Names
from .config import KINDS, VerificationSettings
from .model import Check, Say

NAME = "protected"

WORDS: dict[str, tuple[str, ...]] = {
    "password": ("密码", "口令", "重置密码", "password", "passcode", "pin code", "reset my password"),
    "account": ("账号", "帐号", "账户", "帐户", "account", "locked out", "mfa", "2fa", "two-factor"),
    "permission": ("权限", "授权", "开通权限", "管理员权限", "permission", "access right", "access rights",
                   "admin rights", "authorization", "authorisation"),
    "personal_data": ("个人信息", "个人数据", "身份证", "手机号", "住址", "病历", "personal data",
                      "personal information", "id card", "passport", "home address", "date of birth"),
    "money": ("工资", "薪资", "报销", "付款", "转账", "银行", "发票", "退款", "扣款", "salary", "payroll",
              "payment", "refund", "invoice", "bank", "credit card", "reimbursement"),
}
LABELS = {"password": Say("密码", "passwords"), "account": Say("账号", "accounts"),
          "permission": Say("权限", "permissions"), "personal_data": Say("个人信息", "personal data"),
          "money": Say("资金", "money")}
CHECKS = {
    "password": Names("回拨目录中登记的电话核实本人；新密码只发到登记手机，不经工单发送",
                      "call the requester back on the phone number in the directory; send the new "
                      "password to the registered mobile only, never through the ticket"),
    "account": Names("回拨目录中登记的电话核实本人，再解锁或修改账号",
                     "call the requester back on the phone number in the directory, then unlock "
                     "or change the account"),
    "permission": Names("取得请求人直属上级或系统负责人的书面审批",
                        "get written approval from the requester's line manager or the system owner"),
    "personal_data": Names("核对本人证件信息，并确认其有权访问该数据",
                           "check the requester's ID and their right to the data"),
    "money": Names("与财务登记的联系人电话确认",
                   "confirm by phone with the finance contact on record"),
}
DEFAULT_CHECK = Names("回拨目录中登记的电话核实本人身份",
                      "call the requester back on the phone number in the directory")


def words(cfg: VerificationSettings) -> Mapping[str, tuple[str, ...]]:
    if cfg.replace_keywords:
        return {k: tuple(cfg.keywords.get(k, ())) for k in KINDS}
    return {k: WORDS[k] + tuple(cfg.keywords.get(k, ())) for k in KINDS}


@lru_cache(maxsize=512)
def _pattern(word: str) -> re.Pattern:
    # Chinese words match anywhere; English ones as whole words (plural allowed), so
    # "bank" fires on "banks" but not on "banking app".
    if re.search(r"[^\x00-\x7f]", word):
        return re.compile(re.escape(word))
    return re.compile(r"(?<![a-z0-9])" + re.escape(word.lower()) + r"(?:s|es)?(?![a-z0-9])")


def matched(text: str, cfg: VerificationSettings) -> dict[str, list[str]]:
    low = text.lower()
    found: dict[str, list[str]] = {}
    for kind, ws in words(cfg).items():
        hits = [w for w in ws if _pattern(w).search(low)]
        if hits:
            found[kind] = hits
    return found


def check(text: str, item: CatalogItem | None, cfg: VerificationSettings) -> Check:
    if not text.strip() and item is None:
        return Check(NAME, "unknown", (Say("无法核验：工单没有文字，也未分类",
                                           "could not verify: no text and no category"),))
    hits = matched(text, cfg)
    flagged = bool(item and item.protected)
    if not hits and not flagged:
        return Check(NAME, "pass", (Say("不涉及受保护信息", "no protected information involved"),))
    reasons = []
    if flagged:
        reasons.append(Say(f"服务 {item.path('zh-CN')} 标记为受保护",
                           f"service {item.path('en')} is flagged protected"))
    if hits:
        kinds_zh = "、".join(LABELS[k].zh for k in hits)
        kinds_en = ", ".join(LABELS[k].en for k in hits)
        shown = [w for ws in hits.values() for w in ws[:2]]
        reasons.append(Say(f"涉及{kinds_zh}（{'、'.join(f'“{w}”' for w in shown)}）",
                           f"touches {kinds_en} ({', '.join(repr(w) for w in shown)})"))
    todo = required_check(item, list(hits), cfg)
    reasons.append(Say(f"处理前须：{todo.zh}", f"before acting: {todo.en}"))
    return Check(NAME, "fail", tuple(reasons),
                 {"kinds": list(hits), "words": hits, "item_protected": flagged, "required_check": todo.en})


def required_check(item: CatalogItem | None, kinds: list[str], cfg: VerificationSettings) -> Names:
    """The extra check: an item glob in the settings first, then a kind, then built in."""
    if item is not None:
        names = (item.id, item.path("zh-CN"), item.path("en"))
        for key, todo in cfg.checks.items():
            if key not in KINDS and any(fnmatch.fnmatchcase(n.casefold(), key.casefold()) for n in names):
                return todo
    for kind in kinds:
        if kind in cfg.checks:
            return cfg.checks[kind]
    if kinds:
        return CHECKS[kinds[0]]
    return cfg.checks.get("default") or DEFAULT_CHECK
