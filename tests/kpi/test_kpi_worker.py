"""End to end through the worker and the Zammad simulator: a ticket accepted too late gets
its KPI fields and the breach tag, and the ledger keeps its facts; a ticket nobody accepts
is woken by its timer at the response deadline and tagged then."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from plugin import jobs, timers
from plugin.hooks.zammad_api import ZammadClient
from plugin.manifest import load_manifest
from plugin.queue import Queue
from plugin.store import Ledger
from plugin.tables import ticket_facts
from plugin.worker import Processor

from ..conftest import drain
from .helpers import local


class Clock:
    """The simulator's clock and the worker's, moved by the test."""

    def __init__(self, start: datetime):
        self.at = start

    def iso(self) -> str:
        return self.at.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def world(sim, make_settings, monkeypatch):
    clock = Clock(local("2026-11-02 09:00"))          # a Monday
    sim.now = clock.iso
    monkeypatch.setattr("plugin.worker.utcnow", clock.now)
    settings = make_settings(ENRICHER_ZAMMAD_URL=sim.base_url, ENRICHER_ZAMMAD_TOKEN=sim.token,
                             ENRICHER_RECONCILE_SECONDS="0")
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    processor = Processor(settings, ledger, load_manifest(),
                          clients={"zammad": ZammadClient(sim.base_url, sim.token, retries=0)})
    return clock, settings, ledger, Queue(settings, ledger, lambda: processor)


def deliver(sim, ledger, queue, tid, key):
    pk, _ = ledger.accept("zammad", key, str(tid), "update", sim.webhook_body(tid))
    queue.enqueue(pk)
    drain(queue)
    assert ledger.delivery(pk)["status"] == "done"


def facts(ledger, tid):
    with ledger.engine.connect() as conn:
        return dict(conn.execute(select(ticket_facts).where(ticket_facts.c.ticket_id == str(tid))).mappings().one())


def test_a_late_acceptance_is_measured_and_tagged(sim, world):
    clock, _, ledger, queue = world
    tid = sim.create_ticket("Outlook 无法启动", "Outlook 打开就崩溃，提示错误。", "li.na@acme.example",
                            customer_name="李娜")
    clock.at = local("2026-11-02 09:12")
    sim.agent_update(tid, state="open")
    clock.at = local("2026-11-02 09:20")
    sim.reply(tid, "您好，我们正在处理。")
    clock.at = local("2026-11-02 10:00")
    sim.agent_update(tid, state="closed")
    deliver(sim, ledger, queue, tid, "d1")
    t = sim.tickets[tid]
    # accepted after 12 working minutes (limit 5); resolved 48 minutes after that first action
    assert (t["enrich_response_minutes"], t["enrich_first_response_minutes"], t["enrich_resolution_minutes"],
            t["enrich_waiting_minutes"], t["enrich_handling_minutes"]) == (12, 12, 48, 0, 48)
    assert "kpi-response-breached" in sim.tags[tid] and "kpi-sla-breached" not in sim.tags[tid]
    row = facts(ledger, tid)
    assert (row["response_minutes"], row["response_breached"], row["resolution_minutes"],
            row["registered_day"], row["service_level"]) == (12.0, True, 48.0, "2026-11-02", "5x8")
    note = [a for a in sim.articles[tid] if a.get("internal") and "desk-enricher" in (a.get("body") or "")]
    assert any("Response limit breached: 12" in a["body"] for a in note)
    clock.at = local("2026-11-02 10:05")
    sim.agent_update(tid, title="Outlook 无法启动(已解决)")   # an agent's later edit: KPIs stay
    writes = len(sim.writes())
    deliver(sim, ledger, queue, tid, "d2")
    assert len(sim.writes()) == writes                      # recomputed the same: nothing written


def test_a_ticket_nobody_accepts_is_tagged_at_the_deadline(sim, world):
    clock, settings, ledger, queue = world
    tid = sim.create_ticket("VPN 连不上", "VPN 一直连接失败。", "li.na@acme.example", customer_name="李娜")
    clock.at = local("2026-11-02 09:01")
    deliver(sim, ledger, queue, tid, "d1")
    assert "kpi-response-breached" not in sim.tags[tid]
    [timer] = [r for r in ledger.rows("timers") if r["key"].startswith("kpi:response:")]
    assert (timer["kind"], timer["status"]) == ("reprocess", "pending")
    assert timer["due_at"].replace(tzinfo=UTC) == local("2026-11-02 09:05")
    clock.at = local("2026-11-02 09:05") + timedelta(seconds=2)
    scheduler = timers.Scheduler(ledger, jobs.handlers(settings, queue))
    assert scheduler.tick()["fired"] >= 1
    drain(queue)
    assert "kpi-response-breached" in sim.tags[tid]
    assert facts(ledger, tid)["response_breached"] is True


def test_jira_changelog_and_sla_fields_through_the_worker(make_settings, monkeypatch):
    from plugin.simulators.jira import JiraSimulator
    from tests.jira_helpers import install_fields, jira_env, sim_client

    clock = Clock(local("2026-11-02 09:00"))
    monkeypatch.setattr("plugin.worker.utcnow", clock.now)
    with JiraSimulator() as jira:
        jira.clock = lambda: int(clock.at.timestamp() * 1000)
        ids = install_fields(jira)
        settings = make_settings(**jira_env(jira, "jira-webhook-secret"), ENRICHER_RECONCILE_SECONDS="0")
        ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
        processor = Processor(settings, ledger, load_manifest(), clients={"jira": sim_client(jira)})
        queue = Queue(settings, ledger, lambda: processor)
        key = jira.create_request("VPN 连不上", "VPN 一直连接失败，无法办公。", "dana@acme.example", "Dana")
        clock.at = local("2026-11-02 09:08")
        jira.agent_update(key, status="In Progress")
        clock.at = local("2026-11-02 09:30")
        pk, _ = ledger.accept("jira", "j1", key, "jira:issue_updated",
                              jira.webhook_body("jira:issue_updated", key))
        queue.enqueue(pk)
        drain(queue)
        assert ledger.delivery(pk)["status"] == "done"
        fields = jira.issues[key]["fields"]
        assert fields[ids["enrich_response_minutes"]] == "8"          # Jira's custom fields are text
        assert "kpi-response-breached" in fields["labels"]
        row = facts(ledger, key)
        assert (row["response_minutes"], row["response_breached"]) == (8.0, True)
        assert row["sla_breached"] is None                             # the SLA is still running
        [kpi] = [f["data"] for f in ledger.rows("findings") if f["step"] == "kpi"]
        assert kpi["sla_source"] == "jira" and kpi["sla_due"]         # JSM's own clock decides
