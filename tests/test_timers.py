"""Durable timers in the ledger: set once, fire once however many schedulers poll,
recurring ones set again, failures retried then dead, counts for /metrics and doctor."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from plugin import timers
from plugin.store import Ledger, utcnow
from plugin.timers import Handler, Scheduler


@pytest.fixture
def ledger(make_settings, backend):
    settings = make_settings(**backend)
    return Ledger(settings.database_url, lock_dir=settings.data_dir)


def test_a_timer_is_set_once_by_key(ledger):
    due = utcnow() - timedelta(seconds=1)
    assert timers.schedule(ledger, "followup:zammad:7", "reprocess", due, platform="zammad", ticket_id="7")
    assert not timers.schedule(ledger, "followup:zammad:7", "reprocess", due + timedelta(hours=1))
    [row] = ledger.rows("timers")
    assert (row["status"], row["ticket_id"]) == ("pending", "7")


def test_two_schedulers_polling_together_fire_a_timer_once(ledger):
    fired = []
    lock = threading.Lock()

    def run(row, now):
        with lock:
            fired.append(row["key"])
    for i in range(20):
        timers.schedule(ledger, f"t{i}", "count", utcnow() - timedelta(seconds=1))
    schedulers = [Scheduler(ledger, {"count": Handler(run)}) for _ in range(2)]
    threads = [threading.Thread(target=s.tick) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(fired) == sorted(f"t{i}" for i in range(20))
    assert {r["status"] for r in ledger.rows("timers")} == {"done"}


def test_a_recurring_timer_is_set_again_and_a_future_one_waits(ledger):
    later = utcnow() + timedelta(hours=1)
    timers.schedule(ledger, "sweep", "sweep", utcnow() - timedelta(seconds=1))
    timers.schedule(ledger, "digest", "sweep", later)
    s = Scheduler(ledger, {"sweep": Handler(lambda row, now: now + timedelta(minutes=5))})
    assert s.tick() == {"fired": 1, "failed": 0}
    rows = {r["key"]: r for r in ledger.rows("timers")}
    assert rows["sweep"]["status"] == "pending" and rows["sweep"]["fired_at"] is not None
    assert s.tick() == {"fired": 0, "failed": 0}          # neither is due now


def test_a_failing_handler_is_retried_with_backoff_then_dead(ledger, monkeypatch):
    monkeypatch.setattr(timers, "MAX_ATTEMPTS", 2)
    timers.schedule(ledger, "boom", "boom", utcnow() - timedelta(seconds=1))

    def boom(row, now):
        raise RuntimeError("platform said no")
    s = Scheduler(ledger, {"boom": Handler(boom)})
    assert s.tick()["failed"] == 1
    [row] = ledger.rows("timers")
    assert row["status"] == "pending" and row["attempts"] == 1 and "platform said no" in row["last_error"]
    assert s.fire(row["id"]) == "taken"                   # waiting out its backoff
    with ledger.transaction() as conn:
        conn.execute(timers.timers.update().values(due_at=utcnow() - timedelta(seconds=1)))
    assert s.tick()["failed"] == 1
    assert ledger.rows("timers")[0]["status"] == "dead"
    assert timers.counts(ledger, utcnow())["boom"]["dead"] == 1


def test_a_claim_of_a_killed_worker_expires_and_the_timer_fires_elsewhere(ledger):
    timers.schedule(ledger, "t", "count", utcnow() - timedelta(seconds=1))
    [row] = ledger.rows("timers")
    assert timers.claim(ledger, row["id"], "dead-host:1:x", utcnow(), hold=0.0)   # then killed
    fired = []
    s = Scheduler(ledger, {"count": Handler(lambda r, now: fired.append(r["key"]), hold_seconds=5)})
    assert s.tick()["fired"] == 1 and fired == ["t"]


def test_counts_say_what_is_due_and_overdue(ledger):
    now = utcnow()
    timers.schedule(ledger, "a", "digest", now - timedelta(minutes=5))
    timers.schedule(ledger, "b", "digest", now - timedelta(seconds=5))
    timers.schedule(ledger, "c", "digest", now + timedelta(minutes=5))
    assert timers.counts(ledger, now) == {"digest": {"pending": 3, "due": 2, "overdue": 1, "dead": 0}}


def test_an_unknown_kind_fails_visibly(ledger):
    timers.schedule(ledger, "x", "nobody-handles-this", utcnow() - timedelta(seconds=1))
    assert Scheduler(ledger, {}).tick()["failed"] == 1
    assert "no handler for timer kind" in ledger.rows("timers")[0]["last_error"]


def test_timers_a_step_asks_for_are_set_moved_and_cancelled_in_the_transaction(ledger):
    from plugin.models import TimerRequest
    due = utcnow() + timedelta(hours=1)
    ask = TimerRequest(name="sla_deadline", kind="reprocess", due_at=due, payload={"why": "sla"})
    with ledger.transaction() as conn:
        timers.set_requested(conn, "zammad", "7", [ask], utcnow())
    with ledger.transaction() as conn:     # a retry asks again: still one timer
        timers.set_requested(conn, "zammad", "7", [ask], utcnow())
    [row] = ledger.rows("timers")
    assert (row["key"], row["kind"], row["ticket_id"]) == ("sla_deadline:zammad:7", "reprocess", "7")
    later = TimerRequest(name="sla_deadline", kind="reprocess", due_at=due + timedelta(hours=2))
    with ledger.transaction() as conn:
        timers.set_requested(conn, "zammad", "7", [later], utcnow())
    moved = ledger.rows("timers")[0]["due_at"]
    assert (moved if moved.tzinfo else moved.replace(tzinfo=due.tzinfo)) == due + timedelta(hours=2)
    with ledger.transaction() as conn:
        timers.set_requested(conn, "zammad", "7", [TimerRequest("sla_deadline", "reprocess", due, cancel=True)],
                             utcnow())
    assert ledger.rows("timers")[0]["status"] == "cancelled"


def test_the_worker_keeps_the_sweep_purge_and_weekly_retraining_set(make_settings):
    from plugin import jobs
    from plugin.queue import Queue

    settings = make_settings()
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    jobs.ensure_recurring(ledger, settings)
    jobs.ensure_recurring(ledger, settings)           # a second worker start sets nothing twice
    rows = {r["key"]: r for r in ledger.rows("timers")}
    assert set(rows) == {"sweep", "purge", "retrain"}
    assert set(jobs.handlers(settings, Queue(settings, ledger))) >= {"sweep", "purge", "reprocess", "retrain"}


def test_the_retrain_timer_records_a_run_and_comes_back_in_a_week(make_settings):
    from plugin import jobs
    from plugin.queue import Queue

    settings = make_settings(ENRICHER_ZAMMAD_URL=None)     # no platform: no history, a refusal
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    timers.schedule(ledger, "retrain", "retrain", utcnow() - timedelta(seconds=1))
    scheduler = Scheduler(ledger, jobs.handlers(settings, Queue(settings, ledger)))
    assert scheduler.tick()["fired"] == 1
    [run] = ledger.rows("model_versions")
    assert run["status"] == "refused"
    [row] = ledger.rows("timers")
    due = row["due_at"] if row["due_at"].tzinfo else row["due_at"].replace(tzinfo=utcnow().tzinfo)
    assert row["status"] == "pending" and due > utcnow() + timedelta(days=6)
