"""Classification end to end on the Zammad simulator: a new ticket gets its catalog
path, value stream, priority and group written once; an agent's correction is
recorded as a misclassification and never overwritten."""
from __future__ import annotations

import pytest
import requests

from .harness import SECRET, notes_by_ticket, wait_until

pytestmark = pytest.mark.slow


def done(svc, n):
    return svc.ledger().status_counts().get("done", 0) >= n


def send(sim, svc, tid, article=True):
    article_id = sim.articles[tid][-1]["id"] if article else None
    return sim.send_webhook(f"{svc.url}/hooks/zammad", SECRET, tid, article_id=article_id)


def test_new_ticket_is_classified_once_and_a_correction_is_recorded(sim, service):
    svc = service(ENRICHER_RECONCILE_SECONDS="0").start()
    tid = sim.create_ticket("电脑蓝屏，系统无法启动", "笔记本开机蓝屏，Windows 一直重启，无法进入系统。",
                            "li.na@acme.example", customer_name="李娜")
    assert send(sim, svc, tid).status_code == 202
    wait_until(lambda: done(svc, 1), what="first enrichment")
    ticket = sim.tickets[tid]
    assert ticket["enrich_category"] == "桌面IT运维管理/操作系统故障处理/系统层面故障处理"
    assert ticket["enrich_value_stream"] == "事件"
    assert ticket["enrich_priority"] in ("P2", "P3") and ticket["enrich_group"]
    assert "enrich:vs:incident" in sim.tags[tid]
    note = next(a for a in sim.articles[tid] if a.get("subject") == "desk-enricher")
    assert note["internal"] is True and "分类 Category" in note["body"]

    # The agent moves it to another item: the plugin records it and leaves it alone.
    corrected = "桌面IT运维管理/终端硬件报修/终端硬件报修跟进"
    sim.agent_update(tid, enrich_category=corrected)
    assert send(sim, svc, tid, article=False).status_code == 202
    wait_until(lambda: done(svc, 2), what="the update after the correction")
    assert sim.tickets[tid]["enrich_category"] == corrected
    (correction,) = svc.ledger().corrections_list()
    assert (correction["field"], correction["old"], correction["new"]) == (
        "enrich_category", "桌面IT运维管理/操作系统故障处理/系统层面故障处理", corrected)
    assert notes_by_ticket(sim)[tid] == 1
    metrics = requests.get(f"{svc.url}/metrics", timeout=5).text
    assert "enricher_misclassifications_total 1.0" in metrics
    assert "enricher_misclassification_rate 1.0" in metrics

    # Another update: the same correction is not recorded twice, nothing is written.
    before = len(sim.writes())
    send(sim, svc, tid, article=False)
    wait_until(lambda: done(svc, 3), what="a third update")
    assert len(svc.ledger().corrections_list()) == 1 and len(sim.writes()) == before


def test_major_event_alerts_the_owner_once(sim, service, http_sink):
    address, posts = http_sink
    svc = service(ENRICHER_RECONCILE_SECONDS="0", ENRICHER_NOTIFY_MAJOR_EVENT=f"json://{address}/owner").start()
    tid = sim.create_ticket("全公司无法上网", "大面积断网，所有员工都无法访问业务系统。", "it@acme.example",
                            customer_name="王伟")
    send(sim, svc, tid)
    wait_until(lambda: done(svc, 1), what="major event enrichment")
    sim.agent_update(tid, state="open")             # an agent takes it: another webhook
    send(sim, svc, tid, article=False)
    wait_until(lambda: done(svc, 2), what="a later update")
    assert sim.tickets[tid]["enrich_value_stream"] == "重大事件"
    assert sim.tickets[tid]["enrich_priority"] == "P4" and "enrich:major-event" in sim.tags[tid]
    assert len(posts) == 1 and posts[0]["title"].startswith("【重大事件 Major event】")
