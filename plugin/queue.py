"""The durable queue: huey on SQLite by default, Redis when ENRICHER_QUEUE_URL says so.

The queue carries only delivery ids; the ledger row is the durable record. A task
lost with a killed process is found again by `recover`, which runs when a worker
starts and then periodically, so every accepted delivery is processed.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from huey import MemoryHuey, RedisHuey, SqliteHuey
from huey.exceptions import RetryTask
from huey.storage import SqliteStorage
from sqlalchemy.exc import SQLAlchemyError

from .errors import EnricherError, PlatformError
from .retrying import backoff, transient_db_error
from .store import utcnow
from .worker import TicketBusy

log = logging.getLogger("desk_enricher.queue")

TASK_NAME = "process_delivery"
UNREACHABLE = ("cannot_connect", "timeout", "unavailable")
RECOVER_AFTER_SECONDS = 60


class QueueStorage(SqliteStorage):
    """huey's SQLite storage without its own fsync per enqueue (synchronous=NORMAL):
    the ledger row, committed with fsync before the 202, is the durable record, and
    a task the queue loses is queued again from it (`Queue.recover`)."""

    def _create_connection(self):
        conn = super()._create_connection()
        conn.execute("pragma synchronous=1")
        return conn


def make_huey(url: str, name: str = "desk-enricher"):
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        path = url.split("///", 1)[-1]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        return SqliteHuey(name=name, filename=path, results=False, utc=True, timeout=30,
                          storage_class=QueueStorage)
    if scheme in ("redis", "rediss"):
        return RedisHuey(name=name, url=url, results=False, utc=True)
    if scheme == "memory":
        return MemoryHuey(name=name, results=False, utc=True)
    raise ValueError(f"unsupported queue url scheme {scheme!r}")


class Queue:
    def __init__(self, settings: Any, ledger: Any, processor_factory: Callable[[], Any] | None = None):
        self.settings = settings
        self.ledger = ledger
        self.huey = make_huey(settings.queue_url, settings.queue_name)
        self._processor_factory = processor_factory
        self._processor = None
        self._health: dict[str, bool] = {}
        # Tries are counted in the ledger, not by huey: a RetryTask (used for
        # backoff and Retry-After) does not use up huey's retries, and a replay
        # must start the count again.
        self.process_task = self.huey.task(context=True, name=TASK_NAME)(self._run)
        # The reconciler's sweep is a ledger timer (plugin.jobs), not a huey periodic
        # task: it fires once across workers, survives restarts and shows in /metrics.

    @property
    def processor(self):
        if self._processor is None:
            if self._processor_factory is None:
                raise RuntimeError("this queue only enqueues; it has no processor")
            self._processor = self._processor_factory()
        return self._processor

    def enqueue(self, delivery_id: int) -> None:
        self.process_task(delivery_id)

    def pending(self) -> int:
        return self.huey.pending_count() + self.huey.scheduled_count()

    def _run(self, delivery_id: int, task=None) -> None:
        try:
            row = self.ledger.delivery(delivery_id)
        except SQLAlchemyError as exc:
            self._database_trouble(delivery_id, exc, 1)
        if row is None:
            return
        attempt = (row["attempts"] or 0) + 1
        retries_left = self.settings.max_attempts - attempt
        try:
            self.processor.process(delivery_id, attempt)
            self._platform_seen(row["platform"], True)
        except SQLAlchemyError as exc:
            if transient_db_error(exc):
                self._database_trouble(delivery_id, exc, attempt)
            self._internal_error(delivery_id, exc, attempt)
        except TicketBusy:
            raise RetryTask(delay=0.25) from None   # does not use up a try
        except PlatformError as exc:
            self._platform_seen(row["platform"], exc.key not in UNREACHABLE, exc.key)
            if exc.retryable and retries_left > 0:
                delay = backoff(attempt, self.settings.retry_base_seconds,
                                self.settings.retry_max_seconds, exc.retry_after)
                self.ledger.set_status(delivery_id, "queued", error=exc.message, attempts=attempt)
                log.warning("retry", extra={"delivery_id": delivery_id, "error": exc.key,
                                            "attempt": attempt, "delay": round(delay, 2)})
                raise RetryTask(delay=delay) from None
            self.processor.fail(delivery_id, exc, attempt)
        except EnricherError as exc:
            self.processor.fail(delivery_id, exc, attempt)
        except Exception as exc:  # noqa: BLE001 - a bug must not lose the delivery
            self._internal_error(delivery_id, exc, attempt)

    def _platform_seen(self, platform: str, ok: bool, error: str | None = None) -> None:
        """Reachability for /metrics and doctor, written only when it changes in this process."""
        if self._health.get(platform) == ok:
            return
        self._health[platform] = ok
        self.ledger.put(f"platform:{platform}:health", {"ok": ok, "error": error, "at": utcnow().isoformat()})

    def _internal_error(self, delivery_id: int, exc: Exception, attempt: int) -> None:
        """Dead-letter it, visibly: `replay` runs it again once the cause is fixed."""
        log.error("task_failed", exc_info=exc, extra={"delivery_id": delivery_id})
        self.processor.fail(delivery_id, EnricherError(f"internal error: {type(exc).__name__}",
                                                       key="internal_error"), attempt)

    def _database_trouble(self, delivery_id: int, exc: Exception, attempt: int) -> None:
        """The ledger is locked or unreachable: wait and try again, like a platform outage.
        Nothing is written (the ledger may be the thing that is down); the delivery stays
        unfinished in the ledger, so even a lost task is found again by `recover`."""
        delay = backoff(attempt, max(1.0, self.settings.retry_base_seconds), self.settings.retry_max_seconds)
        log.warning("database_retry", extra={"delivery_id": delivery_id, "error": type(exc).__name__,
                                             "delay": round(delay, 2)})
        raise RetryTask(delay=delay) from None

    def sweep(self) -> dict[str, Any]:
        """Lost tasks and missed webhooks: requeue the first, reconcile the second."""
        from .reconcile import sweep_all
        recovered = self.recover()
        return {"recovered": recovered, **sweep_all(self.processor, self)}

    def recover(self) -> int:
        """Queue again deliveries accepted but never finished (a crash, a lost enqueue)."""
        ids = self.ledger.unfinished(older_than_seconds=RECOVER_AFTER_SECONDS)
        if ids:
            queued = self._queued_ids()   # a long backlog is not lost: leave it be
            ids = [pk for pk in ids if pk not in queued and not self._running(pk)]
        for pk in ids:
            self.enqueue(pk)
        if ids:
            log.info("recovered", extra={"count": len(ids)})
        return len(ids)

    def _running(self, pk: int) -> bool:
        """Being processed right now: its task is out of the queue but its ticket leased."""
        row = self.ledger.delivery(pk)
        return bool(row and row["status"] == "processing"
                    and self.ledger.lease_held(f"ticket:{row['platform']}:{row['ticket_id']}"))

    def requeue_all_unfinished(self) -> int:
        """At worker start: queue again the deliveries whose task was lost.

        One that was being processed when its worker died may still have a write in
        flight (the platform finishes a request its client no longer waits for), so
        it waits out the HTTP timeout before it is tried again; otherwise the retry
        could read the ticket before that write lands and make the same write twice."""
        queued = self._queued_ids()
        waiting = [pk for pk in self.ledger.unfinished(status=("queued",)) if pk not in queued]
        in_flight = [pk for pk in self.ledger.unfinished(status=("processing",)) if pk not in queued]
        for pk in waiting:
            self.enqueue(pk)
        for pk in in_flight:
            self.process_task.schedule(args=(pk,), delay=self.settings.http_timeout)
        return len(waiting) + len(in_flight)

    def _queued_ids(self) -> set[int]:
        ids = set()
        for task in list(self.huey.pending()) + list(self.huey.scheduled()):
            if task.name == TASK_NAME and task.args:
                ids.add(task.args[0])
        return ids

    def replay(self, delivery_ids: list[int]) -> int:
        for pk in delivery_ids:
            self.ledger.set_status(pk, "queued", error=None, attempts=0)
            self.enqueue(pk)
        return len(delivery_ids)

    def consumer(self, workers: int):
        return self.huey.create_consumer(workers=workers, worker_type="thread",
                                         periodic=True, check_worker_health=True,
                                         backoff=1.15, max_delay=0.1, initial_delay=0.05)
