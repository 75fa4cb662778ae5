"""The review's KPIs on /metrics: gauges per platform over the last 30 days, from the same
sums as the report, in one aggregate query."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, insert

from plugin.app import create_app
from plugin.store import utcnow
from plugin.tables import ticket_facts


def test_kpi_gauges(make_settings):
    app = create_app(make_settings())
    ledger = app.extensions["enricher"].ledger
    now = utcnow()

    def row(tid, days_ago, **kw):
        at = now - timedelta(days=days_ago)
        return {**dict.fromkeys(c.name for c in ticket_facts.columns), "platform": "zammad", "ticket_id": tid,
                "created_at": at, "first_seen_at": at, "last_seen_at": at, "corrected": False, **kw}
    with ledger.transaction() as conn:
        conn.execute(insert(ticket_facts), [
            row("1", 1, response_minutes=3, response_breached=False, sla_breached=False, record_quality=100,
                knowledge_suggested=2, self_help_resolved=True, outage_of="9"),
            row("2", 2, response_minutes=9, response_breached=True, sla_at_risk=True, record_quality=50,
                stale_level=2, knowledge_suggested=1, self_help_resolved=False),
            row("4", 3, stale_level=0),                                           # moving again
            row("3", 40, response_minutes=99, response_breached=True, stale_level=1)])   # older than 30 days
    statements = []
    event.listen(ledger.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'enricher_kpi_tickets{platform="zammad"} 3.0' in text
    assert 'enricher_kpi_response_minutes{platform="zammad"} 6.0' in text
    assert 'enricher_kpi_response_attainment{platform="zammad"} 0.5' in text
    assert 'enricher_kpi_sla_attainment{platform="zammad"} 1.0' in text
    assert 'enricher_kpi_record_quality{platform="zammad"} 0.75' in text
    assert 'enricher_kpi_sla_at_risk{platform="zammad"} 1.0' in text
    # The desk owning its tickets (issue 14): stale, known outages, self-help.
    assert 'enricher_tickets_stale{platform="zammad"} 1.0' in text
    assert 'enricher_tickets_known_outage{platform="zammad"} 1.0' in text
    assert 'enricher_kpi_self_help_resolution{platform="zammad"} 0.5' in text
    assert len([s for s in statements if "ticket_facts" in s]) == 1
