"""End to end on the Zammad simulator with a clock the test controls (time-machine): the
desk owns every ticket. A ticket with no progress goes stale over a weekend and is
escalated once at each level (the group's lead, then the desk manager), by mail to a
real local SMTP server; progress clears it. A burst of outage tickets is linked to the
open major event and each requester is told once, and told again once when the major
event is solved."""
from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
import yaml

from plugin.store import aware
from plugin.tables import timers as timers_table
from tests.test_communication_e2e import Desk

# Friday 4 December 2026, 17:00 in Shanghai: one working hour left in the week.
FRIDAY_5PM = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
LEAD, MANAGER = "wang.lead@acme.example", "zhang.manager@acme.example"


def settings_file(tmp_path, **tracking):
    path = tmp_path / "settings.yaml"
    path.write_text(yaml.safe_dump({"tracking": {
        "contacts": {"Users": {"name": "王组长", "channel": "email", "email": LEAD}},
        "manager": {"name": "张经理", "channel": "email", "email": MANAGER},
        "stale": {"after_working_hours": {"P1": 2, "P2": 2, "P3": 2, "P4": 2},
                  "manager_after_working_hours": 3},
        **tracking}}, allow_unicode=True), "utf-8")
    return str(path)


@pytest.fixture
def desk(sim, make_settings, smtp, tmp_path):
    port, _ = smtp
    settings = make_settings(ENRICHER_ZAMMAD_URL=sim.base_url, ENRICHER_ZAMMAD_TOKEN=sim.token,
                             ENRICHER_CONFIG=settings_file(tmp_path), ENRICHER_RECONCILE_SECONDS="0",
                             ENRICHER_LOG_LEVEL="ERROR",
                             ENRICHER_NOTIFY_EMAIL=f"mailto://127.0.0.1:{port}?from=desk@acme.example&mode=insecure")
    return Desk(settings, sim)


def mails(smtp, to):
    _, received = smtp
    out = []
    for envelope in received:
        if to in envelope.rcpt_tos:
            message = email.message_from_bytes(envelope.content)
            out.append((str(email.header.make_header(email.header.decode_header(message["Subject"]))),
                        message.get_payload(decode=True).decode("utf-8") if not message.is_multipart()
                        else message.get_payload(0).get_payload(decode=True).decode("utf-8")))
    return out


def pending_stale(desk, tid):
    with desk.ledger.engine.connect() as conn:
        rows = conn.execute(timers_table.select().where(timers_table.c.ticket_id == str(tid),
                                                        timers_table.c.key.like("stale:%"),
                                                        timers_table.c.status == "pending")).mappings().all()
    return [aware(r["due_at"]) for r in rows]


def near(at, expected):
    """The clock ticks while the test runs: a due time is the expected one within seconds."""
    return abs(at - expected) < timedelta(seconds=10)


def notes(desk, tid, prefix):
    return [a for a in desk.sim.articles[tid] if a["internal"] and (a.get("subject") or "").startswith(prefix)]


