"""The kpi step on Jira (changelog and JSM SLA fields), the repeat and misclassified flags,
the desk's own settings (a 7x24 item, another response limit), and a year the holiday
data does not cover."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from plugin.classifiers.catalog import ClassificationSettings, default_catalog
from plugin.kpi.config import KpiSchema
from plugin.models import Findings, LedgerView
from plugin.timeline import jira_timeline
from plugin.workcal import Calendar

from .helpers import classified, iso, local, run, ticket, zammad_history


def jira_history(created: str, moves: list[tuple[str, str, str]], sla: dict | None = None,
                 status: str = "In Progress"):
    fields = {"created": iso(created), "status": {"name": status, "statusCategory": {"key": "indeterminate"}},
              "reporter": {"accountId": "cust-1"}, **(sla or {})}
    changelog = [{"created": iso(at), "author": {"accountId": "agent-1"},
                  "items": [{"field": "status", "fromString": old, "toString": new}]} for at, old, new in moves]
    return jira_timeline(fields, changelog, sla_names={"customfield_10030": "Time to resolution"})


def jsm_cycle(elapsed_h: float, goal_h: float, breach_at: str, breached: bool = False) -> dict:
    ms = 3_600_000
    return {"customfield_10030": {"completedCycles": [], "ongoingCycle": {
        "breached": breached, "paused": False, "withinCalendarHours": True,
        "goalDuration": {"millis": int(goal_h * ms)}, "elapsedTime": {"millis": int(elapsed_h * ms)},
        "remainingTime": {"millis": int((goal_h - elapsed_h) * ms)},
        "breachTime": {"iso8601": iso(breach_at)}}}}


def test_jira_waiting_for_support_to_in_progress_is_the_response():
    created = "2026-11-02 09:00"
    history = jira_history(created, [("2026-11-02 09:07", "Waiting for support", "In Progress")])
    found = run(ticket(created, platform="jira", id="ITSD-1"), history, "2026-11-02 10:00")
    assert (found.facts["response_minutes"], found.facts["response_breached"]) == (7.0, True)
    assert found.facts["sla_source"] == "desk"          # no SLA fields: the desk's own target


def test_jsm_sla_fields_are_the_verdict_at_risk_then_breached():
    created = "2026-11-02 09:00"
    moves = [("2026-11-02 09:01", "Waiting for support", "In Progress")]
    risky = jira_history(created, moves, jsm_cycle(7, 8, "2026-11-02 18:00"))
    found = run(ticket(created, platform="jira", id="ITSD-1"), risky, "2026-11-02 17:00")
    assert (found.facts["sla_source"], found.facts["sla_at_risk"]) == ("jira", True)
    assert found.tags == {"kpi-sla-at-risk"}
    assert {r.name: r for r in found.timers}["kpi:sla-due"].due_at == local("2026-11-02 18:00")
    late = jira_history(created, moves, jsm_cycle(9, 8, "2026-11-02 18:00", breached=True))
    found = run(ticket(created, platform="jira", id="ITSD-1"), late, "2026-11-03 10:00")
    assert found.facts["sla_breached"] is True and "kpi-sla-breached" in found.tags


def test_a_repeat_from_the_ledger_view_and_from_verification():
    created = "2026-11-04 09:00"
    history = zammad_history(created, [("2026-11-04 09:02", "new", "open")])
    earlier = {"ticket_id": "0", "created_at": local("2026-11-02 10:00"), "item_id": "desktop.software_fault",
               "title": "x"}
    other_item = {**earlier, "item_id": "business.usage"}
    same = run(ticket(created), history, "2026-11-04 10:00", ledger=LedgerView(requester_recent=(earlier,)))
    differs = run(ticket(created), history, "2026-11-04 10:00",
                  ledger=LedgerView(requester_recent=(other_item,)))
    assert same.facts["repeat"] is True and "kpi-repeat" in same.tags
    assert differs.facts["repeat"] is False
    verified = Findings("verification", facts={"checks": {"repeats": {"result": "fail"}}})
    from plugin.models import StepContext
    from plugin.steps.s902_measure import measure
    said = measure(ticket(created), StepContext(now=local("2026-11-04 10:00"), history=history,
                                                found={"classification": classified(),
                                                       "verification": verified}))
    # counted for the review; the ticket already carries verification's enrich:repeat tag
    assert said.facts["repeat"] is True and "kpi-repeat" not in said.tags


def test_misclassified_from_a_correction_and_kept_once_known():
    created = "2026-11-04 09:00"
    history = zammad_history(created, [("2026-11-04 09:02", "new", "open")])
    corrected = classified(correction={"field": "enrich_category", "from": "a", "to": "b"})
    assert "kpi-misclassified" in run(ticket(created), history, "2026-11-04 10:00", found=corrected).tags
    remembered = run(ticket(created), history, "2026-11-04 10:00",
                     ledger=LedgerView(known={"corrected": True}))
    assert remembered.facts["misclassified"] is True


def test_a_7x24_item_and_a_desk_response_limit_of_its_own():
    catalog = tuple(it if it.id != "business.fault" else _level(it, "7x24") for it in default_catalog())
    settings = SimpleNamespace(calendar=Calendar(), classification=ClassificationSettings(catalog=catalog),
                               file={"kpi": KpiSchema().load({"response_limit_minutes": 30,
                                                              "resolution_minutes": {"P2": 600}})})
    created = "2026-11-07 23:50"                        # Saturday night: 7x24 counts every minute
    history = zammad_history(created, [("2026-11-08 00:20", "new", "open")])
    found = run(ticket(created), history, "2026-11-08 01:00", settings=settings,
                found=classified("business.fault"))
    f = found.facts
    assert (f["service_level"], f["response_minutes"], f["response_breached"]) == ("7x24", 30.0, False)
    assert f["target_minutes"] == 600 and f["sla_due"] == local("2026-11-08 09:50")


def _level(item, level):
    from dataclasses import replace
    return replace(item, service_level=level)


def test_a_year_without_holiday_data_is_said_not_guessed():
    created = "2099-03-02 09:00"
    history = zammad_history(created, [("2099-03-02 09:02", "new", "open")])
    found = run(ticket(created), history, "2099-03-02 10:00")
    assert found.facts["measured"] is False and "not covered" in found.facts["reason"]
    assert not found.fields and not found.tags


def test_without_history_the_step_says_so():
    from plugin.models import StepContext
    from plugin.steps.s902_measure import measure
    found = measure(ticket("2026-11-02 09:00"), StepContext(now=local("2026-11-02 10:00")))
    assert found.facts == {"measured": False, "reason": "no history"}


def test_a_ticket_registered_on_a_holiday_starts_its_clock_at_the_next_working_day():
    created = "2026-10-01 09:00"                        # National Day: nothing counts until Oct 8
    history = zammad_history(created, [("2026-10-08 09:02", "new", "open"),
                                       ("2026-10-08 11:00", "open", "closed")])
    found = run(ticket(created), history, "2026-11-01 10:00")
    assert (found.facts["response_minutes"], found.facts["resolution_minutes"]) == (2.0, 118.0)
    assert found.facts["registered_day"] == "2026-10-01"
    assert found.facts["resolved_at"] - found.facts["first_response_at"] == timedelta(minutes=118)
