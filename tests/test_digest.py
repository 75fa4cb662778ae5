"""The daily digest per group: composition (tables of ledger rows), the next digest time
on China's calendar (holidays, 调休 make-up days), and the job end to end: rows in the
ledger, the timer's handler at a given `now`, the outbox, a real local SMTP server."""
from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from plugin import jobs, timers
from plugin.notifiers.dispatcher import Dispatcher
from plugin.store import Ledger, utcnow
from plugin.tables import ticket_facts
from plugin.timers import Scheduler
from plugin.tracking import digest_job
from plugin.tracking.digest import compose, is_due, next_due
from plugin.workcal import Calendar, CalendarError

CST = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 17, 10, 0, tzinfo=CST)            # a Tuesday, no holiday near
OPENED = NOW - timedelta(minutes=30)
CAL = Calendar()
AT = time(9)
LEADS = {"桌面运维组": {"name": "王伟", "email": "wang.wei@acme.example"},
         "Network": {"name": "Alice Chen", "email": "alice@acme.example", "language": "en"}}
MANAGER = {"name": "赵经理", "email": "zhao@acme.example"}
JIRA = {"ENRICHER_JIRA_URL": "https://jira.acme.example", "ENRICHER_JIRA_USER": "bot@acme.example",
        "ENRICHER_JIRA_TOKEN": "api-token-1", "ENRICHER_JIRA_WEBHOOK_SECRET": "jira-secret"}


def cst(*args) -> datetime:
    return datetime(*args, tzinfo=CST)


def row(ticket_id, group="桌面运维组", created=OPENED, **kw):
    return {"platform": "zammad", "ticket_id": str(ticket_id), "number": f"3100{ticket_id}",
            "title": f"工单 {ticket_id}", "created_at": created, "updated_at": created, "state": "open",
            "group_name": group, "priority": "P2", **kw}


@pytest.fixture
def settings_with(make_settings, tmp_path):
    def make(contacts=LEADS, manager=MANAGER, digest=None, calendar=None, **env):
        section = {"contacts": contacts, "digest": {"max_tickets": 2, **(digest or {})}}
        if manager:
            section["manager"] = manager
        path = tmp_path / "settings.yaml"
        path.write_text(json.dumps({"tracking": section, **({"calendar": calendar} if calendar else {})}))
        return make_settings(ENRICHER_CONFIG=str(path), **JIRA, **env)
    return make


def one(digests, key):
    [d] = [d for d in digests if d.key == key]
    return d


# -- composition ------------------------------------------------------------------------
def test_counts_by_priority_and_by_age_band_in_working_days(settings_with):
    rows = [row(1, priority="P4"),                                           # 0.1 working days
            row(2, created=cst(2026, 11, 16, 10, 0), priority="P4"),        # exactly 1.0: band 1-3
            row(3, created=cst(2026, 11, 12, 9, 0), priority="P1"),         # 3.1 over a weekend
            row(4, created=cst(2026, 11, 9, 9, 0), priority=None),          # 6.1
            row(5, state="closed", priority="P3"), row(6, state="已解决", priority="P3")]
    d = one(compose(rows, NOW, settings_with()), "桌面运维组")
    assert (d.open, d.group, d.audience, d.contact.name) == (4, "桌面运维组", "lead", "王伟")
    assert d.by_priority == (("P4", 2), ("P3", 0), ("P2", 0), ("P1", 1), ("", 1))
    assert d.by_age == (("<1", 1), ("1-3", 1), ("3-5", 1), ("5+", 1))


@pytest.mark.parametrize("flags,section,flag", [
    ({"sla_breached": True}, "breached", "sla"),
    ({"response_breached": True}, "breached", "response"),
    ({"sla_at_risk": True}, "at_risk", ""),
    ({"sla_at_risk": True, "sla_breached": True}, "breached", "sla"),      # listed once, as breached
    ({"stale_level": 1}, "stale", "1"),
    ({"stale_level": 2}, "stale", "2"),
    ({"stale_level": 0}, None, ""),
    ({"sla_breached": False, "sla_at_risk": None, "stale_level": None}, None, ""),
])
def test_each_ticket_is_in_the_lists_its_flags_say(settings_with, flags, section, flag):
    d = one(compose([row(1, **flags)], NOW, settings_with()), "桌面运维组")
    listed = {name: getattr(d, name).items for name in ("breached", "at_risk", "stale", "waiting")}
    assert {name for name, items in listed.items() if items} == ({section} if section else set())
    if section:
        [item] = listed[section]
        assert (item.number, item.flag, item.url) == ("31001", flag, "http://zammad.test/#ticket/zoom/1")


