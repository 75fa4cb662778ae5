"""Scope: the classified item, the time it arrived and the desk's calendar in; in or
out of scope, and the next working period when it came after hours, out. Times are
Asia/Shanghai (UTC+8) on the official calendar: 2026-02-16..23 is the Spring
Festival holiday, 2026-02-14 (a Saturday) a make-up working day (调休)."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from plugin.classifiers.catalog import default_catalog, find_item
from plugin.classifiers.catalog_fields import Names
from plugin.verify import scope
from plugin.workcal import Calendar

CST = timezone(timedelta(hours=8))
CAL = Calendar()
OS_FAULT = find_item(default_catalog(), "desktop.os_fault")
MEETING = find_item(default_catalog(), "meeting.executive")
VENDOR = replace(OS_FAULT, third_party=Names("联想售后", "Lenovo support"))


def at(*args) -> datetime:
    return datetime(*args, tzinfo=CST).astimezone(UTC)


CASES = [
    # (id, item id, item, arrived, contract level, result, words, next_open in CST or None)
    ("inside-hours", "desktop.os_fault", OS_FAULT, at(2026, 3, 2, 10, 0), None, "pass", "inside service hours",
     None),
    ("lunch-break", "desktop.os_fault", OS_FAULT, at(2026, 3, 2, 12, 30), None, "pass", "outside service hours",
     (2026, 3, 2, 13, 0)),
    ("friday-evening", "desktop.os_fault", OS_FAULT, at(2026, 3, 6, 19, 0), None, "pass", "2026-03-09 09:00",
     (2026, 3, 9, 9, 0)),
    ("spring-festival", "desktop.os_fault", OS_FAULT, at(2026, 2, 17, 10, 0), None, "pass", "outside",
     (2026, 2, 24, 9, 0)),
    ("make-up-saturday", "desktop.os_fault", OS_FAULT, at(2026, 2, 14, 10, 0), None, "pass", "inside", None),
    ("contract-7x24", "desktop.os_fault", OS_FAULT, at(2026, 3, 7, 3, 0), "7x24", "pass",
     "inside service hours (7x24)", None),
    ("no-fixed-hours", "meeting.executive", MEETING, at(2026, 3, 7, 3, 0), None, "pass", "no fixed hours", None),
    ("third-party", "desktop.os_fault", VENDOR, at(2026, 3, 2, 10, 0), None, "fail", "Lenovo support", None),
    ("not-in-catalog", "hr.payroll", None, at(2026, 3, 2, 10, 0), None, "fail", "not in the catalog", None),
    ("triage", None, None, at(2026, 3, 2, 10, 0), None, "unknown", "not classified yet", None),
    ("year-not-covered", "desktop.os_fault", OS_FAULT, at(2099, 3, 2, 10, 0), None, "unknown",
     "could not verify the service hours", None),
]


@pytest.mark.parametrize("item_id,item,arrived,level,result,words,opens", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_scope(item_id, item, arrived, level, result, words, opens):
    found = scope.check(item_id, item, arrived, CAL, level)
    assert (found.name, found.result) == ("scope", result)
    assert words in found.reason("en")
    if opens is None:
        assert "next_open" not in found.facts
    else:
        assert found.facts["after_hours"] is True
        assert datetime.fromisoformat(found.facts["next_open"]) == at(*opens)
        assert at(*opens).astimezone(CST).strftime("%Y-%m-%d %H:%M") in found.reason("zh-CN")
