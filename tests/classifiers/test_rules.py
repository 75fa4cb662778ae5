"""Rules on the default catalog: a Chinese and an English ticket for every item."""
from __future__ import annotations

import pytest

from plugin.classifiers import rules
from plugin.classifiers.catalog import default_catalog
from plugin.classifiers.step import classify

from .conftest import make_ctx, make_ticket

CASES = [
    # item id, title, body
    ("desktop.os_install", "电脑重装系统", "下周换岗，笔记本需要重装系统，麻烦安排"),
    ("desktop.os_install", "Laptop reimage", "Please reimage my laptop, the OS install is corrupted"),
    ("desktop.os_fault", "电脑蓝屏", "今天早上开机就蓝屏，之后无法开机"),
    ("desktop.os_fault", "BSOD", "My PC shows a blue screen every hour and freezes"),
    ("desktop.software_install", "申请安装软件", "麻烦帮忙安装一下 Visio，工作需要"),
    ("desktop.software_install", "Software install", "Please install Python on my computer, I also need Visio"),
    ("desktop.software_fault", "Outlook闪退", "Outlook 打开几秒就闪退，重启也没用"),
    ("desktop.software_fault", "VPN issue", "VPN does not connect since this morning"),
    ("desktop.hardware_repair", "键盘坏了", "笔记本键盘有几个键坏了，需要报修"),
    ("desktop.hardware_repair", "Broken monitor", "My monitor is broken, the hardware needs repair"),
    ("meeting.room_software", "会议室投屏不了", "5楼大会议室投屏失败，腾讯会议也连不上麦克风"),
    ("meeting.room_software", "Meeting room", "The meeting room projector does not work with Zoom"),
    ("meeting.executive", "高管会议保障", "周五总裁主持董事会，需要会前测试"),
    ("meeting.executive", "Board meeting", "Board meeting with the CEO on Friday, please do a rehearsal"),
    ("business.usage", "报销系统咨询", "请问报销系统里怎么修改已提交的报销单？"),
    ("business.usage", "Question", "How do I export a report from the ERP? Is there a user guide?"),
    ("business.fault", "OA提交失败", "OA 审批单提交失败，页面报错，像是系统bug"),
    ("business.fault", "CRM bug", "The CRM has a bug: saving a contact gives internal server error"),
    ("business.app_request", "申请开通账号", "新同事入职，申请开通 CRM 账号"),
    ("business.app_request", "Account request", "Please create an account in the expense system for a new joiner"),
    ("business.permission", "没有权限", "打开财务报表提示没有权限，请开通查看权限"),
    ("business.permission", "Access denied", "I get access denied in SAP, please grant the approver role"),
]


def test_every_default_item_has_a_zh_and_an_en_case():
    covered = {(item_id, any("\u4e00" <= ch <= "\u9fff" for ch in title + body))
               for item_id, title, body in CASES}
    assert covered == {(it.id, zh) for it in default_catalog() for zh in (True, False)}


@pytest.mark.parametrize("expected,title,body", CASES)
def test_rules_pick_the_item(expected, title, body):
    matches = rules.match(f"{title}\n{body}", default_catalog())
    assert matches and matches[0].item.id == expected, [(m.item.id, m.terms) for m in matches]


@pytest.mark.parametrize("expected,title,body", CASES)
def test_classify_is_sure_on_clear_tickets(expected, title, body):
    found = classify(make_ticket(title, body), make_ctx())
    assert found.facts["category"] == expected
    assert found.fields["enrich_triage"] is False


@pytest.mark.parametrize("keyword,text,hit", [
    ("VPN", "VPN连不上", True),                     # no space between ASCII and Chinese
    ("vpn", "My VPN is down", True),                 # case-insensitive
    ("vpn", "vpnclient.exe crashed", False),         # word boundary
    ("driver*", "printer drivers missing", True),    # trailing * = any ending
    ("driver*", "screwdriver needed", False),
    ("blue screen", "Blue-Screen again", True),      # separators between words are flexible
    ("重装系统", "麻烦帮我重装系统吧", True),          # Chinese: substring, no whitespace needed
    ("重装系统", "系统重装", False),
    ("ＶＰＮ", "vpn down", True),                     # full-width keyword is normalised
])
def test_keyword_matching(keyword, text, hit):
    term = rules.compile_keyword(keyword)
    assert bool(rules.term_hits([term], rules.fold(text))) is hit


def test_matched_terms_are_shown_as_written_in_the_ticket():
    matches = rules.match("Cannot connect to VPN, installing again did not help", default_catalog())
    fault = next(m for m in matches if m.item.id == "desktop.software_fault")
    assert {"VPN", "connect"} <= set(fault.terms)


def test_score_is_the_sum_of_matched_weights():
    matches = rules.match("电脑蓝屏后无法开机", default_catalog())
    assert matches[0].item.id == "desktop.os_fault"
    assert matches[0].score == 4.0    # 蓝屏 (2) + 无法开机 (2)
