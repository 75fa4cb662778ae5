"""The real service process against the Zammad simulator over loopback: every
fixture enriches its ticket; crash, outage and downtime lose nothing and
duplicate nothing."""
from __future__ import annotations

import uuid

import pytest
import requests

from tests.conftest import sign, zammad_body, zammad_names

from .harness import SECRET, notes_by_ticket, wait_until

pytestmark = pytest.mark.slow

FIXTURE_TICKET = {"01_ticket_create_customer_email": 1042, "02_ticket_update_agent_reply": 1042,
                  "03_ticket_create_chinese_email": 1077}


def send_raw(svc, body: bytes, delivery: str | None = None):
    return requests.post(f"{svc.url}/hooks/zammad", data=body, timeout=10, headers={
        "Content-Type": "application/json; charset=utf-8", "X-Zammad-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature": sign(SECRET, body)})


def all_done(svc, n: int):
    counts = svc.ledger().status_counts()
    return counts.get("done", 0) + counts.get("ignored", 0) >= n and counts


@pytest.mark.parametrize("name", zammad_names())
def test_each_fixture_signed_enriches_the_simulated_ticket(sim, service, name):
    sim.apply_fixture(name)
    svc = service(ENRICHER_RECONCILE_SECONDS="0").start()
    resp = send_raw(svc, zammad_body(name))
    assert resp.status_code == 202, resp.text
    tid = FIXTURE_TICKET[name]
    wait_until(lambda: "enrich_record_quality" in sim.tickets[tid], what="write-back")
    put = [c for c in sim.writes() if c.method == "PUT"]
    assert len(put) == 1 and put[0].body["article"]["internal"] is True
    assert notes_by_ticket(sim)[tid] == 1
    # Replaying the same delivery id is a duplicate; a new id for the same state writes nothing.
    assert send_raw(svc, zammad_body(name), resp.headers.get("X-Zammad-Delivery")).status_code == 202
    wait_until(lambda: all_done(svc, 2), what="second delivery")
    assert len([c for c in sim.writes() if c.method == "PUT"]) == 1


def test_sigkill_mid_stream_loses_nothing_and_duplicates_nothing(sim, service):
    sim.latency = 0.15          # slow platform: the kill lands while work is in flight
    # Varied subjects: twelve alike in minutes would rightly be escalated as a major event.
    texts = [("打印机故障", "打印机卡纸，无法打印。"), ("VPN 连不上", "VPN 一直连接失败。"),
             ("申请报销系统权限", "需要开通报销系统的提交权限。"), ("会议室投影仪无信号", "会议室投影仪无法投屏。"),
             ("How do I export a report in SAP?", "Question: how to export the monthly report."),
             ("Reinstall Windows on my laptop", "Please reinstall the operating system, I am leaving.")]
    tickets = [sim.create_ticket(f"{texts[i % 6][0]} {i}", texts[i % 6][1], f"u{i}@acme.example",
                                 customer_name=f"User {i}") for i in range(12)]
    svc = service(ENRICHER_RECONCILE_SECONDS="0", ENRICHER_HTTP_TIMEOUT="2").start()
    accepted = 0
    for tid in tickets:
        resp = sim.send_webhook(f"{svc.url}/hooks/zammad", SECRET, tid,
                                article_id=sim.articles[tid][0]["id"])
        accepted += resp.status_code == 202
    wait_until(lambda: len(sim.writes()) >= 2, what="some writes before the kill")
    svc.kill()
    in_flight = svc.ledger().status_counts()
    assert in_flight.get("done", 0) < len(tickets), "the kill came too late to test anything"
    svc.start()
    wait_until(lambda: all_done(svc, accepted), timeout=60, what="all accepted deliveries done")
    assert accepted == len(tickets)
    notes = notes_by_ticket(sim)
    assert [notes.get(tid, 0) for tid in tickets] == [1] * len(tickets)
    assert all("enrich_record_quality" in sim.tickets[tid] for tid in tickets)


def test_platform_outage_then_recovery_enriches_everything(sim, service):
    svc = service(ENRICHER_RECONCILE_SECONDS="0", ENRICHER_RETRY_BASE_SECONDS="0.3",
                  ENRICHER_RETRY_MAX_SECONDS="1", ENRICHER_MAX_ATTEMPTS="30").start()
    sim.set_down(True)
    tickets = [sim.create_ticket(f"Laptop {i} will not boot", "Black screen after update.",
                                 f"o{i}@acme.example", customer_name=f"O {i}") for i in range(5)]
    for tid in tickets:
        assert sim.send_webhook(f"{svc.url}/hooks/zammad", SECRET, tid,
                                article_id=sim.articles[tid][0]["id"]).status_code == 202
    wait_until(lambda: max((d["attempts"] for d in svc.ledger().rows("deliveries")), default=0) >= 2,
               what="retries during the outage")
    sim.set_down(False)
    wait_until(lambda: all_done(svc, len(tickets)), timeout=60, what="recovery")
    assert [notes_by_ticket(sim).get(t) for t in tickets] == [1] * len(tickets)
    rows = svc.ledger().rows("deliveries")
    assert all(r["attempts"] >= 2 for r in rows), "retries are recorded"
    assert all(r["status"] == "done" for r in rows)


