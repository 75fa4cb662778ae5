"""Shared pieces of the benchmarks: ports, the service subprocess, the simulator,
signing, percentiles, and cleaning the queue and the ledger.

Everything here talks to 127.0.0.1 only, and every wait is bounded in time.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Self

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ENRICHER_SHARED_DIR") or REPO.parent / "shared")
ZAMMAD_FIXTURES = SHARED / "platforms" / "zammad" / "fixtures"
FIXTURE_01 = ZAMMAD_FIXTURES / "01_ticket_create_customer_email.compact.json"

HOST = "127.0.0.1"
SIM_TOKEN = "sim.token"
SECRET = "bench-webhook-secret-0123456789"
# Not db 15: the test suite (tests/conftest.py) flushes db 15 before its Redis tests and runs
# workers on it under the same huey queue name, so a bench there and a test run at the same
# time eat each other's tasks. ENRICHER_BENCH_REDIS_URL overrides.
REDIS_URL = os.environ.get("ENRICHER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "bench_enricher"


def bin_path(name: str) -> str:
    """A console script of the venv this interpreter runs in."""
    return str(Path(sys.executable).with_name(name))


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list (p in 0..100)."""
    if not sorted_values:
        return float("nan")
    k = math.ceil(p / 100 * len(sorted_values)) - 1
    return sorted_values[max(0, min(len(sorted_values) - 1, k))]


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used so far (Linux /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def busy_cores(seconds: float = 2.0) -> float:
    """How many cores the whole machine keeps busy over the next `seconds`."""
    b0, t0 = machine_busy_seconds(), time.monotonic()
    time.sleep(seconds)
    return (machine_busy_seconds() - b0) / (time.monotonic() - t0)


def wait_quiet(max_wait: float, threshold: float = 0.3) -> str:
    """On a shared machine: wait (at most max_wait s) until others leave the CPUs alone."""
    deadline = time.monotonic() + max_wait
    busy = busy_cores()
    while busy > threshold and time.monotonic() < deadline:
        busy = busy_cores()
    state = "quiet" if busy <= threshold else "NOT quiet"
    return f"{state}: {busy:.2f} cores busy before the run"


SERVER_NAMES = ("postgres", "redis-server")


def proc_stats():
    """(comm, stat fields after the name) of every process, from /proc (Linux)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        yield stat[stat.find("(") + 1:stat.rfind(")")], stat.rsplit(")", 1)[1].split()


def cpu_seconds(fields: list[str]) -> float:
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")   # utime, stime


def server_cpu_seconds() -> float:
    """user+system CPU used so far by the local PostgreSQL and Redis server processes."""
    return sum(cpu_seconds(f) for comm, f in proc_stats() if comm in SERVER_NAMES)


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def install_sigterm() -> None:
    """SIGTERM to the bench runs its `finally` blocks, so children and temp dirs go too."""
    def _raise(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, _raise)


@contextlib.contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# -- backends ---------------------------------------------------------------------
def pg_url() -> str:
    # A private schema (search_path) keeps the bench away from the test suite's tables
    # in the shared `test` database; it is dropped afterwards.
    return f"{PG_BASE}?options=-csearch_path%3D{PG_SCHEMA}"


def pg_reset(create: bool) -> None:
    from sqlalchemy import create_engine, text
    engine = create_engine(PG_BASE)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
            if create:
                conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    finally:
        engine.dispose()


def redis_flush() -> None:
    import redis
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


def service_env(data_dir: Path, sim_url: str, queue: str, db: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENRICHER_")}
    env.update(ENRICHER_DATA_DIR=str(data_dir), ENRICHER_ZAMMAD_URL=sim_url,
               ENRICHER_ZAMMAD_TOKEN=SIM_TOKEN, ENRICHER_ZAMMAD_WEBHOOK_SECRET=SECRET,
               ENRICHER_LOG_LEVEL="WARNING")
    if queue == "redis":
        env["ENRICHER_QUEUE_URL"] = REDIS_URL
    if db == "postgres":
        env["ENRICHER_DATABASE_URL"] = pg_url()
    env.update(extra)
    return env


def database_url(data_dir: Path, db: str) -> str:
    return pg_url() if db == "postgres" else f"sqlite:///{data_dir / 'ledger.db'}"


def queue_url(data_dir: Path, queue: str) -> str:
    return REDIS_URL if queue == "redis" else f"sqlite:///{data_dir / 'queue.db'}"


@contextlib.contextmanager
def backends(queue: str, db: str) -> Iterator[None]:
    """Clean the bench Redis db / the private PostgreSQL schema before and after a run."""
    if queue == "redis":
        redis_flush()
    if db == "postgres":
        pg_reset(create=True)
    try:
        yield
    finally:
        if queue == "redis":
            with contextlib.suppress(Exception):
                redis_flush()
        if db == "postgres":
            with contextlib.suppress(Exception):
                pg_reset(create=False)


# -- the service ------------------------------------------------------------------
class Service:
    """`desk-enricher serve` as a subprocess in its own process group."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path):
        self.args, self.env, self.log_path = args, env, log_path
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self, port: int, timeout: float = 60.0) -> Self:
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen([bin_path("desk-enricher"), "serve", "--port", str(port),
                                      *self.args], env=self.env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"desk-enricher serve exited with {self.proc.returncode}:\n"
                                   + self.log_tail())
            try:
                with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("desk-enricher serve did not answer /healthz in time:\n" + self.log_tail())

    def log_tail(self, n: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        return ""

    def stop(self) -> None:
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.terminate()          # gunicorn stops its workers; serve stops its queue worker
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        if proc is not None:
            # Anything of ours left in the group (the group id is our child's pid).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        if self._log is not None:
            self._log.close()
            self._log = None

    def group_cpu_seconds(self) -> float | None:
        """user+system CPU of every live process in the service's process group (Linux)."""
        if self.proc is None:
            return None
        return sum(cpu_seconds(f) for _, f in proc_stats() if int(f[2]) == self.proc.pid)  # pgrp

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def add_service_options(ap, env_example: str = "") -> None:
    """The options every service benchmark shares: backends, a quiet machine, extra env."""
    ap.add_argument("--queue", choices=["sqlite", "redis"], default="sqlite")
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                    help="on a shared machine, first wait up to this long for other processes "
                         "to use under 0.3 cores")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="extra environment for the service (repeatable)" + env_example)
