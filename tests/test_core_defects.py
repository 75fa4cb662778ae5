"""Defects of the core, each with the test that fails on the old behaviour: lease
owners, the REST call log after a failed write, passing database errors, POSTs never
resent blindly, /metrics without reading every row, escaping for public replies."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import responses
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from plugin.errors import PlatformError
from plugin.hooks.markup import to_html, to_wiki
from plugin.hooks.zammad_api import ZammadClient
from plugin.manifest import load_manifest
from plugin.queue import Queue
from plugin.store import Ledger, utcnow
from plugin.tables import leases
from plugin.worker import Processor

from .conftest import drain, zammad_body
from .test_worker_zammad import FakeZammad


@pytest.fixture
def ledger(make_settings):
    s = make_settings()
    return Ledger(s.database_url, lock_dir=s.data_dir)


def test_a_worker_whose_lease_expired_cannot_release_the_next_holders_lease(ledger):
    slow = ledger.take_lease("ticket:zammad:7", 60)
    with ledger.transaction() as conn:     # the slow worker's lease runs out
        conn.execute(update(leases).values(expires_at=utcnow() - timedelta(seconds=1)))
    fast = ledger.take_lease("ticket:zammad:7", 60)
    assert fast and fast != slow
    ledger.release_lease("ticket:zammad:7", slow)          # the slow one finishes late
    assert ledger.lease_held("ticket:zammad:7")
    assert not ledger.renew_lease("ticket:zammad:7", slow, 60)
    assert ledger.renew_lease("ticket:zammad:7", fast, 60)
    ledger.release_lease("ticket:zammad:7", fast)
    assert not ledger.lease_held("ticket:zammad:7")


@pytest.fixture
def zammad_setup(make_settings):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        # Registered first, so the first PUT gets it (responses then falls through to FakeZammad).
        rsps.add(responses.PUT, "http://zammad.test/api/v1/tickets/1077", status=422,
                 json={"error": "invalid"})
        settings = make_settings(ENRICHER_MAX_ATTEMPTS="3")
        ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
        client = ZammadClient("http://zammad.test", "tok-123456", retries=0)
        processor = Processor(settings, ledger, load_manifest(), clients={"zammad": client})
        yield ledger, Queue(settings, ledger, lambda: processor), processor, FakeZammad(rsps)


def test_calls_of_a_failed_write_are_not_counted_against_the_next_delivery(zammad_setup):
    ledger, queue, _, _ = zammad_setup
    pk1, _ = ledger.accept("zammad", "bad", "1077", "create", zammad_body("03_ticket_create_chinese_email"))
    queue.enqueue(pk1)
    drain(queue)
    assert ledger.delivery(pk1)["status"] == "dead"       # 422 is not retried
    pk2, _ = ledger.accept("zammad", "good", "1077", "create", zammad_body("03_ticket_create_chinese_email"))
    queue.enqueue(pk2)
    drain(queue)
    assert ledger.delivery(pk2)["status"] == "done"
    first = [w for w in ledger.rows("writes") if w["delivery_id"] == pk2]
    assert [w["status"] for w in first if w["method"] == "PUT"] == [200]   # not the failed 422


def test_a_passing_database_error_is_retried_not_dead_lettered(zammad_setup, monkeypatch):
    from huey.exceptions import RetryTask
    ledger, queue, processor, _ = zammad_setup
    with pytest.raises(PlatformError):                        # uses up the first PUT's 422
        processor.client("zammad").update_ticket("1077", {})
    pk, _ = ledger.accept("zammad", "db", "1077", "create", zammad_body("03_ticket_create_chinese_email"))

    def locked(*args, **kwargs):
        raise OperationalError("UPDATE deliveries", {}, Exception("database is locked"))
    monkeypatch.setattr(processor, "process", locked)
    with pytest.raises(RetryTask):
        queue._run(pk)
    assert ledger.delivery(pk)["status"] == "queued"
    monkeypatch.undo()
    queue.enqueue(pk)
    drain(queue)
    assert ledger.delivery(pk)["status"] == "done"


def test_a_post_answered_503_is_not_resent_by_the_http_layer():
    """A gateway error after the platform took the POST would post the comment twice:
    POSTs are tried again only by the checked path (which looks for the marker)."""
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, "http://zammad.test/api/v1/ticket_articles", status=503)
        rsps.add(responses.PUT, "http://zammad.test/api/v1/tickets/7", status=503)
        rsps.add(responses.PUT, "http://zammad.test/api/v1/tickets/7", json={"id": 7})
        client = ZammadClient("http://zammad.test", "tok-123456", retries=2, backoff=0)
        with pytest.raises(PlatformError) as err:
            client.request("POST", "/ticket_articles", json={"ticket_id": 7, "body": "x"})
        assert err.value.retryable and len([c for c in rsps.calls if c.request.method == "POST"]) == 1
        assert client.update_ticket("7", {"enrich_priority": "P2"}) == {"id": 7}   # a PUT may be resent


def test_metrics_show_timers_outbox_and_a_histogram_from_one_query(make_settings):
    from prometheus_client import generate_latest

    from plugin import timers
    from plugin.metrics import make_registry

    settings = make_settings()
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    timers.schedule(ledger, "late", "digest", utcnow() - timedelta(minutes=2))
    with ledger.transaction() as conn:
        from plugin.tables import outcomes
        conn.execute(outcomes.insert(), [{"delivery_id": i, "platform": "zammad", "outcome": "enriched",
                                          "writes": 1, "reads": 1, "duration_ms": ms, "at": utcnow()}
                                         for i, ms in enumerate([20, 80, 3000])])
    text = generate_latest(make_registry(ledger, Queue(settings, ledger))).decode()
    assert 'enricher_timers_overdue{kind="digest"} 1.0' in text
    assert 'enricher_processing_seconds_bucket{le="0.025"} 1.0' in text
    assert 'enricher_processing_seconds_bucket{le="0.1"} 2.0' in text
    assert 'enricher_processing_seconds_count 3.0' in text
    assert re.search(r"enricher_processing_seconds_sum 3\.1", text)


@pytest.mark.parametrize("text,html", [
    ("打印机 <script>alert(1)</script>", "<p>打印机 &lt;script&gt;alert(1)&lt;/script&gt;</p>"),
    ("line 1\nline & 2\n\npara 2", "<p>line 1<br>line &amp; 2</p><p>para 2</p>"),
])
def test_ticket_text_is_escaped_into_html_for_zammad(text, html):
    assert to_html(text) == html


@pytest.mark.parametrize("text,wiki", [
    ("see [link|http://x] and {code}", r"see \[link\|http://x\] and \{code\}"),
    ("*not bold* _nor_ -struck-", r"\*not bold\* \_nor\_ \-struck\-"),
])
def test_ticket_text_is_escaped_for_jira_wiki(text, wiki):
    assert to_wiki(text) == wiki
