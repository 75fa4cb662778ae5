"""A crash at every boundary of processing and dispatch loses nothing and writes or
sends nothing twice where the target can be checked (the ticket). The crash is a
BaseException that no handler catches: the worker stops there as if killed; then a
fresh worker starts on the same ledger, queue and platform, as after a restart."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import update

from plugin import outbox, record
from plugin.hooks.zammad_api import ZammadClient
from plugin.manifest import load_manifest
from plugin.models import Findings, Intent
from plugin.notifiers.dispatcher import Dispatcher
from plugin.queue import Queue
from plugin.steps import STEPS, StepSpec
from plugin.store import Ledger, utcnow
from plugin.tables import outbox as outbox_table
from plugin.worker import Processor

from .conftest import drain


class Crash(BaseException):
    """The process dies here."""


def probe(ticket, ctx):
    """A step with one effect of each kind: a public reply on the ticket, a chat message."""
    return Findings("probe", intents=(
        Intent(event="probe", audience="requester", channel="ticket", public=True, title="Re: probe",
               body=f"已收到 <{ticket.title}>"),
        Intent(event="probe", audience="staff", channel="apprise", target="notify_major_event",
               title="probe", body=f"ticket {ticket.number}")))


@pytest.fixture
def world(sim, http_sink, make_settings, tmp_path, monkeypatch):
    monkeypatch.setitem(STEPS, "probe", StepSpec("probe", probe))
    config = tmp_path / "settings.yaml"
    config.write_text(json.dumps({"pipeline": {"steps": ["record_quality", "classification", "probe"]}}))
    address, received = http_sink
    settings = make_settings(ENRICHER_ZAMMAD_URL=sim.base_url, ENRICHER_ZAMMAD_TOKEN=sim.token,
                             ENRICHER_CONFIG=str(config), ENRICHER_NOTIFY_MAJOR_EVENT=f"json://{address}/chat",
                             ENRICHER_RECONCILE_SECONDS="0")
    tid = sim.create_ticket("打印机卡纸", "三楼打印机卡纸，无法打印。", "li.na@acme.example", customer_name="李娜")
    return settings, sim, received, tid


def start(settings, sim):
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    processor = Processor(settings, ledger, load_manifest(),
                          clients={"zammad": ZammadClient(sim.base_url, sim.token, retries=0)})
    return ledger, Queue(settings, ledger, lambda: processor), processor


def once(target, name, monkeypatch):
    """Make target.name crash the first time it is called."""
    real = getattr(target, name)
    calls = []

    def crashing(*args, **kwargs):
        if not calls:
            calls.append(1)
            raise Crash(name)
        return real(*args, **kwargs)
    monkeypatch.setattr(target, name, crashing)


def restart(settings, sim):
    """A new worker: in-flight deliveries queued again, claims past their hold taken over."""
    ledger, queue, processor = start(settings, sim)
    queue.requeue_all_unfinished()
    drain(queue)
    with ledger.transaction() as conn:   # the dead worker's claims expire (time passes)
        conn.execute(update(outbox_table).where(outbox_table.c.status == "sending")
                     .values(next_at=utcnow() - timedelta(seconds=1)))
    processor.dispatcher.run_due()
    return ledger


def outcome(sim, tid, received):
    articles = sim.articles[tid]
    notes = [a for a in articles if a.get("subject") == "desk-enricher" and a.get("internal")]
    replies = [a for a in articles if a.get("subject") == "Re: probe"]
    return len(notes), len(replies), len(received)


BOUNDARIES = [
    # (what crashes, where) — the worker dies ...
    (ZammadClient, "apply"),       # ... after reading the ticket, before any write
    (record, "processed"),         # ... after the writes landed, before the ledger commit
    (Dispatcher, "dispatch"),      # ... after the commit, before the outbox is sent
]


@pytest.mark.parametrize("where", BOUNDARIES, ids=[b[1] for b in BOUNDARIES])
def test_a_crash_in_processing_loses_nothing_and_repeats_nothing(world, monkeypatch, where):
    settings, sim, received, tid = world
    ledger, queue, _ = start(settings, sim)
    pk, _ = ledger.accept("zammad", "d1", str(tid), "create", sim.webhook_body(tid, sim.articles[tid][0]["id"]))
    queue.enqueue(pk)
    once(*where, monkeypatch)
    with pytest.raises(Crash):
        drain(queue)
    ledger = restart(settings, sim)
    assert ledger.delivery(pk)["status"] == "done"
    assert outcome(sim, tid, received) == (1, 1, 1)          # one note, one reply, one chat message
    assert {r["status"] for r in ledger.rows("outbox")} == {"sent"}
    assert "enrich_record_quality" in sim.tickets[tid]
    [reply] = [a for a in sim.articles[tid] if a.get("subject") == "Re: probe"]
    # A public reply of the ticket's channel (e-mail to the requester), ticket text escaped
    # as HTML, and nothing of the internal findings in it.
    assert (reply["type"], reply["internal"], reply["to"]) == ("email", False, "li.na@acme.example")
    assert "&lt;打印机卡纸&gt;" in reply["body"] and "Record quality" not in reply["body"]


def test_a_crash_after_a_ticket_post_before_marking_it_sent_posts_once(world, monkeypatch):
    settings, sim, received, tid = world
    ledger, _, processor = start(settings, sim)
    follow_up = Intent(event="followup", audience="requester", channel="ticket", public=True,
                       title="Re: probe", body="问题解决了吗? Is it solved?")
    with ledger.transaction() as conn:     # as a timer would: a ticket intent for the dispatcher
        outbox.add(conn, "zammad", str(tid), [follow_up], utcnow())
    once(outbox, "finish", monkeypatch)
    with pytest.raises(Crash):
        processor.dispatcher.run_due()
    ledger = restart(settings, sim)
    assert outcome(sim, tid, received)[1] == 1                # found by its marker: not posted again
    assert ledger.rows("outbox")[0]["status"] == "sent"


def test_a_crash_after_a_chat_send_before_marking_it_sent_sends_again(world, monkeypatch):
    """The documented window: a chat webhook or SMTP server cannot be asked whether it
    already has the message. Nothing is lost; this one message goes out twice."""
    settings, sim, received, tid = world
    ledger, _, _ = start(settings, sim)
    chat = Intent(event="probe", audience="staff", channel="apprise", target="notify_major_event",
                  title="probe", body="x")
    with ledger.transaction() as conn:
        outbox.add(conn, "zammad", str(tid), [chat], utcnow())
    once(outbox, "finish", monkeypatch)
    dispatcher = Dispatcher(settings, ledger, client_for=lambda p: None)
    with pytest.raises(Crash):
        dispatcher.run_due()
    assert len(received) == 1
    restart(settings, sim)
    assert len(received) == 2 and ledger.rows("outbox")[0]["status"] == "sent"
