"""Platform outage: webhooks accepted while Zammad fails are all enriched once it is back.

`desk-enricher serve` (intake and worker) runs against a Zammad simulator in this
process (50 ms per REST call). In each phase the platform fails for S seconds while
the webhooks of N new tickets (Chinese and English in turn) arrive at a steady rate
and are accepted (202); then it recovers, and the bench measures how long until all
are enriched, that none is missed, that each ticket has exactly one plugin note, the
tries each delivery took (ledger `deliveries.attempts`) and that none became a dead
letter. One more ticket gets two webhooks during the fault (at S/4 and S/2): both
deliveries must end `done`, the ticket with one note (per-ticket order).

Phases (each with a fresh service and ledger, one simulator):
  503      every REST call answers 503 (sim.set_down) for --seconds
  timeout  every REST call hangs --hang s (sim.hang_next) for --timeout-seconds, with
           ENRICHER_HTTP_TIMEOUT=--http-timeout, so every call times out
  429      every REST call answers 429 with Retry-After --retry-after (sim.fail_next) for
           --limit-seconds

The retry settings in effect (ENRICHER_MAX_ATTEMPTS, ENRICHER_RETRY_BASE_SECONDS,
ENRICHER_RETRY_MAX_SECONDS: defaults 6, 2 s, 300 s) decide whether a delivery that
arrives as the fault begins still has a try left when it ends; the bench computes and
prints that before each phase. The reconciler is off (ENRICHER_RECONCILE_SECONDS=0)
unless --reconcile: its sweep would enrich a dead-lettered ticket anyway and hide it.

    .venv/bin/python bench/bench_outage.py                         # 60 s per phase, ~5 minutes
    .venv/bin/python bench/bench_outage.py --phases 503 --seconds 120 \\
        --env ENRICHER_MAX_ATTEMPTS=7                              # a longer outage

Prints figures; never asserts on time.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c
from bench_downtime import (
    RecordingSimulator,
    Stamp,
    call_ticket,
    create_ticket,
    enriched,
    first_article,
    fmt_counter,
    idle,
    notes,
    open_ledger,
    signed_headers,
    ticket_state,
    wait_for,
)

PHASES = ("503", "timeout", "429")
FOREVER = 10 ** 9     # a fault rule's count; the phase ends it with clear_faults()
URLLIB3_BACKOFF = 0.2  # plugin/hooks/rest.py RestClient(backoff=0.2)


def try_schedule(max_attempts: int, base: float, cap: float, retry_after: float | None) -> list[float]:
    """The waits between tries, from the plugin's own backoff()."""
    from plugin.queue import backoff
    return [backoff(k, base, cap, retry_after) for k in range(1, max_attempts)]


def attempt_seconds(phase: str, settings, latency: float, hang: float) -> float:
    """How long one failing try takes (its first call to its error)."""
    if phase == "503":
        # urllib3 resends a 503 http_retries times, sleeping 0, 0.4, 0.8 ... s in between
        sleeps = sum(URLLIB3_BACKOFF * 2 ** (j - 1) for j in range(2, settings.http_retries + 1))
        return (1 + settings.http_retries) * latency + sleeps
    if phase == "timeout":
        return min(settings.http_timeout, latency + hang)   # a read timeout is not resent
    return latency


def survival(phase: str, settings, fault_s: float, latency: float, hang: float,
             retry_after: float | None) -> dict:
    """Does a delivery that arrives as the fault begins still get a try after it ends?"""
    waits = try_schedule(settings.max_attempts, settings.retry_base_seconds,
                         settings.retry_max_seconds, retry_after)
    each = attempt_seconds(phase, settings, latency, hang)
    last_try = sum(waits) + len(waits) * each        # when the last try starts
    needed = None
    for attempts in range(1, 51):                     # settings allow up to 50
        w = try_schedule(attempts, settings.retry_base_seconds, settings.retry_max_seconds, retry_after)
        if sum(w) + len(w) * each > fault_s:
            needed = attempts
            break
    return {"waits": waits, "each": each, "last_try": last_try, "survives": last_try > fault_s,
            "margin": last_try - fault_s, "needed_attempts": needed}


def send(session: requests.Session, url: str, body: bytes, key: str) -> int | str:
    try:
        return session.post(url, data=body, headers=signed_headers(body, key), timeout=10).status_code
    except requests.RequestException as exc:
        return type(exc).__name__


def log_events(path: Path) -> Counter:
    """The service log's retry / dead-letter / failure events, by error key."""
    out: Counter = Counter()
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        event = rec.get("event")
        if event in ("retry", "dead_letter"):
            out[f"{event} {rec.get('error')}"] += 1
        elif rec.get("level") == "ERROR":
            out[f"error {event}"] += 1
    return out


