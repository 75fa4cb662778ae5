"""The major-event alert through the outbox and the dispatcher to a real local SMTP
server and a local HTTP endpoint: sent once, retried when it fails, partial failures
not repeated, dead letters replayed, bad channels and templates refused."""
from __future__ import annotations

import json

import pytest

from plugin import outbox
from plugin.cli import check_notices
from plugin.errors import SettingsError
from plugin.models import Findings, Requester, StepContext, Ticket
from plugin.notifiers.dispatcher import Dispatcher
from plugin.steps.s901_communicate import communicate
from plugin.store import Ledger, utcnow

from .conftest import free_port

TICKET = Ticket(platform="zammad", id="1078", number="31078", title="全公司无法上网",
                body="大面积断网", requester=Requester(id="7", name="李娜", organization="Acme"))
FACTS = {"classification": {"major_event": True, "major_event_words": ["大面积"],
                            "category_path": "业务系统/故障升级处理/故障与缺陷升级"}}


@pytest.fixture
def webhook(http_sink):
    address, received = http_sink
    return f"json://{address}/alert", received


@pytest.fixture
def ledger(tmp_path):
    return Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", lock_dir=tmp_path)


def alert_for(make_settings, ledger, urls, **env):
    """The major-event alert as the worker makes it: the communication step's intent,
    stored in the outbox in a transaction, then a dispatcher that sends it."""
    settings = make_settings(ENRICHER_NOTIFY_MAJOR_EVENT=",".join(urls), **env)
    check_notices(settings)
    dispatcher = Dispatcher(settings, ledger, client_for=lambda platform: None)

    def alert(*, ticket, facts):
        found = {"classification": Findings("classification", facts=facts["classification"])}
        intents = communicate(ticket, StepContext(settings=settings, found=found)).intents
        with ledger.transaction() as conn:
            outbox.add(conn, ticket.platform, ticket.id, intents, utcnow())
        return [dispatcher.dispatch(i) for i in outbox.pending_ids(ledger, ticket.platform, ticket.id)]
    return alert


def test_major_event_reaches_email_and_chat_once(make_settings, ledger, smtp, webhook):
    port, mails = smtp
    url, posts = webhook
    mailto = f"mailto://127.0.0.1:{port}?from=enricher@desk.example&to=owner@desk.example&mode=insecure"
    alert = alert_for(make_settings, ledger, [mailto, url])
    assert alert(ticket=TICKET, facts=FACTS) == ["sent"]
    assert alert(ticket=TICKET, facts=FACTS) == []      # a retry or replay: not told twice
    assert len(mails) == 1 and mails[0].rcpt_tos == ["owner@desk.example"]
    assert "31078" in mails[0].content.decode("utf-8", "replace")
    assert len(posts) == 1
    assert posts[0]["title"] == "【重大事件 Major event】#31078 全公司无法上网"
    assert "原因 Why: 大面积" in posts[0]["message"] and "李娜 (Acme)" in posts[0]["message"]
    row = ledger.rows("outbox")[0]
    assert (row["status"], row["key"]) == ("sent", "zammad:1078:major_event:owner:apprise")


def test_not_a_major_event_sends_nothing(make_settings, ledger, webhook):
    url, posts = webhook
    alert_for(make_settings, ledger, [url])(ticket=TICKET, facts={"classification": {"major_event": False}})
    assert posts == [] and ledger.rows("outbox") == []


def test_failed_send_waits_and_is_sent_on_the_retry(make_settings, ledger, webhook):
    url, posts = webhook
    dead = f"json://127.0.0.1:{free_port()}/nobody"
    alert = alert_for(make_settings, ledger, [dead])
    assert alert(ticket=TICKET, facts=FACTS) == ["retry"]
    row = ledger.rows("outbox")[0]
    assert row["status"] == "pending" and row["attempts"] == 1 and "did not take" in row["last_error"]
    working = Dispatcher(make_settings(ENRICHER_NOTIFY_MAJOR_EVENT=url), ledger, client_for=lambda p: None)
    assert working.dispatch(row["id"]) == "sent"         # its time has come (no backoff in tests)
    assert len(posts) == 1


def test_a_partial_failure_is_not_repeated_to_the_channels_that_took_it(make_settings, ledger, webhook):
    url, posts = webhook
    dead = f"json://127.0.0.1:{free_port()}/nobody"
    alert = alert_for(make_settings, ledger, [url, dead])
    assert alert(ticket=TICKET, facts=FACTS) == ["retry"]
    assert len(posts) == 1 and ledger.rows("outbox")[0]["data"] == {"delivered": [0]}
    fixed = Dispatcher(make_settings(ENRICHER_NOTIFY_MAJOR_EVENT=f"{url},{url}"), ledger,
                       client_for=lambda p: None)
    assert fixed.dispatch(ledger.rows("outbox")[0]["id"]) == "sent"
    assert len(posts) == 2                               # only the second URL, once


def test_a_send_that_keeps_failing_becomes_a_dead_letter_that_replay_revives(make_settings, ledger):
    from click.testing import CliRunner

    from plugin.cli import cli
    dead = f"json://127.0.0.1:{free_port()}/nobody"
    settings = make_settings(ENRICHER_NOTIFY_MAJOR_EVENT=dead, ENRICHER_MAX_ATTEMPTS="2")
    alert = alert_for(make_settings, ledger, [dead], ENRICHER_MAX_ATTEMPTS="2")
    assert alert(ticket=TICKET, facts=FACTS) == ["retry"]
    dispatcher = Dispatcher(settings, ledger, client_for=lambda p: None)
    assert dispatcher.dispatch(ledger.rows("outbox")[0]["id"]) == "dead"
    assert dispatcher.run_due() == {}                    # a dead letter is not tried again by itself
    env = {"ENRICHER_DATA_DIR": str(settings.data_dir), "ENRICHER_DATABASE_URL": ledger.url,
           "ENRICHER_ZAMMAD_URL": "http://zammad.test",
           "ENRICHER_ZAMMAD_TOKEN": "tok-123456", "ENRICHER_ZAMMAD_WEBHOOK_SECRET": "s3cr3t-t0k3n"}
    out = CliRunner().invoke(cli, ["replay", "--dry-run"], env=env)
    assert out.exit_code == 0 and "1 dead message(s) would be sent again" in out.output
    out = CliRunner().invoke(cli, ["replay"], env=env)
    assert "1 dead message(s) set to send again" in out.output
    row = ledger.rows("outbox")[0]
    assert (row["status"], row["attempts"]) == ("pending", 0)


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
