"""Retention: finished webhook bodies and ticket text go after `retention_days`; what
processing or replay still needs stays. On SQLite and, when a server answers, PostgreSQL."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, insert, select, text

from plugin import retention
from plugin.errors import SettingsError
from plugin.store import Ledger
from plugin.tables import corrections, deliveries, outbox
from tests.conftest import PG_BASE, RUN_ID, postgres_unavailable

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OLD, RECENT = NOW - timedelta(days=100), NOW - timedelta(days=10)
_schemas = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger(request, tmp_path):
    if request.param == "sqlite":
        led = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", lock_dir=tmp_path)
        yield led
        led.dispose()
        return
    reason = postgres_unavailable()
    if reason:
        pytest.skip(f"PostgreSQL retention test skipped: {reason}")
    schema = f"{RUN_ID}_ret{next(_schemas)}"
    admin = create_engine(PG_BASE)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    led = Ledger(f"{PG_BASE}?options=-csearch_path%3D{schema}")
    yield led
    led.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def add_delivery(ledger, key: str, status: str, finished_at: datetime | None) -> None:
    with ledger.transaction() as conn:
        conn.execute(insert(deliveries).values(
            platform="zammad", delivery_key=key, ticket_id="1", event="ticket", status=status,
            attempts=1, body=b'{"ticket":{"title":"printer on fire"}}', received_at=OLD,
            finished_at=finished_at))


def add_correction(ledger, at: datetime) -> None:
    with ledger.transaction() as conn:
        conn.execute(insert(corrections).values(platform="zammad", ticket_id="1", field="category",
                                                old="a", new="b", text="the requester's words", at=at))


def add_outbox(ledger, key: str, status: str, sent_at: datetime | None) -> None:
    with ledger.transaction() as conn:
        conn.execute(insert(outbox).values(
            key=key, platform="zammad", ticket_id="1", event="major_event", audience="owner",
            channel="apprise", public=False, title="Major event: printer on fire",
            body="printer on fire", target="", data={}, status=status, attempts=1,
            next_at=OLD, created_at=OLD, sent_at=sent_at))


def bodies(ledger) -> dict[str, bytes]:
    with ledger.engine.connect() as conn:
        return dict(conn.execute(select(deliveries.c.delivery_key, deliveries.c.body)).all())


def test_finished_bodies_and_old_text_go_and_the_rows_stay(ledger):
    for key, status, finished in [("old-done", "done", OLD), ("old-ignored", "ignored", OLD),
                                  ("new-done", "done", RECENT), ("old-dead", "dead", OLD),
                                  ("queued", "queued", None), ("processing", "processing", None)]:
        add_delivery(ledger, key, status, finished)
    add_correction(ledger, OLD)
    add_correction(ledger, RECENT)
    for key, status, sent_at in [("old-sent", "sent", OLD), ("new-sent", "sent", RECENT),
                                 ("pending", "pending", None), ("dead", "dead", None)]:
        add_outbox(ledger, key, status, sent_at)

    assert retention.purge(ledger, NOW, 90) == {"deliveries": 2, "corrections": 1, "outbox": 1}

    kept = b'{"ticket":{"title":"printer on fire"}}'
    assert bodies(ledger) == {"old-done": b"", "old-ignored": b"", "new-done": kept,
                              # replay and processing read these: never purged
                              "old-dead": kept, "queued": kept, "processing": kept}
    assert sorted((c["id"], c["text"]) for c in ledger.rows("corrections")) == [
        (1, None), (2, "the requester's words")]
    texts = {r["key"]: (r["title"], r["body"]) for r in ledger.rows("outbox")}
    assert texts["old-sent"] == ("", "")
    assert {k: v for k, v in texts.items() if k != "old-sent"} == {
        k: ("Major event: printer on fire", "printer on fire") for k in ("new-sent", "pending", "dead")}
    # A second run finds nothing left to do.
    assert retention.purge(ledger, NOW, 90) == {"deliveries": 0, "corrections": 0, "outbox": 0}


def test_zero_days_keeps_everything(ledger):
    add_delivery(ledger, "ancient", "done", NOW - timedelta(days=3650))
    add_correction(ledger, NOW - timedelta(days=3650))
    assert retention.purge(ledger, NOW, 0) == {"deliveries": 0, "corrections": 0, "outbox": 0}
    assert bodies(ledger)["ancient"] != b""


def test_a_long_history_is_purged_in_short_transactions(ledger, monkeypatch):
    monkeypatch.setattr(retention, "CHUNK", 2)
    for n in range(5):
        add_delivery(ledger, f"d{n}", "done", OLD)
    add_delivery(ledger, "recent", "done", RECENT)
    assert retention.purge(ledger, NOW, 90)["deliveries"] == 5
    assert [k for k, body in bodies(ledger).items() if body] == ["recent"]


@pytest.mark.parametrize("value, expected", [(None, 90), ("0", 0), ("365", 365)])
def test_retention_days_setting(make_settings, value, expected):
    assert make_settings(ENRICHER_RETENTION_DAYS=value).retention_days == expected


def test_negative_retention_is_refused(make_settings):
    with pytest.raises(SettingsError, match="ENRICHER_RETENTION_DAYS"):
        make_settings(ENRICHER_RETENTION_DAYS="-1")
