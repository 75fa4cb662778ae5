"""The communication step (901) as tables: a ticket and what the ledger knows in,
intents, timers and the satisfaction fields out. No I/O: the step is pure."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from plugin.models import Findings, LedgerView, Requester, StepContext, Ticket, TimerRequest
from plugin.steps.s901_communicate import communicate

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)          # Monday 10:00 in Shanghai
FACTS = {"category": "desktop.hardware_repair", "category_path": "桌面IT运维管理/终端硬件报修/终端硬件报修跟进",
         "value_stream": "incident", "priority": "P2", "group": "桌面运维组"}
TICKET = Ticket(platform="zammad", id="42", number="31042", title="打印机卡纸", body="三楼打印机卡纸，无法打印。",
                requester=Requester(id="7", name="李娜", email="li.na@acme.example", organization="Acme"),
                event="create", state="new", channel="email", created_at=T0)
SECRET = "survey-secret-123"


@pytest.fixture
def settings(make_settings, tmp_path):
    def make(env=None, **communication):
        path = tmp_path / "settings.yaml"
        path.write_text(json.dumps({"communication": communication}))
        return make_settings(ENRICHER_CONFIG=str(path), **(env or {}))
    return make


def run(settings, ticket=TICKET, *, now=T0, facts=None, **ledger):
    found = {"classification": Findings("classification", facts=FACTS if facts is None else facts)}
    return communicate(ticket, StepContext(settings=settings, now=now, found=found, ledger=LedgerView(**ledger)))


def said(event, channel="ticket", audience="requester", created=T0, title="已处理，请确认：#31042 打印机卡纸",
         **data):
    return {"event": event, "audience": audience, "channel": channel, "title": title, "status": "sent",
            "created_at": created, "data": data}


def keys(findings):
    return [f"{i.event}:{i.audience}:{i.channel}" for i in findings.intents]


# -- 900.1 acknowledgement with a commitment ----------------------------------------

@pytest.mark.parametrize("created,priority,promise", [
    (T0, "P2", "我们将在 1 个工作日内答复您（最迟 3月3日 周二 10:00）"),
    (T0 + timedelta(hours=1, minutes=30), "P4", "我们将在 1 小时内答复您（最迟 3月2日 周一 13:30）"),  # lunch skipped
    (T0 + timedelta(days=5), "P2",                                                                 # Saturday
     "现在是非工作时间，我们将从 3月9日 周一 09:00 起处理，1 个工作日内答复您（最迟 3月9日 周一 18:00）"),
])
def test_a_new_ticket_gets_one_acknowledgement_with_its_commitment(settings, created, priority, promise):
    out = run(settings(), replace(TICKET, created_at=created), facts={**FACTS, "priority": priority})
    [ack] = [i for i in out.intents if i.event == "ack"]
    assert (ack.audience, ack.channel, ack.public, ack.target) == ("requester", "ticket", True, "")
    assert ack.title == "已受理：#31042 打印机卡纸"
    assert "李娜，您好" in ack.body and "工单 #31042「打印机卡纸」" in ack.body and promise in ack.body
    assert "直接回复此邮件即可" in ack.body              # replies are welcome, and land in the ticket
    assert "请勿回复" not in ack.body and "do not reply" not in ack.body.lower()


def test_the_acknowledgement_is_said_once_and_can_be_switched_off(settings):
    assert "ack:requester:ticket" not in keys(run(settings(), messages=(said("ack"),)))
    assert "ack:requester:ticket" not in keys(run(settings(acknowledgement=False)))
    assert "ack:requester:ticket" not in keys(run(settings(), replace(TICKET, event="update")))


def test_an_english_request_is_acknowledged_in_english(settings):
    english = replace(TICKET, title="Printer jammed", body="The printer on floor 3 jams.")
    [ack] = [i for i in run(settings(), english).intents if i.event == "ack"]
    assert ack.title == "Received: #31042 Printer jammed"
    assert "within 1 working day, by Tue 3 Mar 10:00 (Asia/Shanghai)" in ack.body


# -- 901.2 the requester's channel ---------------------------------------------------

MAIL = {"ENRICHER_NOTIFY_EMAIL": "mailto://127.0.0.1:2525?from=desk@acme.example&mode=insecure"}
FEISHU = {"ENRICHER_NOTIFY_FEISHU": "json://127.0.0.1:9/feishu"}


@pytest.mark.parametrize("env,section,ticket,channel", [
    ({}, {}, TICKET, "ticket"),                                                      # came in by e-mail
    (MAIL, {"channels": {"requesters": {"LI.NA@acme.example": {"channel": "email"}}}}, TICKET, "email"),
    ({}, {"channels": {"requesters": {"li.na@acme.example": {"channel": "email"}}}}, TICKET, "ticket"),  # no SMTP
    (FEISHU, {"channels": {"level_defaults": {"5x8": "feishu"}}}, TICKET, "feishu"),  # the item's level
    (FEISHU, {}, replace(TICKET, channel="feishu"), "feishu"),                      # where it came in
    (MAIL, {"channels": {"requesters": {"7": {"channel": "email"}}}},
     replace(TICKET, requester=Requester(id="7")), "ticket"),                       # no address to mail
])
def test_the_requesters_channel(settings, env, section, ticket, channel):
    [ack] = [i for i in run(settings(env, **section), ticket).intents if i.event == "ack"]
    assert ack.channel == channel


def test_an_email_names_its_recipient_and_threads_into_the_ticket(settings):
    prefs = {"channels": {"requesters": {"li.na@acme.example": {"channel": "email"}}},
             "reply_to": "support@acme.example"}
    [ack] = [i for i in run(settings(MAIL, **prefs)).intents if i.event == "ack"]
    assert (ack.target, ack.data["to"], ack.data["reply_to"]) == ("notify_email", "li.na@acme.example",
                                                                  "support@acme.example")
    assert ack.title.startswith("[Ticket#31042] ") and "直接回复此邮件即可" in ack.body


# -- 901.3 the ticket's life --------------------------------------------------------

def test_routing_is_told_to_staff_on_their_channel(settings):
    out = run(settings({"ENRICHER_NOTIFY_STAFF": "json://127.0.0.1:9/staff"}))
    [routed] = [i for i in out.intents if i.event == "routed"]
    assert (routed.audience, routed.channel, routed.target) == ("staff", "apprise", "notify_staff")
    assert routed.title == "新工单 #31042 → 桌面运维组" and "优先级：P2 普通" in routed.body
    assert "routed" not in [i.event for i in run(settings()).intents]      # no staff channel: nothing


@pytest.mark.parametrize("before,state,event", [
    ("new", "open", "status.open"),
    ("open", "pending reminder", "waiting"),
    ("open", "pending close", "resolved"),
    ("open", "closed", "survey"),
    ("open", "open", None),                  # no change, no notice
])
def test_a_state_the_ticket_enters_has_its_notice(settings, before, state, event):
    out = run(settings(), replace(TICKET, event="update", state=state), known={"state": before})
    assert [i.event for i in out.intents if i.audience == "requester"] == ([event] if event else [])


def test_a_status_notice_names_the_states_as_a_requester_reads_them(settings):
    [status] = run(settings(), replace(TICKET, event="update", state="open"), known={"state": "new"}).intents
    assert "状态已由「新建」变为「处理中」" in status.body
    jira = replace(TICKET, platform="jira", id="ITSD-42", number="ITSD-42", event="update", state="In Progress")
    [status] = run(settings(), jira, known={"state": "Waiting for support"}).intents
    assert "状态已由「Waiting for support」变为「In Progress」" in status.body and status.event == "status.in-progress"


def test_a_change_the_requesters_own_reply_made_is_not_told_to_them(settings):
    reopened = replace(TICKET, event="update", state="open", article_sender="Customer")
    assert run(settings(), reopened, known={"state": "pending close"}).intents == ()


def test_a_notice_that_asks_says_when_and_in_which_state(settings):
    out = run(settings(), replace(TICKET, event="update", state="pending close"), known={"state": "open"})
    [asked] = out.intents
    assert asked.data["asks"] is True and asked.data["state"] == "pending close"
    assert asked.data["at"] == T0.isoformat() and "您的问题解决了吗" in asked.body


def test_resolved_again_after_a_reopen_is_a_new_round(settings):
    out = run(settings(), replace(TICKET, event="update", state="pending close"), known={"state": "open"},
              messages=(said("resolved", asks=True, state="pending close", at=T0.isoformat()),))
    assert [i.event for i in out.intents] == ["resolved.2"]


def test_closing_sends_the_survey_with_three_signed_links(settings):
    env = {"ENRICHER_SURVEY_SECRET": SECRET, "ENRICHER_PUBLIC_URL": "https://desk.acme.example"}
    [survey] = run(settings(env), replace(TICKET, event="update", state="closed"), known={"state": "open"}).intents
    links = [line for line in survey.body.splitlines() if "https://desk.acme.example/feedback/" in line]
    assert [line.split("：")[0] for line in links] == ["满意", "一般", "不满意"]
    [plain] = run(settings(), replace(TICKET, event="update", state="closed"), known={"state": "open"}).intents
    assert "已关闭" in plain.body and "/feedback/" not in plain.body        # no secret: no links


def test_a_major_event_alerts_its_owner_and_the_manager_when_asked(settings):
    env = {"ENRICHER_NOTIFY_MAJOR_EVENT": "json://127.0.0.1:9/o", "ENRICHER_NOTIFY_MANAGER": "json://127.0.0.1:9/m"}
    facts = {**FACTS, "major_event": True, "major_event_words": ["大面积"]}
    out = run(settings(env, notices={"major_event": ["owner", "manager"]}), facts=facts)
    assert {"major_event:owner:apprise", "major_event:manager:apprise"} <= set(keys(out))


# -- 901.5 follow-up of an unanswered question --------------------------------------

ASKED = said("resolved", asks=True, state="pending close", at=T0.isoformat())
RESOLVED = replace(TICKET, event="update", state="pending close")
DUE = T0 + timedelta(days=1)                           # 8 working hours after Monday 10:00


def test_before_its_time_a_follow_up_is_only_scheduled(settings):
    out = run(settings(), RESOLVED, now=T0 + timedelta(hours=1), known={"state": "pending close"},
              messages=(ASKED,))
    assert out.intents == ()
    assert out.timers == (TimerRequest("followup:resolved:1", "reprocess", DUE,
                                       payload={"question": "resolved", "attempt": 1}),)


def test_at_its_time_the_follow_up_goes_out_on_the_next_channel(settings):
    prefs = {"channels": {"requesters": {"li.na@acme.example": {"channel": "ticket"}}}}
    out = run(settings(MAIL, **prefs), RESOLVED, now=DUE, known={"state": "pending close"}, messages=(ASKED,))
    [again] = out.intents
    assert (again.event, again.channel, again.data["to"]) == ("followup.resolved.1", "email", "li.na@acme.example")
    assert "第 1 次提醒，共 2 次" in again.body and "3月2日 周一 10:00" in again.body
    assert [t.name for t in out.timers] == ["followup:resolved:2"]
    assert out.timers[0].due_at == DUE + timedelta(days=1)


def test_after_the_last_follow_up_an_internal_note_says_there_was_no_answer(settings):
    later = DUE + timedelta(days=1)
    messages = (ASKED, said("followup.resolved.1", at=DUE.isoformat()), said("followup.resolved.2", at=later.isoformat()))
    out = run(settings(), RESOLVED, now=later + timedelta(days=1), known={"state": "pending close"},
              messages=messages)
    [note] = out.intents
    assert (note.event, note.audience, note.channel, note.public) == ("no_answer.resolved", "staff", "ticket", False)
    assert "已提醒 2 次" in note.body and out.timers == ()
    done = run(settings(), RESOLVED, now=later + timedelta(days=3), known={"state": "pending close"},
               messages=(*messages, said("no_answer.resolved", audience="staff")))
    assert done.intents == () and done.timers == ()


@pytest.mark.parametrize("ticket", [
    replace(RESOLVED, state="open"),                                       # reopened: an answer
    replace(RESOLVED, article_sender="Customer", article_internal=False),   # the requester wrote
])
def test_an_answer_cancels_the_follow_up(settings, ticket):
    out = run(settings(), ticket, now=DUE, known={"state": "pending close"}, messages=(ASKED,))
    assert [i.event for i in out.intents if i.event.startswith("followup")] == []
    assert [(t.name, t.cancel) for t in out.timers] == [("followup:resolved:1", True)]


def test_a_cancelled_follow_up_is_never_set_again(settings):
    out = run(settings(), RESOLVED, now=DUE, known={"state": "pending close"}, messages=(ASKED,),
              timers={"followup:resolved:1:zammad:42": "cancelled"})
    assert out.intents == () and out.timers == ()


# -- satisfaction -------------------------------------------------------------------

def vote(code, comment=""):
    return {"code": code, "comment": comment, "revision": 1, "voted_at": T0}


def test_a_vote_is_written_to_the_ticket_as_field_and_tag(settings):
    out = run(settings(), replace(TICKET, event="update", state="closed"), known={"state": "closed"},
              survey=vote(2, "还行"))
    assert out.fields == {"enrich_satisfaction": 2}
    assert out.tags == {"enrich:csat-2"} and out.remove_tags == {"enrich:csat-1", "enrich:csat-3"}
    assert out.note == ("满意度 Satisfaction: 2 一般 Neutral — “还行”",) and out.facts["satisfaction"] == 2
    assert out.intents == ()


def test_dissatisfied_alerts_the_desk_manager_or_notes_it_on_the_ticket(settings):
    closed = replace(TICKET, event="update", state="closed")
    out = run(settings({"ENRICHER_NOTIFY_MANAGER": "json://127.0.0.1:9/m"}), closed, known={"state": "closed"},
              survey=vote(3, "等了三天"))
    [alert] = out.intents
    assert (alert.event, alert.audience, alert.channel, alert.target) == (
        "dissatisfied", "manager", "apprise", "notify_manager")
    assert "服务评价为：不满意" in alert.body and "用户意见：等了三天" in alert.body
    [note] = run(settings(), closed, known={"state": "closed"}, survey=vote(3)).intents
    assert (note.channel, note.public) == ("ticket", False)
    again = run(settings(), closed, known={"state": "closed"}, survey=vote(3),
                messages=(said("dissatisfied", audience="manager", channel="apprise"),))
    assert again.intents == ()                                             # told once per ticket
