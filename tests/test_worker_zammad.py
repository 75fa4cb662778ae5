"""The worker against Zammad's REST shapes (`responses`): the fewest writes, zero
writes when nothing changed, retries with backoff, 429 Retry-After, dead letters."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import responses

from plugin.hooks.zammad_api import ZammadClient
from plugin.manifest import load_manifest
from plugin.queue import Queue, backoff
from plugin.store import Ledger
from plugin.worker import Processor

from .conftest import drain, zammad_body

BASE = "http://zammad.test/api/v1"


class FakeZammad:
    """Stateful REST double built from the fixture's shapes (?all=true, PUT, tags/add,
    the ticket's history, articles: the acknowledgement is a public reply)."""

    def __init__(self, rsps, ticket_id=1077):
        self.ticket = {"id": ticket_id, "group_id": 2, "updated_by_id": 27}
        self.tags: list[str] = []
        self.notes: list[dict] = []
        self.articles: list[dict] = []          # posted with POST /ticket_articles (public replies)
        self.fail_queue: list[tuple[int, dict]] = []
        rsps.add(responses.GET, f"{BASE}/users/me", json={"id": 90, "login": "bot"})
        rsps.add_callback(responses.GET, re.compile(rf"{BASE}/tickets/\d+"), self.get_all)
        rsps.add_callback(responses.PUT, re.compile(rf"{BASE}/tickets/\d+"), self.put)
        rsps.add_callback(responses.GET, re.compile(rf"{BASE}/ticket_history/\d+"),
                          lambda request: (200, {}, json.dumps({"history": [], "assets": {}})))
        rsps.add_callback(responses.POST, f"{BASE}/ticket_articles", self.article)
        rsps.add_callback(responses.POST, f"{BASE}/tags/add", self.tag_add)
        rsps.add_callback(responses.DELETE, f"{BASE}/tags/remove", self.tag_remove)

    def _fail(self):
        if self.fail_queue:
            status, headers = self.fail_queue.pop(0)
            return status, headers, json.dumps({"error": "unavailable"})
        return None

    def get_all(self, request):
        if failed := self._fail():
            return failed
        assert "all=true" in request.url
        written = {str(i): {**a, "id": i} for i, a in enumerate(self.notes + self.articles, start=9000)}
        return 200, {}, json.dumps({"ticket_id": self.ticket["id"], "tags": self.tags,
                                    "assets": {"Ticket": {str(self.ticket["id"]): self.ticket},
                                               "Group": {"2": {"id": 2, "name": "Billing"}},
                                               "TicketArticle": written}})

    def article(self, request):
        self.articles.append(json.loads(request.body))
        return 201, {}, json.dumps({"id": 9999})

    def put(self, request):
        body = json.loads(request.body)
        if article := body.pop("article", None):
            self.notes.append(article)
        self.ticket.update(body)
        self.ticket["updated_by_id"] = 90
        return 200, {}, json.dumps(self.ticket)

    def tag_add(self, request):
        item = json.loads(request.body)["item"]
        if item.lower() not in [t.lower() for t in self.tags]:
            self.tags.append(item)
        return 201, {}, "true"

    def tag_remove(self, request):
        item = json.loads(request.body)["item"]
        self.tags = [t for t in self.tags if t.lower() != item.lower()]
        return 200, {}, "true"


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as r:
        yield r


@pytest.fixture
def setup(make_settings, rsps, backend):
    settings = make_settings(ENRICHER_MAX_ATTEMPTS="3", **backend)
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    client = ZammadClient("http://zammad.test", "tok-123456", retries=0)
    processor = Processor(settings, ledger, load_manifest(), clients={"zammad": client})
    queue = Queue(settings, ledger, lambda: processor)
    return settings, ledger, queue, FakeZammad(rsps), rsps


def accept(ledger, queue, name="03_ticket_create_chinese_email", key="d1"):
    pk, _ = ledger.accept("zammad", key, "1077", "create", zammad_body(name))
    queue.enqueue(pk)
    return pk


def writes(rsps):
    """Calls that change the ticket: the knowledge-base search is a POST that changes nothing."""
    return [(c.request.method, c.request.path_url) for c in rsps.calls
            if c.request.method != "GET" and not c.request.path_url.endswith("/knowledge_bases/search")]


def test_first_enrichment_is_one_put_plus_one_call_per_tag(setup):
    _, ledger, queue, zammad, rsps = setup
    pk = accept(ledger, queue)
    drain(queue)
    assert ledger.delivery(pk)["status"] == "done"
    put = [w for w in writes(rsps) if w[0] == "PUT"]
    assert put == [("PUT", "/api/v1/tickets/1077")]
    # Fixture 03 has no department: 6 of 7 required fields, so 86% (over the 80% bar: no tag).
    assert zammad.ticket["enrich_record_quality"] == 86
    assert "enrich:record-incomplete" not in zammad.tags
    # A locked admin account and a password reset: protected information, extra identity check.
    assert "enrich:protected" in zammad.tags and zammad.ticket["enrich_value_stream"]
    # ... and one public reply: the acknowledgement to the requester.
    assert writes(rsps) == [("PUT", "/api/v1/tickets/1077")] + [("POST", "/api/v1/tags/add")] * len(
        zammad.tags) + [("POST", "/api/v1/ticket_articles")]
    assert zammad.notes[0]["internal"] is True and "部门" in zammad.notes[0]["body"]
    [ack] = zammad.articles
    assert ack["internal"] is False and "Ref de:" in ack["body"]