def test_a_ticket_without_progress_is_escalated_once_at_each_level(desk, sim, smtp):
    with time_machine.travel(FRIDAY_5PM, tick=True) as clock:
        tid = sim.create_ticket("打印机卡纸", "三楼打印机卡纸，无法打印。", "li.na@acme.example", customer_name="李娜")
        desk.webhook(tid, sim.articles[tid][0]["id"])
        [due] = pending_stale(desk, tid)
        # One working hour on Friday, one on Monday from 09:00: Monday 10:00 in Shanghai.
        assert near(due, datetime(2026, 12, 7, 2, 0, tzinfo=UTC))
        assert "enrich:stale" not in sim.tags[tid]

        clock.move_to(datetime(2026, 12, 7, 1, 59, tzinfo=UTC))       # a minute early: nothing
        desk.timers_fire()
        assert mails(smtp, LEAD) == [] and "enrich:stale" not in sim.tags[tid]

        clock.move_to(datetime(2026, 12, 7, 2, 0, 30, tzinfo=UTC))
        desk.timers_fire()
        desk.timers_fire()
        [(subject, body)] = mails(smtp, LEAD)
        assert subject.startswith(f"【工单停滞】#{sim.tickets[tid]['number']} 打印机卡纸")
        assert "王组长" in body and "2 个工作小时" in body and f"#ticket/zoom/{tid}" in body
        assert "enrich:stale" in sim.tags[tid]
        [note] = notes(desk, tid, "工单停滞 1 级")
        assert "已通知组长 王组长" in note["body"]
        assert mails(smtp, MANAGER) == []

        # Level 2 three working hours later: 10:00 + 2 h to noon, lunch, 13:00 + 1 h = 14:00.
        [due2] = pending_stale(desk, tid)
        assert near(due2, datetime(2026, 12, 7, 6, 0, tzinfo=UTC))
        sim.reply(tid, "已催促工程师。", internal=True)                   # an internal note is not progress
        desk.webhook(tid)
        clock.move_to(datetime(2026, 12, 7, 6, 0, 30, tzinfo=UTC))
        desk.timers_fire()
        desk.timers_fire()
        [(subject2, body2)] = mails(smtp, MANAGER)
        assert subject2.startswith("【工单停滞·升级】") and "张经理" in body2 and "王组长" in body2
        assert len(mails(smtp, LEAD)) == 1 and len(notes(desk, tid, "工单停滞 2 级")) == 1

        # Progress: an agent's public reply. The tag goes, the clock starts again.
        clock.move_to(datetime(2026, 12, 7, 7, 0, tzinfo=UTC))
        sim.reply(tid, "我们已安排工程师上门。")
        desk.webhook(tid)
        assert "enrich:stale" not in sim.tags[tid]
        [due3] = pending_stale(desk, tid)
        assert near(due3, datetime(2026, 12, 7, 9, 0, tzinfo=UTC))   # 15:00 + 2 h
        [facts] = desk.ledger.rows("ticket_facts", ticket_id=str(tid))
        assert facts["stale_level"] == 0

        # A new stretch without progress is a new escalation, once.
        clock.move_to(datetime(2026, 12, 7, 9, 0, 30, tzinfo=UTC))
        desk.timers_fire()
        desk.timers_fire()
        assert len(mails(smtp, LEAD)) == 2 and len(mails(smtp, MANAGER)) == 1
        assert {r["status"] for r in desk.ledger.rows("outbox")} == {"sent"}


def test_waiting_on_the_requester_pauses_the_clock_and_solving_ends_it(desk, sim, smtp):
    with time_machine.travel(FRIDAY_5PM, tick=True) as clock:
        tid = sim.create_ticket("无法登录 VPN", "VPN 提示证书错误。", "li.na@acme.example", customer_name="李娜")
        desk.webhook(tid, sim.articles[tid][0]["id"])
        clock.shift(timedelta(minutes=30))
        sim.agent_update(tid, state="pending reminder")                 # waiting on the requester
        desk.webhook(tid)
        assert pending_stale(desk, tid) == []                             # paused: no timer
        clock.move_to(datetime(2026, 12, 8, 2, 0, tzinfo=UTC))           # Tuesday: long past 2 hours
        sim.agent_update(tid, state="open")                              # the requester answered
        desk.webhook(tid)
        [due] = pending_stale(desk, tid)
        assert near(due, datetime(2026, 12, 8, 4, 0, tzinfo=UTC))   # from the change
        sim.agent_update(tid, state="closed")
        desk.webhook(tid)
        assert pending_stale(desk, tid) == []
        clock.move_to(datetime(2026, 12, 9, 2, 0, tzinfo=UTC))
        desk.timers_fire()
        assert mails(smtp, LEAD) == [] and "enrich:stale" not in sim.tags[tid]