def run_phase(phase: str, args, sim: RecordingSimulator, work: Path, run_id: str) -> dict:
    from plugin.settings import load_settings

    fault_s = {"503": args.seconds, "timeout": args.timeout_seconds, "429": args.limit_seconds}[phase]
    data_dir = work / f"data-{phase}"
    extra = {} if args.reconcile else {"ENRICHER_RECONCILE_SECONDS": "0"}
    if phase == "timeout":
        extra["ENRICHER_HTTP_TIMEOUT"] = str(args.http_timeout)
    extra.update(e.split("=", 1) for e in args.env)
    env = c.service_env(data_dir, sim.base_url, args.queue, args.db, **extra)
    settings = load_settings(environ=env)
    retry_after = args.retry_after if phase == "429" else None
    budget = survival(phase, settings, fault_s, args.latency, args.hang, retry_after)
    r: dict = {"phase": phase, "fault_s": fault_s, "settings": settings, "budget": budget,
               "extra": extra}
    port = c.free_port()
    url = f"http://{c.HOST}:{port}/hooks/zammad"
    log_path = work / f"serve-{phase}.log"
    prefix = f"{phase}-{run_id}-"
    service = c.Service([], env, log_path)
    ledger = None
    try:
        with requests.Session() as session:
            service.start(port)
            ledger = open_ledger(data_dir, args.db)
            # Warm-up: the worker learns its bot id and opens its connections.
            wtid = sim.create_ticket("Warm-up", "Warm-up ticket, nothing to do.",
                                     f"warm-{prefix}@example.com")
            send(session, url, sim.webhook_body(wtid, first_article(sim, wtid)), f"warm-{prefix}")
            if not wait_for(lambda: ledger.status_counts().get("done"), 30):
                raise RuntimeError(f"warm-up delivery did not finish\n{service.log_tail()}")
            sim.take_stamps()

            # The fault, and the webhooks that arrive during it.
            events = [(i * fault_s / args.tickets, "ticket", i) for i in range(args.tickets)]
            events += [(fault_s / 4 + 0.01, "pair-a", args.tickets), (fault_s / 2 + 0.01, "pair-b", None)]
            events.sort(key=lambda e: e[0])
            tickets: list[int] = []
            pair = None
            answers: Counter = Counter()
            if phase == "503":
                sim.set_down(True)
            elif phase == "timeout":
                sim.hang_next(FOREVER, args.hang)
            else:
                sim.fail_next(FOREVER, status=429, retry_after=args.retry_after)
            t0 = time.monotonic()
            for at, kind, i in events:
                pause = t0 + at - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                if kind == "ticket":
                    tid = create_ticket(sim, i, f"{prefix}")
                    tickets.append(tid)
                    answers[send(session, url, sim.webhook_body(tid, first_article(sim, tid)),
                                 f"{prefix}{tid}")] += 1
                elif kind == "pair-a":
                    pair = create_ticket(sim, i, f"{prefix}pair-")
                    answers[send(session, url, sim.webhook_body(pair, first_article(sim, pair)),
                                 f"{prefix}pair-a")] += 1
                else:
                    # A second webhook for the same ticket (an update that changes nothing we
                    # look at): its own delivery, to be processed after the first.
                    answers[send(session, url, sim.webhook_body(pair), f"{prefix}pair-b")] += 1
            pause = t0 + fault_s - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            if phase == "503":
                sim.set_down(False)
            else:
                sim.clear_faults()
            t_end = time.monotonic()
            r["sent_s"] = t_end - t0
            all_tickets = tickets + [pair]

            # Recovery: until every delivery is finished (done or dead) and every ticket written.
            bound = t_end + min(900.0, budget["last_try"] + settings.max_attempts * 1.5 + 60)

            def finished() -> bool:
                return idle(ledger)
            wait_for(finished, max(0.0, bound - time.monotonic()), interval=0.1)
            r["finished_s"] = time.monotonic() - t_end
            wait_for(lambda: all(enriched(sim, t) for t in all_tickets),
                     max(0.0, bound - time.monotonic()), interval=0.1)
            time.sleep(1.0)          # anything still in flight lands in the stamps
            r["stamps"] = sim.take_stamps()
            r["t0"], r["t_end"] = t0, t_end
            r["answers"] = answers
            r["tickets"], r["pair"] = tickets, pair
            r["state"] = ticket_state(sim, all_tickets)
            r["notes_of"] = {t: notes(sim, t) for t in all_tickets}
            r["deliveries"] = [d for d in ledger.rows("deliveries")
                               if d["delivery_key"].startswith(prefix)
                               or d["delivery_key"].startswith("reconcile:")
                               and d["ticket_id"] is not None and int(d["ticket_id"]) in all_tickets]
    finally:
        if ledger is not None:
            ledger.dispose()
        service.stop()
    r["log"] = log_events(log_path)
    r["prefix"] = prefix
    return r


