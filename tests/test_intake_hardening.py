"""Bad input at intake (issue 9): every case a clear 4xx in the one error shape, or a
handled outcome; nothing stored for a refused request. One case per line."""
from __future__ import annotations

import io
import json
import logging
import socket

import pytest
import redis
from gunicorn.http.errors import InvalidChunkSize

from plugin.app import create_app, ledger_writable

from .conftest import ZAMMAD_SECRET, core, sign, zammad_body, zammad_headers, zammad_names
from .jira_helpers import compact, jira_fixture, signed
from .test_web_jira import BOT_IDS, JIRA_ENV

JIRA_SECRET = JIRA_ENV["ENRICHER_JIRA_WEBHOOK_SECRET"]
SHAPE = {"error", "message", "details"}


@pytest.fixture
def app(make_settings):
    return create_app(make_settings(**JIRA_ENV, ENRICHER_MAX_BODY_BYTES="16384"), bot_ids=BOT_IDS)


def zammad_post(client, body: bytes, delivery: str = "d-1", **headers):
    return client.post("/hooks/zammad", data=body, headers={**zammad_headers(body, delivery), **headers})


def jira_post(client, body: bytes, delivery: str = "d-1", **headers):
    return client.post("/hooks/jira", data=body, headers={**signed(body, JIRA_SECRET, delivery), **headers})


def refused(app, resp, status: int, key: str | None = None) -> None:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert set(resp.json) == SHAPE, resp.json
    assert key is None or resp.json["error"] == key
    assert core(app).ledger.status_counts() == {}


# -- unsigned ------------------------------------------------------------------------
@pytest.mark.parametrize("path,header", [
    ("/hooks/zammad", {"X-Hub-Signature": "sha1=\xe9"}),
    ("/hooks/jira", {"X-Hub-Signature": "sha256=\xe9\xe9"}),
    ("/hooks/jira", {"X-Enricher-Token": "auto-\xe9"}),
])
def test_non_ascii_signature_is_401(app, client, path, header):
    body = zammad_body("01_ticket_create_customer_email")
    refused(app, client.post(path, data=body, headers={"Content-Type": "application/json", **header}),
            401, "bad_signature")


class _Stream(io.BytesIO):
    """wsgi.input as a server hands it over for a chunked body (no Content-Length)."""

    def __init__(self, data: bytes = b"", error: Exception | None = None):
        super().__init__(data)
        self.error = error

    def readinto(self, b):
        if self.error:
            raise self.error
        return super().readinto(b)


