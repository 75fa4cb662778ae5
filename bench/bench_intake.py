"""Intake throughput: signed Zammad webhooks per second durably accepted, and ack latency.

Production path: `desk-enricher serve --no-worker` (gunicorn, serve's default worker
model and number of web workers unless --worker-class / --web-workers say otherwise) in a subprocess, a Zammad
simulator in this process (for /users/me), and
16 concurrent clients posting the real 9 KB fixture, each request with its own
X-Zammad-Delivery and a valid HMAC-SHA1 signature. Every response must be 202, and
every acknowledged delivery key must be in the ledger afterwards (and every accepted
delivery in the queue).

    .venv/bin/python bench/bench_intake.py                       # SQLite queue + ledger
    .venv/bin/python bench/bench_intake.py --queue redis         # Redis db 14 (flushed)
    .venv/bin/python bench/bench_intake.py --db postgres         # PostgreSQL ledger (own schema)
    .venv/bin/python bench/bench_intake.py --client wrk          # wrk as the load generator
    .venv/bin/python bench/bench_intake.py --worker-class sync,gevent,gthread   # each in turn
    .venv/bin/python bench/bench_intake.py --slow-clients 8      # then /healthz while 8 clients stall
    .venv/bin/python bench/bench_intake.py --env PYTHONPATH=/path/to/old/checkout   # a baseline

`--slow-clients N`: after the run, N connections each announce `Content-Length: 1000`,
send 10 bytes and then nothing (issue 9); /healthz is timed --probes times, one after
the other, before and while they hold their connections, and what each slow client
finally got is counted.

Prints figures; never asserts on time.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c

TARGET_RPS = 1000.0
TARGET_P99_MS = 25.0


# -- the Python load generator ------------------------------------------------------
def _request_head(port: int, body_len: int, signature: str) -> bytes:
    return ("POST /hooks/zammad HTTP/1.1\r\n"
            f"Host: {c.HOST}:{port}\r\n"
            "Content-Type: application/json; charset=utf-8\r\n"
            "User-Agent: Zammad User Agent\r\n"
            "X-Zammad-Trigger: desk-enricher\r\n"
            f"X-Hub-Signature: {signature}\r\n"
            f"Content-Length: {body_len}\r\n"
            "Connection: close\r\n").encode()


def _one(port: int, head: bytes, body: bytes, key: str) -> tuple[int, float, float, float]:
    """One webhook on a fresh connection, as Zammad sends them (gunicorn's sync workers
    close every connection anyway). Returns (status, start wall time, end wall time, latency s)."""
    wall = time.time()
    t0 = time.perf_counter()
    status = 0
    try:
        with socket.create_connection((c.HOST, port), timeout=30) as s:
            s.sendall(head + f"X-Zammad-Delivery: {key}\r\n\r\n".encode() + body)
            chunks = []
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        first = b"".join(chunks)[:16]
        if first.startswith(b"HTTP/1."):
            status = int(first[9:12])
    except OSError:
        status = -1
    latency = time.perf_counter() - t0
    return status, wall, wall + latency, latency


def client_process(port: int, body: bytes, signature: str, keys: list[str], threads: int,
                   start_at: float, deadline: float) -> list[tuple[str, int, float, float, float]]:
    """One load-generator process: `threads` threads share `keys` round-robin."""
    head = _request_head(port, len(body), signature)
    delay = start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    out: list[list] = [[] for _ in range(threads)]

    def run(slot: int) -> None:
        for key in keys[slot::threads]:
            if time.time() > deadline:
                break
            out[slot].append((key, *_one(port, head, body, key)))

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return [r for part in out for r in part]


def cpu_seconds_self_and_children() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_python_clients(port, body, signature, keys, procs, threads, max_seconds):
    ctx = multiprocessing.get_context("spawn")   # the simulator's threads live in this process
    start_at = time.time() + 1.5                 # spawned interpreters are up by then
    deadline = start_at + max_seconds
    chunks = [keys[i::procs] for i in range(procs)]
    with cf.ProcessPoolExecutor(max_workers=procs, mp_context=ctx) as pool:
        futures = [pool.submit(client_process, port, body, signature, chunk, threads,
                               start_at, deadline) for chunk in chunks]
        results = [r for f in futures for r in f.result(timeout=max_seconds + 60)]
    return results


# -- wrk ----------------------------------------------------------------------------
WRK_SCRIPT = r"""
wrk.method = "POST"
wrk.path = "/hooks/zammad"
wrk.headers["Content-Type"] = "application/json; charset=utf-8"
wrk.headers["User-Agent"] = "Zammad User Agent"
wrk.headers["X-Zammad-Trigger"] = "desk-enricher"
wrk.headers["X-Hub-Signature"] = "%(signature)s"
local f = assert(io.open("%(body_path)s", "rb"))
wrk.body = f:read("*a")
f:close()