def test_incomplete_record_gets_its_tag_in_one_more_call(make_settings, rsps):
    settings = make_settings(ENRICHER_CONFIG=None)
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    client = ZammadClient("http://zammad.test", "tok-123456", retries=0)
    processor = Processor(settings, ledger, load_manifest(), clients={"zammad": client})
    queue = Queue(settings, ledger, lambda: processor)
    zammad = FakeZammad(rsps)
    body = json.loads(zammad_body("03_ticket_create_chinese_email"))
    body["ticket"]["customer"]["email"] = ""
    body["ticket"]["organization"] = {}
    body["ticket"]["customer"]["organization"] = None
    pk, _ = ledger.accept("zammad", "inc", "1077", "create", json.dumps(body).encode())
    queue.enqueue(pk)
    drain(queue)
    assert zammad.ticket["enrich_record_quality"] == 57
    assert "enrich:record-incomplete" in zammad.tags
    assert writes(rsps) == [("PUT", "/api/v1/tickets/1077")] + [("POST", "/api/v1/tags/add")] * len(
        zammad.tags) + [("POST", "/api/v1/ticket_articles")]


def test_replayed_delivery_and_unchanged_ticket_make_zero_writes(setup):
    _, ledger, queue, zammad, rsps = setup
    accept(ledger, queue, key="first")
    drain(queue)
    before = len(writes(rsps))
    pk2 = accept(ledger, queue, key="second")      # same ticket, nothing changed
    drain(queue)
    queue.replay([pk2])                            # and a replay of it
    drain(queue)
    assert len(writes(rsps)) == before
    assert [o["outcome"] for o in ledger.rows("outcomes")] == ["enriched", "unchanged", "unchanged"]
    assert len(zammad.notes) == 1


def test_503_then_success_retries_and_writes_once(setup):
    _, ledger, queue, zammad, _rsps = setup
    zammad.fail_queue = [(503, {}), (503, {})]
    pk = accept(ledger, queue)
    drain(queue)
    assert ledger.delivery(pk)["status"] == "done"
    assert ledger.delivery(pk)["attempts"] == 3
    assert len(zammad.notes) == 1


def test_429_retry_after_is_honoured(setup):
    _settings, ledger, queue, zammad, _rsps = setup
    zammad.fail_queue = [(429, {"Retry-After": "7"})]
    pk = accept(ledger, queue)
    task = queue.huey.dequeue()
    queue.huey.execute(task)
    scheduled = queue.huey.scheduled()
    assert len(scheduled) == 1
    wait = (scheduled[0].eta - dt.datetime.now(dt.UTC).replace(tzinfo=None)).total_seconds()
    assert 5.5 < wait <= 7.0
    assert ledger.delivery(pk)["last_error"].startswith("zammad is rate limiting")
    drain(queue)
    assert ledger.delivery(pk)["status"] == "done"


def test_dead_letter_after_last_try_then_replay(setup):
    _, ledger, queue, zammad, _rsps = setup
    zammad.fail_queue = [(503, {})] * 3
    pk = accept(ledger, queue)
    drain(queue)
    row = ledger.delivery(pk)
    assert row["status"] == "dead" and row["attempts"] == 3
    assert "HTTP 503" in row["last_error"]
    assert [d["id"] for d in ledger.by_status("dead")] == [pk]
    queue.replay([pk])
    drain(queue)
    assert ledger.delivery(pk)["status"] == "done"
    assert len(zammad.notes) == 1


def test_non_retryable_error_goes_straight_to_dead_letter(setup):
    _, ledger, queue, zammad, _rsps = setup
    zammad.fail_queue = [(401, {})]
    pk = accept(ledger, queue)
    drain(queue)
    row = ledger.delivery(pk)
    assert row["status"] == "dead" and row["attempts"] == 1
    assert "rejected the API token" in row["last_error"]


def test_own_update_found_by_worker_is_ignored(setup):
    _, ledger, queue, _zammad, rsps = setup
    body = json.loads(zammad_body("02_ticket_update_agent_reply"))
    body["ticket"]["updated_by_id"] = 90
    pk, _ = ledger.accept("zammad", "own", "1042", "update", json.dumps(body).encode())
    queue.enqueue(pk)
    drain(queue)
    assert ledger.delivery(pk)["status"] == "ignored"
    assert writes(rsps) == []


def test_lost_task_is_recovered_from_the_ledger(setup):
    _, ledger, queue, _zammad, _rsps = setup
    pk, _ = ledger.accept("zammad", "lost", "1077", "create", zammad_body("03_ticket_create_chinese_email"))
    assert queue.requeue_all_unfinished() == 1      # accepted, never enqueued (a crash between)
    assert queue.requeue_all_unfinished() == 0      # already waiting: not sent twice
    drain(queue)
    assert ledger.delivery(pk)["status"] == "done"


@pytest.mark.parametrize("attempt,retry_after,expected", [
    (1, None, 2.0), (2, None, 4.0), (4, None, 16.0), (20, None, 300.0), (1, 30.0, 30.0)])
def test_backoff_is_exponential_capped_and_respects_retry_after(attempt, retry_after, expected):
    assert backoff(attempt, 2.0, 300.0, retry_after) == expected


def test_recover_leaves_a_delivery_being_processed_alone(setup):
    _, ledger, queue, _, _ = setup
    pk, _ = ledger.accept("zammad", "busy", "1077", "create", zammad_body("03_ticket_create_chinese_email"))
    ledger.set_status(pk, "processing", attempts=1)
    import plugin.queue as q
    old, q.RECOVER_AFTER_SECONDS = q.RECOVER_AFTER_SECONDS, 0
    try:
        token = ledger.take_lease("ticket:zammad:1077", 60)
        assert token
        assert queue.recover() == 0          # a worker holds it: not queued a second time
        ledger.release_lease("ticket:zammad:1077", token)
        assert queue.recover() == 1          # nobody holds it: its task was lost
    finally:
        q.RECOVER_AFTER_SECONDS = old
