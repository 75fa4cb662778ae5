"""Repeats: this ticket and the requester's earlier tickets (as the ledger view gives
them) in; possible repeats, newest first, out."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from plugin.verify import repeats
from plugin.verify.config import load

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
CFG = load({})


def row(tid, title, hours_ago, item=None):
    return {"ticket_id": tid, "number": f"3{tid}", "title": title, "created_at": NOW - timedelta(hours=hours_ago),
            "item_id": item, "category": None, "value_stream": None, "state": "open"}


EARLIER = [row("1001", "打印机卡纸", 5, "desktop.hardware_repair"),
           row("1002", "VPN cannot connect (error 809)", 30, "business.fault"),
           row("1003", "Outlook crashes on start", 100, "desktop.software_fault")]

CASES = [
    # (id, title, item, recent, settings, result, matched ids, why)
    ("same-item", "显示器不亮", "desktop.hardware_repair", EARLIER, CFG, "fail", ["1001"], "same_item"),
    ("similar-title", "Re: VPN cannot connect - error 809", None, EARLIER, CFG, "fail", ["1002"], "similar_text"),
    ("similar-zh", "三楼打印机卡纸了", None, EARLIER, CFG, "fail", ["1001"], "similar_text"),
    ("outside-window", "Outlook crashes on start", None, EARLIER, CFG, "pass", [], None),
    ("wider-window", "Outlook crashes on start", None, EARLIER, load({"repeats": {"window_hours": 120}}),
     "fail", ["1003"], "similar_text"),
    ("item-off", "显示器不亮", "desktop.hardware_repair", EARLIER, load({"repeats": {"same_item": False}}),
     "pass", [], None),
    ("different", "Need a new keyboard", "desktop.software_install", EARLIER, CFG, "pass", [], None),
    ("later-ticket-ignored", "打印机卡纸", None, [row("1009", "打印机卡纸", -1)], CFG, "pass", [], None),
    ("itself-ignored", "打印机卡纸", None, [row("2000", "打印机卡纸", 0)], CFG, "pass", [], None),
    ("capped-newest-first", "打印机卡纸", None, [row(str(1100 + i), "打印机卡纸", i + 1) for i in range(5)],
     load({"repeats": {"max_links": 2}}), "fail", ["1100", "1101"], "similar_text"),
    ("no-history", "打印机卡纸", None, [], CFG, "pass", [], None),
]


@pytest.mark.parametrize("title,item,recent,cfg,result,ids,why", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_repeats(title, item, recent, cfg, result, ids, why):
    found = repeats.check("2000", title, item, NOW, "31", recent, cfg)
    assert (found.name, found.result) == ("repeats", result)
    assert [m["ticket_id"] for m in found.facts["matches"]] == ids
    assert {m["why"] for m in found.facts["matches"]} == ({why} if why else set())
    if ids:
        assert f"#3{ids[0]}" in found.reason("en") and "可能重复" in found.reason("zh-CN")


def test_no_requester_could_not_verify():
    found = repeats.check("2000", "打印机卡纸", None, NOW, "", EARLIER, CFG)
    assert found.result == "unknown" and "could not verify" in found.reason("en")


@pytest.mark.parametrize("a,b,low,high", [
    ("打印机卡纸", "三楼打印机卡纸了", 0.7, 1.0),
    ("RE: VPN down", "vpn down", 1.0, 1.0),
    ("回复：无法登录邮箱", "无法登录邮箱", 1.0, 1.0),
    ("VPN down", "Printer jammed", 0.0, 0.4),
    ("", "anything", 0.0, 0.0),
])
def test_similarity(a, b, low, high):
    assert low <= repeats.similarity(a, b) <= high
