"""Intake `POST /hooks/jira`: every fixture accepted with its own headers, admin
webhooks and Automation calls authenticated, the three odd-input outcomes, loops and
the double comment event handled, one JSON error shape throughout."""
from __future__ import annotations

import copy
import json

import pytest

from plugin.app import create_app
from plugin.errors import SettingsError
from plugin.simulators.jira import JiraSimulator
from plugin.simulators.jira_base import BOT_ID

from .conftest import JIRA_SECRET, core
from .jira_helpers import (
    AUTOMATION_SECRET,
    compact,
    jira_body,
    jira_fixture,
    jira_headers,
    jira_names,
    signed,
)

HEADER = "X-Enricher-Token"
JIRA_ENV = {"ENRICHER_JIRA_URL": "http://jira.test", "ENRICHER_JIRA_USER": "bot@example-co.com",
            "ENRICHER_JIRA_TOKEN": "api-token-1", "ENRICHER_JIRA_WEBHOOK_SECRET": JIRA_SECRET,
            "ENRICHER_JIRA_AUTOMATION_SECRET": AUTOMATION_SECRET}
BOT_IDS = {"zammad": "90", "jira": BOT_ID}


@pytest.fixture
def app(make_settings):
    return create_app(make_settings(**JIRA_ENV), bot_ids=BOT_IDS)


def post(client, body: bytes, headers: dict):
    return client.post("/hooks/jira", data=body, headers=headers)


def post_signed(client, data: dict, delivery: str = "d-1"):
    body = compact(data)
    return post(client, body, signed(body, JIRA_SECRET, delivery))


@pytest.mark.parametrize("name", jira_names())
def test_each_fixture_with_its_headers_is_queued_durably(app, client, name):
    body, headers = jira_body(name), jira_headers(name)
    resp = post(client, body, headers)
    assert resp.status_code == 202, resp.json
    row = core(app).ledger.delivery(resp.json["delivery_id"])
    assert row["body"] == body and row["status"] == "queued"
    assert row["delivery_key"] == headers["X-Atlassian-Webhook-Identifier"]
    assert row["ticket_id"] == "ITSD-42"


@pytest.mark.parametrize("signature,reason", [
    (None, "missing signature header"),
    ("sha256=" + "0" * 64, "signature does not match the body"),
    ("sha1=abc", "signature must look like 'sha256=<hex>'"),
])
def test_bad_or_missing_signature_is_401_and_stores_nothing(app, client, signature, reason):
    headers = jira_headers("issue_created_jsm")
    headers.pop("X-Hub-Signature")
    if signature:
        headers["X-Hub-Signature"] = signature
    resp = post(client, jira_body("issue_created_jsm"), headers)
    assert resp.status_code == 401
    assert resp.json == {"error": "bad_signature", "message": reason, "details": None}
    assert core(app).ledger.status_counts() == {}


def test_signature_over_other_bytes_is_refused(client):
    tampered = jira_body("comment_created").replace(b"did not help", b"did help!!!!")
    assert post(client, tampered, jira_headers("comment_created")).status_code == 401


def automation_bodies() -> list[bytes]:
    sim = JiraSimulator()      # not started: only its payload builder is used
    issue = sim.issues["ITSD-42"]
    from plugin.simulators.jira_payload import automation_body
    return [compact(automation_body(sim, issue, fmt)) for fmt in ("automation", "jira")]


@pytest.mark.parametrize("body", automation_bodies(), ids=["automation-format", "jira-format"])
def test_automation_call_with_the_right_header_is_queued(app, client, body):
    resp = post(client, body, {"Content-Type": "application/json", HEADER: AUTOMATION_SECRET})
    assert resp.status_code == 202, resp.json
    row = core(app).ledger.delivery(resp.json["delivery_id"])
    assert row["ticket_id"] == "ITSD-42" and row["event"] == "automation:send_web_request"
    assert row["delivery_key"].startswith("sha256:")   # no delivery id: deduped by content


