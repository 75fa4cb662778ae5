"""The real service process against the Jira simulator over loopback: each shared
fixture, sent with its own headers, enriches the simulated request; Automation calls
and missed webhooks too; and one ticket told to Zammad and to Jira yields the same
findings."""
from __future__ import annotations

import re
import uuid

import pytest
import requests

from plugin.simulators.jira import JiraSimulator
from plugin.simulators.zammad import ZammadSimulator
from tests.conftest import JIRA_SECRET
from tests.jira_helpers import (
    AUTOMATION_SECRET,
    install_fields,
    jira_body,
    jira_env,
    jira_headers,
    jira_names,
)

from .harness import SECRET, Service, notes_by_ticket, wait_until

pytestmark = pytest.mark.slow

KEY = "ITSD-42"


@pytest.fixture
def jsim():
    with JiraSimulator() as s:
        yield s


@pytest.fixture
def service(tmp_path):
    services = []

    def make(**env):
        svc = Service(tmp_path / f"data{len(services)}", {"ENRICHER_RECONCILE_SECONDS": "0", **env})
        services.append(svc)
        return svc
    yield make
    for svc in services:
        svc.stop()


def finished(svc, n: int):
    counts = svc.ledger().status_counts()
    return counts.get("done", 0) + counts.get("ignored", 0) >= n and counts


def jsm_notes(sim, key: str) -> list[dict]:
    with sim.lock:
        return [c for c in sim.issues[key]["comments"] if c["body"].startswith("[desk-enricher]")]


@pytest.mark.parametrize("name", jira_names())
def test_each_fixture_with_its_headers_enriches_the_simulated_request(jsim, service, name):
    field = install_fields(jsim)["enrich_record_quality"]
    svc = service(**jira_env(jsim, JIRA_SECRET)).start()
    body, headers = jira_body(name), jira_headers(name)
    resp = requests.post(f"{svc.url}/hooks/jira", data=body, headers=headers, timeout=10)
    assert resp.status_code == 202, resp.text
    wait_until(lambda: jsm_notes(jsim, KEY), what="write-back")
    assert jsim.issues[KEY]["fields"][field] == "71"
    put = [c for c in jsim.writes() if c.method == "PUT"]
    assert len(put) == 1 and put[0].query == {"notifyUsers": "false"}
    assert [n["public"] for n in jsm_notes(jsim, KEY)] == [False]
    # Jira's retry (same identifier) is a duplicate; a new identifier for the same state writes nothing.
    again = requests.post(f"{svc.url}/hooks/jira", data=body, timeout=10,
                          headers={**headers, "X-Atlassian-Webhook-Retry": "1"})
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    fresh = {**headers, "X-Atlassian-Webhook-Identifier": str(uuid.uuid4())}
    assert requests.post(f"{svc.url}/hooks/jira", data=body, headers=fresh, timeout=10).status_code == 202
    wait_until(lambda: finished(svc, 2), what="second delivery")
    assert len([c for c in jsim.writes() if c.method == "PUT"]) == 1 and len(jsm_notes(jsim, KEY)) == 1


def test_automation_call_and_both_comment_events(jsim, service):
    install_fields(jsim)
    svc = service(**jira_env(jsim, SECRET, ENRICHER_JIRA_AUTOMATION_SECRET=AUTOMATION_SECRET)).start()
    key = jsim.create_request("Outlook keeps asking for my password", "Since the update.",
                              "olivia@acme.example", "Olivia O", organization="Acme")
    resp = jsim.send_automation(f"{svc.url}/hooks/jira", "X-Enricher-Token", AUTOMATION_SECRET, key)
    assert resp.status_code == 202, resp.text
    wait_until(lambda: jsm_notes(jsim, key), what="enrichment from Automation")
    cid = jsim.add_comment(key, "It asks again every ten minutes.")
    url = f"{svc.url}/hooks/jira"
    first = jsim.send_webhook(url, SECRET, "comment_created", key, comment_id=cid)
    second = jsim.send_webhook(url, SECRET, "jira:issue_updated", key, comment_id=cid)
    assert (first.status_code, second.json()["status"]) == (202, "ignored")
    wait_until(lambda: finished(svc, 2), what="the comment")
    assert [o["outcome"] for o in svc.ledger().rows("outcomes")] == ["enriched", "unchanged"]