local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

function init(args)
  prefix = args[1]
  ok = 0
  bad = 0
  sent = 0
end

function request()
  sent = sent + 1
  wrk.headers["X-Zammad-Delivery"] = prefix .. tid .. "-" .. sent
  return wrk.format()
end

function response(status, headers, body)
  if status == %(expected)d then ok = ok + 1 else bad = bad + 1 end
end

function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    io.write(string.format("THREAD ok=%%d bad=%%d sent=%%d\n", t:get("ok"), t:get("bad"), t:get("sent")))
  end
  io.write(string.format("LAT p50=%%d p99=%%d max=%%d\n", latency:percentile(50),
                         latency:percentile(99), latency.max))
  local e = summary.errors
  io.write(string.format("SUMMARY us=%%d requests=%%d connect=%%d read=%%d write=%%d timeout=%%d\n",
                         summary.duration, summary.requests, e.connect, e.read, e.write, e.timeout))
end
"""


def run_wrk(port, body_path, signature, seconds, concurrency, threads, prefix, work: Path,
            expected: int = 202):
    """wrk runs for a fixed time (it cannot stop after N requests and still time the run)."""
    script = work / "intake.lua"
    script.write_text(WRK_SCRIPT % {"signature": signature, "body_path": str(body_path),
                                     "expected": expected})
    cmd = ["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{seconds:g}s",
           "--timeout", "30s", "-s", str(script), f"http://{c.HOST}:{port}/", "--", prefix]
    out = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=seconds + 60)
    text = out.stdout + out.stderr
    ok = sum(int(m) for m in re.findall(r"THREAD ok=(\d+)", text))
    bad = sum(int(m) for m in re.findall(r"bad=(\d+)", text))
    sent = sum(int(m) for m in re.findall(r"sent=(\d+)", text))
    lat = re.search(r"LAT p50=(\d+) p99=(\d+) max=(\d+)", text)
    summ = re.search(r"SUMMARY us=(\d+) requests=(\d+) connect=(\d+) read=(\d+) write=(\d+) "
                     r"timeout=(\d+)", text)
    if not (lat and summ):
        raise RuntimeError("could not read wrk's output:\n" + text)
    return {"ok": ok, "bad": bad, "sent": sent, "seconds": int(summ[1]) / 1e6,
            "completed": int(summ[2]), "p50": int(lat[1]) / 1000, "p99": int(lat[2]) / 1000,
            "max": int(lat[3]) / 1000,
            "errors": dict(zip(("connect", "read", "write", "timeout"), map(int, summ.groups()[2:])))}


# -- slow clients -------------------------------------------------------------------
def healthz_ms(port: int, timeout: float = 90) -> tuple[int, float]:
    t0 = time.perf_counter()
    try:
        with socket.create_connection((c.HOST, port), timeout=timeout) as s:
            s.sendall(f"GET /healthz HTTP/1.1\r\nHost: {c.HOST}\r\nConnection: close\r\n\r\n".encode())
            first = s.recv(64)
            while s.recv(65536):
                pass
        status = int(first[9:12]) if first.startswith(b"HTTP/1.") else 0
    except OSError:
        status = -1
    return status, (time.perf_counter() - t0) * 1000


STALLS = {  # what a slow client sends before it stops sending
    "body": b"POST /hooks/zammad HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"ticket\":",
    "headers": b"POST /hooks/zammad HTTP/1.1\r\nHost: x\r\nX-Hub-Sig",
}


def slow_clients(port: int, holders: int, probes: int, stall: str = "body") -> dict:
    """/healthz latency, one probe after the other, while `holders` connections each
    stop sending halfway: in the body (announce 1,000 bytes, send 10, as in issue 9)
    or in the headers."""
    quiet = sorted(healthz_ms(port)[1] for _ in range(probes))
    socks, unconnected = [], 0
    for _ in range(holders):
        try:
            s = socket.create_connection((c.HOST, port), timeout=5)
            s.sendall(STALLS[stall])
            socks.append(s)
        except OSError:                  # the server no longer accepts: that is the finding
            unconnected += 1
    time.sleep(0.5)                      # the server has read their headers by now
    t0 = time.monotonic()
    held = []
    for _ in range(probes):
        held.append(healthz_ms(port, timeout=35))
        if held[-1][0] == -1:            # no answer in 35 s: the server is stuck, stop probing
            break
    deadline = t0 + 45
    answers = []
    for s in socks:                      # what each holder got by 45 s after they stalled
        try:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            answers.append(int(s.recv(64)[9:12] or 0))
        except (OSError, ValueError):
            answers.append(-1)
        finally:
            s.close()
    lat = sorted(ms for _, ms in held)
    return {"quiet": quiet, "held": lat, "statuses": sorted({st for st, _ in held}),
            "holder_answers": {a: answers.count(a) for a in sorted(set(answers))},
            "unconnected": unconnected}


def print_slow(result: dict, holders: int, stall: str) -> None:
    q, h = result["quiet"], result["held"]
    print(f"  /healthz ms quiet  p50 {c.percentile(q, 50):.1f}   max {q[-1]:.1f}   ({len(q)} probes)")
    print(f"  /healthz ms held   p50 {c.percentile(h, 50):.1f}   max {h[-1]:.1f}   while {holders} "
          f"clients stalled in the {stall} hold connections; statuses {result['statuses']}")
    print(f"  slow clients got   {result['holder_answers']} "
          "(status: count; 0 = closed unanswered, -1 = no answer in 45 s)"
          + (f"; {result['unconnected']} could not connect in 5 s" if result["unconnected"] else ""))


def run_each_worker_class(classes: list[str]) -> int:
    """One run of this script per worker class, one after the other on the same machine."""
    argv = sys.argv[1:]
    if "--worker-class" in argv:
        i = argv.index("--worker-class")
        del argv[i:i + 2]
    argv = [a for a in argv if not a.startswith("--worker-class=")]
    code = 0
    for wc in classes:
        print(f"=== --worker-class {wc}", flush=True)
        run = subprocess.run([sys.executable, __file__, *argv, "--worker-class", wc], check=False)
        code |= run.returncode
    return code


# -- ledger and queue checks --------------------------------------------------------
def ledger_keys(url: str, prefix: str) -> set[str]:
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT delivery_key FROM deliveries WHERE platform = 'zammad' "
                                     "AND delivery_key LIKE :p"), {"p": prefix + "%"})
            return {r[0] for r in rows}
    finally:
        engine.dispose()


def queued_tasks(url: str) -> int | str:
    try:
        from plugin.queue import make_huey
        huey = make_huey(url)
        return huey.pending_count()
    except Exception as exc:  # noqa: BLE001 (the count is informative only)
        return f"n/a ({type(exc).__name__})"


# -- main ---------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--requests", type=int, default=5000)
    ap.add_argument("--warmup", type=int, default=200, help="requests before measuring")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--procs", type=int, default=2, help="load-generator processes (python client)")
    ap.add_argument("--client", choices=["python", "wrk"], default="python")
    ap.add_argument("--web-workers", type=int, default=None,
                    help="serve's --web-workers (default: serve's own)")
    ap.add_argument("--worker-class", default=None,
                    help="serve's --worker-class (default: serve's own); a comma list runs each in turn")
    ap.add_argument("--threads", type=int, default=None, help="serve's --threads (gthread)")
    ap.add_argument("--slow-clients", type=int, default=0, metavar="N",
                    help="after the run, time /healthz while N clients stall mid-body")
    ap.add_argument("--probes", type=int, default=20, help="/healthz probes for --slow-clients")
    ap.add_argument("--stall", choices=sorted(STALLS), default="body",
                    help="where the slow clients stop sending")
    ap.add_argument("--stage", choices=["store", "parse"], default="store",
                    help="parse: send the plugin's own update (verify + parse, 200 ignored, "
                         "nothing stored) to see the cost of storing by difference")
    ap.add_argument("--max-seconds", type=float, default=90, help="stop sending after this long")
    ap.add_argument("--wrk-seconds", type=float, default=5, help="run length with --client wrk "
                    "(wrk sends for a fixed time, not a fixed count)")
    c.add_service_options(ap)
    ap.add_argument("--keep-log", action="store_true", help="print the service log at the end")
    args = ap.parse_args()
    if args.worker_class and "," in args.worker_class:
        return run_each_worker_class(args.worker_class.split(","))
    if args.client == "wrk" and not shutil.which("wrk"):
        ap.error("wrk is not installed (apt-get install -y wrk)")
    c.install_sigterm()

    from plugin.simulators.zammad import ZammadSimulator

    body = c.FIXTURE_01.read_bytes()
    expected = 202
    if args.stage == "parse":
        # The same event as the plugin's own update: verified, parsed, answered 200
        # "ignored", nothing stored. The difference to the default is the cost of storing.
        from plugin.simulators.zammad_payload import BOT_ID
        doc = json.loads(body)
        doc["ticket"]["updated_by_id"] = BOT_ID
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
        expected = 200
    signature = c.sign(body)
    run_id = uuid.uuid4().hex[:8]
    prefix = f"bench-{run_id}-"
    port = c.free_port()
    before = c.load_note()
    if args.wait_quiet:
        before = c.wait_quiet(args.wait_quiet) + "; " + before

    with c.temp_dir("bench-intake-") as work, c.backends(args.queue, args.db), \
            ZammadSimulator(token=c.SIM_TOKEN) as sim:
        data_dir = work / "data"
        env = c.service_env(data_dir, sim.base_url, args.queue, args.db,
                            **dict(e.split("=", 1) for e in args.env))
        model = (["--worker-class", args.worker_class] if args.worker_class else []) + (
            ["--threads", str(args.threads)] if args.threads else [])
        model += ["--web-workers", str(args.web_workers)] if args.web_workers else []
        service = c.Service(["--no-worker", *model], env,
                            work / "serve.log")
        with service:
            service.start(port)
            # Warm-up: every gunicorn worker has its connections open and its code hot.
            warm = [f"warm-{run_id}-{i}" for i in range(args.warmup)]
            head = _request_head(port, len(body), signature)
            with cf.ThreadPoolExecutor(args.concurrency) as pool:
                warm_status = list(pool.map(lambda k: _one(port, head, body, k)[0], warm))
            if any(s != expected for s in warm_status):
                print(f"warm-up answers: {sorted(set(warm_status))}\n{service.log_tail()}")
                return 1

            cpu0_srv = service.group_cpu_seconds()
            cpu0_gen = cpu_seconds_self_and_children()
            busy0 = c.machine_busy_seconds()
            servers0 = c.server_cpu_seconds()
            if args.client == "python":
                keys = [f"{prefix}{i}" for i in range(args.requests)]
                threads = max(1, args.concurrency // args.procs)
                results = run_python_clients(port, body, signature, keys, args.procs, threads,
                                             args.max_seconds)
                if not results:
                    print("no request was sent before --max-seconds ran out")
                    return 1
                acked = {r[0] for r in results if r[1] == expected}
                statuses: dict[int, int] = {}
                for r in results:
                    statuses[r[1]] = statuses.get(r[1], 0) + 1
                lat = sorted(r[4] * 1000 for r in results)
                seconds = max(r[3] for r in results) - min(r[2] for r in results)
                sent, ok = len(results), len(acked)
                p50, p99, pmax = c.percentile(lat, 50), c.percentile(lat, 99), lat[-1]
                gen_note = f"python: {args.procs} processes x {threads} threads, new connection each"
            else:
                body_path = work / "body.json"
                body_path.write_bytes(body)
                w = run_wrk(port, body_path, signature, args.wrk_seconds, args.concurrency, 2,
                            prefix, work, expected)
                seconds, ok, sent = w["seconds"], w["ok"], w["sent"]
                p50, p99, pmax = w["p50"], w["p99"], w["max"]
                statuses = {expected: w["ok"], "other": w["bad"]}
                acked = None
                gen_note = (f"wrk: 2 threads x {args.concurrency} connections for {args.wrk_seconds:g} s; "
                            f"socket errors {w['errors']}")
            cpu_srv = (service.group_cpu_seconds() or 0) - (cpu0_srv or 0)
            cpu_gen = cpu_seconds_self_and_children() - cpu0_gen
            cpu_servers = c.server_cpu_seconds() - servers0
            cpu_other = c.machine_busy_seconds() - busy0 - cpu_srv - cpu_gen - cpu_servers
            slow = (slow_clients(port, args.slow_clients, args.probes, args.stall)
                    if args.slow_clients else None)
            log_tail = service.log_tail() if args.keep_log else ""
        # The service is stopped: every acknowledged delivery must be in the ledger.
        keys_in_ledger = ledger_keys(c.database_url(data_dir, args.db), prefix)
        pending = queued_tasks(c.queue_url(data_dir, args.queue))

    rps = ok / seconds if seconds > 0 else float("nan")
    if args.stage == "parse":
        lost = len(keys_in_ledger)   # nothing may be stored for an ignored event
    else:
        lost = (len(acked - keys_in_ledger) if acked is not None
                else max(0, ok - len(keys_in_ledger)))
    print(f"intake  stage={args.stage} queue={args.queue} ledger={args.db} web-workers={args.web_workers or 'default'} "
          f"worker-class={args.worker_class or 'default'} concurrency={args.concurrency} body={len(body)} B")
    print(f"  machine            {before} before the run")
    print(f"  load generator     {gen_note}")
    print(f"  requests           {sent} sent, {ok} answered {expected}, statuses {statuses}")
    print(f"  seconds            {seconds:.2f}")
    print(f"  req/s ({expected})        {rps:,.0f}")
    print(f"  ack latency ms     p50 {p50:.1f}   p99 {p99:.1f}   max {pmax:.1f}")
    if args.stage == "parse":
        print(f"  ledger rows        {len(keys_in_ledger)} of this run (expected 0: ignored events "
              "are not stored)")
    else:
        print(f"  ledger rows        {len(keys_in_ledger)} of this run ("
              + ("all acknowledged keys present" if lost == 0 else f"{lost} ACKNOWLEDGED KEYS MISSING")
              + ")")
    want = 0 if args.stage == "parse" else f"at least {ok + args.warmup}"
    print(f"  queued tasks       {pending} (expected {want}: run and warm-up, nothing consumes them)")
    if seconds > 0:
        servers = (f", PostgreSQL/Redis servers {cpu_servers / seconds:.2f}"
                   if args.queue == "redis" or args.db == "postgres" else "")
        print(f"  CPU, cores         service {cpu_srv / seconds:.2f}{servers}, load generator "
              f"{cpu_gen / seconds:.2f}, other processes and kernel "
              f"{max(0.0, cpu_other) / seconds:.2f} (of {os.cpu_count()})")
        print(f"  CPU per request    service {cpu_srv / max(ok, 1) * 1000:.2f} ms"
              + (f", + servers {cpu_servers / max(ok, 1) * 1000:.2f} ms" if servers else ""))
    print(f"  target >= {TARGET_RPS:.0f}/s     {c.verdict(rps >= TARGET_RPS)}")
    print(f"  target p99 < {TARGET_P99_MS:.0f} ms   {c.verdict(p99 < TARGET_P99_MS)}")
    if slow:
        print_slow(slow, args.slow_clients, args.stall)
    if log_tail:
        print("--- service log (tail) ---\n" + log_tail)
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