@pytest.mark.parametrize("headers,reason", [
    ({HEADER: "wrong-token"}, f"the {HEADER} header does not match"),
    ({HEADER: ""}, f"the {HEADER} header does not match"),
    ({}, "missing signature header"),
])
def test_automation_call_with_a_wrong_or_missing_header_is_401(app, client, headers, reason):
    resp = post(client, automation_bodies()[0], {"Content-Type": "application/json", **headers})
    assert resp.status_code == 401 and resp.json["message"] == reason
    assert core(app).ledger.status_counts() == {}


def test_automation_only_site_names_the_header_it_needs(make_settings):
    app = create_app(make_settings(**{**JIRA_ENV, "ENRICHER_JIRA_WEBHOOK_SECRET": None}), bot_ids=BOT_IDS)
    client = app.test_client()
    resp = post(client, jira_body("issue_created_jsm"), jira_headers("issue_created_jsm"))
    assert resp.status_code == 401 and resp.json["message"] == f"missing {HEADER} header"
    ok = post(client, automation_bodies()[1], {HEADER: AUTOMATION_SECRET})
    assert ok.status_code == 202


def test_signed_body_without_webhook_event_is_400(client):
    resp = post(client, automation_bodies()[0], signed(automation_bodies()[0], JIRA_SECRET, "d-x"))
    assert resp.status_code == 400 and "webhookEvent" in resp.json["details"]


def test_neither_secret_configured_refuses_to_start(make_settings):
    env = {**JIRA_ENV, "ENRICHER_JIRA_WEBHOOK_SECRET": None, "ENRICHER_JIRA_AUTOMATION_SECRET": None}
    with pytest.raises(SettingsError) as err:
        create_app(make_settings(**env), bot_ids=BOT_IDS)
    assert err.value.key == "missing_secret" and "ENRICHER_JIRA_WEBHOOK_SECRET" in err.value.message


def test_automation_secret_alone_enables_the_platform(make_settings):
    env = {"ENRICHER_JIRA_AUTOMATION_SECRET": AUTOMATION_SECRET}
    assert "jira" in core(create_app(make_settings(**env), bot_ids=BOT_IDS)).adapters


def test_insecure_flag_accepts_unsigned(make_settings):
    env = {**JIRA_ENV, "ENRICHER_JIRA_WEBHOOK_SECRET": None, "ENRICHER_JIRA_AUTOMATION_SECRET": None}
    app = create_app(make_settings(**env), bot_ids=BOT_IDS, insecure=True)
    headers = jira_headers("issue_created_jsm")
    headers.pop("X-Hub-Signature")
    assert post(app.test_client(), jira_body("issue_created_jsm"), headers).status_code == 202


def test_malformed_json_is_400_with_position(client):
    body = b'{"webhookEvent": "jira:issue_created",'
    resp = post(client, body, signed(body, JIRA_SECRET, "d-bad"))
    assert resp.status_code == 400 and resp.json["error"] == "bad_json" and "line 1" in resp.json["message"]


def _issue():
    return jira_fixture("issue_updated_status")["issue"]


@pytest.mark.parametrize("payload,where", [
    ({"webhookEvent": "jira:issue_created"}, "issue"),
    ({"webhookEvent": "comment_created", "issue": {"id": "1", "key": "ITSD-1", "fields": {}}}, "comment"),
    ({"webhookEvent": "jira:issue_updated", "issue": {"id": "1", "fields": {}}}, "issue"),
    ({"webhookEvent": "jira:issue_updated", "issue": {"id": "1", "key": "ITSD-1", "fields": "x"}}, "issue"),
    ({"webhookEvent": 42, "issue": {"id": "1", "key": "ITSD-1", "fields": {}}}, "webhookEvent"),
    ([1, 2, 3], None),
])
def test_wrong_shape_is_400_naming_the_field(app, client, payload, where):
    body = json.dumps(payload).encode()
    resp = post(client, body, signed(body, JIRA_SECRET, "d-shape"))
    assert resp.status_code == 400 and resp.json["error"] == "bad_payload"
    if where:
        assert where in resp.json["details"]
    assert core(app).ledger.status_counts() == {}


