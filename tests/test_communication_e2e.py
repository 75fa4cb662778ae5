"""End to end on the Zammad simulator: a ticket is created, acknowledged, resolved and
closed; the requester votes on the feedback page (a real local server) and the vote
appears on the ticket as field and tag. Every message is said exactly once, however
often the webhooks come and the timers fire."""
from __future__ import annotations

import re

import pytest
import requests

from plugin import timers
from plugin.app import create_app
from plugin.hooks.zammad_api import ZammadClient
from plugin.jobs import handlers
from plugin.manifest import load_manifest
from plugin.queue import Queue
from plugin.store import Ledger
from plugin.worker import Processor
from tests.conftest import drain, free_port
from tests.test_feedback import serve

SECRET = "survey-secret-e2e"
LINK = re.compile(r"http://127\.0\.0\.1:\d+/feedback/[A-Za-z0-9_.-]+")


class Desk:
    """The worker (processor, queue, timers) and the feedback site on one ledger."""

    def __init__(self, settings, sim):
        self.sim = sim
        self.ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
        self.processor = Processor(settings, self.ledger, load_manifest(),
                                   clients={"zammad": ZammadClient(sim.base_url, sim.token, retries=0)})
        self.queue = Queue(settings, self.ledger, lambda: self.processor)
        self.scheduler = timers.Scheduler(self.ledger, handlers(settings, self.queue), self.processor.dispatcher)
        self.deliveries = 0

    def webhook(self, tid, article_id=None, body=None):
        """Zammad's trigger fires: the webhook is accepted and the worker runs. Returns
        the body, to send the same again (a second trigger on the same change)."""
        self.deliveries += 1
        body = body or self.sim.webhook_body(tid, article_id)
        pk, _ = self.ledger.accept("zammad", f"d{self.deliveries}", str(tid), "update", body)
        self.queue.enqueue(pk)
        drain(self.queue)
        assert self.ledger.delivery(pk)["status"] == "done"
        return body

    def timers_fire(self):
        self.scheduler.tick()
        drain(self.queue)

    def articles(self, tid, prefix):
        return [a for a in self.sim.articles[tid] if (a.get("subject") or "").startswith(prefix)]


@pytest.fixture
def desk(sim, make_settings):
    port = free_port()
    settings = make_settings(ENRICHER_ZAMMAD_URL=sim.base_url, ENRICHER_ZAMMAD_TOKEN=sim.token,
                             ENRICHER_SURVEY_SECRET=SECRET, ENRICHER_PUBLIC_URL=f"http://127.0.0.1:{port}",
                             ENRICHER_RECONCILE_SECONDS="0", ENRICHER_LOG_LEVEL="ERROR")
    with serve(create_app(settings), port):
        yield Desk(settings, sim)


def test_create_acknowledge_resolve_close_vote(desk, sim):
    tid = sim.create_ticket("打印机卡纸", "三楼打印机卡纸，无法打印。", "li.na@acme.example", customer_name="李娜")
    number = sim.tickets[tid]["number"]
    first = sim.articles[tid][0]["id"]

    created = desk.webhook(tid, first)
    desk.webhook(tid, body=created)                            # sent twice: nothing said twice
    [ack] = desk.articles(tid, "已受理")
    assert ack["subject"] == f"已受理：#{number} 打印机卡纸"
    assert (ack["type"], ack["internal"], ack["to"], ack["sender"]) == ("email", False, "li.na@acme.example",
                                                                        "System")
    # As Zammad's own auto-replies: the acknowledgement is no first response of the desk's.
    assert sim.tickets[tid].get("first_response_at") is None
    assert "1 个工作日内答复您（最迟" in ack["body"] and "直接回复此邮件即可" in ack["body"]

    sim.agent_update(tid, state="pending close")
    desk.webhook(tid, body=desk.webhook(tid))
    [resolved] = desk.articles(tid, "已处理，请确认")
    assert "您的问题解决了吗" in resolved["body"]

    sim.agent_update(tid, state="closed")
    desk.webhook(tid)
    [closed] = desk.articles(tid, "工单已关闭")
    links = LINK.findall(closed["body"])
    assert len(links) == 3

    page = requests.get(links[0], timeout=10)                   # the link opened: no vote yet
    assert page.status_code == 200 and f"#{number}" in page.text and desk.ledger.rows("survey_votes") == []
    assert requests.post(links[0], data={"code": "1", "comment": "很快"}, timeout=10).status_code == 200
    desk.timers_fire()
    assert sim.tickets[tid]["enrich_satisfaction"] == 1 and "enrich:csat-1" in sim.tags[tid]
    assert any("满意度 Satisfaction: 1 满意 Satisfied — “很快”" in a["body"] for a in sim.articles[tid]
               if a["internal"])

    requests.post(links[2], data={"code": "3", "comment": "后来又坏了"}, timeout=10)   # voting again
    desk.timers_fire()
    desk.timers_fire()
    assert sim.tickets[tid]["enrich_satisfaction"] == 3
    assert "enrich:csat-3" in sim.tags[tid] and "enrich:csat-1" not in sim.tags[tid]
    [alert] = desk.articles(tid, "不满意评价")                  # no manager channel set: a note on the ticket
    assert alert["internal"] is True and "后来又坏了" in alert["body"]
    [facts] = desk.ledger.rows("ticket_facts", ticket_id=str(tid))
    assert facts["satisfaction"] == 3

    sim.agent_update(tid, note="x")                            # and later changes say nothing new
    desk.webhook(tid)
    for prefix in ("已受理", "已处理，请确认", "工单已关闭", "不满意评价"):
        assert len(desk.articles(tid, prefix)) == 1, prefix
    assert {r["status"] for r in desk.ledger.rows("outbox")} == {"sent"}
