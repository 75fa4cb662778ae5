"""Downtime: tickets created while the service was stopped are all enriched after it restarts.

The issue's target: zero tickets missed after the service was down for 10 minutes
while tickets were created and their webhooks failed. `desk-enricher serve` (intake
and its worker, ENRICHER_RECONCILE_SECONDS=60) runs against a Zammad simulator in
this process (50 ms per REST call). Once the first sweep has stored its position in
the ledger, the service is stopped with SIGTERM; for M minutes a ticket is created
at a steady rate (Chinese and English in turn) and its webhook is sent to the
stopped service (connection refused, as every retry of Zammad's would be). Then
the service starts again and the bench measures how many of those tickets get
enriched (the plugin's internal note and enrich_record_quality on the simulated
ticket), when the last one landed, whether any ticket got more than one note, and
the REST calls the sweep made.

    .venv/bin/python bench/bench_downtime.py                 # 1 minute down (the default)
    .venv/bin/python bench/bench_downtime.py --minutes 10    # the issue's case, ~12 minutes

Prints figures; never asserts on time.
"""
from __future__ import annotations

import argparse
import contextlib
import re
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

from plugin.simulators.zammad import ZammadSimulator

NOTE_SUBJECT = "desk-enricher"

# One (zh, en) pair per item of the default catalog (plugin/classifiers/default_catalog.yaml),
# so a run spreads its tickets over 11 items instead of piling them onto a few.
TEXTS = [
    (("同事离职电脑重装", "同事下周离职，电脑需要格式化并重装系统后归还。"),
     ("Reimage my laptop", "Please reimage my laptop, Windows needs a fresh install.")),
    (("电脑蓝屏反复重启", "电脑开机后蓝屏，反复重启，进不了系统。"),
     ("Blue screen on my laptop", "My laptop shows a blue screen and keeps restarting.")),
    (("安装 Visio 和 Photoshop", "请帮忙在我的电脑上安装Visio和Photoshop。"),
     ("Install Adobe Acrobat", "Please install Adobe Acrobat on my laptop, I need the licence activated.")),
    (("Outlook 闪退", "Outlook 一打开就闪退，提示报错。"),
     ("Excel crashes", "Excel is not responding and crashes when I open large files.")),
    (("笔记本电池坏了", "笔记本电池充不进电，键盘也有几个键坏了，申请报修。"),
     ("Laptop battery broken", "My laptop battery is broken and will not charge, please repair.")),
    (("会议室投屏失败", "3楼会议室投屏失败，腾讯会议没有声音。"),
     ("Projector in room B", "The projector in meeting room B does not show my screen sharing.")),
    (("董事会会前测试", "明天上午总裁主持董事会，需要会前测试和全程保障。"),
     ("Board meeting support", ("The CEO has a board meeting tomorrow, please arrange a rehearsal "
                                "and on-site support."))),
    (("报销审批怎么发起", "请问在OA系统里怎么发起报销审批流程？"),
     ("Expense claim question", "How do I submit an expense claim in the expense system?")),
    (("ERP 保存失败", "ERP 提交采购单时提示系统异常，保存失败。"),
     ("CRM save fails", "Bug in the CRM - saving a customer fails with internal server error.")),
    (("申请开通 CRM 账号", "申请使用CRM系统，请开通账号。"),
     ("SAP account for a new joiner", "Please create an account in SAP for our new joiner.")),
    (("财务报表权限", "我在财务系统里没有权限查看报表，请开通审批权限。"),
     ("Locked out of SAP", "I am locked out of SAP, please reset my password.")),
]
NAMES_EN = ["Alice Walker", "Bob Chen", "Carol Smith", "David Brown"]
NAMES_ZH = ["张伟", "王芳", "李娜", "刘洋"]
ORGS = [None, "Acme Ltd", "华东分公司"]


@dataclass
class Stamp:
    arrived: float      # time.monotonic() when the request reached the simulator
    answered: float     # ... when the simulator had applied it and answered
    method: str
    path: str
    query: dict
    body: dict
    status: int


