"""The classification step: findings, triage, model combination, corrections."""
from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from plugin.classifiers.catalog import STEP, ClassificationSettings
from plugin.classifiers.step import classify, settings_of
from plugin.models import Requester, StateChange, Ticket

from .conftest import FakeModel, make_ctx, make_ticket

S = ClassificationSettings()
FAULT = "桌面IT运维管理/软件故障问题/一般软件故障"
PERMISSION = "业务系统/应用系统权限/权限处理"


def test_findings_of_a_clear_ticket():
    found = classify(make_ticket("VPN 连不上", "在家 VPN 连接失败"), make_ctx())
    assert found.step == STEP == "classification"
    assert found.fields == {"enrich_category": FAULT, "enrich_value_stream": "事件",
                            "enrich_priority": "P2", "enrich_group": "桌面运维组",
                            "enrich_confidence": 0.78, "enrich_triage": False}
    assert found.tags == {"enrich:vs:incident"}
    assert "enrich:triage" in found.remove_tags and "enrich:vs:major-event" in found.remove_tags
    assert found.note == (("分类 Category: 桌面IT运维管理/软件故障问题/一般软件故障 — matched 'VPN', "
                           "'连不上', '连接失败'; confidence 0.78 · 类型 Value stream: 事件 · "
                           "优先级 Priority: P2 · 组 Group: 桌面运维组"),)
    assert found.facts["category"] == "desktop.software_fault"
    assert found.facts["matched"] == ["VPN", "连不上", "连接失败"]
    assert found.facts["self_help"] == [{"title": "VPN 连接自助排查", "url": "https://kb.example.com/vpn"}]
    assert found.facts["major_event"] is False


def test_protected_item_is_tagged_for_an_identity_check():
    found = classify(make_ticket("重置密码", "账号被锁，需要重置密码"), make_ctx())
    assert found.facts["protected"] is True and "enrich:protected" in found.tags


@pytest.mark.parametrize("title,body", [
    ("求助", "有个问题想找人看看"),               # nothing matches
    ("Outlook", "Outlook"),                        # one weak keyword: 1 / (1 + 1) = 0.5
    ("安装", "卸载后蓝屏"),                        # two items tie
])
def test_below_threshold_goes_to_triage_instead_of_guessing(title, body):
    found = classify(make_ticket(title, body), make_ctx())
    assert found.fields["enrich_triage"] is True
    assert "enrich_category" not in found.fields
    assert found.fields["enrich_group"] == "一线服务台"
    assert "enrich:triage" in found.tags
    assert found.fields["enrich_confidence"] < 0.6
    assert "needs triage" in found.note[0]


def test_triage_group_and_threshold_are_settings():
    s = ClassificationSettings(language="en", confidence_threshold=0.95)
    found = classify(make_ticket("VPN", "VPN connect fails"), make_ctx(s))
    assert found.fields["enrich_group"] == "Service Desk triage"
    s = ClassificationSettings(triage_group="L1", confidence_threshold=0.4)
    found = classify(make_ticket("Outlook", "Outlook"), make_ctx(s))
    assert found.fields["enrich_triage"] is False
    found = classify(make_ticket("求助", ""), make_ctx(s))
    assert found.fields["enrich_group"] == "L1"


def test_model_with_catalog_labels_is_combined_with_the_rules():
    model = FakeModel({"desktop.software_fault": 0.93, "business.fault": 0.07})
    found = classify(make_ticket("VPN 连不上", "连接失败"), make_ctx(model=model))
    assert found.fields["enrich_category"] == FAULT
    assert found.fields["enrich_confidence"] > 0.93     # agreeing rules raise it
    assert "model: 软件故障问题 0.93, 故障升级处理 0.07" in found.note[0]
    # no rule matched: the model alone decides
    found = classify(make_ticket("求助", "有个问题"), make_ctx(model=model))
    assert found.fields["enrich_confidence"] == 0.93 and found.fields["enrich_triage"] is False
    # rules disagree strongly: not sure any more
    found = classify(make_ticket("权限", "没有权限，访问被拒绝"), make_ctx(model=model))
    assert found.fields["enrich_triage"] is True