def test_requests_raised_while_service_was_down_are_reconciled(jsim, service):
    field = install_fields(jsim)["enrich_record_quality"]
    keys = [jsim.create_request(f"Projector {i} shows no signal", "HDMI in room 4.", f"r{i}@acme.example",
                                f"R {i}", organization="Acme") for i in range(3)]
    svc = service(**jira_env(jsim, SECRET, ENRICHER_RECONCILE_SECONDS="60")).start()
    wait_until(lambda: all(len(jsm_notes(jsim, k)) == 1 for k in keys), timeout=60, what="reconciler")
    assert all(jsim.issues[k]["fields"][field] == "86" for k in keys)
    assert all(r["delivery_key"].startswith("reconcile:") for r in svc.ledger().rows("deliveries"))


# Facts a platform cannot supply, by step: none today. Jira webhooks never carry the
# reporter's e-mail, but the worker's one GET of the issue does, so record_quality sees
# the same seven fields on both. Department is missing on both (neither desk has it
# for these customers); the channel is "email" on Zammad and "portal" on Jira, and the
# step only asks whether one is known. A step that reads a platform-only field belongs
# here with its reason.
# Identity is platform-specific by nature: Zammad knows the organization's domain and the
# first message's From address; Jira has an account and no domains. The SLA clock is the
# platform's own where it keeps one (JSM's SLA fields), else the desk's. Deadlines counted
# from the moment each ticket was created or first seen differ by the milliseconds between
# the two (in working hours; outside them both start at the next opening). The rest agrees.
PLATFORM_SPECIFIC: dict[str, set[str]] = {"verification": {"status", "checks", "tags"},
                                          "kpi": {"sla_source", "target_minutes", "sla_due", "response_due"},
                                          "tracking": {"stale_since"}}


def findings_by_step(ledger, platform: str) -> dict[str, dict]:
    rows = ledger.rows("findings", platform=platform)
    return {r["step"]: {k: v for k, v in r["data"].items() if k not in PLATFORM_SPECIFIC.get(r["step"], ())}
            for r in rows}


def test_same_ticket_on_zammad_and_jira_yields_the_same_findings(jsim, service):
    install_fields(jsim)
    with ZammadSimulator() as zsim:
        svc = service(ENRICHER_ZAMMAD_URL=zsim.base_url, ENRICHER_ZAMMAD_TOKEN=zsim.token,
                      ENRICHER_ZAMMAD_WEBHOOK_SECRET=SECRET, **jira_env(jsim, SECRET)).start()
        title, text = "Cannot connect to VPN (error 809)", "Since this morning the VPN fails with error 809."
        tid = zsim.create_ticket(title, text, "dana@acme.example", customer_name="Dana Customer",
                                 organization="Acme")
        key = jsim.create_request(title, text, "dana@acme.example", "Dana Customer", organization="Acme")
        assert zsim.send_webhook(f"{svc.url}/hooks/zammad", SECRET, tid,
                                 article_id=zsim.articles[tid][0]["id"]).status_code == 202
        sent = jsim.send_webhook(f"{svc.url}/hooks/jira", SECRET, "jira:issue_created", key)
        assert sent.status_code == 202
        wait_until(lambda: finished(svc, 2), what="both platforms")
        zammad, jira = findings_by_step(svc.ledger(), "zammad"), findings_by_step(svc.ledger(), "jira")
        assert zammad and set(zammad) == set(jira)
        for step in zammad:
            assert zammad[step] == jira[step], step
        assert notes_by_ticket(zsim)[tid] == 1 and len(jsm_notes(jsim, key)) == 1
        # The same note, but for its marker line: the marker names the ticket on its platform.
        assert _unmarked(jsm_notes(jsim, key)[0]["body"]) == _unmarked(_zammad_note(zsim, tid))


def _zammad_note(zsim, tid: int) -> str:
    with zsim.lock:
        return next(a["body"] for a in zsim.articles[tid] if a.get("subject") == "desk-enricher")


def _unmarked(note: str) -> str:
    """The note without its marker line and the verification lines (platform-specific)."""
    lines = note.splitlines()
    assert re.fullmatch(r"Ref de:[0-9a-f]{10}", lines[-1]), lines[-1]
    return "\n".join(line for line in lines[:-1]
                     if not line.startswith(("- ", "核验结论：", "Verification: ")))
