"""Intake `POST /hooks/zammad`: every fixture accepted, every error path answered
with the one JSON error shape, and nothing stored for a refused request."""
from __future__ import annotations

import json

import pytest

from plugin.app import create_app
from plugin.errors import SettingsError

from .conftest import ZAMMAD_SECRET, core, sign, with_changes, zammad_body, zammad_headers, zammad_names

BOT_ID = "90"


@pytest.fixture
def app(make_settings):
    return create_app(make_settings(), bot_ids={"zammad": BOT_ID})


def post(client, body: bytes, headers: dict):
    return client.post("/hooks/zammad", data=body, headers=headers)


@pytest.mark.parametrize("name", zammad_names())
def test_each_fixture_signed_is_queued_durably(app, client, name):
    body = zammad_body(name)
    resp = post(client, body, zammad_headers(body, f"d-{name}"))
    assert resp.status_code == 202, resp.json
    assert resp.json["status"] == "queued"
    row = core(app).ledger.delivery(resp.json["delivery_id"])
    assert row["body"] == body and row["status"] == "queued" and row["delivery_key"] == f"d-{name}"
    assert core(app).queue.huey.pending_count() == 1


def test_signature_test_vectors_from_zammad_docs_verify():
    # headers_example.txt lists the signature Zammad sends for fixture 01.
    body = zammad_body("01_ticket_create_customer_email")
    assert sign(ZAMMAD_SECRET, body) == "sha1=1d514155f7a110ea9ca3725f71458c8a683bb009"


@pytest.mark.parametrize("signature,reason", [
    (None, "missing signature header"),
    ("sha1=0000000000000000000000000000000000000000", "signature does not match the body"),
    ("sha256=abc", "signature must look like 'sha1=<hex>'"),
])
def test_bad_or_missing_signature_is_401_and_stores_nothing(app, client, signature, reason):
    body = zammad_body("01_ticket_create_customer_email")
    headers = zammad_headers(body, "d-sig")
    headers.pop("X-Hub-Signature")
    if signature:
        headers["X-Hub-Signature"] = signature
    resp = post(client, body, headers)
    assert resp.status_code == 401
    assert resp.json == {"error": "bad_signature", "message": reason, "details": None}
    assert core(app).ledger.status_counts() == {}


def test_signature_over_other_bytes_is_refused(app, client):
    body = zammad_body("01_ticket_create_customer_email")
    headers = zammad_headers(body, "d-x")
    tampered = body.replace(b"charged twice", b"charged once!")
    assert post(client, tampered, headers).status_code == 401


def test_malformed_json_is_400_with_position(client):
    body = b'{"ticket": {"id": 1,'
    resp = post(client, body, zammad_headers(body, "d-bad"))
    assert resp.status_code == 400
    assert resp.json["error"] == "bad_json"
    assert "line 1" in resp.json["message"]


@pytest.mark.parametrize("payload,where", [
    ({"article": {}}, "ticket"),
    ({"ticket": {"id": "x", "title": "t", "updated_by_id": 3}}, "ticket"),
    ({"ticket": {"id": 5, "updated_by_id": 3}}, "ticket"),
    ({"ticket": {"id": 5, "title": "t", "updated_by_id": 3}, "article": {"body": "no id"}}, "article"),
    ([1, 2, 3], None),
])
def test_wrong_shape_is_400_naming_the_field(app, client, payload, where):
    body = json.dumps(payload).encode()
    resp = post(client, body, zammad_headers(body, "d-shape"))
    assert resp.status_code == 400
    assert resp.json["error"] == "bad_payload"
    if where:
        assert where in resp.json["details"]
    assert core(app).ledger.status_counts() == {}


def test_empty_article_is_accepted(client):
    body = json.dumps({"ticket": {"id": 5, "title": "t", "updated_by_id": 3}, "article": {}}).encode()
    assert post(client, body, zammad_headers(body, "d-noart")).status_code == 202


def test_body_over_limit_is_413(make_settings):
    app = create_app(make_settings(ENRICHER_MAX_BODY_BYTES="2048"), bot_ids={"zammad": BOT_ID})
    body = zammad_body("01_ticket_create_customer_email")
    resp = post(app.test_client(), body, zammad_headers(body, "d-big"))
    assert resp.status_code == 413
    assert resp.json["error"] == "payload_too_large"


def test_own_update_is_ignored_with_200(app, client):
    body = with_changes("02_ticket_update_agent_reply", updated_by_id=int(BOT_ID))
    resp = post(client, body, zammad_headers(body, "d-own"))
    assert resp.status_code == 200
    assert resp.json == {"status": "ignored", "reason": "own update"}
    assert core(app).ledger.status_counts() == {}


def test_duplicate_delivery_is_200_and_queued_once(app, client):
    body = zammad_body("03_ticket_create_chinese_email")
    first = post(client, body, zammad_headers(body, "same-id"))
    second = post(client, body, zammad_headers(body, "same-id"))
    assert first.status_code == 202 and second.status_code == 200
    assert second.json == {"status": "duplicate", "delivery_id": first.json["delivery_id"]}
    assert core(app).queue.huey.pending_count() == 1


def test_merged_ticket_is_unsupported_not_an_error(app, client):
    body = with_changes("01_ticket_create_customer_email", state="merged")
    resp = post(client, body, zammad_headers(body, "d-merged"))
    assert resp.status_code == 200 and resp.json["status"] == "unsupported"


def test_unknown_platform_is_404_json(client):
    resp = client.post("/hooks/freshdesk", data=b"{}")
    assert resp.status_code == 404 and resp.json["error"] == "unknown_platform"


def test_no_secret_refuses_to_start(make_settings):
    with pytest.raises(SettingsError) as err:
        create_app(make_settings(ENRICHER_ZAMMAD_WEBHOOK_SECRET=None), bot_ids={"zammad": BOT_ID})
    assert "ENRICHER_ZAMMAD_WEBHOOK_SECRET" in err.value.message
    assert err.value.key == "missing_secret"


def test_insecure_flag_accepts_unsigned(make_settings):
    app = create_app(make_settings(ENRICHER_ZAMMAD_WEBHOOK_SECRET=None), bot_ids={"zammad": BOT_ID},
                     insecure=True)
    body = zammad_body("01_ticket_create_customer_email")
    headers = zammad_headers(body, "d-insecure")
    headers.pop("X-Hub-Signature")
    assert post(app.test_client(), body, headers).status_code == 202


def test_healthz_and_no_stack_trace_on_wrong_method(client):
    assert client.get("/healthz").json == {"status": "ok"}
    resp = client.get("/hooks/zammad")
    assert resp.status_code == 405 and set(resp.json) == {"error", "message", "details"}
