"""The catalog schema: the default catalog, readable errors, the settings section."""
from __future__ import annotations

import copy

import pytest
import yaml

from plugin.classifiers.catalog import (
    DEFAULT_FILE,
    ClassificationSettings,
    default_catalog,
    find_item,
    load_catalog,
    load_settings,
)
from plugin.errors import SettingsError

RAW = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))


def test_default_catalog_is_domain_md_table():
    items = default_catalog()
    assert len(items) == 11
    assert [it.path() for it in items][:2] == ["桌面IT运维管理/操作系统安装/系统安装与离职重置",
                                               "桌面IT运维管理/操作系统故障处理/系统层面故障处理"]
    assert items[0].path("en") == "Desktop IT operations/OS install/OS install and reset on leaving"
    levels = {it.id: it.service_level for it in items}
    assert levels["meeting.room_software"] == "by meeting time" and levels["meeting.executive"] == "-"
    for it in items:
        assert it.channels == ("智能自助服务台", "飞书", "电话", "邮件")
        assert it.keywords and len(it.examples) >= 2 and it.default_group
        zh = [t for t in it.keywords if not t.text.isascii()]
        en = [t for t in it.keywords if t.text.isascii()]
        assert len(zh) >= 5 and len(en) >= 5, it.id


def _with(index: int, **changes):
    data = copy.deepcopy(RAW)
    data[index].update(changes)
    return data


@pytest.mark.parametrize("data,message", [
    ({}, "catalog: must be a non-empty list of items"),
    (_with(1, service_level="24x7"),
     "catalog item 1 (desktop.os_fault): service_level: Must be one of: 5x8, 7x24, by meeting time, -."),
    (_with(0, category={"zh": "桌面"}), "catalog item 0 (desktop.os_install): category: missing or empty text for: en"),
    (_with(2, value_stream="complaint"), "catalog item 2 (desktop.software_install): value_stream: Must be one of"),
    (_with(3, patterns=["(unclosed"]), "catalog item 3 (desktop.software_fault): patterns: entry 0 ('(unclosed'): not a valid regex"),
    (_with(4, keywords={"zh": [{"term": "键盘", "weight": 0}]}),
     "catalog item 4 (desktop.hardware_repair): keywords.zh: entry 0 ('键盘'): weight must be a number in (0, 10]"),
    (_with(5, keywords={"fr": ["salle"]}), "catalog item 5 (meeting.room_software): keywords.fr: Unknown field."),
    (_with(6, id="desktop.os_install"), "catalog item 6 (desktop.os_install): id: duplicate id"),
    (_with(7, colour="red"), "catalog item 7 (business.usage): colour: Unknown field."),
    (_with(8, self_help=[{"title": "x", "url": "ftp://x"}]),
     "catalog item 8 (business.fault): self_help.0.url: must be an http(s) URL"),
])
def test_bad_catalog_names_item_and_field(data, message):
    with pytest.raises(SettingsError) as err:
        load_catalog(data)
    assert err.value.message.startswith(message), err.value.message


def test_missing_item_field():
    data = copy.deepcopy(RAW)
    del data[9]["item"]
    with pytest.raises(SettingsError, match=r"catalog item 9 \(business.app_request\): item: "
                                            r"Missing data for required field"):
        load_catalog(data)


def test_plain_text_where_one_language_is_enough():
    item = load_catalog(_with(0, default_group="Desk", object_class="OS"))[0]
    assert item.group("en") == item.group("zh-CN") == "Desk"


def test_terms_listed_in_both_languages_count_once():
    item = load_catalog(_with(0, keywords={"zh": ["VPN", "重装"], "en": [{"term": "vpn", "weight": 3}]}))[0]
    assert sorted((t.text, t.weight) for t in item.keywords) == [("vpn", 3.0), ("重装", 1.0)]


def test_find_item_by_id_or_path_in_either_language():
    items = default_catalog()
    assert find_item(items, "business.fault").id == "business.fault"
    assert find_item(items, "业务系统/故障升级处理/故障与缺陷升级").id == "business.fault"
    assert find_item(items, "Business systems/Fault escalation/Faults and bugs escalated").id == "business.fault"
    assert find_item(items, "nothing") is None and find_item(items, None) is None


def test_settings_defaults_and_validation():
    s = load_settings({})
    assert s == ClassificationSettings()
    assert (s.confidence_threshold, s.triage_group, s.language, s.major_event_threshold,
            s.major_event_window_minutes, s.vip_priority_boost) == (0.6, "一线服务台", "zh-CN", 5, 30, 1)
    assert load_settings({"language": "en"}).triage_group == "Service Desk triage"
    custom = load_settings({"catalog": RAW[:2], "urgency_words": ["急"]})
    assert len(custom.catalog) == 2 and custom.urgency_words == ("急",)
    with pytest.raises(SettingsError, match="classification: confidence_threshold: Must be greater"):
        load_settings({"confidence_threshold": 2})
    with pytest.raises(SettingsError, match=r"classification: catalog: catalog item 0 \(desktop.os_install\): "):
        load_settings({"catalog": _with(0, service_level="?")})
    with pytest.raises(SettingsError, match="classification: triage_grop: Unknown field"):
        load_settings({"triage_grop": "x"})
