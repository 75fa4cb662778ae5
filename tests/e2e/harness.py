"""Run the real service (`desk-enricher serve`: gunicorn + worker) as a process
group against a simulator, over loopback."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from plugin.store import Ledger

SECRET = "e2e-webhook-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Service:
    def __init__(self, data_dir: Path, env: dict[str, str]):
        self.data_dir = data_dir
        self.port = free_port()
        self.env = {**os.environ, "ENRICHER_DATA_DIR": str(data_dir),
                    "ENRICHER_LOG_LEVEL": "WARNING", **env}
        for name in ("ENRICHER_QUEUE_URL", "ENRICHER_DATABASE_URL", "ENRICHER_CONFIG"):
            if name not in env:
                self.env.pop(name, None)
        self.proc: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.log = data_dir / "service.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *extra: str) -> Service:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "ab")  # noqa: SIM115 - the child writes to it after we return
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "plugin", "serve", "--port", str(self.port),
             "--web-workers", "2", *extra], env=self.env, stdout=out, stderr=out,
            start_new_session=True)
        wait_until(self._healthy, 30, what=f"service health (log: {self.log})")
        return self

    def start_worker(self) -> subprocess.Popen:
        """A separate `desk-enricher worker` process, as on another machine."""
        out = open(self.log, "ab")  # noqa: SIM115 - the child writes to it after we return
        proc = subprocess.Popen([sys.executable, "-m", "plugin", "worker"], env=self.env,
                                stdout=out, stderr=out, start_new_session=True)
        self.workers.append(proc)
        return proc

    def _healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"service exited: {self.log.read_text()[-3000:]}")
        try:
            return requests.get(f"{self.url}/healthz", timeout=1).ok
        except requests.RequestException:
            return False

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown code runs anywhere."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=15)
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def ledger(self) -> Ledger:
        return Ledger(self.env.get("ENRICHER_DATABASE_URL") or f"sqlite:///{self.data_dir / 'ledger.db'}",
                      lock_dir=self.data_dir)


def notes_by_ticket(sim) -> dict[int, int]:
    with sim.lock:
        return {tid: sum(1 for a in arts if a.get("subject") == "desk-enricher")
                for tid, arts in sim.articles.items()}