def test_a_burst_of_outage_tickets_is_linked_and_told_once_then_told_of_the_fix(desk, sim, smtp):
    with time_machine.travel(datetime(2026, 12, 1, 2, 0, tzinfo=UTC), tick=True) as clock:
        major = sim.create_ticket("邮件系统宕机，全公司无法收发邮件", "Exchange 服务器宕机，所有人都无法收发邮件。",
                                  "it.ops@acme.example", customer_name="运维值班")
        desk.webhook(major, sim.articles[major][0]["id"])
        assert "enrich:major-event" in sim.tags[major]
        burst = []
        for i, who in enumerate(("li.na", "zhao.lei", "chen.jie")):
            clock.shift(timedelta(minutes=3))
            tid = sim.create_ticket("无法收发邮件", f"从刚才开始邮件发不出去也收不到（{i}）。",
                                    f"{who}@acme.example", customer_name=who)
            body = desk.webhook(tid, sim.articles[tid][0]["id"])
            desk.webhook(tid, body=body)                                  # the same delivery twice
            burst.append(tid)
        for tid in burst:
            assert "enrich:known-outage" in sim.tags[tid]
            assert str(major) in {str(x["link_object_value"]) for x in sim.links_of(tid)}
            [told] = [a for a in sim.articles[tid] if (a.get("subject") or "").startswith("已知故障")]
            assert told["internal"] is False and f"#{sim.tickets[major]['number']}" in told["body"]
        assert "enrich:known-outage" not in sim.tags[major]

        clock.shift(timedelta(hours=1))
        sim.agent_update(major, state="closed")                           # the outage is over
        desk.webhook(major)
        desk.timers_fire()
        desk.timers_fire()
        for tid in burst:
            [fixed] = [a for a in sim.articles[tid] if (a.get("subject") or "").startswith("故障已恢复")]
            assert fixed["internal"] is False and "邮件系统宕机" in fixed["body"]
        sim.agent_update(burst[0], note="x")
        desk.webhook(burst[0])
        desk.timers_fire()
        for tid in burst:
            assert len([a for a in sim.articles[tid] if (a.get("subject") or "").startswith(("已知故障", "故障已恢复"))]) == 2


def test_the_daily_digest_reaches_the_lead_on_working_days_only(sim, make_settings, smtp, tmp_path):
    from plugin.tracking import digest_job
    port, _ = smtp
    settings = make_settings(ENRICHER_ZAMMAD_URL=sim.base_url, ENRICHER_ZAMMAD_TOKEN=sim.token,
                             ENRICHER_CONFIG=settings_file(tmp_path, stale={"enabled": False}),
                             ENRICHER_RECONCILE_SECONDS="0", ENRICHER_LOG_LEVEL="ERROR",
                             ENRICHER_NOTIFY_EMAIL=f"mailto://127.0.0.1:{port}?from=desk@acme.example&mode=insecure")
    desk = Desk(settings, sim)
    # Wednesday 30 September 2026, 08:00 in Shanghai; 1-7 October is the National Day holiday.
    with time_machine.travel(datetime(2026, 9, 30, 0, 0, tzinfo=UTC), tick=True) as clock:
        tid = sim.create_ticket("打印机卡纸", "三楼打印机卡纸，无法打印。", "li.na@acme.example", customer_name="李娜")
        desk.webhook(tid, sim.articles[tid][0]["id"])
        digest_job.ensure(desk.ledger, settings, datetime.now(UTC))

        clock.move_to(datetime(2026, 9, 30, 1, 0, 30, tzinfo=UTC))     # 09:00 on a working day
        desk.timers_fire()
        desk.timers_fire()
        [(subject, body)] = mails(smtp, LEAD)
        assert subject == "每日工单摘要：Users（2026-09-30）"
        assert "王组长" in body and "Users目前共有 1 张未结工单" in body and "不足 1 个工作日 1 张" in body

        for day in (1, 2, 5, 7):                                           # holiday mornings: nothing
            clock.move_to(datetime(2026, 10, day, 1, 0, 30, tzinfo=UTC))
            desk.timers_fire()
        assert len(mails(smtp, LEAD)) == 1

        clock.move_to(datetime(2026, 10, 8, 1, 0, 30, tzinfo=UTC))        # back to work: the next digest
        desk.timers_fire()
        assert len(mails(smtp, LEAD)) == 2
