"""The stale clock (plugin.tracking.stale) and the tracking step, table-tested with
hand-computed expectations on the default calendar (Asia/Shanghai, 09:00-12:00 and
13:00-18:00, China's holidays and 调休 make-up days)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from plugin.models import Findings, LedgerView, Requester, StepContext, Ticket, Timeline, TimelineEvent
from plugin.settings import load_settings
from plugin.steps.s900_4_track import track
from plugin.tracking import stale
from plugin.tracking.config import of
from plugin.workcal import Calendar

CAL = Calendar()


def cst(day: str, hm: str) -> datetime:
    """A Shanghai wall time as UTC."""
    return datetime.fromisoformat(f"{day}T{hm}:00+08:00").astimezone(UTC)


def timeline(*events):
    return Timeline(tuple(TimelineEvent(at, kind, public=True if "reply" in kind else None)
                          for at, kind in events))


CASES = [
    # name, events, now, (level-1 hours, level-2 hours), expected minutes, expected dues (Shanghai)
    ("within one morning", [(cst("2026-12-01", "09:00"), "created")], cst("2026-12-01", "10:30"),
     (2, 5), 90, (cst("2026-12-01", "11:00"), cst("2026-12-01", "15:00"))),
    ("over the lunch break", [(cst("2026-12-01", "11:00"), "created")], cst("2026-12-01", "14:00"),
     (2, 4), 120, (cst("2026-12-01", "14:00"), cst("2026-12-01", "16:00"))),
    ("over a weekend", [(cst("2026-12-04", "17:00"), "created")], cst("2026-12-07", "09:30"),
     (2, 5), 90, (cst("2026-12-07", "10:00"), cst("2026-12-07", "14:00"))),
    # National Day 2026: 1-7 October off; Saturday 10 October is a make-up working day (调休).
    ("over National Day", [(cst("2026-09-30", "17:00"), "created")], cst("2026-10-08", "09:30"),
     (2, 10), 90, (cst("2026-10-08", "10:00"), cst("2026-10-09", "10:00"))),
    ("a make-up Saturday counts", [(cst("2026-10-09", "17:00"), "created")], cst("2026-10-10", "12:00"),
     (2, 8), 240, (cst("2026-10-10", "10:00"), cst("2026-10-10", "17:00"))),
    ("a public agent reply is progress", [(cst("2026-12-01", "09:00"), "created"),
                                          (cst("2026-12-01", "10:00"), "first_reply")],
     cst("2026-12-01", "11:00"), (2, 4), 60, (cst("2026-12-01", "12:00"), cst("2026-12-01", "15:00"))),
    ("a state change is progress", [(cst("2026-12-01", "09:00"), "created"), (cst("2026-12-01", "11:00"), "state")],
     cst("2026-12-01", "11:30"), (1, 2), 30, (cst("2026-12-01", "12:00"), cst("2026-12-01", "14:00"))),
    # Waiting 10:00-15:00 after creation at 09:00: the clock stood still for 4 working hours,
    # so 09:00-10:00 and 15:00-16:00 count.
    ("a waiting period pauses it", [(cst("2026-12-01", "09:00"), "created"), (cst("2026-12-01", "10:00"), "pending"),
                                    (cst("2026-12-01", "15:00"), "resumed")],
     cst("2026-12-01", "16:00"), (2, 3), 120, (cst("2026-12-01", "16:00"), cst("2026-12-01", "17:00"))),
]


@pytest.mark.parametrize("name,events,now,hours,minutes,dues", CASES, ids=[c[0] for c in CASES])
def test_stale_clock(name, events, now, hours, minutes, dues):
    c = stale.clock(timeline(*events), events[0][0], CAL, hours, now)
    assert (round(c.minutes), c.paused) == (minutes, False)
    assert c.due == dues
    assert c.level(now) == sum(1 for d in dues if d <= now)


def test_waiting_now_stops_the_clock_and_sets_no_due():
    events = [(cst("2026-12-01", "09:00"), "created"), (cst("2026-12-01", "10:00"), "pending")]
    c = stale.clock(timeline(*events), events[0][0], CAL, (1, 2), cst("2026-12-03", "10:00"))
    assert c.paused and c.due == (None, None) and c.level(cst("2026-12-03", "10:00")) == 0
    assert round(c.minutes) == 60


def test_the_clock_starts_no_earlier_than_the_plugin_first_saw_the_ticket():
    """Installing the plugin does not escalate the desk's whole backlog at once."""
    old = [(cst("2026-11-02", "09:00"), "created")]
    c = stale.clock(timeline(*old), old[0][0], CAL, (2, 4), cst("2026-12-01", "09:30"),
                    watched_since=cst("2026-12-01", "09:00"))
    assert c.level(cst("2026-12-01", "09:30")) == 0 and c.due[0] == cst("2026-12-01", "11:00")


def test_each_stretch_and_level_has_its_own_event():
    one = stale.clock(timeline((cst("2026-12-01", "09:00"), "created")), None, CAL, (1, 2), cst("2026-12-01", "12:00"))
    two = stale.clock(timeline((cst("2026-12-01", "09:00"), "created"), (cst("2026-12-01", "10:00"), "state")),
                      None, CAL, (1, 2), cst("2026-12-01", "12:00"))
    assert one.event(1) != one.event(2) and one.event(1) != two.event(1)
    assert one.event(1) == stale.clock(timeline((cst("2026-12-01", "09:00"), "created")), None, CAL, (1, 2),
                                       cst("2026-12-02", "12:00")).event(1)


