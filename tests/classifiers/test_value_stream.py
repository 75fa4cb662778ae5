"""Value stream (incident / request / consultation / complaint / major event) and priority."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from plugin.classifiers.catalog import ClassificationSettings, default_catalog
from plugin.classifiers.step import classify
from plugin.classifiers.value_stream import decide_priority, decide_stream, infer_default

from .conftest import NOW, make_ctx, make_ticket

ITEMS = {it.id: it for it in default_catalog()}
S = ClassificationSettings()
FAULT = "桌面IT运维管理/软件故障问题/一般软件故障"


@pytest.mark.parametrize("title,body,stream,complaint,written", [
    ("电脑蓝屏", "开机蓝屏，无法开机", "incident", None, "事件"),
    ("申请账号", "新员工入职，申请开通ERP账号", "service_request", None, "服务请求"),
    ("OA 使用咨询", "请问OA里如何发起请假审批流程？", "consultation", None, "咨询"),
    ("Outlook 又闪退", "Outlook 闪退，一直没人处理", "complaint", "general", "投诉"),
    ("Outlook 闪退", "第三次闪退了，我要投诉，非常失望", "complaint", "formal", "投诉"),
    ("VPN", "VPN connect fails and the support is unacceptable, this is a formal complaint",
     "complaint", "formal", "投诉"),
    ("邮件全部中断", "全员无法收发邮件，Outlook 报错", "major_event", None, "重大事件"),
    ("VPN outage", "VPN is down for everyone in the office, nobody can connect",
     "major_event", None, "重大事件"),
])
def test_value_stream_from_words(title, body, stream, complaint, written):
    found = classify(make_ticket(title, body), make_ctx())
    assert found.facts["value_stream"] == stream
    assert found.facts["complaint"] == complaint
    assert found.fields["enrich_value_stream"] == written
    assert f"enrich:vs:{stream.replace('_', '-')}" in found.tags
    assert ("enrich:major-event" in found.tags) is (stream == "major_event")
    assert ("enrich:complaint-formal" in found.tags) is (complaint == "formal")


def test_value_stream_is_written_in_the_catalog_language():
    found = classify(make_ticket("VPN", "VPN connect fails, error message 809"),
                     make_ctx(ClassificationSettings(language="en")))
    assert found.fields["enrich_value_stream"] == "Incident"
    assert found.fields["enrich_category"] == "Desktop IT operations/Software fault/General software faults"


def _recent(n: int, category: str = "desktop.software_fault", minutes_ago: float = 5):
    return tuple({"ticket_id": str(100 + i), "category": category,
                  "created_at": NOW - timedelta(minutes=minutes_ago)} for i in range(n))


@pytest.mark.parametrize("recent,major", [
    (_recent(4), True),                                    # 4 others + this one = threshold 5
    (_recent(3), False),
    (_recent(4, minutes_ago=31), False),                   # outside the 30-minute window
    (_recent(4, category="desktop.hardware_repair"), False),
    (_recent(4, category=FAULT), True),                    # the ledger may store the path
    (_recent(3) + ({"ticket_id": "1", "category": "desktop.software_fault",
                    "created_at": NOW},), False),          # this very ticket does not count twice
])
def test_major_event_by_window(recent, major):
    found = classify(make_ticket("Outlook 闪退", "Outlook 打开就闪退"), make_ctx(recent=recent))
    assert found.facts["major_event"] is major
    assert (found.fields["enrich_priority"] == "P4") is major


def test_window_threshold_is_a_setting():
    s = replace(S, major_event_threshold=3, major_event_window_minutes=60)
    found = classify(make_ticket("Outlook 闪退", ""), make_ctx(s, recent=_recent(2, minutes_ago=45)))
    assert found.facts["major_event"] is True
    assert "similar tickets" in found.note[0]


@pytest.mark.parametrize("text,item,vip,level,factor", [
    ("Outlook 闪退", "desktop.software_fault", False, 2, None),
    ("Outlook 闪退，紧急", "desktop.software_fault", False, 3, "urgency: 紧急"),
    ("Outlook crashes, urgent, I am blocked", "desktop.software_fault", False, 4, "impact: blocked"),
    ("Outlook 闪退", "desktop.software_fault", True, 3, "VIP"),
    ("请问怎么用", "business.usage", False, 1, None),                 # consultation starts low
    ("请问怎么用", "business.usage", True, 2, "VIP"),
    ("会议室投屏失败", "meeting.room_software", False, 3, "service level by meeting time"),
    ("会议室投屏失败，马上开会了，尽快", "meeting.room_software", True, 4, "VIP"),   # capped at P4
    ("我要投诉，Outlook 又闪退", "desktop.software_fault", False, 3, "formal complaint"),
])
def test_priority(text, item, vip, level, factor):
    stream = decide_stream(text, ITEMS[item], "1", (), NOW, S)
    got, factors = decide_priority(text, ITEMS[item], stream, vip, S)
    assert got == level
    assert factor is None and not factors or factor in factors


def test_priority_7x24_item_and_vip_boost_setting():
    item = replace(ITEMS["business.fault"], service_level="7x24")
    stream = decide_stream("OA bug", item, "1", (), NOW, S)
    assert decide_priority("OA bug", item, stream, False, S) == (3, ["service level 7x24"])
    no_boost = replace(S, vip_priority_boost=0)
    assert decide_priority("OA bug", ITEMS["business.fault"], stream, True, no_boost)[0] == 2


def test_major_event_is_p4_and_written_as_label():
    found = classify(make_ticket("大面积断网", "整栋楼大面积断网"), make_ctx())
    assert found.fields["enrich_priority"] == "P4"
    assert found.facts["priority_name"] == "urgent"


@pytest.mark.parametrize("text,stream", [
    ("请问如何连接打印机", "consultation"), ("申请一台显示器", "service_request"), ("有点问题", "incident"),
])
def test_stream_without_a_sure_item_comes_from_words(text, stream):
    assert infer_default(text) == stream


def test_custom_word_lists_replace_the_built_in_ones():
    s = replace(S, major_event_words=("全楼停电",), urgency_words=("火烧眉毛",))
    found = classify(make_ticket("Outlook 闪退", "全楼停电后 Outlook 闪退，火烧眉毛"), make_ctx(s))
    assert found.facts["major_event_words"] == ["全楼停电"]
    found = classify(make_ticket("Outlook 闪退", "Outlook 闪退，火烧眉毛"), make_ctx(s))
    assert found.facts["priority_factors"] == ["urgency: 火烧眉毛"]
