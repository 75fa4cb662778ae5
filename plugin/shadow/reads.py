"""The backfill's REST clients: the platform clients with three differences.

- Paced: at most ENRICHER_BACKFILL_RATE requests a second across the run's threads,
  so ten thousand tickets do not land on the desk's server at once (Zammad has no
  REST rate limit of its own: REFERENCE §3.6).
- Jira's 429 (and a 503 with Retry-After) is waited out by urllib3 itself
  (`respect_retry_after_header`), for reads only: a resent write could land twice,
  and the service's own clients leave every retry to the queue for that reason.
- One read per ticket: the listing reads the ticket to rebuild its create event,
  and the worker's `current_state` gets that same answer instead of a second GET.

`as_arrived=True` shows the steps the ticket as it was when it arrived: none of our
fields, labels, notes or markers. A closed ticket carries the agents' final values,
and the classification step keeps a value it finds (it never overwrites an agent),
so without this the backfill would only echo what agents did.
"""
from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ..hooks.base import CurrentState
from ..hooks.jira_api import JiraClient
from ..hooks.zammad_api import ZammadClient

# 429 and 503 are the statuses whose Retry-After urllib3 honours (Retry.RETRY_AFTER_STATUS_CODES).
READ_RETRY_STATUSES = (429, 502, 503, 504)
MIN_READ_RETRIES = 5     # a long run meets rate limits more than once; the header says how long


class Pace:
    """At most `rate` requests a second across threads: each call books the next free slot."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


class Memo:
    """The last ticket a thread read, handed once to the next read of the same ticket."""

    def __init__(self) -> None:
        self._local = threading.local()

    def keep(self, key: str, value: Any) -> None:
        self._local.item = (key, value)

    def take(self, key: str) -> Any:
        item = getattr(self._local, "item", None)
        self._local.item = None
        return item[1] if item and item[0] == key else None


class Timing:
    """Seconds spent waiting on the platform, per thread and in all (for the benchmark)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seconds = 0.0
        self.requests = 0

    def add(self, seconds: float) -> None:
        with self._lock:
            self.seconds += seconds
            self.requests += 1


class BackfillReads:
    """Mixed in before a platform client (see the module docstring)."""

    pace: Pace
    memo: Memo
    timing: Timing
    as_arrived: bool = False

    def request(self, method: str, path: str, **kw: Any) -> Any:
        self.pace.wait()
        started = time.monotonic()
        try:
            return super().request(method, path, **kw)
        finally:
            self.timing.add(time.monotonic() - started)

    def current_state(self, ticket_id: str) -> CurrentState:
        state = super().current_state(ticket_id)
        if not self.as_arrived:
            return state
        return replace(state, fields={}, tags=(), notes=(), markers=frozenset())


class ZammadReads(BackfillReads, ZammadClient):
    def ticket_all(self, ticket_id: str) -> dict:
        return self.memo.take(f"all:{ticket_id}") or super().ticket_all(ticket_id)


class JiraReads(BackfillReads, JiraClient):
    pass


CLASSES = {"zammad": ZammadReads, "jira": JiraReads}


def backfill_client(platform: str, settings: Any, *, pace: Pace, memo: Memo, timing: Timing,
                    as_arrived: bool = False) -> Any:
    client = CLASSES[platform].from_settings(settings)
    configure(client, settings, pace=pace, memo=memo, timing=timing, as_arrived=as_arrived)
    return client


def configure(client: Any, settings: Any, *, pace: Pace, memo: Memo, timing: Timing,
              as_arrived: bool = False) -> Any:
    client.pace, client.memo, client.timing, client.as_arrived = pace, memo, timing, as_arrived
    retries = max(int(getattr(settings, "http_retries", 2)), MIN_READ_RETRIES)
    retry = Retry(total=retries, connect=retries, read=0, status=retries, other=0,
                  status_forcelist=READ_RETRY_STATUSES, allowed_methods=frozenset({"GET"}),
                  backoff_factor=0.5, respect_retry_after_header=True, raise_on_status=False)
    adapter = HTTPAdapter(max_retries=retry, pool_maxsize=16)
    client.session.mount("http://", adapter)
    client.session.mount("https://", adapter)
    return client
