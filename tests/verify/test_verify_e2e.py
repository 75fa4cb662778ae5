"""Verification end to end on both simulators, through the worker (Processor, Queue,
drain): a verified ticket, a not-entitled one, a password reset that needs an extra
identity check, and a repeat linked to the earlier ticket; each written back once,
and a replay of the same event writes nothing."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from plugin.hooks.zammad_api import ZammadClient
from plugin.manifest import load_manifest
from plugin.queue import Queue
from plugin.simulators.jira import JiraSimulator
from plugin.store import Ledger
from plugin.worker import Processor

from ..conftest import drain
from ..jira_helpers import install_fields, jira_env, sim_client

PRINTER = ("打印机卡纸", "三楼打印机卡纸，无法打印。")
PRINTER_AGAIN = ("三楼打印机又卡纸了", "打印机还是卡纸，无法打印。")
PASSWORD = ("忘记密码", "忘记域账号密码，请帮我重置。")
PROJECTOR = ("投影仪无法连接", "会议室投影仪无法连接笔记本。")


def settings_file(tmp_path, **identity) -> str:
    section = {"identity": identity,
               "entitlements": [{"name": "Acme 桌面与业务系统", "organizations": ["Acme Corp", "ACME"],
                                 "services": ["*"], "service_level": "5x8"}],
               "policies": {"not_entitled": {"group": "合同管理组"}}}
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"verification": section}, ensure_ascii=False), encoding="utf-8")
    return str(path)


def writes_by_path(calls) -> Counter:
    return Counter(f"{c.method} {c.path.split('?')[0]}" for c in calls if c.method in ("PUT", "POST", "DELETE"))


# --- Zammad ---------------------------------------------------------------------

@pytest.fixture
def zammad(sim, make_settings, tmp_path):
    settings = make_settings(ENRICHER_ZAMMAD_URL=sim.base_url, ENRICHER_ZAMMAD_TOKEN=sim.token,
                             ENRICHER_CONFIG=settings_file(tmp_path), ENRICHER_RECONCILE_SECONDS="0")
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    processor = Processor(settings, ledger, load_manifest(),
                          clients={"zammad": ZammadClient(sim.base_url, sim.token, retries=0)})
    queue = Queue(settings, ledger, lambda: processor)
    deliveries, bodies = iter(range(1, 1000)), {}

    def process(tid: int) -> list:
        """The ticket's create event (the same bytes again: a replay); the writes it caused."""
        sim.reset_calls()
        body = bodies.setdefault(tid, sim.webhook_body(tid, sim.articles[tid][0]["id"]))
        pk, _ = ledger.accept("zammad", f"d{next(deliveries)}", str(tid), "create", body)
        queue.enqueue(pk)
        drain(queue)
        assert ledger.delivery(pk)["status"] == "done"
        return sim.writes()
    return sim, process


def zammad_note(sim, tid) -> str:
    [note] = [a for a in sim.articles[tid] if a.get("subject") == "desk-enricher" and a.get("internal")]
    return note["body"]


def test_zammad_end_to_end(zammad):
    sim, process = zammad
    verified = sim.create_ticket(*PRINTER, "li.na@acme.example", customer_name="Li Na")
    other = sim.create_ticket(*PROJECTOR, "wang.wei@xingyun-tech.example.cn", customer_name="王伟")
    password = sim.create_ticket(*PASSWORD, "tom.berg@acme.example", customer_name="Tom Berg")
    for tid, status, tag in ((verified, "verified", None),
                             (other, "not_entitled", "enrich:verify-entitlement"),
                             (password, "identity_check_required", "enrich:verify-protected")):
        writes = process(tid)
        assert writes_by_path(writes)[f"PUT /api/v1/tickets/{tid}"] == 1      # fields and note in one call
        assert sim.tickets[tid]["enrich_verification"] == status
        assert (tag in sim.tags[tid]) if tag else not any(t.startswith("enrich:verify") for t in sim.tags[tid])
        assert "核验结论：" in zammad_note(sim, tid) and f"（{status}）" in zammad_note(sim, tid)
        assert process(tid) == []                                            # a replay writes nothing
    assert sim.tickets[other]["enrich_group"] == "合同管理组"                   # the not_entitled policy
    assert "回拨" in zammad_note(sim, password)                                # which extra check to do

    repeat = sim.create_ticket(*PRINTER_AGAIN, "li.na@acme.example", customer_name="Li Na")
    writes = process(repeat)
    assert writes_by_path(writes)["POST /api/v1/links/add"] == 1
    [link] = [c for c in writes if c.path.endswith("/links/add")]
    assert link.body["link_object_source_number"] == sim.tickets[verified]["number"]
    assert link.body["link_object_target_value"] == repeat
    assert "enrich:repeat" in sim.tags[repeat] and sim.tickets[repeat]["enrich_verification"] == "verified"
    assert sim.ticket_all(verified)["links"] == [{"link_type": "normal", "link_object": "Ticket",
                                                   "link_object_value": repeat}]
    assert "可能重复" in zammad_note(sim, repeat)
    assert process(repeat) == []                                             # linked once


