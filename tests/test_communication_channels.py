"""The requester's notices on their channel, for real: e-mail to a local SMTP server
(aiosmtpd), and Feishu, Lark, DingTalk, WeCom and Slack through Apprise's own
plugins, pointed at a local HTTP endpoint. What arrived is checked, and that it
arrived once; the ledger holds the setting's name and the address, never a URL."""
from __future__ import annotations

import email
import email.policy
import json
import threading
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from apprise.plugins import dingtalk, feishu, lark, slack, wecombot
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from plugin import outbox
from plugin.models import Findings, Intent, LedgerView, Requester, StepContext, Ticket
from plugin.notifiers.dispatcher import Dispatcher
from plugin.steps.s901_communicate import communicate
from plugin.store import Ledger

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
TICKET = Ticket(platform="zammad", id="42", number="31042", title="打印机卡纸 <urgent> & 三楼",
                body="三楼打印机卡纸，无法打印。", event="create", state="new", channel="email", created_at=T0,
                requester=Requester(id="7", name="李娜", email="li.na@acme.example", organization="Acme"))
FACTS = {"category": "desktop.hardware_repair", "value_stream": "incident", "priority": "P2", "group": "桌面运维组"}


@pytest.fixture
def chat():
    """A local endpoint standing in for the chat services: path and JSON body of each POST."""
    received: list = []

    @Request.application
    def app(request):
        received.append((request.path, json.loads(request.get_data())))
        # Each service's own "ok" answer: Apprise checks it before it says sent.
        if request.path.startswith("/slack/"):
            return Response("ok")
        return Response(json.dumps({"code": 0, "StatusCode": 0, "errcode": 0}), content_type="application/json")
    server = make_server("127.0.0.1", 0, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()


@pytest.fixture
def ledger(tmp_path):
    return Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", lock_dir=tmp_path)


def settings_for(make_settings, tmp_path, channel, key="li.na@acme.example", **env):
    path = tmp_path / "settings.yaml"
    path.write_text(json.dumps({"communication": {
        "reply_to": "support@acme.example", "channels": {"requesters": {key: {"channel": channel}}}}}))
    return make_settings(ENRICHER_CONFIG=str(path), **env)


def notify(settings, ledger, ticket=TICKET):
    """As the worker does: the step's intents into the outbox, then the dispatcher."""
    ctx = StepContext(settings=settings, now=T0, ledger=LedgerView(),
                      found={"classification": Findings("classification", facts=FACTS)})
    intents = communicate(ticket, ctx).intents
    with ledger.transaction() as conn:
        outbox.add(conn, ticket.platform, ticket.id, intents, T0)
    dispatcher = Dispatcher(settings, ledger, client_for=lambda platform: None)
    return intents, [dispatcher.dispatch(i) for i in outbox.pending_ids(ledger, ticket.platform, ticket.id)]


def test_an_email_notice_reaches_the_requester_once_and_a_reply_goes_to_the_desk(make_settings, tmp_path,
                                                                                 ledger, smtp):
    port, mails = smtp
    url = f"mailto://127.0.0.1:{port}?from=desk@acme.example&mode=insecure"
    settings = settings_for(make_settings, tmp_path, "email", ENRICHER_NOTIFY_EMAIL=url)
    intents, results = notify(settings, ledger)
    assert [i.channel for i in intents] == ["email"] and results == ["sent"]
    assert notify(settings, ledger)[1] == []                       # a replay: not sent again
    [mail] = mails
    assert mail.rcpt_tos == ["li.na@acme.example"]
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert message["Reply-To"] == "support@acme.example"
    assert message["Subject"] == "[Ticket#31042] 已受理：#31042 打印机卡纸 <urgent> & 三楼"
    # Plain text, as the intent holds it: the ticket's words are shown, never read as markup.
    assert message.get_content_type() == "text/plain"
    body = message.get_content()
    assert "工单 #31042「打印机卡纸 <urgent> & 三楼」" in body and "直接回复此邮件即可" in body
    [row] = ledger.rows("outbox")
    assert (row["status"], row["target"], row["data"]["to"]) == ("sent", "notify_email", "li.na@acme.example")
    assert "mailto" not in json.dumps(row, default=str)             # no URL (and its password) kept


CHATS = [
    # (channel, Apprise URL, class whose endpoint is pointed at the local sink, attribute, path, text of)
    ("feishu", "feishu://3f2b2a1c-1111-2222-3333-444455556666", feishu.NotifyFeishu, "notify_url",
     "/feishu/{token}/", lambda b: b["content"]["text"]),
    ("lark", "lark://3f2b2a1c-1111-2222-3333-444455556666", lark.NotifyLark, "notify_url",
     "/lark/", lambda b: b["content"]["text"]),
    ("dingtalk", "dingtalk://a1b2c3d4e5f6a7b8c9d0", dingtalk.NotifyDingTalk, "notify_url",
     "/dingtalk?access_token={token}", lambda b: json.dumps(b, ensure_ascii=False)),
    ("wecom", "wecombot://0a1b2c3d-4e5f-6789-abcd-ef0123456789", wecombot.NotifyWeComBot, "notify_url",
     "/wecom?key={key}", lambda b: json.dumps(b, ensure_ascii=False)),
    ("slack", "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7", slack.NotifySlack, "webhook_url",
     "/slack", lambda b: json.dumps(b, ensure_ascii=False)),
]


@pytest.mark.parametrize("channel,url,cls,attr,path,text", CHATS, ids=[c[0] for c in CHATS])
def test_a_chat_notice_reaches_its_channel_once(make_settings, tmp_path, ledger, chat, monkeypatch,
                                               channel, url, cls, attr, path, text):
    base, received = chat
    monkeypatch.setattr(cls, attr, base + path)
    settings = settings_for(make_settings, tmp_path, channel, **{f"ENRICHER_NOTIFY_{channel.upper()}": url})
    intents, results = notify(settings, ledger)
    assert [(i.channel, i.target) for i in intents] == [(channel, f"notify_{channel}")] and results == ["sent"]
    assert notify(settings, ledger)[1] == []
    [(_, body)] = received
    said = text(body)
    assert "#31042" in said and "打印机卡纸" in said
    assert "support@acme.example" in said            # from a chat, a reply goes to the desk's mailbox


def test_an_address_that_could_smuggle_a_header_is_never_mailed(make_settings, tmp_path, ledger, smtp):
    port, mails = smtp
    settings = settings_for(make_settings, tmp_path, "email", key="7",
                            ENRICHER_NOTIFY_EMAIL=f"mailto://127.0.0.1:{port}?from=desk@acme.example&mode=insecure")
    bad = replace(TICKET, requester=Requester(id="7", name="x", email="li.na@acme.example\r\nBcc: all@acme.example"))
    ctx = StepContext(settings=settings, now=T0, found={"classification": Findings("classification", facts=FACTS)})
    assert [i.channel for i in communicate(bad, ctx).intents] == ["ticket"]   # passed over: the ticket answers
    forged = Intent(event="x", audience="requester", channel="email", body="b", title="t", target="notify_email",
                    data={"to": bad.requester.email})
    with ledger.transaction() as conn:                          # and were one stored, the dispatcher refuses it
        outbox.add(conn, "zammad", "43", [forged], T0)
    [row_id] = outbox.pending_ids(ledger, "zammad", "43")
    assert Dispatcher(settings, ledger, client_for=lambda p: None).dispatch(row_id) == "dead" and mails == []
    assert "not a usable e-mail address" in ledger.rows("outbox", ticket_id="43")[0]["last_error"]