def test_model_on_other_labels_does_not_contribute():
    model = FakeModel({"Hardware": 0.9, "Access": 0.1})
    found = classify(make_ticket("求助", "有个问题"), make_ctx(model=model))
    assert found.fields["enrich_triage"] is True
    assert found.facts["model"] == {"label": "Hardware", "probability": 0.9, "used": False,
                                    "version": "fake", "top": [["Hardware", 0.9], ["Access", 0.1]]}


def test_agent_changed_category_is_recorded_not_overwritten():
    previous = {"enrich_category": FAULT, "enrich_group": "桌面运维组", "enrich_value_stream": "事件"}
    ticket = make_ticket("VPN 连不上", "连接失败", event="update",
                         fields={"enrich_category": PERMISSION})
    found = classify(ticket, make_ctx(previous=previous))
    assert found.facts["correction"] == {"field": "enrich_category", "from": FAULT, "to": PERMISSION}
    assert found.fields == {}                          # the agent's value stays
    assert found.facts["category"] == "business.permission"


def test_agent_changed_group_is_a_correction_unless_the_plugin_sent_it_to_triage():
    previous = {"enrich_category": FAULT, "enrich_group": "桌面运维组"}
    ticket = make_ticket("VPN", "x", event="update", group="Users",
                         fields={"enrich_category": FAULT, "enrich_group": "网络组"})
    found = classify(ticket, make_ctx(previous=previous))
    assert found.facts["correction"] == {"field": "enrich_group", "from": "桌面运维组", "to": "网络组"}
    triaged = {**previous, "enrich_group": "一线服务台", "enrich_triage": True}
    assert "correction" not in classify(ticket, make_ctx(previous=triaged)).facts
    # The plugin only suggests: a ticket still in its intake group was not corrected.
    untouched = make_ticket("VPN", "x", event="update", group="Users",
                            fields={"enrich_category": FAULT, "enrich_group": "桌面运维组"})
    assert "correction" not in classify(untouched, make_ctx(previous=previous)).facts


def test_group_history_decides_whether_someone_moved_the_ticket():
    previous = {"enrich_category": FAULT, "enrich_group": "桌面运维组"}
    still_in_intake = make_ticket("VPN", "x", event="update", group="Users", fields={"enrich_category": FAULT},
                                  history=(StateChange("state", "new", "open"),))
    assert "correction" not in classify(still_in_intake, make_ctx(previous=previous)).facts
    moved = replace(still_in_intake, history=(StateChange("group", "桌面运维组", "Users"),))
    assert classify(moved, make_ctx(previous=previous)).facts["correction"]["to"] == "Users"


def test_later_updates_do_not_reclassify():
    previous = {"enrich_category": FAULT, "enrich_value_stream": "事件"}
    ticket = make_ticket("账号权限", "现在还需要开通权限", event="update", fields={"enrich_category": FAULT})
    found = classify(ticket, make_ctx(previous=previous))
    assert found.fields == {} and found.tags == frozenset() and "correction" not in found.facts


def test_later_update_may_escalate_to_major_event():
    previous = {"enrich_category": FAULT, "enrich_value_stream": "事件", "enrich_priority": "P2"}
    ticket = make_ticket("VPN 连不上", "现在全员都连不上 VPN 了", event="update",
                         fields={"enrich_category": FAULT})
    found = classify(ticket, make_ctx(previous=previous))
    assert found.fields == {"enrich_value_stream": "重大事件", "enrich_priority": "P4"}
    assert {"enrich:major-event", "enrich:vs:major-event"} <= found.tags
    assert "enrich:vs:incident" in found.remove_tags
    assert found.note[0].startswith("重大事件 Major event: matched '全员'")
    again = {**previous, "enrich_value_stream": "重大事件"}
    assert classify(ticket, make_ctx(previous=again)).fields == {}


def test_settings_from_the_main_settings_file_section(tmp_path):
    from plugin.settings import load_settings
    path = tmp_path / "settings.yaml"
    path.write_text("language: en\nclassification:\n  confidence_threshold: 0.9\n")
    main = load_settings(environ={"ENRICHER_CONFIG": str(path), "ENRICHER_DATA_DIR": str(tmp_path)})
    s = settings_of(make_ctx(main))
    assert s.confidence_threshold == 0.9 and s.language == "en" and len(s.catalog) == 11
    assert s.triage_group == "Service Desk triage"
    embedded = SimpleNamespace(classification=S)
    assert settings_of(make_ctx(embedded)) is S