class RecordingSimulator(ZammadSimulator):
    """Stamps every REST call on arrival and once applied; can drop pending fault rules."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.stamps: list[Stamp] = []

    def _before(self):
        from flask import g
        g.arrived = time.monotonic()
        return super()._before()

    def _after(self, response):
        from flask import g, request
        response = super()._after(response)
        if "call" in g:
            call = g.call
            body = call.body if isinstance(call.body, dict) else {}
            stamp = Stamp(g.get("arrived", time.monotonic()), time.monotonic(), request.method,
                          request.path, call.query, body, response.status_code)
            with self.lock:
                self.stamps.append(stamp)
        return response

    def take_stamps(self) -> list[Stamp]:
        with self.lock:
            out, self.stamps = self.stamps, []
            return out

    def clear_faults(self) -> None:
        """End a fail_next/hang_next issued with a large count (a fault that lasts a while)."""
        with self.lock:
            self._faults.clear()
            self._hangs.clear()


def call_kind(s: Stamp) -> str:
    path = s.path.removeprefix("/api/v1")
    if re.fullmatch(r"/tickets/\d+", path):
        return f"{s.method} /tickets/{{id}}" + ("?all=true" if s.query.get("all") == "true" else "")
    return f"{s.method} {path}"


def call_ticket(s: Stamp) -> int | None:
    m = re.search(r"/tickets/(\d+)", s.path)
    if m:
        return int(m[1])
    with contextlib.suppress(TypeError, ValueError):
        return int(s.body.get("o_id"))
    return None


def create_ticket(sim: ZammadSimulator, i: int, tag: str) -> int:
    """Ticket i of a run: item i % 11 of the catalog, Chinese and English in turn."""
    zh = i % 2 == 1
    title, body = TEXTS[i % len(TEXTS)][0 if zh else 1]
    name = (NAMES_ZH if zh else NAMES_EN)[i % 4]
    return sim.create_ticket(f"{title} #{tag}{i}", body, f"{tag}{i}@example.com",
                             customer_name=name, organization=ORGS[i % 3])


def first_article(sim: ZammadSimulator, tid: int) -> int:
    with sim.lock:
        return sim.articles[tid][0]["id"]


def notes(sim: ZammadSimulator, tid: int) -> list[str]:
    with sim.lock:
        return [a.get("body") or "" for a in sim.articles.get(tid, [])
                if a.get("subject") == NOTE_SUBJECT]


def enriched(sim: ZammadSimulator, tid: int) -> bool:
    """The plugin's write is on the ticket: enrich_record_quality set and its internal note."""
    with sim.lock:
        has_field = sim.tickets[tid].get("enrich_record_quality") is not None
    return has_field and bool(notes(sim, tid))


def ticket_state(sim: ZammadSimulator, tids: list[int]) -> dict[int, dict]:
    """Per ticket: enriched, its number of plugin notes, and whether 2+ notes are a duplicate
    or a later major-event escalation (a second, different note the design allows)."""
    out = {}
    for tid in tids:
        ns = notes(sim, tid)
        escalation = len(ns) > 1 and len(set(ns)) == len(ns) and all("Major event" in n for n in ns[1:])
        quality = [line for n in ns for line in n.splitlines() if "Record quality" in line]
        out[tid] = {"enriched": enriched(sim, tid), "notes": len(ns),
                    "duplicated": len(ns) > 1 and not escalation, "escalated": escalation,
                    # every ticket here came in by e-mail: a note saying "channel" is missing is wrong
                    "channel_missing": bool(quality) and "channel" in quality[-1]}
    return out


def signed_headers(body: bytes, key: str) -> dict[str, str]:
    return {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Zammad User Agent",
            "X-Zammad-Trigger": "desk-enricher", "X-Zammad-Delivery": key,
            "X-Hub-Signature": c.sign(body)}


