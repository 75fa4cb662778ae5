"""`desk-enricher backfill` on both simulators: a dry run writes nothing, sends nothing and
records one plan per ticket created in the period; a real run enriches open tickets and
only records closed ones; the steps' clock is the ticket's creation time; a run killed
half way (SIGKILL, or an error after N tickets) resumes without processing a ticket twice;
Jira's 429 Retry-After is waited out and the Zammad request rate is capped."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from plugin.manifest import load_manifest
from plugin.models import Findings
from plugin.shadow.backfill import Backfill, position_key
from plugin.shadow.reads import Pace
from plugin.simulators.jira import JiraSimulator
from plugin.steps.base import StepSpec
from plugin.store import Ledger

from .conftest import REPO
from .jira_helpers import install_fields, jira_env

# June: the simulator's own fixture tickets were created in March 2025.
T0 = datetime(2025, 6, 3, 9, 0, tzinfo=UTC)
START, END = datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)
TEXTS = [("打印机卡纸", "三楼打印机卡纸，无法打印。"), ("Reset my password", "I forgot my AD password."),
         ("电脑蓝屏", "电脑开机后蓝屏，反复重启。"), ("VPN 连不上", "VPN 一直连接失败。")]


def at(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def seed_zammad(sim, n: int, closed: set[int] = frozenset(), step=timedelta(hours=3)) -> list[int]:
    """n tickets in June 2025, one before and one after it; `closed` (indexes) closed a day later."""
    ids = []
    for i, when in enumerate([START - timedelta(days=2)] + [T0 + i * step for i in range(n)] + [END]):
        sim.now = lambda when=when: at(when)
        title, body = TEXTS[(i - 1) % len(TEXTS)]       # the k-th ticket in June has TEXTS[k]
        ids.append(sim.create_ticket(title, body, f"user{i}@acme.example", customer_name=f"User {i}"))
    for i in closed:
        sim.now = lambda i=i: at(T0 + i * step + timedelta(days=1))
        sim.agent_update(ids[i + 1], state="closed")
    sim.now = lambda: at(datetime.now(UTC))
    return ids[1:-1]


def touched(sim) -> set[str]:
    """Tickets a write went to: PUT /tickets/{id}, tags (o_id), articles (ticket_id)."""
    out = set()
    for c in sim.writes():
        body = c.body if isinstance(c.body, dict) else {}
        out.add(str(body.get("o_id") or body.get("ticket_id") or c.path.rsplit("/", 1)[-1]))
    return out


def zammad_settings(make_settings, sim, **env):
    return make_settings(ENRICHER_ZAMMAD_URL=sim.base_url, ENRICHER_ZAMMAD_TOKEN=sim.token,
                         ENRICHER_BACKFILL_RATE="0", **env)


def run(settings, platform="zammad", dry_run=True, workers=2):
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    backfill = Backfill(settings, ledger, load_manifest(), platform, dry_run=dry_run, workers=workers)
    return ledger, backfill, backfill.run(START, END)


def once_each(ledger, tickets) -> None:
    """Every ticket: one delivery, done, one plan, one outcome."""
    assert sorted(d["ticket_id"] for d in ledger.rows("deliveries")) == sorted(tickets)
    assert {d["status"] for d in ledger.rows("deliveries")} == {"done"}
    assert Counter(p["ticket_id"] for p in ledger.rows("plans")) == dict.fromkeys(tickets, 1)
    assert Counter(o["ticket_id"] for o in ledger.rows("outcomes")) == dict.fromkeys(tickets, 1)


def test_dry_run_on_zammad_writes_nothing_sends_nothing_and_plans_every_ticket(sim, make_settings, http_sink):
    address, posts = http_sink
    ids = seed_zammad(sim, 6, closed={0, 3})
    settings = zammad_settings(make_settings, sim, ENRICHER_NOTIFY_MAJOR_EVENT=f"json://{address}/x")
    sim.reset_calls()
    ledger, _, tally = run(settings)
    searches = {c.path for c in sim.calls if c.method == "POST"}
    assert searches <= {"/api/v1/knowledge_bases/search"} and sim.writes() == [] and posts == []
    once_each(ledger, [str(i) for i in ids])           # the tickets outside June are left alone
    assert {p["mode"] for p in ledger.rows("plans")} == {"shadow"}
    assert all(p["plan"]["fields"].get("enrich_category") or p["plan"]["fields"].get("enrich_triage")
               for p in ledger.rows("plans"))            # what it would have written, as it arrived
    assert {r["status"] for r in ledger.rows("outbox")} == {"shadow"}
    assert ledger.rows("timers") == []          # a timer would reprocess in the service's (live) mode
    assert tally.outcomes == {"shadow": 6} and tally.failed == 0
    assert ledger.get(position_key("zammad", START, END, True))["finished"] is True
    # One read per ticket for its record (the worker reuses the listing's), one for its history.
    reads = Counter(c.path.split("/")[3] for c in sim.calls)
    assert reads["tickets"] == 6 + 1 and reads["ticket_history"] == 6


def test_a_closed_ticket_is_decided_as_it_arrived_not_echoed_from_the_agents_values(sim, make_settings):
    [tid] = seed_zammad(sim, 1)
    sim.agent_update(tid, state="closed", enrich_category="网络/VPN/远程访问", enrich_value_stream="咨询")
    ledger, _, _ = run(zammad_settings(make_settings, sim))
    [plan] = ledger.rows("plans")
    assert plan["plan"]["fields"]["enrich_category"].startswith("桌面IT运维管理")   # its own decision
    assert ledger.rows("ticket_facts")[0]["item_id"] == "desktop.hardware_repair"


def test_a_real_run_enriches_open_tickets_and_only_records_closed_ones(sim, make_settings):
    ids = seed_zammad(sim, 4, closed={1, 2})
    settings = zammad_settings(make_settings, sim)
    sim.reset_calls()
    ledger, _, tally = run(settings, dry_run=False)
    assert touched(sim) == {str(ids[0]), str(ids[3])}
    modes = {p["ticket_id"]: p["mode"] for p in ledger.rows("plans")}
    assert modes == {str(ids[0]): "live", str(ids[1]): "shadow", str(ids[2]): "shadow", str(ids[3]): "live"}
    assert tally.outcomes == {"enriched": 2, "shadow": 2}
    assert sim.ticket(ids[0])["enrich_category"]                 # on the ticket now
    assert sim.ticket(ids[1]).get("enrich_category") is None     # closed: untouched
    assert {t["ticket_id"] for t in ledger.rows("timers")} <= {str(ids[0]), str(ids[3])}


def test_the_steps_clock_is_the_ticket_creation_time(sim, make_settings):
    ids = seed_zammad(sim, 3)
    ledger = Ledger(zammad_settings(make_settings, sim).database_url)
    backfill = Backfill(zammad_settings(make_settings, sim), ledger, load_manifest(), "zammad", dry_run=True)
    seen = {}
    probe = StepSpec("probe", lambda t, ctx: seen.setdefault(t.id, ctx.now) and Findings("probe"))
    backfill.shadow.steps.append(probe)
    backfill.run(START, END)
    assert seen == {str(tid): T0 + i * timedelta(hours=3) for i, tid in enumerate(ids)}


def test_dry_run_on_jira_writes_nothing_and_records_agents_final_values(make_settings):
    with JiraSimulator() as jsim:
        fields = install_fields(jsim)
        keys = []
        for i, (title, body) in enumerate(TEXTS):
            jsim.clock = lambda i=i: int((T0 + timedelta(hours=i)).timestamp() * 1000)
            keys.append(jsim.create_request(title, body, f"u{i}@acme.example", f"U{i}"))
        jsim.clock = lambda: int((T0 + timedelta(days=2)).timestamp() * 1000)
        jsim.agent_update(keys[0], status="Resolved", **{fields["enrich_category"]: "网络/VPN/远程访问"})
        jsim.reset_calls()
        settings = make_settings(ENRICHER_BACKFILL_RATE="0", **jira_env(jsim))
        ledger, _, tally = run(settings, platform="jira")
        assert jsim.writes() == [] and {c.method for c in jsim.calls} == {"GET"}
    once_each(ledger, keys)
    assert {p["mode"] for p in ledger.rows("plans")} == {"shadow"}
    assert tally.outcomes == {"shadow": 4}
    answer = ledger.get(f"shadow:answer:jira:{keys[0]}")
    assert answer["category"] == "网络/VPN/远程访问" and answer["closed"] is True


def test_jira_429_retry_after_is_waited_out_by_the_session(make_settings):
    with JiraSimulator() as jsim:
        install_fields(jsim)
        jsim.clock = lambda: int(T0.timestamp() * 1000)
        key = jsim.create_request(*TEXTS[0], "u@acme.example", "U")
        jsim.reset_calls()
        jsim.fail_next(1, 429, retry_after=1, match="search")
        started = time.monotonic()
        ledger, _, tally = run(make_settings(ENRICHER_BACKFILL_RATE="0", **jira_env(jsim)), platform="jira")
        statuses = [c.status for c in jsim.calls if "search" in c.path]
    assert statuses == [429, 200] and time.monotonic() - started >= 1.0
    assert tally.outcomes == {"shadow": 1} and [p["ticket_id"] for p in ledger.rows("plans")] == [key]


def test_bare_dates_are_days_of_the_desk_calendar(make_settings):
    from datetime import date

    from plugin.shadow.commands import bounds
    low, high = bounds(make_settings(), date(2025, 6, 1), date(2025, 6, 30))   # Asia/Shanghai by default
    assert (low, high) == (datetime(2025, 5, 31, 16, tzinfo=UTC), datetime(2025, 6, 30, 16, tzinfo=UTC))


def test_the_request_rate_is_capped():
    pace, started = Pace(50), time.monotonic()
    for _ in range(11):
        pace.wait()
    assert time.monotonic() - started >= 10 / 50 * 0.95


def test_an_error_after_n_tickets_then_a_second_run_processes_each_ticket_once(sim, make_settings):
    ids = seed_zammad(sim, 12, step=timedelta(minutes=10))
    settings = zammad_settings(make_settings, sim)
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    first = Backfill(settings, ledger, load_manifest(), "zammad", dry_run=True, workers=2)
    real, calls = first.shadow.process, []

    def crash_after_five(pk, **kw):
        calls.append(pk)
        if len(calls) > 5:
            raise RuntimeError("injected")
        return real(pk, **kw)
    first.shadow.process = crash_after_five
    with pytest.raises(RuntimeError, match="injected"):
        first.run(START, END)
    assert 0 < len(ledger.rows("plans")) < 12
    saved = ledger.get(position_key("zammad", START, END, True))
    assert saved["finished"] is False and saved["cursor"] >= "2025-06-03T09:00"
    tally = Backfill(settings, ledger, load_manifest(), "zammad", dry_run=True).run(START, END)
    once_each(ledger, [str(i) for i in ids])
    assert tally.processed == 12 - 5 and tally.already <= 5


def test_a_run_killed_half_way_resumes_without_processing_a_ticket_twice(sim, make_settings, tmp_path):
    ids = seed_zammad(sim, 20, step=timedelta(minutes=5))
    settings = zammad_settings(make_settings, sim)
    env = {**os.environ, "ENRICHER_DATA_DIR": str(settings.data_dir), "ENRICHER_ZAMMAD_URL": sim.base_url,
           "ENRICHER_ZAMMAD_TOKEN": sim.token, "ENRICHER_BACKFILL_RATE": "0", "ENRICHER_LOG_LEVEL": "WARNING"}
    env.pop("ENRICHER_JIRA_URL", None)
    cmd = [sys.executable, "-m", "plugin", "backfill", "--from", "2025-06-01T00:00:00+00:00",
           "--to", "2025-07-01T00:00:00+00:00", "--dry-run", "--platform", "zammad", "--workers", "2"]
    sim.latency = 0.03                       # slow enough to stop it half way
    child = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    deadline = time.monotonic() + 90
    while len(ledger.rows("plans")) < 5 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    done_first = len(ledger.rows("plans"))
    assert 5 <= done_first < 20, child.stderr.read().decode()[-2000:]
    sim.latency = 0.0
    result = CliRunner().invoke(_cli(), cmd[3:], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    once_each(ledger, [str(i) for i in ids])
    assert f": {20 - done_first} processed (shadow {20 - done_first})" in result.output


def _cli():
    from plugin.cli import cli
    return cli
