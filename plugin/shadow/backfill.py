"""`desk-enricher backfill`: the desk's history through the pipeline, each ticket as it
arrived (its first message, its creation time as the steps' clock).

Each ticket is one delivery keyed `backfill:<platform>:<id>`, so a run killed half way
and started again skips what it finished; its position (the creation time up to
which every listed ticket is finished) is kept in the ledger and the next run lists
from there. Without --dry-run, open tickets are enriched as if they had just arrived
(in the service's mode: live, or shadow when ENRICHER_MODE says so) and closed ones
are processed in shadow mode (facts, findings and plan recorded, nothing written);
with --dry-run every ticket is processed in shadow mode.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from ..errors import EnricherError, PlatformError
from ..tables import deliveries
from ..worker import Processor, TicketBusy
from . import answers, listing
from .reads import Memo, Pace, Timing, backfill_client

EVENT, DRY_EVENT = "backfill", "backfill-dry"
SAVE_EVERY = 100          # tickets between two saves of the position


@dataclasses.dataclass
class Tally:
    listed: int = 0
    outcomes: dict[str, int] = dataclasses.field(default_factory=dict)   # enriched, shadow, ignored ...
    already: int = 0         # finished by an earlier run
    dry_seen: int = 0        # finished by an earlier dry run (a real run does not redo them)
    failed: int = 0
    wall: float = 0.0
    busy: float = 0.0        # thread-seconds spent on tickets
    steps: float = 0.0       # thread-seconds inside the pipeline's steps
    reads: float = 0.0       # thread-seconds waiting on the platform (listing included)
    requests: int = 0
    cursor: str | None = None

    @property
    def processed(self) -> int:
        return sum(self.outcomes.values())

    @property
    def rate(self) -> float:
        return (self.processed + self.already) / self.wall if self.wall else 0.0


class Frontier:
    """The creation time up to which every listed ticket is finished: a resumed run
    lists from there again (inclusive) and skips what the ledger says is done."""

    def __init__(self, since: datetime):
        self.cursor = since
        self._created: dict[int, datetime] = {}
        self._finished: set[int] = set()
        self._next = 0

    def listed(self, seq: int, created: datetime) -> None:
        self._created[seq] = created

    def finished(self, seq: int) -> None:
        self._finished.add(seq)
        while self._next in self._finished:
            self._finished.discard(self._next)
            self.cursor = self._created.pop(self._next)
            self._next += 1


@dataclasses.dataclass
class _Run:
    key: str                  # the position's key in the ledger
    frontier: Frontier
    tally: Tally
    started: float
    progress: Callable[[Tally], None] | None
    inflight: dict[Future, int] = dataclasses.field(default_factory=dict)
    unsaved: int = 0


def position_key(platform: str, start: datetime, end: datetime, dry_run: bool) -> str:
    return f"backfill:{platform}:{_iso(start)}:{_iso(end)}" + (":dry-run" if dry_run else "")


class Backfill:
    def __init__(self, settings: Any, ledger: Any, manifest: Mapping[str, Any], platform: str, *,
                 dry_run: bool = False, workers: int = 4, model_source: Callable[[], Any] | None = None):
        self.settings, self.ledger, self.platform = settings, ledger, platform
        self.dry_run, self.workers = dry_run, max(1, workers)
        self.pace, self.memo, self.timing = Pace(getattr(settings, "backfill_rate", 0.0)), Memo(), Timing()
        self._lock, self._steps = threading.Lock(), 0.0
        self._answers: list[tuple[str, Mapping[str, Any], bool]] = []   # written with the position
        shadow = dataclasses.replace(settings, extra={**settings.extra, "mode": "shadow"})
        self.shadow = self._processor(shadow, manifest, model_source, as_arrived=True)
        self.live = None if dry_run else self._processor(settings, manifest, model_source, as_arrived=False)

    def _processor(self, settings: Any, manifest: Mapping[str, Any], model_source, *, as_arrived: bool):
        client = backfill_client(self.platform, settings, pace=self.pace, memo=self.memo,
                                 timing=self.timing, as_arrived=as_arrived)
        proc = Processor(settings, self.ledger, manifest, clients={self.platform: client},
                         model_source=model_source)
        proc.steps = [dataclasses.replace(s, run=self._timed(s.run, timers=not as_arrived))
                      for s in proc.steps]
        return proc

    def _timed(self, run, *, timers: bool):
        """The step, timed. In shadow processing its timer requests are dropped: a timer
        fires a reprocess in the service's own mode, so a dry run would write later."""
        def timed(ticket, ctx):
            started = time.monotonic()
            try:
                found = run(ticket, ctx)
                return found if timers or not found.timers else dataclasses.replace(found, timers=())
            finally:
                with self._lock:
                    self._steps += time.monotonic() - started
        return timed

    # -- the run ------------------------------------------------------------------
    def run(self, start: datetime, end: datetime,
            progress: Callable[[Tally], None] | None = None) -> Tally:
        self.ledger.clear_dead_leases()       # a killed run's leases would hold its tickets
        key = position_key(self.platform, start, end, self.dry_run)
        since = _parse((self.ledger.get(key) or {}).get("cursor")) or start
        run = _Run(key, Frontier(since), Tally(cursor=_iso(since)), time.monotonic(), progress)
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="backfill")
        completed = False
        try:
            reader = self.shadow.client(self.platform)
            for seq, found in enumerate(listing.tickets(self.platform, reader, start, end, since)):
                run.frontier.listed(seq, found.created_at)
                run.tally.listed += 1
                run.inflight[pool.submit(self._one, found)] = seq
                if len(run.inflight) >= 2 * self.workers:
                    self._settle(run, block=True)
            while run.inflight:
                self._settle(run, block=True)
            completed = True
        finally:
            # Stopped (an error, Ctrl-C): tickets started finish, the rest wait for the next run.
            pool.shutdown(wait=True, cancel_futures=True)
            self._settle(run, block=False, quiet=True)
            self._save(run, finished=completed and run.tally.failed == 0)
        return run.tally

    def _settle(self, run: _Run, *, block: bool, quiet: bool = False) -> None:
        """Count the finished tickets and move the frontier; a bug in one stops the run."""
        done = wait(list(run.inflight), return_when=FIRST_COMPLETED)[0] if block else \
            [f for f in run.inflight if f.done()]
        tally = run.tally
        for fut in done:
            seq = run.inflight.pop(fut)
            if fut.cancelled() or (quiet and fut.exception() is not None):
                continue
            outcome, seconds = fut.result()           # raises what the ticket raised
            tally.busy += seconds
            if outcome == "failed":
                tally.failed += 1
                continue          # not past the frontier: the next run tries it again
            if outcome in ("already", "dry_seen"):
                setattr(tally, outcome, getattr(tally, outcome) + 1)
            else:
                tally.outcomes[outcome] = tally.outcomes.get(outcome, 0) + 1
            run.frontier.finished(seq)
        run.unsaved += len(done)
        if run.unsaved >= SAVE_EVERY:
            self._save(run, finished=False)
        if run.progress is not None and block:
            run.progress(self._figures(run))

    def _figures(self, run: _Run) -> Tally:
        t = run.tally
        t.wall, t.cursor = time.monotonic() - run.started, _iso(run.frontier.cursor)
        t.reads, t.requests, t.steps = self.timing.seconds, self.timing.requests, self._steps
        return t

    def _save(self, run: _Run, *, finished: bool) -> None:
        tally, run.unsaved = self._figures(run), 0
        with self._lock:
            kept, self._answers = self._answers, []
        if kept:
            answers.keep_many(self.ledger, self.platform, kept)
        self.ledger.put(run.key, {"cursor": tally.cursor, "processed": tally.processed,
                                  "failed": tally.failed, "dry_run": self.dry_run, "finished": finished,
                                  "saved_at": _iso(datetime.now(UTC))})

    # -- one ticket ---------------------------------------------------------------
    def _one(self, found: listing.Found) -> tuple[str, float]:
        started = time.monotonic()
        try:
            return self._process(found), time.monotonic() - started
        except (PlatformError, TicketBusy):
            return "failed", time.monotonic() - started

    def _process(self, found: listing.Found) -> str:
        # Every listed ticket's answer is kept, done or not: a killed run loses the last
        # unsaved ones, and the next run lists those tickets again.
        with self._lock:
            self._answers.append((found.ticket_id, found.answer, found.closed))
        key = f"backfill:{self.platform}:{found.ticket_id}"
        before = self._existing(key)
        if before is not None and before["status"] in ("done", "ignored"):
            return "dry_seen" if before["event"] == DRY_EVENT and not self.dry_run else "already"
        proc = self.shadow if self.dry_run or found.closed else self.live
        body = listing.create_payload(self.platform, proc.client(self.platform), found)
        pk, _ = self.ledger.accept(self.platform, key, found.ticket_id,
                                   DRY_EVENT if self.dry_run else EVENT, body)
        try:
            return proc.process(pk, now=found.created_at)
        except (PlatformError, TicketBusy) as exc:
            # A dead letter the next run picks up again (process() redoes all but done ones).
            error = exc if isinstance(exc, EnricherError) else EnricherError(
                f"ticket {found.ticket_id} is being processed by a worker", key="ticket_busy")
            proc.fail(pk, error, 1)
            raise

    def _existing(self, key: str) -> Mapping[str, Any] | None:
        with self.ledger.engine.connect() as conn:
            row = conn.execute(select(deliveries.c.status, deliveries.c.event).where(
                deliveries.c.platform == self.platform, deliveries.c.delivery_key == key)).mappings().first()
        return dict(row) if row else None


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