@pytest.mark.parametrize("updated,state,listed", [
    (cst(2026, 11, 12, 17, 0), "pending reminder", True),     # 18 working hours
    (cst(2026, 11, 13, 11, 0), "pending reminder", False),    # 95 hours on the clock, 15 working ones
    (cst(2026, 11, 12, 17, 0), "Waiting for customer", True), # JSM's name, any case
    (cst(2026, 11, 12, 17, 0), "open", False),                # not waiting on the requester
])
def test_waiting_on_the_requester_counts_working_hours_since_the_last_change(settings_with, updated, state,
                                                                            listed):
    r = row(1, created=cst(2026, 11, 2, 9, 0), updated_at=updated, state=state)
    d = one(compose([r], NOW, settings_with(digest={"waiting_too_long_working_hours": 16})), "桌面运维组")
    assert [i.number for i in d.waiting.items] == (["31001"] if listed else [])
    if listed:
        assert d.waiting.items[0].waited_hours == 18.0


def test_each_list_shows_at_most_max_tickets_most_urgent_first_and_counts_the_rest(settings_with):
    rows = [row(1, priority="P1", sla_breached=True), row(2, priority="P4", sla_breached=True),
            row(3, priority="P3", sla_breached=True, created=cst(2026, 11, 16, 9, 0)),
            row(4, priority="P3", sla_breached=True)]
    d = one(compose(rows, NOW, settings_with()), "桌面运维组")
    assert [i.ticket_id for i in d.breached.items] == ["2", "3"] and d.breached.more == 2


def test_leads_by_group_any_case_the_manager_for_groups_without_one_and_jira_links(settings_with):
    rows = [row(1, group="NETWORK", platform="jira", number="IT-7"), row(2, group="打印机组"), row(3, group=None),
            row(4, group="打印机组"), row(5, group="桌面运维组", state="closed")]
    digests = compose(rows, NOW, settings_with())
    assert [(d.key, d.audience, d.open) for d in digests] == [("network", "lead", 1), ("", "manager", 3)]
    assert digests[0].group == "NETWORK" and digests[0].contact.language == "en"
    assert digests[1].unled == (("打印机组", 2), ("", 1))              # 桌面运维组 had nothing open: no message
    rows[0]["sla_breached"] = True
    [item] = compose(rows, NOW, settings_with())[0].breached.items
    assert item.url == "https://jira.acme.example/browse/IT-7"
    assert [d.key for d in compose(rows, NOW, settings_with(manager=None))] == ["network"]


# -- when -------------------------------------------------------------------------------
@pytest.mark.parametrize("now,due", [
    (cst(2026, 11, 20, 18, 0), cst(2026, 11, 23, 9, 0)),       # Friday evening: Monday
    (cst(2026, 11, 17, 8, 0), cst(2026, 11, 17, 9, 0)),        # before nine: today
    (cst(2026, 11, 17, 9, 0, 1), cst(2026, 11, 18, 9, 0)),     # just sent: tomorrow
    (cst(2026, 9, 30, 9, 0, 5), cst(2026, 10, 8, 9, 0)),       # National Day 10-01..10-07
    (cst(2026, 10, 9, 9, 0, 5), cst(2026, 10, 10, 9, 0)),      # 调休: Saturday 10-10 is a working day
    (cst(2026, 9, 19, 10, 0), cst(2026, 9, 20, 9, 0)),         # 调休: Sunday 09-20 too
    (cst(2026, 9, 24, 9, 30), cst(2026, 9, 28, 9, 0)),         # Mid-Autumn 09-25..09-27
    (cst(2026, 12, 31, 9, 30), cst(2027, 1, 1, 9, 0)),         # not in the holiday data: looked at then
])
def test_the_next_digest_is_at_nine_on_the_next_working_day_in_utc(now, due):
    got = next_due(now.astimezone(UTC), CAL, AT)
    assert got == due and got.tzinfo == UTC


@pytest.mark.parametrize("now,due", [
    (cst(2026, 10, 8, 9, 0), True), (cst(2026, 10, 8, 8, 59), False), (cst(2026, 10, 1, 10, 0), False),
    (cst(2026, 10, 10, 9, 30), True), (cst(2026, 10, 11, 9, 30), False), (cst(2026, 11, 21, 9, 30), False)])
def test_a_digest_is_due_on_working_days_from_the_digest_time(now, due):
    assert is_due(now.astimezone(UTC), CAL, AT) is due


def test_a_day_the_holiday_data_lacks_is_never_guessed():
    with pytest.raises(CalendarError):
        is_due(cst(2027, 1, 4, 9, 30), CAL, AT)


