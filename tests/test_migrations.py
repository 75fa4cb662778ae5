"""Ledger migrations: a ledger made by release 0.1 upgrades in place and keeps its rows;
a fresh one is built at head; the migrated schema is exactly plugin/tables.py's.
Each test runs on SQLite and, when a server answers, on PostgreSQL in its own schema."""
from __future__ import annotations

import itertools
import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import create_engine, event, insert, inspect, select, text

from plugin import migrate
from plugin.errors import EnricherError
from plugin.tables import metadata
from tests.conftest import PG_BASE, RUN_ID, postgres_unavailable
from tests.fixtures import ledger_v0_1 as v01

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
KEPT = ("deliveries", "outcomes", "findings", "writes", "tickets", "corrections", "kv", "leases")
_schemas = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'ledger.db'}"
        return
    reason = postgres_unavailable()
    if reason:
        pytest.skip(f"PostgreSQL migration test skipped: {reason}")
    schema = f"{RUN_ID}_mig{next(_schemas)}"
    admin = create_engine(PG_BASE)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def engine(url):
    if url.startswith("sqlite"):
        os.makedirs(os.path.dirname(url.split("///", 1)[1]), exist_ok=True)
    eng = create_engine(url)
    yield eng
    eng.dispose()


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def make_release_0_1_ledger(engine) -> None:
    """What an install of 0.1 has: its tables made by create_all, and rows in each."""
    v01.metadata.create_all(engine)
    with engine.begin() as conn:
        for pk, status in enumerate(["done", "ignored", "queued", "dead"], start=1):
            conn.execute(insert(v01.deliveries).values(
                id=pk, platform="zammad", delivery_key=f"d-{pk}", ticket_id=str(1040 + pk), event="ticket",
                status=status, attempts=1, last_error=None if status != "dead" else "boom",
                body=b'{"ticket":{"id":%d}}' % pk, received_at=_at(pk),
                finished_at=_at(pk + 1) if status != "queued" else None))
        conn.execute(insert(v01.outcomes).values(delivery_id=1, platform="zammad", ticket_id="1041",
                                                 outcome="enriched", writes=2, reads=1, duration_ms=12.5,
                                                 detail=None, at=_at(2)))
        for step in ("record_quality", "classification"):
            conn.execute(insert(v01.findings).values(delivery_id=1, platform="zammad", ticket_id="1041",
                                                     step=step, data={"step": step, "ok": True}, at=_at(2)))
        conn.execute(insert(v01.writes).values(delivery_id=1, platform="zammad", ticket_id="1041",
                                               method="PUT", path="/api/v1/tickets/1041", status=200, at=_at(2)))
        conn.execute(insert(v01.tickets).values(platform="zammad", ticket_id="1041", written={"x": "1"},
                                                category="IT/Mail", updated_at=_at(1), created_at=_at(0),
                                                enriched_at=_at(2)))
        conn.execute(insert(v01.corrections).values(platform="zammad", ticket_id="1041", field="category",
                                                    old="IT/Mail", new="IT/VPN", text="wrong", at=_at(3)))
        conn.execute(insert(v01.kv).values(key="reconcile:zammad", value={"since": "2026-03-01"}))
        conn.execute(insert(v01.leases).values(name="ticket:zammad:1041", owner="host:1", expires_at=_at(9)))
        conn.execute(insert(v01.sent).values(key="major_event:zammad:1041", channel="major_event",
                                             ok=True, at=_at(4)))
        conn.execute(insert(v01.sent).values(key="major_event:jira:DESK-7", channel="major_event",
                                             ok=False, at=_at(5)))


def snapshot(engine) -> dict[str, list[dict]]:
    with engine.connect() as conn:
        return {name: [dict(r) for r in conn.execute(select(metadata.tables[name])
                                                     .order_by(*metadata.tables[name].primary_key.columns))
                       .mappings()] for name in KEPT}


def drift(engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), metadata)


def test_release_0_1_ledger_upgrades_and_keeps_every_row(engine, url):
    make_release_0_1_ledger(engine)
    before = snapshot(engine)
    assert migrate.current(url) == "0001"
    assert migrate.upgrade(url) == ("0001", migrate.HEAD)
    assert snapshot(engine) == before
    assert len(before["deliveries"]) == 4 and len(before["findings"]) == 2
    assert len(before["corrections"]) == 1 and len(before["tickets"]) == 1
    assert not inspect(engine).has_table("sent")
    assert drift(engine) == []


