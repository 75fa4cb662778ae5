"""A timer set before a restart fires once after it, with two worker processes, and
within 30 s of its time (the real `desk-enricher worker` processes, the simulator)."""
from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest

from plugin import timers
from plugin.store import utcnow

from .harness import notes_by_ticket, wait_until

pytestmark = pytest.mark.slow


def test_a_timer_set_before_a_restart_fires_once_with_two_workers(sim, service, backend):
    svc = service(ENRICHER_RECONCILE_SECONDS="0", **backend)
    svc.data_dir.mkdir(parents=True, exist_ok=True)
    tid = sim.create_ticket("打印机卡纸", "三楼打印机卡纸。", "li.na@acme.example", customer_name="李娜")
    first = svc.start_worker()
    ledger = svc.ledger()
    due = utcnow() + timedelta(seconds=6)
    assert timers.schedule(ledger, f"recheck:zammad:{tid}", "reprocess", due, platform="zammad",
                           ticket_id=str(tid))
    time.sleep(1.0)
    os.killpg(first.pid, signal.SIGKILL)            # the restart: the worker that saw it set is gone
    first.wait(timeout=10)
    svc.start_worker()
    svc.start_worker()
    wait_until(lambda: ledger.rows("timers", key=f"recheck:zammad:{tid}")[0]["status"] == "done",
               timeout=40, what="the timer to fire")
    [row] = ledger.rows("timers", key=f"recheck:zammad:{tid}")
    fired = row["fired_at"] if row["fired_at"].tzinfo else row["fired_at"].replace(tzinfo=due.tzinfo)
    assert timedelta(0) <= fired - due <= timedelta(seconds=30)
    wait_until(lambda: notes_by_ticket(sim).get(tid) == 1, timeout=30, what="the re-processed ticket")
    time.sleep(3.0)                                  # both workers polled several times since
    from_timer = [d for d in ledger.rows("deliveries") if d["delivery_key"].startswith("timer:")]
    assert len(from_timer) == 1 and from_timer[0]["status"] == "done"
    assert notes_by_ticket(sim)[tid] == 1
