"""Knowledge suggestions end to end on the Zammad simulator: the worker searches the
knowledge base once, for a ticket new to the ledger; the agent gets an internal note,
the requester of a consultation the strong guide in the acknowledgement; closing the
ticket without an engineer's reply records a self-help resolution. And the worker's
read on its own: only when asked, never failing a delivery."""
from __future__ import annotations

import json
import logging

import pytest

from plugin.hooks.knowledge import for_ticket
from plugin.hooks.zammad_api import ZammadClient
from plugin.manifest import load_manifest
from plugin.models import Requester, Ticket
from plugin.queue import Queue
from plugin.store import Ledger
from plugin.worker import Processor
from tests.conftest import drain

GUIDE = "OA 报销审批流程操作指南"
STEPS = ["record_quality", "classification", "verification", "knowledge", "kpi", "communication"]


class Desk:
    def __init__(self, settings, sim):
        self.sim, self.n = sim, 0
        self.ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
        self.processor = Processor(settings, self.ledger, load_manifest(),
                                   clients={"zammad": ZammadClient(sim.base_url, sim.token, retries=0)})
        self.queue = Queue(settings, self.ledger, lambda: self.processor)

    def webhook(self, tid, article_id=None):
        self.n += 1
        pk, _ = self.ledger.accept("zammad", f"d{self.n}", str(tid), "update", self.sim.webhook_body(tid, article_id))
        self.queue.enqueue(pk)
        drain(self.queue)
        assert self.ledger.delivery(pk)["status"] == "done"

    def facts(self, tid):
        [row] = self.ledger.rows("ticket_facts", ticket_id=str(tid))
        return row


@pytest.fixture
def settings_for(sim, make_settings, tmp_path):
    def make(steps=STEPS, **knowledge):
        path = tmp_path / "settings.yaml"
        path.write_text(json.dumps({"pipeline": {"steps": steps}, "tracking": {"knowledge": knowledge}}))
        return make_settings(ENRICHER_ZAMMAD_URL=sim.base_url, ENRICHER_ZAMMAD_TOKEN=sim.token,
                             ENRICHER_CONFIG=str(path), ENRICHER_LOG_LEVEL="ERROR")
    return make


@pytest.fixture
def desk(sim, settings_for):
    sim.add_kb_answer(GUIDE, "在 OA 系统中发起报销审批流程的步骤：登录 OA，进入报销，填写后提交审批。", category="OA")
    return Desk(settings_for(), sim)


def searches(sim):
    return [c for c in sim.calls if c.path.endswith("/knowledge_bases/search")]


def new_consultation(sim):
    tid = sim.create_ticket("OA 报销审批流程怎么发起", "请问在 OA 系统里怎么发起报销审批流程？", "li.na@acme.example",
                            customer_name="李娜")
    return tid, sim.articles[tid][0]["id"]


def test_a_new_consultation_gets_suggestions_and_a_self_help_resolution(desk, sim):
    tid, first = new_consultation(sim)
    desk.webhook(tid, first)
    assert len(searches(sim)) == 1
    [note] = [a for a in sim.articles[tid] if a["internal"] and "知识库推荐" in a["body"]]
    assert GUIDE in note["body"] and f"{sim.base_url}/help/zh-cn/1-oa/1-oa" in note["body"]
    [ack] = [a for a in sim.articles[tid] if not a["internal"] and a.get("subject", "").startswith("已受理")]
    assert "您也可以先查看以下自助指南" in ack["body"] and GUIDE in ack["body"]
    facts = desk.facts(tid)
    assert facts["knowledge_suggested"] == 2 and facts["self_help_resolved"] is None   # the guide + the catalog's

    sim.agent_update(tid, state="open")                 # an update: no second search, no second note
    desk.webhook(tid)
    assert len(searches(sim)) == 1
    assert len([a for a in sim.articles[tid] if "知识库推荐" in a["body"]]) == 1

    sim.agent_update(tid, state="closed")               # the requester read the guide; the agent closes
    desk.webhook(tid)
    facts = desk.facts(tid)
    assert facts["self_help_resolved"] is True and facts["knowledge_suggested"] == 2


def test_an_engineers_reply_means_it_was_not_self_help(desk, sim):
    tid, first = new_consultation(sim)
    desk.webhook(tid, first)
    sim.reply(tid, "您好，已为您开通报销权限。")
    sim.agent_update(tid, state="closed")
    desk.webhook(tid)
    assert desk.facts(tid)["self_help_resolved"] is False


def test_a_missing_knowledge_base_fails_no_delivery(desk, sim):
    sim.kb_missing = True
    tid, first = new_consultation(sim)
    desk.webhook(tid, first)
    [note] = [a for a in sim.articles[tid] if "知识库推荐" in a["body"]]
    assert GUIDE not in note["body"] and "https://kb.example.com/business-systems" in note["body"]


def test_without_the_step_the_knowledge_base_is_never_asked(sim, settings_for):
    steps = [s for s in STEPS if s != "knowledge"]
    desk = Desk(settings_for(steps), sim)
    tid, first = new_consultation(sim)
    desk.webhook(tid, first)
    assert searches(sim) == [] and desk.facts(tid)["knowledge_suggested"] is None


def test_switched_off_the_knowledge_base_is_never_asked(sim, settings_for):
    desk = Desk(settings_for(enabled=False), sim)
    tid, first = new_consultation(sim)
    desk.webhook(tid, first)
    assert searches(sim) == [] and not [a for a in sim.articles[tid] if "知识库推荐" in a["body"]]


# -- the worker's read on its own -----------------------------------------------------

TICKET = Ticket(platform="zammad", id="9", number="9", title="VPN 连不上", body="提示错误 809",
                requester=Requester(id="1"))


class Client:
    def __init__(self, answer=()):
        self.answer, self.asked = answer, []

    def search_knowledge(self, query, limit):
        self.asked.append((query, limit))
        if isinstance(self.answer, Exception):
            raise self.answer
        return list(self.answer)


def test_for_ticket_asks_for_twice_the_results_wanted(settings_for):
    client = Client(["a"])
    assert for_ticket(client, TICKET, settings_for(max_results=4)) == ("a",)
    assert client.asked == [("VPN 连不上 提示错误 809", 8)]


def test_for_ticket_never_raises(settings_for, caplog):
    with caplog.at_level(logging.WARNING, logger="desk_enricher.knowledge"):
        assert for_ticket(Client(RuntimeError("boom")), TICKET, settings_for()) is None
    assert [r.msg for r in caplog.records if r.name == "desk_enricher.knowledge"] == ["knowledge_not_read"]
    assert for_ticket(object(), TICKET, settings_for()) is None          # a client without the search


def test_for_ticket_reads_nothing_when_switched_off(settings_for):
    client = Client(["a"])
    assert for_ticket(client, TICKET, settings_for(enabled=False)) is None and client.asked == []