def test_bad_catalog_in_settings_file_refuses_to_start(tmp_path):
    from plugin.errors import SettingsError
    from plugin.settings import load_settings
    path = tmp_path / "settings.yaml"
    path.write_text("catalog:\n  - id: x.y\n    service_level: 9x9\n")
    with pytest.raises(SettingsError, match="classification: "):
        load_settings(environ={"ENRICHER_CONFIG": str(path), "ENRICHER_DATA_DIR": str(tmp_path)})


def test_triaged_ticket_is_not_reclassified_by_a_later_event():
    vague = Ticket(platform="jira", id="ITSD-1", number="ITSD-1", title="help", body="it does not work",
                   requester=Requester(id="7"), event="create")
    first = classify(vague, make_ctx())
    assert first.fields["enrich_triage"] is True and "enrich_category" not in first.fields
    comment = Ticket(platform="jira", id="ITSD-1", number="ITSD-1", title="help",
                     body="Outlook 打不开，软件崩溃，一直报错", requester=Requester(id="7"), event="comment",
                     fields={"enrich_value_stream": first.fields["enrich_value_stream"]})
    later = classify(comment, make_ctx(previous=dict(first.fields)))
    assert "enrich_category" not in later.fields and "enrich_triage" not in later.fields


def test_burst_window_ends_at_the_tickets_own_creation():
    from datetime import timedelta

    from .conftest import NOW
    text = ("Outlook 打不开", "Outlook 软件崩溃，一直报错")
    later = tuple({"ticket_id": str(100 + i), "category": "desktop.software_fault",
                   "created_at": NOW + timedelta(minutes=5 + i)} for i in range(6))
    earlier = tuple({**r, "created_at": NOW - timedelta(minutes=5 + i)} for i, r in enumerate(later))
    # Replayed after six alike arrived: this ticket itself was not part of a burst.
    first = classify(make_ticket(*text, created_at=NOW), make_ctx(recent=later, now=NOW + timedelta(hours=1)))
    assert first.facts["major_event"] is False
    # Six alike in the half hour before it arrived: it was.
    burst = classify(make_ticket(*text, created_at=NOW), make_ctx(recent=earlier, now=NOW + timedelta(hours=1)))
    assert burst.facts["major_event"] is True and burst.fields["enrich_priority"] == "P4"


def test_the_note_names_rule_words_and_the_models_two_best():
    model = FakeModel({"desktop.software_fault": 0.81, "desktop.software_install": 0.12,
                       "_other": 0.07})
    found = classify(make_ticket("VPN 连不上", "连接失败"), make_ctx(model=model))
    note = found.note[0]
    assert "matched 'VPN', '连不上', '连接失败'" in note
    assert "model: 软件故障问题 0.81, 软件安装与卸载 0.12" in note
    assert found.facts["model"]["top"] == [["desktop.software_fault", 0.81],
                                           ["desktop.software_install", 0.12]]
    assert found.facts["runner_up"][0] == "desktop.software_install"


@pytest.mark.parametrize("title,model,says", [
    # nothing at all to go on
    ("求助", None, "What would decide it: no keyword of any item in the text and no model"),
    # the model sees a ticket the catalog does not serve
    ("Invoice INV-2025-0318 charged twice", {"_other": 0.7, "business.fault": 0.2, "business.usage": 0.1},
     "the model sees 不属于目录 none of the catalog (0.70)"),
    # two items close together
    ("安装 卸载后蓝屏", {"desktop.os_fault": 0.45, "desktop.software_install": 0.4, "_other": 0.15},
     "close at"),
])
def test_a_triage_note_says_what_would_have_decided_it(title, model, says):
    ctx = make_ctx(model=FakeModel(model) if model else None)
    found = classify(make_ticket(title, ""), ctx)
    assert found.fields["enrich_triage"] is True
    assert "What would decide it: " in found.note[0] and says in found.note[0], found.note[0]


def test_a_triage_note_names_the_missing_confidence_and_the_threshold_that_would_do():
    found = classify(make_ticket("Outlook", "Outlook"), make_ctx())
    note = found.note[0]
    assert "软件故障问题 needed 0.60, had 0.50" in note
    assert "a threshold of 0.50 would have chosen 软件故障问题" in note
