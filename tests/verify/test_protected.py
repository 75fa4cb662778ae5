"""Protected information: the ticket's text and catalog item in; whether an extra
identity check is needed and which one, out."""
from __future__ import annotations

import pytest

from plugin.classifiers.catalog import default_catalog, find_item
from plugin.verify import protected
from plugin.verify.config import load

PERMISSION = find_item(default_catalog(), "business.permission")      # flagged protected
OS_FAULT = find_item(default_catalog(), "desktop.os_fault")
CFG = load({})
DESK = load({"protected": {
    "keywords": {"money": ["预算"]},
    "checks": {"business.*": {"zh": "系统负责人审批单", "en": "the system owner's approval form"},
               "password": "在线核验身份证后四位", "default": "ask the team lead"}}})
ONLY_DESK_WORDS = load({"protected": {"replace_keywords": True, "keywords": {"money": ["预算"]}}})

CASES = [
    # (id, text, item, settings, result, kinds, words in the English reason)
    ("password-zh", "忘记密码，请帮我重置", OS_FAULT, CFG, "fail", ["password"], "the registered mobile only"),
    ("password-en", "Please reset my password", None, CFG, "fail", ["password"], "touches passwords"),
    ("plural", "All passwords expired", None, CFG, "fail", ["password"], "passwords"),
    ("account-locked", "登录后台时提示账户已锁定", None, CFG, "fail", ["account"], "accounts"),
    ("personal-data", "请导出我的个人信息", None, CFG, "fail", ["personal_data"], "right to the data"),
    ("money", "Invoice INV-0318 charged twice, please refund", None, CFG, "fail", ["money"], "finance contact"),
    ("item-flag-only", "Need access to the CRM", PERMISSION, CFG, "fail", [], "flagged protected"),
    ("nothing", "打印机卡纸，无法打印", OS_FAULT, CFG, "pass", [], "no protected information"),
    ("word-boundary", "The banking app is slow", None, CFG, "pass", [], "no protected information"),
    ("desk-word", "预算审批系统打不开", OS_FAULT, DESK, "fail", ["money"], "touches money"),
    ("desk-item-check", "开通权限", PERMISSION, DESK, "fail", ["permission"], "the system owner's approval form"),
    ("desk-kind-check", "reset my password", OS_FAULT, DESK, "fail", ["password"], "在线核验身份证后四位"),
    ("desk-default", "Need access to the CRM", PERMISSION, load({"protected": {"checks": {"default": "ask"}}}),
     "fail", [], "before acting: ask"),
    ("replaced-lists", "reset my password", None, ONLY_DESK_WORDS, "pass", [], "no protected"),
    ("no-text-no-item", "  ", None, CFG, "unknown", [], "could not verify"),
]


@pytest.mark.parametrize("text,item,cfg,result,kinds,words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_protected(text, item, cfg, result, kinds, words):
    found = protected.check(text, item, cfg)
    assert (found.name, found.result) == ("protected", result)
    assert found.facts.get("kinds", []) == kinds
    assert words in found.reason("en")
    if result == "fail":
        assert found.facts["required_check"]
        assert "处理前须" in found.reason("zh-CN")
