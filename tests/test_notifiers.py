"""The major-event alert through Apprise to a real local SMTP server and a local HTTP
endpoint: sent once, retried when it fails, bad channels and templates refused."""
from __future__ import annotations

import json
import socket

import pytest
from aiosmtpd.controller import Controller

from plugin.errors import PlatformError, SettingsError
from plugin.models import Requester, Ticket
from plugin.notifiers.channels import MajorEventAlert
from plugin.store import Ledger

TICKET = Ticket(platform="zammad", id="1078", number="31078", title="全公司无法上网",
                body="大面积断网", requester=Requester(id="7", name="李娜", organization="Acme"))
FACTS = {"classification": {"major_event": True, "major_event_words": ["大面积"],
                            "category_path": "业务系统/故障升级处理/故障与缺陷升级"}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"
    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, received
    controller.stop()


@pytest.fixture
def webhook(http_sink):
    address, received = http_sink
    return f"json://{address}/alert", received


@pytest.fixture
def ledger(tmp_path):
    return Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", lock_dir=tmp_path)


def alert_for(make_settings, ledger, urls, **env):
    return MajorEventAlert(make_settings(ENRICHER_NOTIFY_MAJOR_EVENT=",".join(urls), **env), ledger)


def test_major_event_reaches_email_and_chat_once(make_settings, ledger, smtp, webhook):
    port, mails = smtp
    url, posts = webhook
    mailto = f"mailto://127.0.0.1:{port}?from=enricher@desk.example&to=owner@desk.example&mode=insecure"
    alert = alert_for(make_settings, ledger, [mailto, url])
    alert(ticket=TICKET, facts=FACTS)
    alert(ticket=TICKET, facts=FACTS)                 # a retry or replay: not told twice
    assert len(mails) == 1 and mails[0].rcpt_tos == ["owner@desk.example"]
    assert "31078" in mails[0].content.decode("utf-8", "replace")
    assert len(posts) == 1
    assert posts[0]["title"] == "【重大事件 Major event】#31078 全公司无法上网"
    assert "原因 Why: 大面积" in posts[0]["message"] and "李娜 (Acme)" in posts[0]["message"]


def test_not_a_major_event_sends_nothing(make_settings, ledger, webhook):
    url, posts = webhook
    alert_for(make_settings, ledger, [url])(ticket=TICKET, facts={"classification": {"major_event": False}})
    assert posts == []


def test_failed_send_is_retryable_and_sent_on_the_retry(make_settings, ledger, webhook):
    url, posts = webhook
    dead = f"json://127.0.0.1:{free_port()}/nobody"
    alert = alert_for(make_settings, ledger, [dead])
    with pytest.raises(PlatformError) as err:
        alert(ticket=TICKET, facts=FACTS)
    assert err.value.retryable and err.value.key == "notify_failed"
    working = alert_for(make_settings, ledger, [url])
    working(ticket=TICKET, facts=FACTS)               # the claim was released: sent now
    assert len(posts) == 1


def test_bad_channel_url_is_refused_without_its_secret(make_settings, ledger):
    with pytest.raises(SettingsError) as err:
        alert_for(make_settings, ledger, ["json://127.0.0.1/ok", "nonsense://tok-SECRET-123"])
    assert "URL #2 (nonsense://…)" in err.value.message and "SECRET" not in err.value.message


@pytest.mark.parametrize("body,message", [
    ("{{ ticket.nonexistent }}", "has no attribute 'nonexistent'"),
    ("{{ ticket.__class__.__mro__ }}", "unsafe"),
    ("{% if %}", "template major_event.body"),
])
def test_bad_template_is_refused_at_start(make_settings, ledger, tmp_path, body, message):
    path = tmp_path / "settings.yaml"
    path.write_text(json.dumps({"templates": {"major_event": {"body": body}}}))
    with pytest.raises(SettingsError) as err:
        alert_for(make_settings, ledger, ["json://127.0.0.1/x"], ENRICHER_CONFIG=str(path))
    assert message in err.value.message