def test_429_with_retry_after_then_success(sim, service):
    svc = service(ENRICHER_RECONCILE_SECONDS="0", ENRICHER_RETRY_BASE_SECONDS="0").start()
    sim.fail_next(1, status=429, retry_after=1, match="PUT /api/v1/tickets")
    tid = sim.create_ticket("Excel 打不开", "Excel 启动报错。", "r@acme.example", customer_name="R")
    sim.send_webhook(f"{svc.url}/hooks/zammad", SECRET, tid, article_id=sim.articles[tid][0]["id"])
    wait_until(lambda: all_done(svc, 1), timeout=30, what="enrichment after 429")
    row = svc.ledger().rows("deliveries")[0]
    assert row["attempts"] == 2
    assert notes_by_ticket(sim)[tid] == 1


def test_tickets_created_while_service_was_down_are_reconciled(sim, service):
    from plugin.reconcile import position_key
    svc = service(ENRICHER_RECONCILE_SECONDS="60").start()
    wait_until(lambda: svc.ledger().get(position_key("zammad")), what="first sweep position")
    svc.stop()
    # Down: Zammad's webhooks for new tickets fail (connection refused) and Zammad gives up.
    tickets = [sim.create_ticket(f"会议室投影仪无信号 {i}", "会议室投影仪无法投屏。", f"d{i}@acme.example",
                                 customer_name=f"D {i}") for i in range(4)]
    for tid in tickets:
        with pytest.raises(requests.ConnectionError):
            sim.send_webhook(f"{svc.url}/hooks/zammad", SECRET, tid)
    svc.start()
    wait_until(lambda: all(notes_by_ticket(sim).get(t) == 1 for t in tickets), timeout=60,
               what="reconciler to enrich missed tickets")
    keys = [r["delivery_key"] for r in svc.ledger().rows("deliveries")]
    assert len(keys) == len(tickets) and all(k.startswith("reconcile:") for k in keys)
    assert all("enrich_record_quality" in sim.tickets[t] for t in tickets)


def test_scale_out_intake_and_two_workers_on_redis_and_postgres(sim, service):
    from tests.conftest import (
        POSTGRES_URL,
        QUEUE_NAME,
        REDIS_URL,
        postgres_unavailable,
        redis_unavailable,
        reset_scale_out_servers,
    )
    reason = redis_unavailable() or postgres_unavailable()
    if reason:
        pytest.skip(reason)
    reset_scale_out_servers()
    svc = service(ENRICHER_QUEUE_URL=REDIS_URL, ENRICHER_DATABASE_URL=POSTGRES_URL,
                  ENRICHER_QUEUE_NAME=QUEUE_NAME, ENRICHER_RECONCILE_SECONDS="0").start("--no-worker")
    svc.start_worker()
    svc.start_worker()
    sim.latency = 0.02
    tickets = [sim.create_ticket(f"Scale {i}: 邮箱收不到邮件", "Outlook 收不到外部邮件。", f"s{i}@acme.example",
                                 customer_name=f"S {i}") for i in range(20)]
    for tid in tickets:
        assert sim.send_webhook(f"{svc.url}/hooks/zammad", SECRET, tid,
                                article_id=sim.articles[tid][0]["id"]).status_code == 202
    wait_until(lambda: all_done(svc, len(tickets)), timeout=60, what="two workers to finish")
    assert [notes_by_ticket(sim).get(t) for t in tickets] == [1] * len(tickets)
    ledger = svc.ledger()
    assert ledger.url.startswith("postgresql")
    assert len(ledger.rows("outcomes")) == len(tickets)


def test_write_that_times_out_but_lands_later_is_not_repeated(sim, service):
    svc = service(ENRICHER_RECONCILE_SECONDS="0", ENRICHER_HTTP_TIMEOUT="0.5",
                  ENRICHER_RETRY_BASE_SECONDS="1", ENRICHER_HTTP_RETRIES="0").start()
    sim.hang_next(1, 0.8, match="PUT /api/v1/tickets")    # answers after our timeout, but lands
    tid = sim.create_ticket("无法登录 OA 系统", "OA 登录提示密码错误。", "h@acme.example", customer_name="H")
    sim.send_webhook(f"{svc.url}/hooks/zammad", SECRET, tid, article_id=sim.articles[tid][0]["id"])
    wait_until(lambda: all_done(svc, 1), timeout=30, what="enrichment after a timeout")
    row = svc.ledger().rows("deliveries")[0]
    assert row["attempts"] == 2, "the timeout was retried"
    assert notes_by_ticket(sim)[tid] == 1