def open_ledger(data_dir: Path, db: str):
    from plugin.store import Ledger
    return Ledger(c.database_url(data_dir, db), lock_dir=data_dir)


def wait_for(predicate, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(interval)
        value = predicate()
    return value


def idle(ledger) -> bool:
    counts = ledger.status_counts()
    return not counts.get("queued") and not counts.get("processing")


def fmt_counter(counter: Counter | dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items(), key=lambda kv: str(kv[0]))) or "none"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=1.0, help="how long the service stays down")
    ap.add_argument("--interval", type=float, default=5.0, help="seconds between new tickets")
    ap.add_argument("--latency", type=float, default=0.05, help="seconds the simulator adds per call")
    ap.add_argument("--max-wait", type=float, default=150.0,
                    help="seconds to wait after the restart for the tickets to be enriched "
                         "(the default covers two periodic sweeps)")
    c.add_service_options(ap)
    args = ap.parse_args()
    if args.minutes <= 0 or args.interval <= 0 or args.minutes > 120:
        ap.error("--minutes must be in (0, 120] and --interval > 0")
    c.install_sigterm()
    from plugin.reconcile import position_key

    run_id = uuid.uuid4().hex[:6]
    down_seconds = args.minutes * 60
    n_tickets = max(1, int(down_seconds // args.interval))
    before = c.load_note()
    if args.wait_quiet:
        before = c.wait_quiet(args.wait_quiet) + "; " + before

    extra = {"ENRICHER_RECONCILE_SECONDS": "60"}
    extra.update(e.split("=", 1) for e in args.env)
    key = position_key("zammad")
    r: dict = {}
    with c.temp_dir("bench-downtime-") as work, c.backends(args.queue, args.db), \
            RecordingSimulator(token=c.SIM_TOKEN, latency=args.latency) as sim:
        data_dir = work / "data"
        env = c.service_env(data_dir, sim.base_url, args.queue, args.db, **extra)
        port = c.free_port()
        url = f"http://{c.HOST}:{port}/hooks/zammad"
        first = c.Service([], env, work / "serve-1.log")
        second = c.Service([], env, work / "serve-2.log")
        ledger = None
        try:
            # 1. Up until its first sweep has stored a position.
            t = time.monotonic()
            first.start(port)
            ledger = open_ledger(data_dir, args.db)
            r["pos_before"] = wait_for(lambda: ledger.get(key), 60)
            r["first_sweep_s"] = time.monotonic() - t
            if not r["pos_before"]:
                print(f"no sweep position after 60 s\n{first.log_tail()}")
                return 1
            wait_for(lambda: idle(ledger), 60)          # the start-up sweep's own work
            r["before_counts"] = ledger.status_counts()

            # 2. Stopped with SIGTERM.
            t = time.monotonic()
            first.stop()
            first.proc = None           # stopped and reaped: never signal its group again
            r["stop_s"] = time.monotonic() - t

            # 3. Down: tickets created, their webhooks refused.
            tickets: list[int] = []
            refused, other = 0, Counter()
            down_start = time.monotonic()
            for i in range(n_tickets):
                pause = down_start + i * args.interval - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                tid = create_ticket(sim, i, f"dt{run_id}-")
                tickets.append(tid)
                try:
                    resp = sim.send_webhook(url, c.SECRET, tid, first_article(sim, tid),
                                            delivery=f"down-{run_id}-{tid}")
                    other[resp.status_code] += 1
                except requests.ConnectionError:
                    refused += 1
                except requests.RequestException as exc:
                    other[type(exc).__name__] += 1
            pause = down_start + down_seconds - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            r["down_s"] = time.monotonic() - down_start
            r["refused"], r["other"] = refused, other

            # 4. Up again: the start-up sweep must find every one of them.
            sim.take_stamps()
            restart = time.monotonic()
            r["restart_wall"] = time.time()
            second.start(port)
            r["healthy_s"] = time.monotonic() - restart

            def all_landed() -> bool:
                return all(enriched(sim, tid) for tid in tickets) and idle(ledger)

            wait_for(all_landed, args.max_wait, interval=0.2)
            time.sleep(1.0)              # anything still in flight lands in the stamps
            r["waited_s"] = time.monotonic() - restart
            r["stamps"] = sim.take_stamps()
            r["restart"] = restart
            r["tickets"] = tickets
            r["pos_after"] = ledger.get(key)
            r["deliveries"] = ledger.rows("deliveries")
            r["outcomes"] = ledger.rows("outcomes")
            r["sim_state"] = ticket_state(sim, tickets)
            with sim.lock:
                r["updated"] = {tid: sim.tickets[tid].get("updated_at") for tid in tickets}
        finally:
            if ledger is not None:
                ledger.dispose()
            second.stop()
            first.stop()
            if not r.get("stamps"):
                print(second.log_tail())

    report(args, r, before, n_tickets)
    return 0


def report(args, r: dict, before: str, n_tickets: int) -> None:
    tickets: list[int] = r["tickets"]
    ids = set(tickets)
    stamps: list[Stamp] = r["stamps"]
    restart = r["restart"]
    put_at: dict[int, float] = {}
    last_at: dict[int, float] = {}
    for s in stamps:
        tid = call_ticket(s)
        if tid in ids and s.method != "GET" and s.status < 400:
            last_at[tid] = max(last_at.get(tid, 0.0), s.answered)
            if s.method == "PUT":
                put_at.setdefault(tid, s.answered)
    sim_state = r["sim_state"]
    done = [t for t in tickets if sim_state[t]["enriched"]]
    missed = [t for t in tickets if not sim_state[t]["enriched"]]
    by_count = Counter(sim_state[t]["notes"] for t in tickets)
    duplicated = [t for t in tickets if sim_state[t]["duplicated"]]
    escalated = [t for t in tickets if sim_state[t]["escalated"]]

    ours = [d for d in r["deliveries"] if d["ticket_id"] is not None and int(d["ticket_id"]) in ids]
    by_kind = Counter((d["delivery_key"].split(":", 1)[0] if ":" in d["delivery_key"] else "webhook",
                       d["status"]) for d in ours)
    queued_per_ticket = Counter(int(d["ticket_id"]) for d in ours)
    dids = {d["id"] for d in ours}
    processed = sum(1 for o in r["outcomes"] if o["delivery_id"] in dids)

    kinds: Counter = Counter()
    for s in stamps:
        kinds[call_kind(s)] += 1
    searches = [s for s in stamps if call_kind(s) == "GET /tickets/search"]
    sweeps = sum(1 for s in searches if str(s.query.get("page", "1")) == "1")
    pages = Counter(str(s.query.get("page")) for s in searches)
    all_true = sum(1 for s in stamps if call_kind(s) == "GET /tickets/{id}?all=true"
                   and call_ticket(s) in ids)
    lookups = kinds["GET /ticket_states"] + kinds["GET /ticket_priorities"] + kinds["GET /users/me"]
    sweep_reads = max(0, all_true - processed)
    sweep_total = len(searches) + sweep_reads + lookups
    n = len(tickets)

    print(f"downtime  {args.minutes:g} min down, one ticket every {args.interval:g} s (zh/en), "
          f"simulator latency {args.latency * 1000:.0f} ms/call, queue={args.queue} ledger={args.db}, "
          f"ENRICHER_RECONCILE_SECONDS=60" + (f", --env {' '.join(args.env)}" if args.env else ""))
    print(f"  machine            {before} before the run")
    print(f"before the stop      first sweep position after {r['first_sweep_s']:.1f} s "
          f"({r['pos_before']}); deliveries {r['before_counts'] or {}}")
    print(f"  SIGTERM            service stopped in {r['stop_s']:.1f} s")
    print(f"down                 {r['down_s']:.0f} s: {n} tickets created, webhooks refused "
          f"{r['refused']} of {n} (connection refused)"
          + (f", other answers {dict(r['other'])}" if r["other"] else ""))
    print(f"restart              /healthz after {r['healthy_s']:.1f} s; watched for "
          f"{r['waited_s']:.0f} s (bound {args.max_wait:g} s)")
    print(f"  enriched           {len(done)} of {n} (note + enrich_record_quality on the ticket); "
          f"missed {len(missed)}" + (f": tickets {missed[:20]}{' ...' if len(missed) > 20 else ''}"
                                     if missed else ""))
    if put_at:
        rel = sorted(t - restart for tid, t in put_at.items())
        last = max(last_at.values()) - restart
        print(f"  landed after restart  first PUT {rel[0]:.1f} s, p50 {c.percentile(rel, 50):.1f} s, "
              f"last PUT {rel[-1]:.1f} s, last write (PUT and tags) {last:.1f} s")
    print("  notes per ticket   " + ", ".join(f"{v} ticket(s) with {k}" for k, v in sorted(by_count.items()))
          + "; more than one: "
          f"{sum(v for k, v in by_count.items() if k > 1)}"
          + (f"; duplicated {duplicated}" if duplicated else "")
          + (f"; major-event escalations {escalated}" if escalated else ""))
    wrong = [t for t in tickets if sim_state[t]["channel_missing"]]
    print(f"  record quality     the latest note says 'channel' is missing on {len(wrong)} of {n} "
          f"(all came in by e-mail: create_article_type 'email')")
    print(f"  ledger             deliveries of these tickets by source/status: {fmt_counter(by_kind)}; "
          f"tickets queued more than once: {sum(1 for v in queued_per_ticket.values() if v > 1)}; "
          f"never queued: {len(ids - set(queued_per_ticket))}")
    # Which sweep queued which ticket: a reconcile delivery belongs to the last sweep that
    # started (its page-1 search) before the delivery was stored.
    starts = sorted(s.arrived for s in searches if str(s.query.get("page", "1")) == "1")
    offset = r["restart_wall"] - restart          # wall clock - monotonic
    per_sweep: Counter = Counter()
    for d in ours:
        at = d["received_at"]
        at = at.timestamp() if at.tzinfo else at.replace(tzinfo=UTC).timestamp()
        k = sum(1 for st in starts if st + offset <= at + 0.5)
        per_sweep[k] += 1
    if starts:
        print("  queued by sweep    " + ", ".join(
            f"#{k} (at +{starts[k - 1] - restart:.1f} s): {v}" if k else f"before any sweep: {v}"
            for k, v in sorted(per_sweep.items())))
    print(f"  sweep position     before the stop {r['pos_before']}, at the end {r['pos_after']}")
    if missed:
        upd = sorted(r["updated"][t] or "" for t in missed)
        print(f"  missed tickets     updated_at {upd[0]} .. {upd[-1]}; none of them has a delivery: "
              f"{all(t not in queued_per_ticket for t in missed)}")
    print(f"REST calls after the restart  {sum(kinds.values())} in all: {fmt_counter(kinds)}")
    print(f"  by the sweeps      {sweep_total} ({sweep_total / max(1, n):.2f} per ticket): "
          f"{sweeps} sweep(s), {len(searches)} search call(s) (pages {fmt_counter(pages)}), "
          f"{sweep_reads} GET ?all=true to rebuild payloads, {lookups} lookups (users/me, states, "
          f"priorities)")
    print(f"  by the worker      {processed} deliveries processed: {all_true - sweep_reads} GET ?all=true, "
          f"{kinds['PUT /tickets/{id}']} PUT, {kinds['POST /tags/add']} tags added, "
          f"{kinds['DELETE /tags/remove']} removed")
    print(f"  target zero missed {c.verdict(not missed and not duplicated and n > 0)}"
          + ("" if not duplicated else " (a note was written twice)"))


if __name__ == "__main__":
    sys.exit(main())
