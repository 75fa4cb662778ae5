"""The kpi step, table-tested with hand-computed working minutes (Asia/Shanghai, 09:00-12:00
and 13:00-18:00, China's official calendar: 2026-10-01..07 National Day, make-up working
days Sun 2026-09-20 and Sat 2026-10-10)."""
from __future__ import annotations

import pytest

from .helpers import classified, local, run, ticket, zammad_history

ACCEPT = ("new", "open")

CASES = [
    # id, created, state changes (local time, from, to), replies, now, expected facts
    ("weekend", "2026-11-06 17:50", [("2026-11-09 09:02", *ACCEPT), ("2026-11-09 14:00", "open", "closed")],
     ["2026-11-09 09:30"], "2026-11-09 15:00",
     # Fri 17:50-18:00 (10) + Mon 09:00-09:02 (2); resolution Mon 09:02-12:00 (178) + 13:00-14:00 (60)
     {"response_minutes": 12.0, "first_response_minutes": 12.0, "resolution_minutes": 238.0,
      "waiting_minutes": 0.0, "handling_minutes": 238.0, "response_breached": True,
      "sla_breached": False, "reopened": False}),
    ("national-day", "2026-09-30 17:00", [("2026-10-08 09:10", *ACCEPT)], [], "2026-10-08 10:00",
     # Wed 17:00-18:00 (60); Oct 1-7 off; Thu 09:00-09:10 (10)
     {"response_minutes": 70.0, "response_breached": True, "resolution_minutes": None}),
    ("make-up-saturday", "2026-10-09 17:58", [("2026-10-10 09:01", *ACCEPT),
                                             ("2026-10-10 11:01", "open", "closed")], [], "2026-10-10 12:00",
     # Fri 17:58-18:00 (2) + Sat 10-10, a working day, 09:00-09:01 (1); resolution 09:01-11:01
     {"response_minutes": 3.0, "response_breached": False, "resolution_minutes": 120.0,
      "handling_minutes": 120.0, "registered_day": "2026-10-09"}),
    ("make-up-sunday", "2026-09-19 10:00", [("2026-09-20 09:04", *ACCEPT)], [], "2026-09-20 10:00",
     # Sat 09-19 is a day off; Sun 09-20 is a working day: 09:00-09:04
     {"response_minutes": 4.0, "response_breached": False}),
    ("pending", "2026-11-03 09:00",
     [("2026-11-03 09:03", *ACCEPT), ("2026-11-03 10:00", "open", "pending reminder"),
      ("2026-11-03 14:00", "pending reminder", "open"), ("2026-11-03 16:00", "open", "closed")],
     ["2026-11-03 09:10"], "2026-11-03 17:00",
     # resolution 09:03-12:00 (177) + 13:00-16:00 (180) = 357; waiting 10:00-12:00 + 13:00-14:00 = 180
     {"response_minutes": 3.0, "resolution_minutes": 357.0, "waiting_minutes": 180.0,
      "handling_minutes": 177.0, "sla_breached": False}),
    ("reopen", "2026-11-04 09:00",
     [("2026-11-04 09:05", *ACCEPT), ("2026-11-04 10:00", "open", "closed"),
      ("2026-11-04 11:00", "closed", "open"), ("2026-11-04 15:00", "open", "closed")],
     [], "2026-11-04 16:00",
     # exactly 5 minutes is within the limit; resolution 09:05-15:00 (295) less solved 10:00-11:00 (60)
     {"response_minutes": 5.0, "response_breached": False, "resolution_minutes": 235.0,
      "handling_minutes": 235.0, "reopened": True, "reopens": 1}),
    ("readme-example", "2026-09-30 17:00",
     [("2026-10-08 09:10", *ACCEPT), ("2026-10-08 10:00", "open", "pending reminder"),
      ("2026-10-09 09:30", "pending reminder", "open"), ("2026-10-10 11:10", "open", "closed")],
     ["2026-10-08 09:40"], "2026-10-12 10:00",
     # response 60 + 10; resolution 10-08 470 + 10-09 480 + Sat 10-10 (make-up day) 130 = 1080;
     # waiting 10-08 120 + 300, 10-09 30 = 450; SLA clock 60 + 10 + 1080 - 450 = 700 < 1440 (P2)
     {"response_minutes": 70.0, "resolution_minutes": 1080.0, "waiting_minutes": 450.0,
      "handling_minutes": 630.0, "response_breached": True, "sla_breached": False}),
    ("reopened-still-open", "2026-11-04 09:00",
     [("2026-11-04 09:05", *ACCEPT), ("2026-11-04 10:00", "open", "closed"),
      ("2026-11-04 11:00", "closed", "open")], [], "2026-11-04 16:00",
     {"resolution_minutes": None, "resolved_at": None, "reopened": True}),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_working_minutes_and_flags(case):
    _, created, changes, replies, now, expected = case
    found = run(ticket(created), zammad_history(created, changes, replies), now)
    assert found.facts["measured"] is True
    assert {k: found.facts[k] for k in expected} == expected


def test_fields_are_whole_minutes_and_only_what_is_known():
    created = "2026-11-06 17:50"
    history = zammad_history(created, [("2026-11-09 09:02:40", *ACCEPT)])
    found = run(ticket(created), history, "2026-11-09 10:00")
    # 12.67 minutes -> 13; nothing resolved yet: those fields are left out, not cleared
    assert found.fields == {"enrich_response_minutes": 13, "enrich_first_response_minutes": 13}
    assert found.tags == {"kpi-response-breached"}
    assert "kpi-sla-breached" in found.remove_tags and "kpi-response-breached" not in found.remove_tags
    assert found.note == ("响应超时 Response limit breached: 13 分钟 min > 5 分钟 min",)


def test_an_item_with_no_service_level_has_no_sla_and_no_sla_timer():
    created = "2026-11-02 09:00"       # 会议支持/高管会议支持: level "-"
    found = run(ticket(created), zammad_history(created, [("2026-11-02 09:02", *ACCEPT)]),
                "2026-11-20 09:00", found=classified("meeting.executive", "P4"))
    f = found.facts
    assert (f["service_level"], f["sla_breached"], f["sla_at_risk"], f["sla_source"]) == ("none", None, False, None)
    assert f["response_minutes"] == 2.0 and f["response_breached"] is False
    assert all(r.cancel for r in found.timers)


def test_not_yet_accepted_before_and_after_the_limit():
    created = "2026-11-06 17:58"        # Friday: the 5 working minutes end Monday 09:03
    before = run(ticket(created), zammad_history(created, []), "2026-11-06 17:59")
    assert before.facts["response_breached"] is None and before.facts["response_due"] == local("2026-11-09 09:03")
    timer = {r.name: r for r in before.timers}["kpi:response"]
    assert (timer.kind, timer.due_at, timer.cancel) == ("reprocess", local("2026-11-09 09:03"), False)
    after = run(ticket(created), zammad_history(created, []), "2026-11-09 09:03")
    assert after.facts["response_breached"] is True and "kpi-response-breached" in after.tags
    assert {r.name: r for r in after.timers}["kpi:response"].cancel
    assert after.note == ("响应超时 Response limit breached: 尚未受理 not accepted yet > 5 分钟 min",)


def test_desk_sla_warns_then_breaches_on_the_priority_target():
    # P4 (urgent): 240 working minutes, at risk from 80% (192)
    created = "2026-11-02 09:00"
    history = zammad_history(created, [("2026-11-02 09:01", *ACCEPT)])
    calm = run(ticket(created), history, "2026-11-02 12:30", found=classified(priority="P4"))
    timers = {r.name: r for r in calm.timers}
    assert calm.facts["sla_at_risk"] is False and calm.facts["sla_breached"] is None
    # 180 spent at 12:30: warning after 12 more working minutes (13:12), due after 60 (14:00)
    assert timers["kpi:sla-risk"].due_at == local("2026-11-02 13:12")
    assert timers["kpi:sla-due"].due_at == local("2026-11-02 14:00")
    risky = run(ticket(created), history, "2026-11-02 13:30", found=classified(priority="P4"))
    assert risky.tags == {"kpi-sla-at-risk"} and {r.name: r for r in risky.timers}["kpi:sla-risk"].cancel
    late = run(ticket(created), history, "2026-11-02 14:00", found=classified(priority="P4"))
    assert late.tags == {"kpi-sla-breached"} and "kpi-sla-at-risk" in late.remove_tags


def test_waiting_stops_the_sla_clock():
    created = "2026-11-02 09:00"
    history = zammad_history(created, [("2026-11-02 09:01", *ACCEPT),
                                       ("2026-11-02 10:00", "open", "pending reminder")])
    found = run(ticket(created), history, "2026-11-03 17:00", found=classified(priority="P4"))
    # 60 minutes spent before waiting: no deadline while it waits, nothing breached
    assert found.facts["sla_breached"] is None and found.facts["sla_due"] is None
    assert not found.tags


def test_zammad_sla_columns_decide_when_an_sla_filled_them():
    created = "2026-11-02 09:00"
    history = zammad_history(created, [("2026-11-02 09:01", *ACCEPT)],
                             kpi={"first_response_diff_in_min": -3, "first_response_in_min": 33})
    found = run(ticket(created), history, "2026-11-02 10:00")
    assert (found.facts["sla_source"], found.facts["sla_breached"]) == ("zammad", True)
    pending = zammad_history(created, [("2026-11-02 09:01", *ACCEPT)],
                             kpi={"escalation_at": iso_utc("2026-11-02 17:00")})
    found = run(ticket(created), pending, "2026-11-02 10:00")
    assert found.facts["sla_breached"] is None and found.facts["sla_due"] == local("2026-11-02 17:00")
    assert {r.name: r for r in found.timers}["kpi:sla-due"].due_at == local("2026-11-02 17:00")


def iso_utc(text: str) -> str:
    return local(text).strftime("%Y-%m-%dT%H:%M:%SZ")
