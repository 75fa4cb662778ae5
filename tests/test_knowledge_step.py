"""The `knowledge` step (900.3 suggest a self-help article) as tables: a new ticket gets
a note for the agent and, for a service request or a consultation, strong matches for
the requester; a later delivery measures whether a suggested ticket was resolved
without agent work. Pure: the platform's matches come in ctx.knowledge. And the
acknowledgement with and without guides to offer."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from plugin.models import (
    Findings,
    KnowledgeArticle,
    LedgerView,
    Requester,
    StepContext,
    Ticket,
    Timeline,
    TimelineEvent,
)
from plugin.steps import STEPS
from plugin.steps.s900_3_knowledge import agent_replied, suggest
from plugin.steps.s901_communicate import communicate

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)          # Monday 10:00 in Shanghai
TICKET = Ticket(platform="zammad", id="42", number="31042", title="OA 报销审批流程怎么发起",
                body="请问在 OA 系统里怎么发起报销审批流程？", event="create", state="new", channel="email",
                requester=Requester(id="7", name="李娜", email="li.na@acme.example"), created_at=T0)
GUIDE = KnowledgeArticle("OA 报销审批流程操作指南", "https://zammad.example/help/zh-cn/1-oa/7-oa", "zammad",
                         excerpt="在 OA 系统中发起报销审批流程的步骤", id="107")
WEAK = KnowledgeArticle("OA 登录问题", "https://zammad.example/help/zh-cn/1-oa/8-oa", "zammad", id="108")
SELF_HELP = [{"title": "业务系统操作手册", "url": "https://kb.example.com/business-systems"}]


def classified(stream="consultation", self_help=SELF_HELP):
    return Findings("classification", facts={"value_stream": stream, "self_help": self_help,
                                             "category": "business.usage", "priority": "P1"})


@pytest.fixture
def settings(make_settings, tmp_path):
    def make(**knowledge):
        path = tmp_path / "settings.yaml"
        path.write_text(json.dumps({"tracking": {"knowledge": knowledge}}))
        return make_settings(ENRICHER_CONFIG=str(path))
    return make


def run(settings, ticket=TICKET, *, knowledge=(GUIDE, WEAK), found=None, known=None, history=None):
    ctx = StepContext(settings=settings, now=T0, found={"classification": classified()} if found is None else found,
                      ledger=LedgerView(known=known or {}), knowledge=knowledge, history=history)
    return suggest(ticket, ctx)


def test_the_step_is_registered_and_asks_for_the_knowledge_base():
    spec = STEPS["knowledge"]
    assert (spec.needs, spec.knowledge, spec.history) == (("classification",), True, True)


def test_a_new_consultation_gets_a_note_and_a_strong_match_for_the_requester(settings):
    out = run(settings())
    # The query (title + body) has 14 terms: oa, 报销 销审 审批 批流 流程 程怎 么发 发起, 问在, 系统 统里 里怎
    # 起报. The guide: 9 of them in title + excerpt, 6 of its 10 title terms in the query:
    # ½·9/14 + ½·6/10 = 0.621. OA 登录问题: ½·1/14 + ½·1/3 = 0.202. 业务系统操作手册: ½·1/14 + ½·1/7 = 0.107.
    assert [(a["title"], a["score"], a["source"]) for a in out.facts["articles"]] == [
        ("OA 报销审批流程操作指南", 0.621, "zammad"), ("OA 登录问题", 0.202, "zammad"),
        ("业务系统操作手册", 0.107, "catalog")]
    assert out.facts["suggested"] == 3
    assert [a["url"] for a in out.facts["strong"]] == [GUIDE.url]          # 0.621 >= 0.6
    lines = out.note
    assert lines[0].startswith("知识库推荐 Knowledge suggestions")
    assert lines[1] == f"1. OA 报销审批流程操作指南 — {GUIDE.url} (匹配度 score 0.62, Zammad 知识库 KB) ★"
    assert lines[3] == "3. 业务系统操作手册 — https://kb.example.com/business-systems (匹配度 score 0.11, 服务目录 catalog)"
    assert "offered to the requester" in lines[-1]
    # Lines only: they ride along in the delivery's one internal note (pipeline.plan).
    assert out.intents == () and out.fields == {} and not out.tags


@pytest.mark.parametrize("stream", ["incident", "complaint", "major_event"])
def test_other_streams_get_the_note_but_nothing_for_the_requester(settings, stream):
    out = run(settings(), found={"classification": classified(stream)})
    assert out.facts["strong"] == [] and out.facts["suggested"] == 3
    assert "★" not in "\n".join(out.note) and "forward them to the requester" in out.note[-1]


def test_a_higher_bar_and_fewer_results_come_from_the_settings(settings):
    out = run(settings(max_results=1, strong_score=1.0))
    assert [a["title"] for a in out.facts["articles"]] == ["OA 报销审批流程操作指南"]
    assert out.facts["strong"] == [] and out.facts["suggested"] == 1


def test_without_matches_there_is_no_note(settings):
    out = run(settings(), knowledge=(), found={"classification": classified(self_help=[])})
    assert out.facts == {"articles": [], "strong": [], "suggested": 0, "platform_read": True}
    assert out.note == () and out.intents == ()


def test_the_catalog_links_alone_when_the_knowledge_base_was_not_read(settings):
    out = run(settings(), knowledge=None)
    assert [a["source"] for a in out.facts["articles"]] == ["catalog"] and out.facts["platform_read"] is False


def test_switched_off_it_finds_nothing(settings):
    out = run(settings(enabled=False))
    assert out == Findings("knowledge")


# -- later deliveries: the self-help KPI ----------------------------------------------

def at(minutes):
    return T0 + timedelta(minutes=minutes)


CREATED = TimelineEvent(at(0), "created", "7", state="new")
CLOSED = TimelineEvent(at(90), "closed", "5", state="closed", old_state="open")
AGENT_REPLY = TimelineEvent(at(30), "first_reply", "5", public=True)
PRIVATE = TimelineEvent(at(30), "reply", "5", public=False)
LATER = replace(TICKET, event="update", state="closed")


@pytest.mark.parametrize("ticket,known,events,complete,expected", [
    (LATER, 2, (CREATED, CLOSED), True, True),                     # suggested, closed, no agent reply
    (LATER, 2, (CREATED, PRIVATE, CLOSED), True, True),            # an internal note is not a reply
    (LATER, 2, (CREATED, AGENT_REPLY, CLOSED), True, False),       # an engineer answered
    (LATER, 2, (CREATED, AGENT_REPLY, CLOSED), False, False),      # a reply found: no doubt left
    (LATER, 2, (CREATED, CLOSED), False, None),                    # part of the history unread
    (replace(LATER, state="pending close"), 1, (CREATED,), True, True),   # resolved (config states)
    (replace(LATER, state="open"), 2, (CREATED,), True, None),            # not done yet
    (LATER, 0, (CREATED, CLOSED), True, None),                     # nothing was suggested
    (LATER, None, (CREATED, CLOSED), True, None),                  # a row from before this step
    (replace(LATER, state=""), 2, (CREATED, CLOSED), True, True),  # no state: the timeline says done
])
def test_a_later_delivery_says_whether_self_help_resolved_it(settings, ticket, known, events, complete, expected):
    out = run(settings(), ticket, knowledge=None, known={"ticket_id": "42", "knowledge_suggested": known},
              history=Timeline(events, complete=complete))
    assert out.intents == () and "suggested" not in out.facts
    assert out.facts.get("self_help_resolved") is expected if expected is not None \
        else "self_help_resolved" not in out.facts


def test_without_a_timeline_it_cannot_tell():
    assert agent_replied(None) is None
    assert agent_replied(Timeline((AGENT_REPLY,))) is True
    assert agent_replied(Timeline((CREATED,))) is False


# -- the acknowledgement --------------------------------------------------------------

def ack(settings, ticket=TICKET, knowledge=None):
    found = {"classification": classified()}
    if knowledge is not None:
        found["knowledge"] = Findings("knowledge", facts={"strong": knowledge})
    out = communicate(ticket, StepContext(settings=settings, now=T0, found=found))
    [intent] = [i for i in out.intents if i.event == "ack"]
    return intent.body


def test_the_acknowledgement_offers_the_strong_guides(make_settings):
    body = ack(make_settings(), knowledge=[{"title": GUIDE.title, "url": GUIDE.url, "score": 0.9}])
    assert "您也可以先查看以下自助指南，或许能立即解决：" in body
    assert f"- OA 报销审批流程操作指南：{GUIDE.url}" in body
    english = ack(make_settings(), replace(TICKET, title="How do I file an expense claim",
                                           body="Where is the expense system guide?"),
                  knowledge=[{"title": "Expense claims", "url": "https://kb.example.com/expenses"}])
    assert "You may also try these self-help guides first" in english
    assert "- Expense claims: https://kb.example.com/expenses" in english


@pytest.mark.parametrize("knowledge", [None, []])
def test_without_guides_the_acknowledgement_is_as_before(make_settings, knowledge):
    body = ack(make_settings(), knowledge=knowledge)
    assert "自助指南" not in body and "工单 #31042" in body
