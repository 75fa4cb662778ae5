"""Shadow mode on both simulators: N webhooks make 0 platform writes, 0 messages, and N
recorded plans with the intents it would have carried out; /metrics and doctor say so."""
from __future__ import annotations

import pytest
from prometheus_client import generate_latest

from plugin.hooks.zammad_api import ZammadClient
from plugin.manifest import load_manifest
from plugin.metrics import make_registry
from plugin.queue import Queue
from plugin.simulators.jira import JiraSimulator
from plugin.store import Ledger
from plugin.worker import Processor

from .conftest import drain
from .jira_helpers import install_fields, jira_env, sim_client

TEXTS = [("全公司无法上网", "大面积断网，所有人都无法访问系统。"), ("打印机卡纸", "三楼打印机卡纸。"),
         ("Reset my password", "I forgot my AD password."), ("VPN 连不上", "VPN 一直连接失败。")]


def run(settings, client, platform, bodies):
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    processor = Processor(settings, ledger, load_manifest(), clients={platform: client})
    queue = Queue(settings, ledger, lambda: processor)
    for i, (tid, body) in enumerate(bodies):
        pk, _ = ledger.accept(platform, f"d{i}", tid, "create", body)
        queue.enqueue(pk)
    drain(queue, limit=50)
    return ledger, queue


def check_shadow(ledger, n, posts):
    assert [d["status"] for d in ledger.rows("deliveries")] == ["done"] * n
    assert ledger.rows("writes") == [] and posts == []
    plans = ledger.rows("plans")
    assert len(plans) == n and {p["mode"] for p in plans} == {"shadow"}
    assert all(p["plan"]["fields"] for p in plans)          # what it would have written
    assert {o["outcome"] for o in ledger.rows("outcomes")} == {"shadow"}
    would = ledger.rows("outbox")
    assert would and {r["status"] for r in would} == {"shadow"}


def test_shadow_mode_on_zammad_writes_nothing_sends_nothing_records_every_plan(sim, make_settings, http_sink):
    address, posts = http_sink
    settings = make_settings(ENRICHER_MODE="shadow", ENRICHER_ZAMMAD_URL=sim.base_url,
                             ENRICHER_ZAMMAD_TOKEN=sim.token, ENRICHER_NOTIFY_MAJOR_EVENT=f"json://{address}/x")
    tickets = [sim.create_ticket(t, b, f"u{i}@acme.example", customer_name=f"U{i}") for i, (t, b) in enumerate(TEXTS)]
    sim.reset_calls()
    bodies = [(str(t), sim.webhook_body(t, sim.articles[t][0]["id"])) for t in tickets]
    ledger, queue = run(settings, ZammadClient(sim.base_url, sim.token, retries=0), "zammad", bodies)
    assert sim.writes() == []            # reads only (the knowledge-base search POST changes nothing)
    check_shadow(ledger, len(tickets), posts)
    assert any(r["event"] == "major_event" for r in ledger.rows("outbox"))   # the alert it would send
    queue.processor.dispatcher.run_due()
    assert posts == []                                        # the dispatcher leaves them be
    text = generate_latest(make_registry(ledger, queue)).decode()
    assert 'enricher_mode{mode="shadow"} 1.0' in text


def test_shadow_mode_on_jira_writes_nothing(make_settings, http_sink):
    _, posts = http_sink
    with JiraSimulator() as jsim:
        install_fields(jsim)
        keys = [jsim.create_request(t, b, f"u{i}@acme.example", f"U{i}") for i, (t, b) in enumerate(TEXTS)]
        jsim.reset_calls()
        settings = make_settings(ENRICHER_MODE="shadow", **jira_env(jsim, "jira-webhook-secret"))
        bodies = [(k, jsim.webhook_body("jira:issue_created", k)) for k in keys]
        ledger, _ = run(settings, sim_client(jsim), "jira", bodies)
        assert jsim.writes() == []
        check_shadow(ledger, len(keys), posts)


def test_doctor_says_plainly_that_it_is_in_shadow_mode(make_settings):
    from plugin.doctor import run_checks
    lines = [c.line() for c in run_checks(make_settings(ENRICHER_MODE="shadow"))]
    assert any("SHADOW MODE" in line for line in lines)


@pytest.mark.parametrize("value", ["dry", "LIVE", ""])
def test_an_unknown_mode_is_refused(make_settings, value):
    from plugin.errors import SettingsError
    if value == "":
        assert make_settings(ENRICHER_MODE=value).mode == "live"
        return
    with pytest.raises(SettingsError, match="ENRICHER_MODE"):
        make_settings(ENRICHER_MODE=value)

