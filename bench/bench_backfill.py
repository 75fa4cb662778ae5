"""Backfill throughput: 10,000 simulated tickets through `desk-enricher backfill --dry-run`.

The issue's target: a backfill of 10,000 tickets completes in minutes, not hours,
within the platform's rate limits. A Zammad simulator runs in a child process (its
own interpreter, so it does not share this one's GIL) seeded with N tickets created
over 90 days (one text pair per default catalog item, Chinese and English in turn,
500 requesters, a third closed with the agents' category). The backfill runs here,
as the command runs it (the Backfill class, a SQLite ledger in a temp directory),
with ENRICHER_BACKFILL_RATE=0 (no cap) unless --rate says otherwise, then once more
to show what a resumed run costs when everything is done.

Figures: tickets/s and total time; REST requests per ticket; where the thread time
goes (waiting on the platform, the pipeline's steps, the ledger and the rest); CPU
of this process, of the simulator and of the rest of the machine; and the time the
same run takes under the default rate limit (requests / ENRICHER_BACKFILL_RATE).

    .venv/bin/python bench/bench_backfill.py                    # 10,000 tickets, 4 workers
    .venv/bin/python bench/bench_backfill.py --tickets 2000 --latency 0.05   # 50 ms per REST call

Prints figures; never asserts on time.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _common as c
from bench_downtime import TEXTS

START = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 90
DEFAULT_RATE = 20.0          # ENRICHER_BACKFILL_RATE's default (plugin/settings.py)


def serve_simulator(n: int, latency: float, ready) -> None:
    """Child process: seed n tickets, serve on loopback until terminated."""
    from plugin.simulators.zammad import ZammadSimulator
    sim = ZammadSimulator(latency=0.0)
    step = timedelta(days=DAYS) / max(n, 1)
    for i in range(n):
        when = START + i * step
        sim.now = lambda when=when: when.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        (title, body) = TEXTS[i % len(TEXTS)][i % 2]
        tid = sim.create_ticket(title, body, f"user{i % 500}@acme.example", customer_name=f"User {i % 500}")
        if i % 3 == 0:
            sim.now = lambda when=when: (when + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            sim.agent_update(tid, state="closed", enrich_category="桌面IT运维管理/终端硬件报修/终端硬件报修跟进")
    sim.latency = latency
    ready.put(sim.start())
    while True:
        time.sleep(3600)


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return c.cpu_seconds(fields)


class LedgerClock:
    """Thread-seconds inside the ledger's write transactions (waiting for the write lock
    included) and its reads: the bench wraps this one Ledger instance, nothing else."""

    def __init__(self, ledger) -> None:
        import contextlib
        import threading
        self.lock, self.writes, self.reads = threading.Lock(), 0.0, 0.0
        self.inside = threading.local()     # a write transaction opens its connection too
        write, connect = ledger._write, ledger.engine.connect

        @contextlib.contextmanager
        def timed_write():
            started, self.inside.write = time.monotonic(), True
            try:
                with write() as conn:
                    yield conn
            finally:
                self.inside.write = False
                self._add("writes", time.monotonic() - started)

        @contextlib.contextmanager
        def timed_connect(*a, **kw):
            started = time.monotonic()
            try:
                with connect(*a, **kw) as conn:
                    yield conn
            finally:
                if not getattr(self.inside, "write", False):
                    self._add("reads", time.monotonic() - started)
        ledger._write, ledger.engine.connect = timed_write, timed_connect

    def _add(self, name: str, seconds: float) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + seconds)

    def take(self) -> tuple[float, float]:
        with self.lock:
            out, self.writes, self.reads = (self.writes, self.reads), 0.0, 0.0
        return out


def run_once(settings, ledger, workers: int, label: str):
    from plugin.manifest import load_manifest
    from plugin.shadow.backfill import Backfill

    backfill = Backfill(settings, ledger, load_manifest(), "zammad", dry_run=True, workers=workers)
    shown = [0]

    def progress(tally):
        done = tally.processed + tally.already
        if done - shown[0] >= 1000:
            shown[0] = done
            print(f"  {label}: {done} tickets, {tally.rate:.1f}/s", flush=True)
    return backfill.run(START, START + timedelta(days=DAYS + 1), progress=progress)


def report(tally, ledger_time: tuple[float, float], cpu_self: float, cpu_sim: float, machine: float,
           rate: float) -> None:
    n = tally.processed + tally.already
    busy = max(tally.busy, 1e-9)
    writes, reads = ledger_time
    rest = max(0.0, busy - tally.reads - tally.steps - writes - reads)
    print(f"tickets          {n} ({tally.processed} processed, {tally.already} already done, "
          f"{tally.failed} failed)")
    print(f"time             {tally.wall:.1f} s = {tally.wall / 60:.1f} min; {tally.rate:.1f} tickets/s; "
          f"{tally.wall / max(n, 1) * 1000:.1f} ms per ticket")
    print(f"requests         {tally.requests} ({tally.requests / max(n, 1):.2f} per ticket; "
          f"listing pages included)")
    if tally.processed:
        print(f"thread time      {busy:.1f} s: platform reads {tally.reads / busy:.0%} ({tally.reads:.1f} s), "
              f"steps {tally.steps / busy:.0%} ({tally.steps:.1f} s), ledger writes {writes / busy:.0%} "
              f"({writes:.1f} s, waiting for the write lock included), ledger reads {reads / busy:.0%} "
              f"({reads:.1f} s), the rest {rest / busy:.0%} ({rest:.1f} s: parsing, planning, the GIL)")
    print(f"CPU              backfill {cpu_self:.1f} s, simulator {cpu_sim:.1f} s, "
          f"rest of the machine {max(0.0, machine - cpu_self - cpu_sim):.1f} s")
    if rate == 0 and tally.processed:
        capped = tally.requests / DEFAULT_RATE
        print(f"at the default   ENRICHER_BACKFILL_RATE={DEFAULT_RATE:g}: ≥ {capped / 60:.1f} min "
              f"(requests / rate), or the time above if that is longer")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tickets", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--rate", type=float, default=0.0, help="ENRICHER_BACKFILL_RATE (0: no cap)")
    ap.add_argument("--latency", type=float, default=0.0, help="seconds the simulator adds per call")
    ap.add_argument("--wait-quiet", type=float, default=0.0, help="wait up to S s for a quiet machine")
    args = ap.parse_args()
    c.install_sigterm()
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Queue()
    child = ctx.Process(target=serve_simulator, args=(args.tickets, args.latency, ready), daemon=True)
    child.start()
    try:
        seeded = time.monotonic()
        url = ready.get(timeout=1800)
        print(f"simulator: {args.tickets} tickets seeded in {time.monotonic() - seeded:.0f} s at {url}")
        if args.wait_quiet:
            print(c.wait_quiet(args.wait_quiet))
        print(c.load_note())
        with c.temp_dir("bench-backfill-") as data:
            measure(args, url, data, child.pid)
    finally:
        child.terminate()
        child.join(timeout=10)


def measure(args, url: str, data: Path, sim_pid: int) -> None:
    from plugin.settings import load_settings
    from plugin.store import Ledger

    settings = load_settings(environ={
        "ENRICHER_DATA_DIR": str(data), "ENRICHER_ZAMMAD_URL": url, "ENRICHER_ZAMMAD_TOKEN": "sim-token",
        "ENRICHER_BACKFILL_RATE": str(args.rate), "ENRICHER_LOG_LEVEL": "WARNING"})
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    clock = LedgerClock(ledger)
    for label in ("backfill", "resume (all done)"):
        clock.take()
        self0, sim0, machine0 = sum(os.times()[:2]), proc_cpu(sim_pid), c.machine_busy_seconds()
        tally = run_once(settings, ledger, args.workers, label)
        print(f"\n{label}, {args.workers} workers, rate {'no cap' if not args.rate else f'{args.rate:g}/s'}, "
              f"simulator latency {args.latency * 1000:.0f} ms")
        report(tally, clock.take(), sum(os.times()[:2]) - self0, proc_cpu(sim_pid) - sim0,
               c.machine_busy_seconds() - machine0, args.rate)
        if label == "backfill":
            ok = tally.wall < 1800 and tally.failed == 0
            print(f"target           {args.tickets} tickets in minutes, not hours (< 30 min): {c.verdict(ok)}")
    print(f"\nledger           {sum(f.stat().st_size for f in data.glob('ledger.db*')) / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