# -- the job, end to end ------------------------------------------------------------------
@pytest.fixture
def desk(settings_with, smtp, tmp_path):
    """A ledger with open tickets, the digest handler and a dispatcher on a real SMTP server."""
    port, mails = smtp
    made = iter(range(1, 100))

    def make(**kw):
        settings = settings_with(ENRICHER_NOTIFY_EMAIL=f"mailto://127.0.0.1:{port}?from=desk@acme.example"
                                                       "&mode=insecure", ENRICHER_RECONCILE_SECONDS="0",
                                 ENRICHER_DATA_DIR=str(tmp_path / f"data{next(made)}"), **kw)
        ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
        with ledger.transaction() as conn:
            for r in FACTS:                 # UTC inside, as the worker writes it
                r = {k: v.astimezone(UTC) if isinstance(v, datetime) else v for k, v in r.items()}
                conn.execute(insert(ticket_facts).values(**r, first_seen_at=r["created_at"],
                                                         last_seen_at=r["created_at"], corrected=False))
        handler = jobs.handlers(settings, SimpleNamespace(ledger=ledger))["digest"]
        dispatcher = Dispatcher(settings, ledger, client_for=lambda platform: None)

        def fire(now):
            due = handler.run({"key": "digest"}, now.astimezone(UTC))
            dispatcher.run_due()
            return due
        return SimpleNamespace(settings=settings, ledger=ledger, fire=fire, dispatcher=dispatcher)
    return make, mails


FACTS = [row(1, created=cst(2026, 9, 28, 9, 0), sla_breached=True, priority="P4"),
         row(2, created=cst(2026, 9, 28, 14, 0), state="pending reminder"),
         row(3, created=cst(2026, 9, 30, 9, 0), state="closed"),
         row(4, group="network", platform="jira", number="IT-7", created=cst(2026, 9, 30, 9, 0), stale_level=1),
         row(5, group="仓库组", created=cst(2026, 9, 30, 10, 0), sla_at_risk=True)]


def received(mails):
    """{recipient: (subject, body)}; one recipient per mail."""
    messages = [(m.rcpt_tos, email.message_from_bytes(m.content, policy=email.policy.default)) for m in mails]
    return {to: (m["Subject"], m.get_content().replace("\r\n", "\n")) for [to], m in messages}


def test_on_a_working_day_each_lead_and_the_manager_get_one_digest_with_their_tickets(desk):
    make, mails = desk
    d = make()
    assert d.fire(cst(2026, 10, 8, 9, 0, 20)) == cst(2026, 10, 9, 9, 0)
    got = received(mails)
    assert set(got) == {"wang.wei@acme.example", "alice@acme.example", "zhao@acme.example"} and len(mails) == 3
    subject, body = got["wang.wei@acme.example"]
    assert subject == "每日工单摘要：桌面运维组（2026-10-08）"
    assert "桌面运维组目前共有 2 张未结工单" in body and "#31003" not in body            # closed: not there
    assert "已超时（1 张）：\n- #31001 工单 1｜P4 紧急｜已开 3.0 个工作日｜已超解决时限" in body
    assert "http://zammad.test/#ticket/zoom/1" in body
    assert "等待用户答复过久（1 张）：\n- #31002 工单 2｜P2 普通" in body and "已等待 20.0 个工作小时" in body
    subject, body = got["alice@acme.example"]
    assert subject == "Daily ticket digest: network (2026-10-08)"
    assert "No progress (1):\n- #IT-7" in body and "https://jira.acme.example/browse/IT-7" in body
    subject, body = got["zhao@acme.example"]
    assert "有 1 张未结工单所在的组没有设置组长" in body and "没有组长的组（共 1 张）：仓库组 1 张" in body
    assert "即将超时（1 张）：\n- #31005 工单 5｜P2 普通｜已开 0.9 个工作日｜仓库组" in body
    assert {r["status"] for r in d.ledger.rows("outbox")} == {"sent"}
    assert "desk:digest:桌面运维组:digest.2026-10-08:lead:email" in {r["key"] for r in d.ledger.rows("outbox")}


def test_a_second_firing_the_same_day_sends_nothing_twice(desk):
    make, mails = desk
    d = make()
    d.fire(cst(2026, 10, 8, 9, 0, 20))
    d.fire(cst(2026, 10, 8, 9, 5))                  # a worker killed mid-job: the timer fires again
    assert len(mails) == 3 and len(d.ledger.rows("outbox")) == 3
    long, longer = digest_job.outbox_id("组" * 199), digest_job.outbox_id("组" * 200)   # the column holds 64
    assert max(len(long), len(longer)) <= 64 and long != longer
    d.fire(cst(2026, 10, 9, 9, 0, 20))              # the next working day: the next digest
    assert len(mails) == 6