def chunked(client, path: str, stream: _Stream, headers: dict):
    # A server that decodes chunked bodies says so with wsgi.input_terminated (gunicorn does).
    return client.post(path, input_stream=stream, headers={**headers, "Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})


def test_malformed_chunked_body_is_400(app, client):
    resp = chunked(client, "/hooks/zammad", _Stream(error=InvalidChunkSize(b"zz")), {})
    refused(app, resp, 400, "bad_body")


def test_chunked_body_over_the_limit_is_413_not_cut(app, client):
    body = zammad_body("01_ticket_create_customer_email").ljust(16384)
    tail = b" " * 65536
    # Signed over the first 16 KiB: cutting at the limit would have accepted it.
    resp = chunked(client, "/hooks/zammad", _Stream(body + tail), zammad_headers(body, "d-big"))
    refused(app, resp, 413, "payload_too_large")


def test_chunked_body_at_the_limit_is_accepted(app, client):
    body = zammad_body("01_ticket_create_customer_email").ljust(16384)
    resp = chunked(client, "/hooks/zammad", _Stream(body), zammad_headers(body, "d-at"))
    assert resp.status_code == 202, resp.json


# -- signed, but not what a platform sends ------------------------------------------
def _zammad(**ticket) -> bytes:
    return compact({"ticket": {"id": 5, "title": "t", "updated_by_id": 3, **ticket}, "article": {}})


@pytest.mark.parametrize("body,key", [
    (b"[" * 5000 + b"]" * 5000, "bad_json"),
    (b'{"ticket": {"id": ' + b"1" * 4301 + b"}}", "bad_json"),
    (_zammad(id=10 ** 70), "bad_payload"),
    (b'{"ticket": {"id": 1, "title": "caf\xe9", "updated_by_id": 3}}', "bad_payload"),
])
def test_signed_zammad_bodies_python_cannot_use_are_400(app, client, body, key):
    refused(app, zammad_post(client, body), 400, key)


def _jira(**changes) -> dict:
    data = jira_fixture("issue_updated_status")
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = data
        for p in parents:
            node = node[p]
        node[last] = value
    return data


@pytest.mark.parametrize("data,where", [
    (_jira(changelog__items=["status", 3, None]), "changelog"),
    (_jira(issue__key="K" * 60 + "-12345"), "issue"),
])
def test_signed_jira_bodies_of_the_wrong_shape_are_400(app, client, data, where):
    resp = jira_post(client, compact(data))
    refused(app, resp, 400, "bad_payload")
    assert where in resp.json["details"]


def test_lone_surrogate_event_is_unsupported_and_answered_as_json(app, client):
    body = b'{"webhookEvent": "jira:\\ud800x", "timestamp": 1}'
    resp = jira_post(client, body)
    assert resp.status_code == 200 and json.loads(resp.get_data())["event"] == "jira:\ud800x"
    assert core(app).ledger.status_counts() == {}


@pytest.mark.parametrize("platform,delivery,data", [
    ("zammad", "d" * 201, None),
    ("jira", "d" * 201, None),
    ("jira", "d-nul", _jira(issue__key="ITSD-\x00")),
])
def test_what_the_ledger_cannot_store_is_400_before_the_insert(app, client, platform, delivery, data):
    if platform == "zammad":
        resp = zammad_post(client, zammad_body("01_ticket_create_customer_email"), delivery)
    else:
        resp = jira_post(client, compact(data or jira_fixture("issue_created_jsm")), delivery)
    refused(app, resp, 400, "bad_payload")


# -- accepted, then normalized: odd fields are skipped and named, not fatal ---------
def _zammad_with(path: str, value) -> bytes:
    data = json.loads(zammad_body("01_ticket_create_customer_email"))
    *parents, last = path.split(".")
    node = data
    for p in parents:
        node = node[p]
    node[last] = value
    return compact(data)


@pytest.mark.parametrize("path,value,then", [
    ("ticket.customer.firstname", 42, lambda t: t.requester.name == "Adams"),
    ("ticket.customer.firstname", {"de": "Emily"}, lambda t: t.requester.name == "Adams"),
    ("ticket.customer.email", ["a@b.example"], lambda t: t.requester.email == ""),
    ("ticket.customer.roles", "Customer", lambda t: t.requester.roles == ()),
    ("ticket.organization.name", 7, lambda t: t.requester.organization == "Acme Corp"),  # the customer's
    ("ticket.priority.name", 2, lambda t: t.priority == ""),
    ("ticket.group.name", ["Support"], lambda t: t.group is None),
    ("ticket.owner.id", [7], lambda t: t.owner is None),
    ("ticket.created_at", "yesterday", lambda t: t.created_at is None),
    ("ticket.first_response_at", {"at": 1}, lambda t: "first_response_at" not in t.sla and t.sla),
])
def test_zammad_odd_fields_are_accepted_and_skipped(app, client, path, value, then):
    resp = zammad_post(client, _zammad_with(path, value), f"d-{path}")
    assert resp.status_code == 202
    adapter = core(app).adapters["zammad"]
    ticket = adapter.normalize(adapter.parse(core(app).ledger.delivery(resp.json["delivery_id"])["body"]))
    assert ticket.skipped == (path,) and then(ticket)


def test_zammad_fixtures_skip_nothing(app):
    adapter = core(app).adapters["zammad"]
    for name in zammad_names():
        assert adapter.normalize(adapter.parse(zammad_body(name))).skipped == (), name


# -- one error shape, the server's own errors included ------------------------------
@pytest.mark.parametrize("method,path,status", [
    ("get", "/nowhere", 404), ("get", "/hooks/zammad", 405), ("delete", "/healthz", 405),
    ("post", "/hooks/freshdesk", 404)])
def test_server_errors_are_json_in_the_one_shape(client, method, path, status):
    resp = getattr(client, method)(path)
    assert resp.status_code == status and resp.mimetype == "application/json"
    assert set(resp.json) == SHAPE
    if status == 405:
        assert "Allow" in resp.headers


def test_an_internal_error_is_json_without_a_trace(app, client, monkeypatch, caplog):
    monkeypatch.setattr(core(app).adapters["zammad"], "parse", lambda raw: 1 / 0)
    with caplog.at_level(logging.ERROR):
        resp = zammad_post(client, zammad_body("01_ticket_create_customer_email"))
    assert resp.status_code == 500
    assert resp.json == {"error": "internal_error", "message": "internal error; see the service log",
                         "details": None}
    assert "ZeroDivisionError" in caplog.text and "Traceback" not in resp.get_data(as_text=True)


# -- accepted means stored, even when the queue is down ------------------------------
def test_queue_down_after_the_commit_still_answers_202(app, client, monkeypatch, caplog):
    def down(pk):
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    monkeypatch.setattr(core(app).queue, "enqueue", down)
    with caplog.at_level(logging.WARNING):
        resp = zammad_post(client, zammad_body("01_ticket_create_customer_email"), "d-down")
    assert resp.status_code == 202
    assert core(app).ledger.delivery(resp.json["delivery_id"])["status"] == "queued"
    assert "enqueue_failed" in caplog.text


# -- readiness: can this process accept? --------------------------------------------
def test_readyz_fails_only_when_the_ledger_cannot_take_a_write(app, client, monkeypatch):
    assert client.get("/readyz").json == {"status": "ready", "checks": {"database": {"ok": True}}}
    monkeypatch.setattr("plugin.app.ledger_writable", lambda ledger: 1 / 0)
    down = client.get("/readyz")
    assert down.status_code == 503 and down.json["checks"]["database"]["ok"] is False


def test_a_locked_ledger_is_not_writable(app):
    import sqlite3
    ledger = core(app).ledger
    holder = sqlite3.connect(ledger.engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            ledger_writable(ledger, timeout=0.01)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    ledger_writable(ledger)


# -- the real server: gunicorn's own chunked parser ----------------------------------
def _raw(port: int, request: bytes) -> tuple[int, dict]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head[9:12]), json.loads(body) if body.strip().startswith(b"{") else {}


@pytest.mark.slow
def test_chunked_bodies_through_gunicorn(tmp_path, sim):
    from .e2e.harness import Service
    svc = Service(tmp_path / "data", {"ENRICHER_ZAMMAD_URL": sim.base_url, "ENRICHER_ZAMMAD_TOKEN": sim.token,
                                      "ENRICHER_ZAMMAD_WEBHOOK_SECRET": ZAMMAD_SECRET,
                                      "ENRICHER_MAX_BODY_BYTES": "16384"})
    svc.start("--no-worker")
    try:
        body = zammad_body("01_ticket_create_customer_email")
        head = (f"POST /hooks/zammad HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                f"X-Hub-Signature: {sign(ZAMMAD_SECRET, body)}\r\nX-Zammad-Delivery: d-c\r\n"
                "Connection: close\r\n\r\n").encode()
        # Each request stops where the server has to answer: bytes it never reads would
        # make its close a reset, and the client would lose the answer.
        bad = head + b"zz\r\n"
        over = head + b"".join(b"%x\r\n%s\r\n" % (len(part), part)
                               for part in [body, b" " * (16385 - len(body))])
        good = head + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        assert _raw(svc.port, bad)[0] == 400
        status, answer = _raw(svc.port, over)
        assert status == 413 and set(answer) == SHAPE
        assert _raw(svc.port, good)[0] == 202
        assert svc.ledger().status_counts() == {"queued": 1}
    finally:
        svc.stop()