def test_sent_rows_become_sent_outbox_rows(engine, url):
    make_release_0_1_ledger(engine)
    migrate.upgrade(url)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(metadata.tables["outbox"])
                                              .order_by("id")).mappings()]
    assert [(r["key"], r["platform"], r["ticket_id"]) for r in rows] == [
        ("zammad:1041:major_event:owner:apprise", "zammad", "1041"),
        ("jira:DESK-7:major_event:owner:apprise", "jira", "DESK-7")]
    alerted, unconfirmed = rows
    assert {k: alerted[k] for k in ("event", "audience", "channel", "status", "body", "data",
                                    "last_error")} == {
        "event": "major_event", "audience": "owner", "channel": "apprise", "status": "sent",
        "body": "", "data": {}, "last_error": None}
    assert {_utc(alerted[k]) for k in ("next_at", "created_at", "sent_at")} == {_at(4)}
    # 0.1 never resent an unconfirmed alert: neither does the outbox, and it says why.
    assert unconfirmed["status"] == "sent" and "never confirmed" in unconfirmed["last_error"]


def test_migrate_twice_is_a_no_op_and_the_command_says_so(engine, url, tmp_path):
    make_release_0_1_ledger(engine)
    env = {"ENRICHER_DATA_DIR": str(tmp_path / "data"), "ENRICHER_DATABASE_URL": url}
    first = CliRunner().invoke(migrate.migrate, [], env=env)
    assert first.exit_code == 0, first.output
    assert f"ledger at 0001 → upgraded to {migrate.HEAD}" in first.output
    before = snapshot(engine)
    again = CliRunner().invoke(migrate.migrate, [], env=env)
    assert again.exit_code == 0, again.output
    assert f"ledger is up to date ({migrate.HEAD})" in again.output
    assert migrate.upgrade(url) == (migrate.HEAD, migrate.HEAD)
    assert snapshot(engine) == before


def test_a_fresh_ledger_is_built_at_head_and_matches_the_tables(engine, url):
    assert migrate.current(url) is None
    assert migrate.upgrade(url) == (None, migrate.HEAD)
    assert migrate.current(url) == migrate.HEAD
    assert drift(engine) == []


def test_revision_0001_is_release_0_1s_schema(engine):
    # A fresh install and an old one converge only if 0001 builds what 0.1 built.
    with engine.begin() as conn:
        from alembic import command
        command.upgrade(migrate.config(conn), "0001")
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), v01.metadata) == []


def test_a_failed_upgrade_leaves_the_release_0_1_ledger_as_it_was(engine, url):
    make_release_0_1_ledger(engine)
    with engine.begin() as conn:   # something in the way of revision 0002
        conn.execute(text("CREATE TABLE timers (id INTEGER PRIMARY KEY)"))
    before = snapshot(engine)
    with pytest.raises(Exception, match="timers"):
        migrate.upgrade(url)
    tables = set(inspect(engine).get_table_names())
    assert "sent" in tables and "alembic_version" not in tables and "outbox" not in tables
    assert snapshot(engine) == before


def test_processes_starting_at_once_upgrade_once(engine, url):
    make_release_0_1_ledger(engine)
    start, results = threading.Barrier(3), []

    def run():
        start.wait()
        results.append(migrate.upgrade(url))
    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results, key=str) == [("0001", migrate.HEAD)] + [(migrate.HEAD, migrate.HEAD)] * 2
    assert drift(engine) == []


def test_the_check_at_head_is_one_query(engine, url):
    migrate.upgrade(engine)
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    assert migrate.upgrade(engine) == (migrate.HEAD, migrate.HEAD)
    assert statements == ["SELECT version_num FROM alembic_version"]


def test_a_ledger_newer_than_this_release_is_refused(engine, url):
    migrate.upgrade(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(EnricherError, match="revision 0099") as err:
        migrate.upgrade(url)
    assert err.value.key == "ledger_too_new"


def test_an_unreachable_database_is_one_line_not_a_traceback(tmp_path):
    env = {"ENRICHER_DATA_DIR": str(tmp_path), "ENRICHER_DATABASE_URL": "postgresql+psycopg://u@127.0.0.1:1/x"}
    result = CliRunner().invoke(migrate.migrate, [], env=env)
    assert result.exit_code == 2
    assert result.output.startswith("error: database_unavailable: cannot open the ledger")
    assert "Traceback" not in result.output


def test_head_is_the_last_revision_file():
    scripts = ScriptDirectory.from_config(migrate.config())
    assert scripts.get_current_head() == migrate.HEAD
    for script in scripts.walk_revisions():
        # File names lead with the revision id: HEAD is read from them without Alembic.
        assert os.path.basename(script.path).startswith(f"{script.revision}_")


def test_the_command_is_registered():
    from plugin.cli import cli
    assert cli.commands["migrate"] is migrate.migrate


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