@pytest.mark.parametrize("event,with_issue", [("jira:issue_deleted", True), ("comment_deleted", True),
                                              ("project_created", False)])
def test_unsupported_event_is_200_not_an_error(app, client, event, with_issue):
    payload = {"timestamp": 1, "webhookEvent": event, **({"issue": _issue()} if with_issue else {})}
    resp = post_signed(client, payload)
    assert resp.status_code == 200 and resp.json["status"] == "unsupported" and resp.json["event"] == event
    assert core(app).ledger.status_counts() == {}


@pytest.mark.parametrize("who", ["user", "comment_author", "dc_user_name"])
def test_own_account_is_ignored(app, client, who):
    name = "comment_created" if who == "comment_author" else "issue_updated_status"
    data = jira_fixture(name)
    if who == "user":
        data["user"]["accountId"] = BOT_ID
    elif who == "comment_author":
        data["comment"]["author"]["accountId"] = BOT_ID
    else:
        data["user"] = {"name": BOT_ID, "key": "JIRAUSER10099", "displayName": "Enricher Bot"}
    resp = post_signed(client, data)
    assert resp.status_code == 200 and resp.json == {"status": "ignored", "reason": "own update"}
    assert core(app).ledger.status_counts() == {}


@pytest.mark.parametrize("items,outcome", [
    ([{"field": "enrich_record_quality", "fieldtype": "custom", "fromString": None, "toString": "71"},
      {"field": "labels", "fieldId": "labels", "fromString": "vpn",
       "toString": "enrich:record-incomplete vpn"}],
     "ignored"),
    ([{"field": "labels", "fieldId": "labels", "fromString": "vpn", "toString": "vpn vip"}], "queued"),
    ([{"field": "enrich_record_quality", "fieldtype": "custom", "toString": "71"},
      {"field": "priority", "fieldId": "priority", "fromString": "Medium", "toString": "High"}], "queued"),
])
def test_update_touching_only_our_fields_is_ignored(client, items, outcome):
    data = jira_fixture("issue_updated_status")
    data["changelog"]["items"] = items
    resp = post_signed(client, data)
    assert resp.json["status"] == outcome
    if outcome == "ignored":
        assert resp.json["reason"] == "only our own fields changed"


def test_one_comment_sent_twice_is_processed_once(app, client):
    sim = JiraSimulator()
    cid = sim.add_comment("ITSD-42", "Still broken after the restart.")
    created = json.loads(sim.webhook_body("comment_created", "ITSD-42", comment_id=cid))
    updated = json.loads(sim.webhook_body("jira:issue_updated", "ITSD-42", comment_id=cid))
    assert updated["issue_event_type_name"] == "issue_commented"
    first = post_signed(client, created, "d-comment")
    second = post_signed(client, updated, "d-issue-commented")
    assert first.status_code == 202
    assert second.json == {"status": "ignored", "reason": "comment handled by comment_created"}
    assert core(app).ledger.status_counts() == {"queued": 1}


def test_issue_commented_that_also_transitions_is_processed(client):
    data = copy.deepcopy(jira_fixture("issue_updated_status"))
    data["issue_event_type_name"] = "issue_commented"
    data["comment"] = jira_fixture("comment_created")["comment"]
    assert post_signed(client, data).status_code == 202   # the status change is news


def test_duplicate_identifier_is_200_and_queued_once(app, client):
    body, headers = jira_body("issue_updated_status"), jira_headers("issue_updated_status")
    first = post(client, body, headers)
    headers["X-Atlassian-Webhook-Retry"] = "1"     # Jira's retry: same identifier, same bytes
    second = post(client, body, headers)
    assert first.status_code == 202 and second.status_code == 200
    assert second.json == {"status": "duplicate", "delivery_id": first.json["delivery_id"]}
    assert core(app).queue.huey.pending_count() == 1
