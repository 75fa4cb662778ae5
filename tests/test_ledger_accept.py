"""Group commit in Ledger.accept: webhooks that arrive together share one transaction,
and each caller still gets its own row, its own duplicate answer or its own error."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError

from plugin.store import Ledger
from plugin.tables import deliveries


@pytest.fixture
def ledger(tmp_path):
    led = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    yield led
    led.dispose()


def _commits(ledger) -> list[int]:
    seen = [0]

    def count(_conn):
        seen[0] += 1
    event.listen(ledger.engine, "commit", count)
    return seen


def _accept_together(ledger, keys, bodies=None):
    """Every key's accept waits on the batch lock, held here until all have queued,
    so one of them stores the lot: the order of arrival under load, made certain."""
    results: dict[int, object] = {}

    def one(i, key):
        try:
            body = (bodies or {}).get(key, b"{}")
            results[i] = ledger.accept("zammad", key, "7", "ticket.create", body)
        except Exception as exc:  # noqa: BLE001 - the test looks at what each caller got
            results[i] = exc
    threads = [threading.Thread(target=one, args=(i, k)) for i, k in enumerate(keys)]
    with ledger._batch_lock:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while len(ledger._pending) < len(keys) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(ledger._pending) == len(keys)
    for t in threads:
        t.join(10)
    return [results[i] for i in range(len(keys))]


def _stored(ledger) -> dict[str, int]:
    with ledger.engine.connect() as conn:
        return dict(conn.execute(select(deliveries.c.delivery_key, deliveries.c.id)).all())


def test_webhooks_that_arrive_together_share_one_commit_and_each_gets_its_own_row(ledger):
    commits = _commits(ledger)
    results = _accept_together(ledger, [f"d-{i}" for i in range(6)])
    stored = _stored(ledger)
    assert commits[0] == 1
    assert sorted(stored) == [f"d-{i}" for i in range(6)]
    assert results == [(stored[f"d-{i}"], True) for i in range(6)]


def test_a_duplicate_in_the_batch_is_answered_as_seen_and_the_others_are_stored(ledger):
    first, _ = ledger.accept("zammad", "seen", "7", "ticket.create", b"{}")
    results = _accept_together(ledger, ["a", "seen", "b", "a"])
    stored = _stored(ledger)
    assert sorted(stored) == ["a", "b", "seen"]
    assert results[1] == (first, False)
    assert results[2] == (stored["b"], True)
    # the same key twice in one batch: one stores it, the other is told it was seen
    assert sorted([results[0], results[3]], key=lambda r: not r[1]) == [(stored["a"], True),
                                                                        (stored["a"], False)]


def test_a_database_error_reaches_every_caller_of_the_batch_and_stores_none(ledger):
    with ledger.engine.begin() as conn:
        conn.execute(text("ALTER TABLE deliveries RENAME TO deliveries_away"))
    results = _accept_together(ledger, ["x", "y", "z"])
    assert all(isinstance(r, OperationalError) for r in results), results
    with ledger.engine.begin() as conn:
        conn.execute(text("ALTER TABLE deliveries_away RENAME TO deliveries"))
        assert conn.execute(select(func.count()).select_from(deliveries)).scalar() == 0
    assert ledger.accept("zammad", "x", "7", "ticket.create", b"{}")[1] is True


GEVENT_SCRIPT = textwrap.dedent("""
    from gevent import monkey
    monkey.patch_all()
    import json, sys
    import gevent
    from sqlalchemy import event
    from plugin.store import Ledger
    ledger = Ledger(sys.argv[1])
    commits = [0]
    event.listen(ledger.engine, "commit", lambda conn: commits.__setitem__(0, commits[0] + 1))
    jobs = [gevent.spawn(ledger.accept, "zammad", f"g-{i}", "7", "ticket.create", b"{}")
            for i in range(50)]
    gevent.joinall(jobs, raise_error=True)
    print(json.dumps({"results": [j.value for j in jobs], "commits": commits[0]}))
""")


def test_under_gevent_the_requests_in_hand_join_one_commit(tmp_path):
    """serve's default worker model: a greenlet runs until it blocks, so accept lets the
    other requests reach their own accept before it writes."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    Ledger(url).dispose()          # migrated before the greenlets start
    run = subprocess.run([sys.executable, "-c", GEVENT_SCRIPT, url], capture_output=True,
                         text=True, timeout=60, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    led = Ledger(url)
    stored = _stored(led)
    led.dispose()
    assert sorted(stored) == sorted(f"g-{i}" for i in range(50))
    assert sorted(pk for pk, new in out["results"]) == sorted(stored.values())
    assert all(new for _, new in out["results"])
    assert out["commits"] <= 5, out["commits"]     # 50 webhooks, a handful of transactions


def test_a_refused_row_that_is_not_a_duplicate_is_an_error_never_a_duplicate_answer(ledger):
    """Only the delivery key's own constraint means "seen before": a row refused for
    another reason (here a body of None against NOT NULL) must not be answered
    "duplicate" (the platform would not send it again), and the rest of the batch lands."""
    results = _accept_together(ledger, ["ok-1", "bad", "ok-2"], bodies={"bad": None})
    assert sorted(_stored(ledger)) == ["ok-1", "ok-2"]
    assert isinstance(results[1], RuntimeError), results[1]
    assert results[0][1] is True and results[2][1] is True
