"""Ledger migrations (Alembic): an existing install upgrades in place at every start
(`Ledger.__init__`) or with `desk-enricher migrate`.

A release 0.1 install has the tables but no alembic_version: it is stamped at 0001
(0.1's schema) before upgrading, so it converges with a fresh database, which goes
from empty to head. Several processes start at once (intake workers, the worker), so
the upgrade runs under a lock (the ledger's file lock on SQLite, an advisory lock on
PostgreSQL) and in one transaction, re-reading the version once the lock is held:
the second process finds nothing to do, and a crash mid-upgrade leaves the old schema.

The at-head check is one SELECT and needs no Alembic import (about 0.3 s here): the
head is the highest revision id among the file names in migrations/versions.

A new revision: change plugin/tables.py, then write migrations/versions/000N_what.py
(`python -c "from plugin.migrate import config; from alembic import command;
command.revision(config(), 'what', rev_id='000N')"` gives the skeleton).
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from .console import friendly
from .errors import EnricherError

log = logging.getLogger("desk_enricher.migrate")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
REVISIONS = sorted(name[:4] for name in os.listdir(MIGRATIONS / "versions") if name[:4].isdigit())
HEAD = REVISIONS[-1]
RELEASE_0_1 = "0001"
_ADVISORY_KEY = "desk-enricher migrate "


def config(connection: Connection | None = None) -> Any:
    """Alembic's configuration, built here: no alembic.ini ships or is needed."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine_or_url: Engine | str, lock_path: str | os.PathLike | None = None
            ) -> tuple[str | None, str]:
    """Bring the ledger to HEAD. Returns (revision before, revision after); the first
    is None for an empty database and "0001" for an unstamped release 0.1 install."""
    engine, owned = _engine(engine_or_url)
    try:
        at = _stored_version(engine)
        if at == HEAD:
            return at, at
        with _exclusive(engine, lock_path) as conn:
            before = _upgrade_on(conn)
        if before != HEAD:
            log.info("ledger_migrated", extra={"from_rev": before, "to_rev": HEAD})
        return before, HEAD
    finally:
        if owned:
            engine.dispose()


def current(engine_or_url: Engine | str) -> str | None:
    """The ledger's revision: None when empty, "0001" for an unstamped 0.1 install."""
    engine, owned = _engine(engine_or_url)
    try:
        with engine.connect() as conn:
            return _version_on(conn)[0]
    finally:
        if owned:
            engine.dispose()


def _engine(engine_or_url: Engine | str) -> tuple[Engine, bool]:
    if isinstance(engine_or_url, Engine):
        return engine_or_url, False
    url = str(engine_or_url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        return create_engine(url, connect_args={"timeout": 30}), True
    return create_engine(url, pool_pre_ping=True), True


def _stored_version(engine: Engine) -> str | None:
    """The one query every start pays. Any failure (no table yet, a locked file) means
    'look closer under the lock', where a real error is raised."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except (OperationalError, ProgrammingError):
        return None
    return rows[0] if len(rows) == 1 else None


def _version_on(conn: Connection) -> tuple[str | None, bool]:
    """(revision, stamped): an unstamped database with a deliveries table is release 0.1."""
    tables = inspect(conn)
    if tables.has_table("alembic_version"):
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar(), True
    return (RELEASE_0_1 if tables.has_table("deliveries") else None), False


def _upgrade_on(conn: Connection) -> str | None:
    """Runs with the lock held, inside the transaction: read, stamp, upgrade."""
    from alembic import command

    before, stamped = _version_on(conn)
    if before == HEAD:
        return before
    if before is not None and before not in REVISIONS:
        raise EnricherError(f"the ledger is at revision {before}, which this release does not know "
                            f"(its newest is {HEAD}): run the release that upgraded it",
                            key="ledger_too_new")
    cfg = config(conn)
    if before == RELEASE_0_1 and not stamped:
        command.stamp(cfg, RELEASE_0_1)
    command.upgrade(cfg, "head")
    return before


@contextlib.contextmanager
def _exclusive(engine: Engine, lock_path: str | os.PathLike | None) -> Iterator[Connection]:
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            # Per schema, so desks (or test runs) sharing a database do not wait on each other;
            # released by the commit or rollback.
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key || "
                              "coalesce(current_schema(), '')))"), {"key": _ADVISORY_KEY})
            yield conn
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        # Another process cannot share an in-memory database: nothing to race with.
        with engine.begin() as conn:
            yield conn
        return
    lock_path = lock_path or os.path.join(os.path.dirname(os.path.abspath(database)), "ledger.lock")
    with _file_lock(lock_path), _sqlite_transaction(engine) as conn:
        yield conn


@contextlib.contextmanager
def _file_lock(path: str | os.PathLike) -> Iterator[None]:
    # The lock Ledger._write takes: no ledger write of another process interleaves.
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def _sqlite_transaction(engine: Engine) -> Iterator[Connection]:
    """SQLite can roll back DDL, but Python's sqlite3 does not put DDL in a transaction:
    a dedicated engine that sends BEGIN itself makes the whole upgrade one transaction."""
    own = create_engine(engine.url, connect_args={"timeout": 30})

    @event.listens_for(own, "connect")
    def _driver_autocommit(dbapi_conn, _record):
        dbapi_conn.isolation_level = None

    @event.listens_for(own, "begin")
    def _begin(conn):
        # IMMEDIATE: take the write lock now, not at the first write after reading the version.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with own.begin() as conn:
            yield conn
    finally:
        own.dispose()


@click.command()
@friendly
def migrate():
    """Upgrade the ledger's tables in place (start-up does it too)."""
    from .logs import setup_logging
    from .settings import load_settings

    settings = load_settings()
    setup_logging(settings.log_level, settings.secret_values())
    os.makedirs(settings.data_dir, exist_ok=True)   # where the SQLite lock file lives
    try:
        before, after = upgrade(settings.database_url, Path(settings.data_dir) / "ledger.lock")
    except OperationalError as exc:
        raise EnricherError(f"cannot open the ledger: {str(exc.orig or exc).splitlines()[0]}",
                            key="database_unavailable") from None
    if before == after:
        click.echo(f"ledger is up to date ({after})")
    else:
        click.echo(f"ledger at {before or 'empty'} → upgraded to {after}")
