"""The ledger: every delivery, what became of it, what was found and written.

SQLAlchemy Core on SQLite by default (one file under the data directory) or
PostgreSQL when `ENRICHER_DATABASE_URL` says so. The `deliveries` row is the
durable record of an accepted webhook: the queue only carries its id, so a task
lost in a crash is found again here (`unfinished`) and nothing accepted is lost.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import threading
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from .leases import Leases, lease_owner  # noqa: F401 - lease_owner: imported from here
from .tables import corrections, deliveries, findings, kv, metadata, outcomes, tickets, writes

# Prebuilt: compiling a fresh insert per webhook is measurable on the intake path.
_INSERT_DELIVERY = deliveries.insert()


# The longest a webhook waits for others to join its commit (gevent only).
JOIN_WAIT_SECONDS = 0.005


class _Accept:
    """One webhook waiting for the group commit in Ledger.accept."""
    __slots__ = ("done", "error", "new", "pk", "row")

    def __init__(self, row: dict[str, Any]):
        self.row, self.pk, self.new, self.error, self.done = row, None, False, None, False


def _let_others_join() -> None:
    """Under gevent (serve's default) a greenlet runs until it blocks, and a commit blocks
    the whole process: so before writing, let the loop run the other requests that have
    arrived up to their own accept, and store them all in one transaction. Threads need
    no help (they queue on the batch lock while a commit runs); a sync worker has one
    request at a time."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):
        import gevent
        # bounded: under a flood of connections the loop might never fall idle
        with gevent.Timeout(JOIN_WAIT_SECONDS, False):
            gevent.idle()


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything here is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class Ledger(Leases):
    def __init__(self, url: str, lock_dir: str | os.PathLike | None = None):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            self.engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(self.engine, "connect", _sqlite_pragmas)
            lock_dir = lock_dir or os.path.dirname(os.path.abspath(path))
            self._lock_path = os.path.join(lock_dir, "ledger.lock")
        else:
            self.engine = create_engine(url, pool_pre_ping=True)
            self._lock_path = None
        self._thread_lock = threading.Lock()
        self._lock_owner, self._lock_file = 0, -1
        self._pending: list[_Accept] = []
        self._pending_lock, self._batch_lock = threading.Lock(), threading.Lock()
        from .migrate import upgrade  # one SELECT when already at head; see plugin/migrate.py
        upgrade(self.engine, self._lock_path)

    @contextlib.contextmanager
    def _write(self) -> Iterator[Any]:
        """One write transaction. On SQLite, writers queue on a file lock: waking as
        soon as the previous commit ends beats SQLite's sleeping busy backoff."""
        if self._lock_path is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._thread_lock:
            fd = self._lock_fd()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                with self.engine.begin() as conn:
                    yield conn
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _lock_fd(self) -> int:
        """The lock file, opened once per process (called under _thread_lock) instead of
        once per write. Not inherited: after a fork the child shares the parent's open
        file, and flock on one open file does not exclude the two processes."""
        pid = os.getpid()
        if self._lock_owner != pid:
            self._lock_file = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._lock_owner = pid
            self._lock_closer = weakref.finalize(self, os.close, self._lock_file)
        return self._lock_file

    def transaction(self):
        """One write transaction (see _write): what modules beside the ledger use."""
        return self._write()

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(1)).scalar() == 1

    # -- deliveries -------------------------------------------------------------
    def accept(self, platform: str, delivery_key: str, ticket_id: str | None, event_name: str,
               body: bytes) -> tuple[int | None, bool]:
        """Store an accepted webhook. Returns (id, True), or (existing id, False) if seen.

        Group commit: the webhooks this process has in hand when a transaction starts are
        stored in it together, one commit (one fsync) for all, and every caller returns
        only once its own row is committed."""
        slot = _Accept({"platform": platform, "delivery_key": delivery_key, "ticket_id": ticket_id,
                        "event": event_name, "status": "queued", "attempts": 0, "body": body,
                        "received_at": utcnow()})
        with self._pending_lock:
            self._pending.append(slot)
        _let_others_join()
        with self._batch_lock:
            if not slot.done:
                with self._pending_lock:
                    batch, self._pending = self._pending, []
                self._accept_batch(batch)
        if slot.error is not None:
            raise slot.error
        return slot.pk, slot.new

    def _accept_batch(self, batch: list[_Accept]) -> None:
        """Never raises: each slot ends stored (new), seen before (its first id), or with
        the error its caller answers with; never unanswered."""
        try:
            with self._write() as conn:
                for slot in batch:
                    slot.pk = conn.execute(_INSERT_DELIVERY, slot.row).inserted_primary_key[0]
            for slot in batch:
                slot.new = True
        except IntegrityError:
            if len(batch) > 1:   # one of them was seen before: store each on its own
                for slot in batch:
                    self._accept_batch([slot])
                return
            self._seen_before(batch[0])
        except Exception as exc:  # noqa: BLE001 - each caller of the batch answers for it
            for slot in batch:
                slot.error = exc
        finally:
            for slot in batch:
                if not slot.new and slot.error is None and slot.pk is None:
                    slot.error = RuntimeError("delivery was neither stored nor found")
                slot.done = True

    def _seen_before(self, slot: _Accept) -> None:
        slot.pk = None
        try:
            with self.engine.connect() as conn:
                slot.pk = conn.execute(select(deliveries.c.id).where(
                    deliveries.c.platform == slot.row["platform"],
                    deliveries.c.delivery_key == slot.row["delivery_key"])).scalar()
        except Exception as exc:  # noqa: BLE001 - answered by its caller, like any database error
            slot.error = exc

    def delivery(self, pk: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(deliveries).where(deliveries.c.id == pk)).mappings().first()
        return dict(row) if row else None

    def set_status(self, pk: int, status: str, *, error: str | None = None,
                   attempts: int | None = None) -> None:
        values: dict[str, Any] = {"status": status, "last_error": error}
        if attempts is not None:
            values["attempts"] = attempts
        if status in ("done", "ignored", "dead"):
            values["finished_at"] = utcnow()
        with self._write() as conn:
            conn.execute(update(deliveries).where(deliveries.c.id == pk).values(**values))

    def unfinished(self, older_than_seconds: float = 0, status: tuple[str, ...] = ("queued", "processing"),
                   ) -> list[int]:
        """Deliveries accepted but not finished: lost tasks after a crash, to queue again."""
        cutoff = utcnow() - timedelta(seconds=older_than_seconds)
        with self.engine.connect() as conn:
            # A backfill's deliveries are finished by the backfill itself, in its own mode
            # (a dry run is shadow): a live worker must never pick one up.
            rows = conn.execute(select(deliveries.c.id).where(
                deliveries.c.status.in_(list(status)), ~deliveries.c.delivery_key.like("backfill:%"),
                deliveries.c.received_at <= cutoff).order_by(deliveries.c.id)).scalars()
            return list(rows)

    def by_status(self, status: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(deliveries.c.id, deliveries.c.platform,
                                       deliveries.c.delivery_key, deliveries.c.ticket_id,
                                       deliveries.c.event, deliveries.c.attempts,
                                       deliveries.c.last_error, deliveries.c.received_at)
                                .where(deliveries.c.status == status)
                                .order_by(deliveries.c.id)).mappings()
            return [dict(r) for r in rows]

    def status_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(deliveries.c.status, func.count())
                                .group_by(deliveries.c.status))
            return {status: n for status, n in rows}

    # -- results ----------------------------------------------------------------
    def record_outcome(self, delivery_id: int, platform: str, ticket_id: str | None,
                       outcome: str, *, writes_made: int = 0, reads: int = 0,
                       duration_ms: float | None = None, detail: str | None = None) -> None:
        with self._write() as conn:
            conn.execute(insert(outcomes).values(
                delivery_id=delivery_id, platform=platform, ticket_id=ticket_id, outcome=outcome,
                writes=writes_made, reads=reads, duration_ms=duration_ms, detail=detail,
                at=utcnow()))

    def record_result(self, delivery_id: int, platform: str, ticket_id: str,
                      step_findings: list[tuple[str, dict]], calls: list[tuple[str, str, int]],
                      written: dict[str, Any] | None, ticket_meta: dict[str, Any]) -> None:
        """Findings, writes and the ticket's new state, in one transaction."""
        now = utcnow()
        with self._write() as conn:
            for step, data in step_findings:
                conn.execute(insert(findings).values(delivery_id=delivery_id, platform=platform,
                                                     ticket_id=ticket_id, step=step, data=data, at=now))
            for method, path, status in calls:
                conn.execute(insert(writes).values(delivery_id=delivery_id, platform=platform,
                                                   ticket_id=ticket_id, method=method, path=path,
                                                   status=status, at=now))
            if written is not None:
                self._upsert_ticket(conn, platform, ticket_id, written, ticket_meta, now)

    def _upsert_ticket(self, conn, platform, ticket_id, written, meta, now) -> None:
        key = (tickets.c.platform == platform) & (tickets.c.ticket_id == ticket_id)
        values = {"written": written, "category": meta.get("category"),
                  "updated_at": meta.get("updated_at"), "created_at": meta.get("created_at"),
                  "enriched_at": now}
        if conn.execute(select(tickets.c.ticket_id).where(key)).first():
            conn.execute(update(tickets).where(key).values(**values))
        else:
            conn.execute(insert(tickets).values(platform=platform, ticket_id=ticket_id, **values))

    def ticket(self, platform: str, ticket_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(tickets).where(tickets.c.platform == platform,
                                                     tickets.c.ticket_id == ticket_id)).mappings().first()
        if not row:
            return None
        out = dict(row)
        out["updated_at"] = aware(out["updated_at"])
        return out

    def recent_tickets(self, platform: str, since: datetime) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(tickets.c.ticket_id, tickets.c.category, tickets.c.created_at)
                                .where(tickets.c.platform == platform,
                                       tickets.c.created_at >= since)).mappings()
            return [{**r, "created_at": aware(r["created_at"])} for r in rows]

    def record_correction(self, platform: str, ticket_id: str, field_name: str,
                          old: Any, new: Any, text: str | None = None) -> None:
        with self._write() as conn:
            conn.execute(insert(corrections).values(
                platform=platform, ticket_id=ticket_id, field=field_name,
                old=None if old is None else str(old), new=None if new is None else str(new),
                text=text, at=utcnow()))

    def corrections_list(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(corrections).order_by(corrections.c.id)).mappings()]

    def rows(self, table_name: str, **where: Any) -> list[dict[str, Any]]:
        """Read helper for reports, doctor and tests."""
        table = metadata.tables[table_name]
        query = select(table)
        for name, value in where.items():
            query = query.where(table.c[name] == value)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # -- small state ------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        with self.engine.connect() as conn:
            row = conn.execute(select(kv.c.value).where(kv.c.key == key)).first()
        return default if row is None else row[0]

    def put(self, key: str, value: Any) -> None:
        with self._write() as conn:
            if conn.execute(select(kv.c.key).where(kv.c.key == key)).first():
                conn.execute(update(kv).where(kv.c.key == key).values(value=value))
            else:
                conn.execute(insert(kv).values(key=key, value=value))

    def dispose(self) -> None:
        self.engine.dispose()
        with self._thread_lock:
            if self._lock_owner == os.getpid():
                self._lock_closer()
            self._lock_owner, self._lock_file = 0, -1


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