def report_phase(r: dict, args) -> dict[str, bool]:
    phase, s, b = r["phase"], r["settings"], r["budget"]
    tickets, pair = r["tickets"], r["pair"]
    all_tickets = tickets + [pair]
    ids = set(all_tickets)
    stamps: list[Stamp] = r["stamps"]
    t0, t_end = r["t0"], r["t_end"]
    desc = {"503": f"every REST call answers 503 (sim.set_down) for {r['fault_s']:g} s",
            "timeout": f"every REST call hangs {args.hang:g} s (sim.hang_next) for {r['fault_s']:g} s, "
                       f"ENRICHER_HTTP_TIMEOUT={s.http_timeout:g}",
            "429": f"every REST call answers 429 Retry-After {args.retry_after:g} (sim.fail_next) "
                   f"for {r['fault_s']:g} s"}[phase]
    print(f"phase {phase}: {desc}")
    env_note = ", ".join(f"{k}={v}" for k, v in r["extra"].items())
    print(f"  service env        {env_note or 'defaults'}; ENRICHER_MAX_ATTEMPTS={s.max_attempts}, "
          f"retry base {s.retry_base_seconds:g} s, cap {s.retry_max_seconds:g} s, "
          f"ENRICHER_HTTP_RETRIES={s.http_retries}")
    waits = ", ".join(f"{w:g}" for w in b["waits"])
    print(f"  retry budget       waits between tries {waits} s = {sum(b['waits']):g} s, plus "
          f"{len(b['waits'])} failing tries of ~{b['each']:.2f} s: a delivery arriving as the "
          f"fault begins gets its last try at ~{b['last_try']:.1f} s -> survives a "
          f"{r['fault_s']:g} s fault: {'yes' if b['survives'] else 'NO'} "
          f"(margin {b['margin']:+.1f} s; tries needed: {b['needed_attempts']})")

    answers = r["answers"]
    n_sent = sum(answers.values())
    print(f"  webhooks           {n_sent} sent during the fault ({len(tickets)} tickets + 2 for one "
          f"ticket), accepted 202: {answers.get(202, 0)}"
          + (f", other { {k: v for k, v in answers.items() if k != 202} }"
             if set(answers) - {202} else ""))

    during = [x for x in stamps if t0 <= x.arrived <= t_end]
    after = [x for x in stamps if x.arrived > t_end]
    answered = Counter(x.status for x in during)
    if phase == "timeout":   # the simulator answers (and applies) a hung call after the client gave up
        answered = Counter("hung" if x.answered - x.arrived >= min(args.hang, s.http_timeout) else x.status
                           for x in during)
    print(f"  REST calls         during the fault {len(during)} "
          f"(answers {fmt_counter(answered)}); "
          f"after it {len(after)} ({fmt_counter(Counter(x.status for x in after))})")

    put_at: dict[int, float] = {}
    for x in stamps:
        tid = call_ticket(x)
        if tid in ids and x.method == "PUT" and x.status < 400:
            put_at.setdefault(tid, x.answered)
    state = r["state"]
    missed = [t for t in all_tickets if not state[t]["enriched"]]
    notes = Counter(state[t]["notes"] for t in all_tickets)
    not_one = [t for t in all_tickets if state[t]["notes"] != 1]
    escalated = [t for t in all_tickets if state[t]["escalated"]]
    if put_at:
        rel = sorted(t - t_end for t in put_at.values())
        print(f"  recovery           all deliveries finished {r['finished_s']:.1f} s after the fault ended; "
              f"PUTs landed from {rel[0]:+.1f} s, p50 {c.percentile(rel, 50):+.1f} s, last {rel[-1]:+.1f} s")
    print(f"  enriched           {len(all_tickets) - len(missed)} of {len(all_tickets)}; missed {len(missed)}"
          + (f": {missed}" if missed else ""))
    print("  notes per ticket   " + ", ".join(f"{v} ticket(s) with {k}" for k, v in sorted(notes.items()))
          + (f"; major-event escalations {escalated}" if escalated else ""))

    wrong = [t for t in all_tickets if state[t]["channel_missing"]]
    if wrong:
        print(f"  record quality     the latest note says 'channel' is missing on {len(wrong)} of "
              f"{len(all_tickets)} (all came in by e-mail)")
    dup = next((t for t in all_tickets if state[t]["notes"] > 1), None)
    if dup is not None:
        print(f"  e.g. ticket {dup}     " + "\n                     ".join(
            n.replace("\n", " | ")[:160] for n in r["notes_of"][dup]))
    dels = r["deliveries"]
    webhook = [d for d in dels if d["delivery_key"].startswith(r["prefix"])]
    attempts = [d["attempts"] for d in webhook]
    statuses = Counter(d["status"] for d in webhook)
    dead = [d for d in webhook if d["status"] == "dead"]
    reconciled = [d for d in dels if d["delivery_key"].startswith("reconcile:")]
    if attempts:
        print(f"  tries / delivery   max {max(attempts)}, mean {sum(attempts) / len(attempts):.2f} "
              f"(ledger deliveries.attempts; tries: deliveries {fmt_counter(Counter(attempts))})")
    print(f"  deliveries         {fmt_counter(statuses)}; dead letters {len(dead)}"
          + (f" (tickets {[d['ticket_id'] for d in dead]}: {dead[0]['last_error']})" if dead else "")
          + (f"; reconciler deliveries {fmt_counter(Counter(d['status'] for d in reconciled))}"
             if reconciled else ""))
    if r["log"]:
        print(f"  service log        {fmt_counter(r['log'])}")
    pa = next((d for d in webhook if d["delivery_key"].endswith("pair-a")), None)
    pb = next((d for d in webhook if d["delivery_key"].endswith("pair-b")), None)
    pair_ok = bool(pa and pb and pa["status"] == pb["status"] == "done" and state[pair]["notes"] == 1)
    print(f"  same ticket twice  ticket {pair}: first delivery "
          f"{pa and pa['status']} ({pa and pa['attempts']} tries), second {pb and pb['status']} "
          f"({pb and pb['attempts']} tries), notes {state[pair]['notes']} -> {c.verdict(pair_ok)}")
    verdicts = {"zero missed": not missed and answers.get(202, 0) == n_sent,
                "one note each": not not_one, "no dead letter": not dead, "per-ticket order": pair_ok}
    print("  targets            " + "   ".join(f"{k} {c.verdict(v)}" for k, v in verdicts.items()))
    return verdicts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="how long the 503 outage lasts")
    ap.add_argument("--timeout-seconds", type=float, default=None,
                    help="how long calls hang in the timeout phase (default: --seconds)")
    ap.add_argument("--limit-seconds", type=float, default=None,
                    help="how long the 429 phase lasts (default: --seconds)")
    ap.add_argument("-n", "--tickets", type=int, default=30, help="tickets per phase")
    ap.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated, of {', '.join(PHASES)}")
    ap.add_argument("--http-timeout", type=float, default=1.0,
                    help="ENRICHER_HTTP_TIMEOUT in the timeout phase")
    ap.add_argument("--hang", type=float, default=3.0, help="seconds each call hangs in the timeout phase")
    ap.add_argument("--retry-after", type=float, default=10.0, help="Retry-After of the 429 phase, seconds")
    ap.add_argument("--latency", type=float, default=0.05, help="seconds the simulator adds per call")
    ap.add_argument("--reconcile", action="store_true",
                    help="leave the reconciler on (service default, a sweep every 5 min)")
    c.add_service_options(ap)
    args = ap.parse_args()
    args.timeout_seconds = args.seconds if args.timeout_seconds is None else args.timeout_seconds
    args.limit_seconds = args.seconds if args.limit_seconds is None else args.limit_seconds
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if not phases or set(phases) - set(PHASES):
        ap.error(f"--phases: choose from {', '.join(PHASES)}")
    if not 1 <= args.tickets <= 1000 or not 0 < args.seconds <= 1800:
        ap.error("--tickets must be 1..1000 and --seconds in (0, 1800]")
    if args.hang <= args.http_timeout:
        ap.error("--hang must be longer than --http-timeout, or nothing times out")
    c.install_sigterm()

    run_id = uuid.uuid4().hex[:6]
    before = c.load_note()
    if args.wait_quiet:
        before = c.wait_quiet(args.wait_quiet) + "; " + before
    results = []
    with c.temp_dir("bench-outage-") as work, c.backends(args.queue, args.db), \
            RecordingSimulator(token=c.SIM_TOKEN, latency=args.latency) as sim:
        for phase in phases:
            results.append(run_phase(phase, args, sim, work, run_id))
    print(f"outage  {args.tickets} tickets per phase (zh/en) + one ticket with two webhooks, "
          f"simulator latency {args.latency * 1000:.0f} ms/call, queue={args.queue} ledger={args.db}, "
          f"reconciler {'on (service default)' if args.reconcile else 'off'}")
    print(f"  machine            {before} before the run")
    summary = {}
    for r in results:
        summary[r["phase"]] = report_phase(r, args)
    print("summary              " + "; ".join(
        f"{p}: {c.verdict(all(v.values()))}" for p, v in summary.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