# --- Jira -------------------------------------------------------------------------

@pytest.fixture(params=["cloud", "dc"])
def jira(request, make_settings, tmp_path):
    token = "pat-1" if request.param == "dc" else "sim-token"
    with JiraSimulator(flavor=request.param, api_token=token) as sim:
        ids = install_fields(sim)
        config = settings_file(tmp_path, org_domains={"ACME": ["acme.example"], "星云科技": ["xingyun.example"]})
        settings = make_settings(ENRICHER_CONFIG=config, **jira_env(sim, "jira-webhook-secret"))
        ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
        processor = Processor(settings, ledger, load_manifest(), clients={"jira": sim_client(sim)})
        queue = Queue(settings, ledger, lambda: processor)
        deliveries, bodies = iter(range(1, 1000)), {}

        def process(key: str) -> list:
            sim.reset_calls()
            body = bodies.setdefault(key, sim.webhook_body("jira:issue_created", key))
            pk, _ = ledger.accept("jira", f"d{next(deliveries)}", key, "jira:issue_created", body)
            queue.enqueue(pk)
            drain(queue)
            assert ledger.delivery(pk)["status"] == "done"
            return sim.writes()
        yield sim, process, ids


def jira_note(sim, key) -> str:
    [note] = [c["body"] for c in sim.issues[key]["comments"] if str(c["body"]).startswith("[desk-enricher]")]
    return note


def test_jira_end_to_end(jira):
    sim, process, ids = jira
    api = "/rest/api/3" if sim.flavor == "cloud" else "/rest/api/2"
    verified = sim.create_request(*PRINTER, "li.na@acme.example", "Li Na", organization="ACME")
    other = sim.create_request(*PROJECTOR, "wang.wei@xingyun.example", "王伟", organization="星云科技")
    password = sim.create_request(*PASSWORD, "tom.berg@acme.example", "Tom Berg", organization="ACME")
    field = ids["enrich_verification"]
    for key, status, tag in ((verified, "verified", None),
                             (other, "not_entitled", "enrich:verify-entitlement"),
                             (password, "identity_check_required", "enrich:verify-protected")):
        writes = process(key)
        assert writes_by_path(writes)[f"PUT {api}/issue/{key}"] == 1            # fields and labels in one call
        fields = sim.issues[key]["fields"]
        assert fields[field] == status
        labels = fields["labels"]
        assert (tag in labels) if tag else not any(t.startswith("enrich:verify") for t in labels)
        assert f"（{status}）" in jira_note(sim, key)
        assert process(key) == []                                              # a replay writes nothing
    assert sim.issues[other]["fields"][ids["enrich_group"]] == "合同管理组"

    repeat = sim.create_request(*PRINTER_AGAIN, "li.na@acme.example", "Li Na", organization="ACME")
    writes = process(repeat)
    [link] = [c for c in writes if c.path == f"{api}/issueLink"]
    assert link.body == {"type": {"name": "Relates"}, "inwardIssue": {"key": verified},
                         "outwardIssue": {"key": repeat}}
    assert "enrich:repeat" in sim.issues[repeat]["fields"]["labels"]
    assert [li["outwardIssue"]["key"] for li in sim.issues[verified]["fields"]["issuelinks"]] == [repeat]
    assert process(repeat) == []                                               # linked once