# -- the step ---------------------------------------------------------------------

def settings(tmp_path, tracking):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"tracking": tracking}), "utf-8")
    return load_settings(environ={"ENRICHER_DATA_DIR": str(tmp_path), "ENRICHER_CONFIG": str(path)})


TUESDAY_9AM = cst("2026-12-01", "09:00")


def ticket(state="open", created=TUESDAY_9AM, priority="P4"):
    return Ticket(platform="zammad", id="7", number="30007", title="打印机卡纸", body="", state=state,
                  requester=Requester(id="3", name="李娜", email="li.na@acme.example"), group="Users",
                  created_at=created, fields={"enrich_priority": priority})


def context(s, now, events, classification=None, **ledger):
    found = {"classification": Findings("classification", facts=classification or {})}
    return StepContext(settings=s, now=now, history=timeline(*events), found=found,
                       ledger=LedgerView(**ledger))


@pytest.mark.parametrize("priority,stream,hours", [("P4", "incident", 1), ("P2", "incident", 8),
                                                    ("P2", "complaint", 2), ("P1", None, 16)])
def test_thresholds_by_value_stream_and_priority(tmp_path, priority, stream, hours):
    s = settings(tmp_path, {"stale": {"streams": {"complaint": {"P2": 2}}}})
    assert of(s).stale_after(stream, priority) == hours
    created = cst("2026-12-01", "09:00")
    out = track(ticket(priority=priority), context(s, created + timedelta(minutes=1), [(created, "created")],
                                                   {"value_stream": stream},
                                                   known={"first_seen_at": created}))
    [timer] = out.timers
    assert timer.kind == "reprocess" and timer.due_at == CAL.add_working_minutes(created, hours * 60)


def test_step_escalates_tags_and_asks_for_the_next_level(tmp_path):
    s = settings(tmp_path, {"stale": {"after_working_hours": {"P4": 1}, "manager_after_working_hours": 2}})
    created = cst("2026-12-01", "09:00")
    out = track(ticket(), context(s, cst("2026-12-01", "10:30"), [(created, "created")],
                                  known={"first_seen_at": created}))
    assert "enrich:stale" in out.tags and out.facts["stale_level"] == 1
    assert [e["level"] for e in out.facts["escalate"]] == [1]
    [timer] = out.timers
    assert timer.due_at == cst("2026-12-01", "12:00") and not timer.cancel     # 3 working hours in all


def test_solved_ticket_is_never_stale_and_its_timers_are_cancelled(tmp_path):
    s = settings(tmp_path, {})
    created = cst("2026-12-01", "09:00")
    pending = {"stale:stale.1.20261201T010000:zammad:7": "pending"}
    out = track(ticket(state="closed"), context(s, cst("2026-12-03", "10:00"), [(created, "created")],
                                                known={"first_seen_at": created}, timers=pending))
    assert "enrich:stale" in out.remove_tags and out.facts["stale_level"] == 0
    assert [(t.name, t.cancel) for t in out.timers] == [("stale:stale.1.20261201T010000", True)]


def test_disabled_does_nothing(tmp_path):
    s = settings(tmp_path, {"stale": {"enabled": False}, "outage": {"enabled": False}})
    created = cst("2026-12-01", "09:00")
    out = track(ticket(), context(s, cst("2026-12-03", "10:00"), [(created, "created")],
                                  known={"first_seen_at": created}))
    assert not out.tags and not out.timers and out.facts["stale_level"] is None


@pytest.mark.parametrize("text,error", [
    ("tracking:\n  stale:\n    after_working_hours: {P9: 1}\n", "tracking.stale.after_working_hours"),
    ("tracking:\n  contacts:\n    Users: {name: 王, channel: email}\n", "tracking.contacts.Users.value.email"),
    ("tracking:\n  digest: {at: '9 am'}\n", "tracking.digest.at"),
    ("tracking:\n  contacts:\n    Users: {name: 王, channel: pager}\n", "tracking.contacts.Users.value.channel"),
])
def test_bad_tracking_settings_stop_start_up_naming_the_key(tmp_path, text, error):
    from plugin.errors import SettingsError
    path = tmp_path / "bad.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(SettingsError) as err:
        load_settings(environ={"ENRICHER_DATA_DIR": str(tmp_path), "ENRICHER_CONFIG": str(path)})
    assert error in err.value.message


def test_doctor_names_contacts_that_cannot_be_reached(tmp_path):
    from plugin.doctor import _contacts_check
    tracking = {"contacts": {"Users": {"name": "王", "email": "wang@acme.example"},
                             "Network": {"name": "Alice", "channel": "feishu"}},
                "manager": {"name": "赵", "channel": "ticket"}}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"tracking": tracking}), "utf-8")
    env = {"ENRICHER_DATA_DIR": str(tmp_path), "ENRICHER_CONFIG": str(path)}
    check = _contacts_check(load_settings(environ=env))
    assert not check.ok and check.detail == "1 of 3 contact(s) reachable; not: lead of network (feishu), lead of users (email)"
    reachable = load_settings(environ={**env, "ENRICHER_NOTIFY_EMAIL": "mailto://127.0.0.1:2525?from=d@acme.example",
                                       "ENRICHER_NOTIFY_FEISHU": "feishu://token-123456"})
    assert _contacts_check(reachable).ok
    assert _contacts_check(load_settings(environ={"ENRICHER_DATA_DIR": str(tmp_path)})).ok
