"""The Zammad simulator, exercised over real loopback HTTP like the service will."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading

import pytest
import requests
from flask import Flask, request
from werkzeug.serving import make_server

from plugin.simulators.zammad import ZammadSimulator
from plugin.simulators.zammad_payload import FIXTURES

TOKEN = "t-123"


@pytest.fixture
def sim():
    with ZammadSimulator(token=TOKEN) as s:
        yield s


@pytest.fixture
def api(sim):
    session = requests.Session()
    session.headers["Authorization"] = f"Token token={TOKEN}"
    base = sim.base_url + "/api/v1"

    def call(method, path, **kwargs):
        return session.request(method, base + path, timeout=5, **kwargs)
    return call


@pytest.fixture
def receiver():
    """A webhook endpoint that records what it got."""
    got = []
    app = Flask("receiver")

    @app.post("/hooks/zammad")
    def hook():
        got.append((dict(request.headers), request.get_data()))
        return "", 202

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/zammad", got
    server.shutdown()
    server.server_close()


def fixture_bytes(sim, key):
    return (sim.fixtures_dir / f"{FIXTURES[key]}.compact.json").read_bytes()


def test_auth_is_required(sim, api):
    for headers in ({}, {"Authorization": "Token token=wrong"}, {"Authorization": TOKEN}):
        resp = requests.get(sim.base_url + "/api/v1/users/me", headers=headers, timeout=5)
        assert resp.status_code == 401
        assert resp.json()["error"] == "authentication failed"
        assert resp.headers["X-Failure"]
    bearer = requests.get(sim.base_url + "/api/v1/users/me", timeout=5,
                          headers={"Authorization": f"Bearer {TOKEN}"})
    assert bearer.json()["id"] == 90
    assert api("GET", "/users/me").json()["login"] == "enricher-bot@helpdesk.example.com"


def test_unknown_route_is_json_404(api):
    resp = api("GET", "/nothing/here")
    assert resp.status_code == 404 and set(resp.json()) == {"error", "error_human"}
    assert api("GET", "/tickets/999").status_code == 404


def test_seeded_ticket_round_trip(api):
    plain = api("GET", "/tickets/1042").json()
    assert plain["customer_id"] == 27 and plain["state_id"] == 1
    assert "customer" not in plain and "state" not in plain
    expanded = api("GET", "/tickets/1042", params={"expand": "true"}).json()
    assert expanded["state"] == "new" and expanded["priority"] == "2 normal"
    assert expanded["customer"] == "emily.adams@acme.example"
    assert expanded["organization"] == "Acme Corp"
    everything = api("GET", "/tickets/1077", params={"all": "true"}).json()
    assert everything["ticket_article_ids"] == [3420] and everything["tags"] == []
    assert set(everything["assets"]) == {"Ticket", "User", "Organization", "Group", "TicketArticle"}
    assert everything["assets"]["User"]["58"]["firstname"] == "王伟"
    assert api("GET", "/users/27").json()["organization_id"] == 5
    assert api("GET", "/organizations/9").json()["name"] == "上海星云科技有限公司"
    assert [u["id"] for u in api("GET", "/users/search", params={"query": "emma"}).json()] == [5]


def test_put_with_article_creates_internal_note(sim, api):
    body = {"priority": "3 high", "enrich_category": "billing_refund",
            "article": {"type": "note", "internal": True, "content_type": "text/html",
                        "subject": "Enrichment", "body": "<p>verified</p>"}}
    resp = api("PUT", "/tickets/1042", json=body)
    assert resp.status_code == 200
    ticket = resp.json()
    assert ticket["priority_id"] == 3 and ticket["updated_by_id"] == 90
    assert ticket["enrich_category"] == "billing_refund" and ticket["article_ids"][-1] > 3311
    note = api("GET", "/ticket_articles/by_ticket/1042").json()[-1]
    assert (note["internal"], note["type"], note["sender"]) == (True, "note", "Agent")
    assert note["created_by"] == sim.bot_login
    payload = json.loads(sim.webhook_body(1042, note["id"]))
    assert payload["ticket"]["updated_by"]["login"] == sim.bot_login
    assert payload["article"]["created_by_id"] == 90
    assert [c.body["article"]["internal"] for c in sim.writes()] == [True]


def test_article_without_internal_is_public_and_bad_lookup_changes_nothing(sim, api):
    resp = api("POST", "/ticket_articles", json={"ticket_id": 1077, "body": "hello"})
    assert resp.status_code == 201 and resp.json()["internal"] is False
    assert "internal" not in sim.calls[-1].body  # the log keeps what the client sent
    before = api("GET", "/tickets/1077").json()
    bad = api("PUT", "/tickets/1077", json={"state": "nonsense", "title": "x"})
    assert bad.status_code == 422 and "error_human" in bad.json()
    assert api("GET", "/tickets/1077").json() == before


def test_tags_add_is_idempotent_and_case_insensitive(api):
    for item in ("Billing", "Billing", "billing", "kpi:frt_met"):
        resp = api("POST", "/tags/add", json={"object": "Ticket", "o_id": 1042, "item": item})
        assert (resp.status_code, resp.json()) == (201, True)
    assert api("GET", "/tags", params={"object": "Ticket", "o_id": 1042}).json() == {
        "tags": ["Billing", "kpi:frt_met"]}
    resp = api("DELETE", "/tags/remove", json={"object": "Ticket", "o_id": 1042, "item": "BILLING"})
    assert (resp.status_code, resp.json()) == (200, True)
    assert api("GET", "/tags", params={"object": "Ticket", "o_id": 1042}).json()["tags"] == ["kpi:frt_met"]


def test_search_by_updated_at(sim, api):
    def search(query, **params):
        return api("GET", "/tickets/search", params={"query": query, **params}).json()

    assert search("updated_at:>=2025-03-11T00:00:00Z")["tickets"] == [1077]
    assert search("updated_at:>2025-03-10T08:15:02.301Z")["tickets"] == [1077]
    assert sorted(search("*")["tickets"]) == [1042, 1077]
    sim.agent_update(1042, state="open")
    found = search("updated_at:>=2025-03-11T00:00:00Z", sort_by="updated_at")
    assert found["tickets"] == [1077, 1042] and found["tickets_count"] == 2
    assert set(found["assets"]["Ticket"]) == {"1077", "1042"}
    pages = [search("updated_at:>=2025-03-11T00:00:00Z", sort_by="updated_at", per_page=1, page=p)
             for p in (1, 2, 3)]
    assert [p["tickets"] for p in pages] == [[1077], [1042], []]
    assert search("state:open AND NOT tags:enriched")["tickets"] == [1042]


def test_fail_next_503_and_429_with_retry_after(sim, api):
    sim.fail_next(2, status=503)
    assert [api("GET", "/tickets/1042").status_code for _ in range(3)] == [503, 503, 200]
    sim.fail_next(1, status=429, retry_after=7, match="PUT /tickets/1042")
    assert api("GET", "/tickets/1042").status_code == 200  # not matched, not consumed
    resp = api("PUT", "/tickets/1042", json={"title": "changed"})
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "7"
    assert set(resp.json()) == {"error", "error_human"}
    assert sim.tickets[1042]["title"] == "Invoice INV-2025-0318 charged twice"
    assert api("PUT", "/tickets/1042", json={"title": "changed"}).status_code == 200
    sim.set_down(True)
    assert api("GET", "/users/me").status_code == 503
    sim.set_down(False)
    assert api("GET", "/users/me").status_code == 200


def test_hang_next_triggers_client_timeout(sim, api):
    sim.hang_next(1, 0.3)
    with pytest.raises(requests.Timeout):
        requests.get(sim.base_url + "/api/v1/users/me", timeout=0.1,
                     headers={"Authorization": f"Token token={TOKEN}"})
    assert api("GET", "/users/me").status_code == 200


def test_webhook_is_signed_and_shaped_like_zammad(sim, receiver):
    url, got = receiver
    resp = sim.send_webhook(url, "s3cr3t-t0k3n", 1042, 3311, delivery="d-1", trigger="Enrich")
    assert resp.status_code == 202
    headers, body = got[0]
    assert list(json.loads(body)) == ["ticket", "article"]
    expected = hmac.new(b"s3cr3t-t0k3n", body, hashlib.sha1).hexdigest()
    assert headers["X-Hub-Signature"] == f"sha1={expected}"
    vectors = (sim.fixtures_dir / "headers_example.txt").read_text()
    assert re.search(rf"01_\S+\s+X-Hub-Signature: sha1={expected}", vectors)
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["User-Agent"] == "Zammad User Agent"
    assert (headers["X-Zammad-Trigger"], headers["X-Zammad-Delivery"]) == ("Enrich", "d-1")
    sim.send_webhook(url, None, 1077)
    assert "X-Hub-Signature" not in got[1][0] and json.loads(got[1][1])["article"] == {}


def test_webhook_body_matches_fixture_01_right_after_seeding(sim):
    fixture = json.loads(fixture_bytes(sim, "01"))
    body = json.loads(sim.webhook_body(1042, 3311))
    assert list(body["ticket"]) == list(fixture["ticket"])
    assert list(body["article"]) == list(fixture["article"])
    assert sim.webhook_body(1042, 3311) == fixture_bytes(sim, "01")
    assert sim.webhook_body(1077, 3420) == fixture_bytes(sim, "03")
    sim.apply_fixture("02")
    assert sim.webhook_body(1042, 3312) == fixture_bytes(sim, "02")


def test_create_ticket_and_agent_correction(sim, api):
    tid = sim.create_ticket("发票重复扣款", "<p>请退款</p>", "zhao.lei@example.cn",
                            customer_name="赵磊", organization="赵氏贸易", vip=True)
    payload = json.loads(sim.webhook_body(tid, sim.tickets[tid]["article_ids"][0]))
    ticket, article = payload["ticket"], payload["article"]
    assert set(ticket) == set(json.loads(fixture_bytes(sim, "03"))["ticket"])
    assert (ticket["state"], ticket["priority"]["name"], ticket["owner"]["login"]) == ("new", "2 normal", "-")
    assert (ticket["customer"]["firstname"], ticket["customer"]["lastname"]) == ("赵磊", "")
    assert ticket["customer"]["vip"] and ticket["organization"]["name"] == "赵氏贸易"
    assert (article["sender"], article["type"], article["internal"]) == ("Customer", "email", False)
    english = sim.create_ticket("Refund", "Please refund", "ann@example.com", customer_name="Ann Lee")
    assert api("GET", f"/tickets/{english}", params={"expand": 1}).json()["group"] == "Users"
    sim.agent_update(tid, enrich_category="billing", owner="emma.taylor@helpdesk.example.com")
    assert sim.tickets[tid]["updated_by_id"] == 5 and sim.tickets[tid]["owner"]["id"] == 5
    assert sim.writes() == []  # direct helpers are not API calls


def test_admin_objects(sim, api):
    hook = api("POST", "/webhooks", json={"name": "Enrichment", "endpoint": "http://x/hooks/zammad",
                                          "signature_token": "secret"})
    assert hook.status_code == 201 and hook.json()["signature_token"] == "**********"
    assert sim.webhooks[hook.json()["id"]]["signature_token"] == "secret"
    assert api("POST", "/webhooks", json={"name": "bad", "endpoint": "ftp:x"}).status_code == 422
    trigger = api("POST", "/triggers", json={"name": "t", "condition": {}, "perform": {
        "notification.webhook": {"webhook_id": hook.json()["id"]}}})
    assert trigger.status_code == 201
    assert api("DELETE", f"/triggers/{trigger.json()['id']}").status_code == 200
    attr = api("POST", "/object_manager_attributes", json={"object": "Ticket", "name": "enrich_kpi",
                                                            "display": "KPI", "data_type": "input"})
    assert attr.status_code == 201
    assert api("PUT", f"/object_manager_attributes/{attr.json()['id']}",
               json={"display": "KPI!"}).json()["display"] == "KPI!"
    assert api("POST", "/object_manager_attributes_execute_migrations").status_code == 200
    assert all(t["enrich_kpi"] is None for t in sim.tickets.values())
    assert sim.writes() == [] and len(sim.writes(include_admin=True)) == 7


def test_strict_attributes_drop_unknown_custom_fields():
    with ZammadSimulator(token=TOKEN, strict_attributes=True) as sim:
        resp = requests.put(sim.base_url + "/api/v1/tickets/1042", timeout=5,
                            headers={"Authorization": f"Token token={TOKEN}"},
                            json={"enrich_unknown": 1, "title": "t"})
        assert resp.status_code == 200 and "enrich_unknown" not in resp.json()
        assert resp.json()["title"] == "t"