@pytest.mark.parametrize("now,due", [
    (cst(2026, 10, 1, 9, 0, 20), cst(2026, 10, 8, 9, 0)),      # National Day
    (cst(2026, 10, 11, 9, 0, 20), cst(2026, 10, 12, 9, 0)),    # the Sunday after the make-up Saturday
    (cst(2026, 10, 8, 8, 30), cst(2026, 10, 8, 9, 0)),         # early: waits for nine
    (cst(2027, 1, 4, 9, 0, 20), cst(2027, 1, 5, 9, 0)),        # not in the holiday data: nothing, logged
])
def test_nothing_is_sent_when_it_is_not_a_working_day_or_not_yet_time(desk, now, due):
    make, mails = desk
    d = make()
    assert d.fire(now) == due
    assert mails == [] and d.ledger.rows("outbox") == []


def test_a_make_up_saturday_gets_its_digest(desk):
    make, mails = desk
    assert make().fire(cst(2026, 10, 10, 9, 0, 20)) == cst(2026, 10, 12, 9, 0)
    assert len(mails) == 3


def test_nothing_without_a_lead_or_when_the_digest_is_off(desk):
    make, mails = desk
    d = make(contacts={}, manager=None)
    jobs.ensure_recurring(d.ledger, d.settings, NOW.astimezone(UTC))
    assert "digest" not in {r["key"] for r in d.ledger.rows("timers")}
    assert d.fire(cst(2026, 10, 8, 9, 0, 20)) is None and mails == []
    d = make(contacts={"Nobody's group": LEADS["Network"]}, manager=None)     # leads, none with open tickets
    d.fire(cst(2026, 10, 8, 9, 0, 20))
    assert mails == [] and d.ledger.rows("outbox") == []
    d = make(digest={"enabled": False})
    assert d.fire(cst(2026, 10, 8, 9, 0, 20)) is None and mails == []


def test_a_lead_heard_on_the_ticket_gets_no_digest_and_shadow_mode_sends_nothing(desk):
    make, mails = desk
    d = make(contacts={"桌面运维组": {"name": "王伟", "channel": "ticket"}}, manager=None)
    d.fire(cst(2026, 10, 8, 9, 0, 20))
    assert mails == [] and d.ledger.rows("outbox") == []
    d = make(ENRICHER_MODE="shadow")
    d.fire(cst(2026, 10, 8, 9, 0, 20))
    assert mails == [] and {r["status"] for r in d.ledger.rows("outbox")} == {"shadow"}


def test_the_worker_start_sets_the_timer_at_the_next_digest_time_or_cancels_it(desk):
    make, _ = desk
    d = make()
    jobs.ensure_recurring(d.ledger, d.settings, cst(2026, 9, 30, 9, 30).astimezone(UTC))
    jobs.ensure_recurring(d.ledger, d.settings, cst(2026, 9, 30, 9, 31).astimezone(UTC))   # set once
    [timer] = d.ledger.rows("timers", key="digest")
    assert (timer["kind"], timer["status"]) == ("digest", "pending")
    assert timer["due_at"].replace(tzinfo=UTC) == cst(2026, 10, 8, 9, 0)
    earlier = make(digest={"at": "08:30"})                  # the admin moves it: the pending timer follows
    jobs.ensure_recurring(d.ledger, earlier.settings, cst(2026, 9, 30, 9, 40).astimezone(UTC))
    assert d.ledger.rows("timers", key="digest")[0]["due_at"].replace(tzinfo=UTC) == cst(2026, 10, 8, 8, 30)
    off = make(digest={"enabled": False})
    jobs.ensure_recurring(d.ledger, off.settings, cst(2026, 9, 30, 9, 50).astimezone(UTC))
    assert d.ledger.rows("timers", key="digest")[0]["status"] == "cancelled"


def test_the_worker_sets_the_timer_and_its_tick_sends_the_digest(desk):
    make, mails = desk
    today = utcnow().astimezone(CST).date()                 # the real clock: today made a working day
    d = make(digest={"at": "00:00"}, calendar={"days": {today.isoformat(): "workday"}})
    jobs.ensure_recurring(d.ledger, d.settings)
    [timer] = d.ledger.rows("timers", key="digest")
    due = timer["due_at"].replace(tzinfo=UTC).astimezone(CST)
    assert due.date() > today and due.time() == time(0)
    timers.bring_forward(d.ledger, "digest", utcnow() - timedelta(seconds=1))
    scheduler = Scheduler(d.ledger, jobs.handlers(d.settings, SimpleNamespace(ledger=d.ledger)), d.dispatcher)
    assert scheduler.tick()["fired"] == 1
    assert len(mails) == 3 and today.isoformat() in received(mails)["wang.wei@acme.example"][0]
    [timer] = d.ledger.rows("timers", key="digest")
    assert timer["status"] == "pending" and timer["due_at"].replace(tzinfo=UTC) > utcnow()
