"""The Jira simulator, exercised over real loopback HTTP like the service will."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from pathlib import Path

import pytest
import requests
from flask import Flask, request
from werkzeug.serving import make_server

from plugin.simulators.jira import JiraSimulator
from plugin.simulators.jira_base import BOT_ID, fixtures_path, sign

SECRET = "test-webhook-secret"  # the key of the fixtures' X-Hub-Signature values
FIXTURES = fixtures_path(None)


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))


@pytest.fixture
def sim():
    with JiraSimulator() as s:
        yield s


@pytest.fixture
def api(sim):
    session = requests.Session()
    session.auth = (sim.email, sim.api_token)

    def call(method, path, **kwargs):
        return session.request(method, sim.base_url + path, timeout=5, **kwargs)
    return call


@pytest.fixture
def receiver():
    """A webhook endpoint that records the headers and raw body it got."""
    got = []
    app = Flask("receiver")

    @app.post("/hooks/jira")
    def hook():
        got.append((dict(request.headers), request.get_data()))
        return "", 202

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/jira", got
    server.shutdown()
    server.server_close()


# --- auth ------------------------------------------------------------------------------

def test_cloud_basic_auth(sim):
    url = sim.base_url + "/rest/api/3/myself"
    assert requests.get(url, timeout=5).status_code == 401
    bad = requests.get(url, auth=(sim.email, "wrong"), timeout=5)
    assert bad.status_code == 401 and bad.json()["errorMessages"]
    assert requests.get(url, headers={"Authorization": "Bearer sim-token"}, timeout=5).status_code == 401
    me = requests.get(url, auth=(sim.email, sim.api_token), timeout=5).json()
    assert me["accountId"] == BOT_ID and me["accountType"] == "app"
    assert me["emailAddress"] == "enricher-bot@example-co.com"


def test_dc_bearer_auth_and_v2_only():
    with JiraSimulator(flavor="dc", api_token="pat-1") as dc:
        url = dc.base_url + "/rest/api/2/myself"
        assert requests.get(url, auth=(dc.email, "pat-1"), timeout=5).status_code == 401
        assert requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5).status_code == 401
        me = requests.get(url, headers={"Authorization": "Bearer pat-1"}, timeout=5).json()
        assert me["name"] == "enricher-bot" and "accountId" not in me
        v3 = requests.get(dc.base_url + "/rest/api/3/myself", headers=dc.auth_headers(), timeout=5)
        assert v3.status_code == 404
        issue = requests.get(dc.base_url + "/rest/api/2/issue/ITSD-42", headers=dc.auth_headers(), timeout=5)
        assert issue.json()["fields"]["reporter"]["name"] == "dana.customer"


# --- issues ----------------------------------------------------------------------------

def test_seeded_issue_round_trip(api):
    seed = fixture("issue_created_jsm")["issue"]
    v2 = api("GET", "/rest/api/2/issue/ITSD-42").json()
    assert v2["id"] == seed["id"] and v2["fields"]["description"] == seed["fields"]["description"]
    assert v2["fields"]["customfield_10010"] == seed["fields"]["customfield_10010"]
    assert v2["fields"]["reporter"]["emailAddress"] == "dana.customer@example.org"
    v3 = api("GET", "/rest/api/3/issue/ITSD-42", params={"fields": "summary,description",
                                                        "expand": "changelog"}).json()
    assert set(v3["fields"]) == {"summary", "description"}
    assert v3["fields"]["description"]["type"] == "doc"
    assert v3["changelog"]["histories"][0]["id"] == "10711"
    missing = api("GET", "/rest/api/3/issue/ITSD-999")
    assert missing.status_code == 404 and missing.json()["errorMessages"]


def test_put_labels_and_notify_flag(sim, api):
    body = {"update": {"labels": [{"add": "kpi-verified"}, {"add": "needs-triage"}]},
            "fields": {"priority": {"name": "High"}}}
    assert api("PUT", "/rest/api/3/issue/ITSD-42", params={"notifyUsers": "false"}, json=body).status_code == 204
    assert sim.edits[-1].notify_users is False
    drop = {"update": {"labels": [{"remove": "needs-triage"}]}}
    assert api("PUT", "/rest/api/3/issue/ITSD-42", json=drop).status_code == 204
    assert sim.edits[-1].notify_users is True
    fields = api("GET", "/rest/api/3/issue/ITSD-42").json()["fields"]
    assert fields["labels"] == ["kpi-verified"] and fields["priority"]["name"] == "High"
    assert [c.method for c in sim.writes()] == ["PUT", "PUT"]
    body = json.loads(sim.webhook_body("jira:issue_updated", "ITSD-42"))
    assert body["user"]["accountId"] == BOT_ID  # how the service recognises its own write
    assert body["changelog"]["items"][0]["fieldId"] == "labels"


@pytest.mark.parametrize("fields, bad", [
    ({"customfield_99999": "x"}, "customfield_99999"),
    ({"status": {"name": "Closed"}}, "status"),
    ({"description": "plain text is not ADF"}, "description"),
    ({"labels": ["two words"]}, "labels"),
])
def test_put_rejects_bad_fields(api, fields, bad):
    response = api("PUT", "/rest/api/3/issue/ITSD-42", json={"fields": fields})
    assert response.status_code == 400 and bad in response.json()["errors"]


# --- service desk comments -------------------------------------------------------------

def test_servicedesk_comments_public_and_internal(sim, api):
    path = "/rest/servicedeskapi/request/ITSD-42/comment"
    public = api("POST", path, json={"body": "We reset your VPN profile.", "public": True})
    internal = api("POST", path, json={"body": "Checked the RADIUS log.", "public": False})
    assert (public.status_code, internal.status_code) == (201, 201)
    assert api("POST", path, json={"body": "no flag"}).status_code == 400
    listed = api("GET", path).json()["values"]
    assert [c["public"] for c in listed] == [True, False]
    assert [c["public"] for c in api("GET", path, params={"public": "false"}).json()["values"]] == [False]
    event = json.loads(sim.webhook_body("comment_created", "ITSD-42", comment_id=internal.json()["id"]))
    assert event["comment"]["jsdPublic"] is False and event["comment"]["author"]["accountId"] == BOT_ID
    request_view = api("GET", "/rest/servicedeskapi/request/ITSD-42").json()
    assert request_view["requestTypeId"] == "25" and request_view["issueKey"] == "ITSD-42"


# --- fields and search -----------------------------------------------------------------

def test_field_catalogue_and_custom_field_creation(api):
    fields = api("GET", "/rest/api/3/field").json()
    by_custom = {}
    for f in fields:
        by_custom.setdefault(f["schema"].get("custom"), []).append(f["id"])
    assert by_custom["com.atlassian.servicedesk:vp-origin"] == ["customfield_10010"]
    assert by_custom["com.atlassian.servicedesk:sd-sla-field"] == ["customfield_10030", "customfield_10031"]
    assert by_custom["com.atlassian.servicedesk:sd-customer-organizations"] == ["customfield_10002"]
    created = api("POST", "/rest/api/3/field", json={
        "name": "Enricher category", "type": "com.atlassian.jira.plugin.system.customfieldtypes:select"})
    assert created.status_code == 201 and created.json()["id"] == "customfield_10050"
    put = api("PUT", "/rest/api/3/issue/ITSD-42", json={"fields": {"customfield_10050": {"value": "Network"}}})
    assert put.status_code == 204
    value = api("GET", "/rest/api/3/issue/ITSD-42").json()["fields"]["customfield_10050"]
    assert value["value"] == "Network"


def test_jql_updated_search(sim, api):
    ticks = iter(range(1_770_000_000_000, 1_780_000_000_000, 1000))
    sim.clock = lambda: next(ticks)  # one second per state change: a deterministic order
    newer = sim.create_request("Printer jams", "Tray 2 again.", "bob@acme.example", "Bob")
    sim.agent_update("ITSD-42", labels=["vpn"])  # ITSD-42 is now the most recently updated
    jql = 'updated >= "2025-03-10 08:00" ORDER BY updated ASC'
    found = api("GET", "/rest/api/3/search", params={"jql": jql, "fields": "updated"}).json()
    assert [i["key"] for i in found["issues"]] == [newer, "ITSD-42"] and found["total"] == 2
    since = api("GET", "/rest/api/3/search", params={"jql": f"updated >= {sim.clock() + 60000}"}).json()
    assert since["total"] == 0
    paged = api("GET", "/rest/api/3/search/jql", params={"jql": jql, "maxResults": 1}).json()
    assert paged["issues"][0]["key"] == newer and paged["isLast"] is False
    assert "fields" not in paged["issues"][0]  # the token-paged search returns ids unless asked
    labelled = api("GET", "/rest/api/3/search", params={"jql": "labels not in (vpn)"}).json()
    assert labelled["total"] == 0  # Jira's negations skip issues whose labels are EMPTY
    assert api("GET", "/rest/api/3/search", params={"jql": "updated >= yesterday"}).status_code == 400


# --- faults ----------------------------------------------------------------------------

def test_fault_injection(sim, api):
    sim.fail_next(1)
    assert api("GET", "/rest/api/3/myself").status_code == 503
    assert api("GET", "/rest/api/3/myself").status_code == 200
    sim.fail_next(1, status=429, retry_after=7, match="PUT /rest/api/3/issue")
    assert api("GET", "/rest/api/3/issue/ITSD-42").status_code == 200
    limited = api("PUT", "/rest/api/3/issue/ITSD-42", json={"fields": {"summary": "x"}})
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    sim.set_down(True)
    assert api("GET", "/rest/api/3/myself").status_code == 503
    sim.set_down(False)
    sim.hang_next(1, 0.3)
    started = time.monotonic()
    assert api("GET", "/rest/api/3/myself").status_code == 200
    assert time.monotonic() - started >= 0.3
    assert [c.status for c in sim.calls][:2] == [503, 200]
    sim.reset_calls()
    assert sim.calls == []


# --- webhooks --------------------------------------------------------------------------

def test_webhook_bodies_match_fixture_shapes(sim):
    created = json.loads(sim.webhook_body("jira:issue_created", "ITSD-42"))
    sim.agent_update("ITSD-42", status="In Progress", assignee="alex.agent@example-co.com")
    updated = json.loads(sim.webhook_body("jira:issue_updated", "ITSD-42"))
    cid = sim.add_comment("ITSD-42", "Restarting did not help.")
    commented = json.loads(sim.webhook_body("comment_created", "ITSD-42", comment_id=cid))
    for body, name in ((created, "issue_created_jsm"), (updated, "issue_updated_status"),
                       (commented, "comment_created")):
        real = fixture(name)
        assert list(body) == list(real), name
        assert set(body["issue"]["fields"]) == set(real["issue"]["fields"]), name
    assert created["issue"] == fixture("issue_created_jsm")["issue"]
    assert updated["issue_event_type_name"] == "issue_generic"
    assert updated["user"]["accountId"].startswith("712020:") and "emailAddress" not in updated["user"]
    assert "ongoingCycle" not in updated["issue"]["fields"]["customfield_10031"]  # TTFR met
    assert set(commented["comment"]) == set(fixture("comment_created")["comment"])
    assert commented["comment"]["id"] == "10133" and commented["comment"]["jsdPublic"] is True


def test_signatures(sim, receiver):
    for name in ("issue_created_jsm", "issue_updated_status", "comment_created"):
        headers = json.loads((FIXTURES / f"{name}.headers.json").read_text())
        assert sign((FIXTURES / f"{name}.json").read_bytes(), SECRET) == headers["X-Hub-Signature"]
    assert sign(b"Hello World!", "It's a Secret to Everybody") == \
        "sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9"
    url, got = receiver
    assert sim.send_webhook(url, SECRET, "jira:issue_created", "ITSD-42").status_code == 202
    assert sim.send_webhook(url, None, "jira:issue_created", "ITSD-42", delivery="d-1").status_code == 202
    (signed, raw), (unsigned, _) = got
    expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert signed["X-Hub-Signature"] == expected
    assert signed["Content-Type"] == "application/json; charset=utf-8"
    assert signed["X-Atlassian-Webhook-Flow"] == "Primary" and len(signed["X-Atlassian-Webhook-Identifier"]) == 36
    assert "X-Hub-Signature" not in unsigned and unsigned["X-Atlassian-Webhook-Identifier"] == "d-1"


def test_automation_and_registered_webhooks(receiver):
    url, got = receiver
    with JiraSimulator(auto_deliver=True) as sim:
        sim.send_automation(url, "X-Enricher-Token", "tok", "ITSD-42")
        headers, raw = got.pop()
        assert headers["X-Enricher-Token"] == "tok" and "X-Hub-Signature" not in headers
        assert json.loads(raw)["key"] == "ITSD-42"
        session = requests.Session()
        session.headers.update(sim.auth_headers())
        hooks = sim.base_url + "/rest/webhooks/1.0/webhook"
        made = session.post(hooks, json={"name": "enricher", "url": url, "secret": SECRET,
                                         "events": ["comment_created", "jira:issue_updated"]}, timeout=5)
        assert made.status_code == 201 and made.json()["isSigned"] is True
        assert session.get(hooks, timeout=5).json()[0]["secret"] != SECRET
        sim.add_comment("ITSD-42", "Any news?")
        deadline = time.monotonic() + 2
        while len(got) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        events = sorted(json.loads(raw)["webhookEvent"] for _, raw in got)
        assert events == ["comment_created", "jira:issue_updated"]  # one comment, two events
        assert all(h["X-Hub-Signature"] == sign(raw, SECRET) for h, raw in got)
        assert session.delete(f"{hooks}/1", timeout=5).status_code == 204
        assert session.get(hooks, timeout=5).json() == []


def test_fixtures_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ENRICHER_SHARED_DIR", str(tmp_path))
    assert fixtures_path(None) == tmp_path / "platforms" / "jira" / "fixtures"
    with pytest.raises(FileNotFoundError):
        JiraSimulator()
    assert fixtures_path(Path("/x")) == Path("/x")
