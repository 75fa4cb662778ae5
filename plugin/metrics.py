"""Prometheus metrics read from the ledger and the queue at scrape time.

Intake and workers may be separate processes (or machines): counting in the shared
ledger instead of in process memory makes every scrape see all of them."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import case, func, select

from . import timers
from .store import utcnow
from .tables import corrections, deliveries, kv, outbox, outcomes, tickets, writes

LATENCY_BUCKETS_MS = (25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


class LedgerCollector(Collector):
    def __init__(self, ledger: Any, queue: Any):
        self.ledger = ledger
        self.queue = queue
        self.mode = getattr(getattr(queue, "settings", None), "mode", "live")

    def collect(self) -> Iterator[Any]:
        with self.ledger.engine.connect() as conn:
            by_status = conn.execute(select(deliveries.c.platform, deliveries.c.status, func.count())
                                     .group_by(deliveries.c.platform, deliveries.c.status)).all()
            by_outcome = conn.execute(select(outcomes.c.platform, outcomes.c.outcome, func.count())
                                      .group_by(outcomes.c.platform, outcomes.c.outcome)).all()
            calls = conn.execute(select(writes.c.platform, writes.c.method, writes.c.status, func.count())
                                 .group_by(writes.c.platform, writes.c.method, writes.c.status)).all()
            done = outcomes.c.duration_ms.is_not(None) & outcomes.c.outcome.in_(["enriched", "unchanged"])
            # Bucket counts in one aggregate query: a scrape never reads the rows themselves.
            histogram = conn.execute(select(
                func.count(), func.coalesce(func.sum(outcomes.c.duration_ms), 0),
                *[func.sum(case((outcomes.c.duration_ms <= b, 1), else_=0)) for b in LATENCY_BUCKETS_MS])
                .where(done)).one()
            sends = conn.execute(select(outbox.c.channel, outbox.c.status, func.count())
                                 .group_by(outbox.c.channel, outbox.c.status)).all()
            health = conn.execute(select(kv.c.key, kv.c.value).where(kv.c.key.like("platform:%:health"))).all()
            wrong = conn.execute(select(func.count(func.distinct(corrections.c.platform + ":"
                                                                 + corrections.c.ticket_id)))).scalar()
            classified = conn.execute(select(func.count()).select_from(tickets)
                                      .where(tickets.c.category.is_not(None))).scalar()
            kpi = _kpi_sums(conn, utcnow())
        yield _gauge("enricher_deliveries", "Deliveries in the ledger by status",
                     ["platform", "status"], by_status)
        yield _counter("enricher_outcomes", "Processing outcomes", ["platform", "outcome"], by_outcome)
        yield _counter("enricher_platform_writes", "Platform write calls by HTTP status",
                       ["platform", "method", "status"], calls)
        depth = GaugeMetricFamily("enricher_queue_depth", "Tasks waiting or scheduled in the queue")
        depth.add_metric([], self.queue.pending())
        yield depth
        yield _histogram(histogram)
        yield from _misclassification(wrong or 0, classified or 0)
        yield _gauge("enricher_outbox", "Outbox messages by channel and status", ["channel", "status"], sends)
        yield from _timers(timers.counts(self.ledger, utcnow()))
        yield from _health(health)
        yield from _kpis(kpi)
        mode = GaugeMetricFamily("enricher_mode", "1 for the mode this service runs in (shadow: writes "
                                 "nothing to the platform, sends nothing)", labels=["mode"])
        mode.add_metric([self.mode], 1)
        yield mode


KPI_WINDOW = timedelta(days=30)
# name, help, figure of plugin.reports.queries.figures (the review report's own definitions)
KPI_GAUGES = (
    ("tickets", "Tickets registered", "tickets"),
    ("response_minutes", "Average response time, working minutes (registered to accepted)",
     "avg_response_minutes"),
    ("response_attainment", "Share of judged tickets accepted within the response limit",
     "response_attainment"),
    ("sla_attainment", "Share of judged tickets resolved within their SLA", "sla_attainment"),
    ("handling_minutes", "Average handling time, working minutes", "avg_handling_minutes"),
    ("waiting_share", "Average share of resolution time spent waiting", "avg_waiting_share"),
    ("misclassification_rate", "Corrected / all tickets", "misclassification_rate"),
    ("record_quality", "Average record quality (0-1)", "avg_record_quality"),
    ("reopened", "Tickets reopened after they were solved", "reopened"),
    ("repeat", "Repeat queries", "repeat"),
    ("satisfied_share", "Share of survey answers that were satisfied (满意)", "satisfied_share"),
    ("self_help_resolution", ("Share of tickets with knowledge suggestions resolved without an agent's "
                             "public reply"), "self_help_resolution"),
)


def _kpi_sums(conn, now) -> dict[str, tuple[dict, int]]:
    """By platform: the review report's sums over tickets registered in the last 30 days
    (one aggregate query on the created_at index), and how many are at SLA risk now."""
    from .reports.queries import SUMS, figures
    from .tables import ticket_facts as f

    cols = [expr.label(name) for name, expr in SUMS.items()]
    risky = func.sum(case((f.c.sla_at_risk.is_(True) & f.c.resolved_at.is_(None), 1), else_=0))
    stale = func.sum(case((f.c.stale_level >= 1, 1), else_=0))
    outage = func.sum(case((f.c.outage_of.is_not(None), 1), else_=0))
    rows = conn.execute(select(f.c.platform, risky.label("at_risk"), stale.label("stale"), outage.label("outage"),
                               *cols)
                        .where(f.c.created_at >= now - KPI_WINDOW).group_by(f.c.platform)).mappings()
    return {r["platform"]: (figures({k: float(r[k] or 0) for k in SUMS}), int(r["at_risk"] or 0),
                            int(r["stale"] or 0), int(r["outage"] or 0)) for r in rows}


def _kpis(by_platform: dict[str, tuple[dict, int, int, int]]):
    for name, doc, key in KPI_GAUGES:
        g = GaugeMetricFamily(f"enricher_kpi_{name}", f"{doc} (tickets of the last 30 days)",
                              labels=["platform"])
        for platform, (figs, *_) in sorted(by_platform.items()):
            if figs[key] is not None:
                g.add_metric([platform], figs[key])
        yield g
    counts = (("enricher_kpi_sla_at_risk", "Open tickets whose SLA is at risk now"),
              ("enricher_tickets_stale", ("Tickets escalated as stale and without progress since "
                                         "(tickets of the last 30 days)")),
              ("enricher_tickets_known_outage", ("Tickets linked to a major event as a known outage "
                                                "(tickets of the last 30 days)")))
    for i, (name, doc) in enumerate(counts, start=1):
        g = GaugeMetricFamily(name, doc, labels=["platform"])
        for platform, row in sorted(by_platform.items()):
            g.add_metric([platform], row[i])
        yield g


def _gauge(name, doc, labels, rows):
    g = GaugeMetricFamily(name, doc, labels=labels)
    for *values, n in rows:
        g.add_metric([str(v) for v in values], n)
    return g


def _counter(name, doc, labels, rows):
    c = CounterMetricFamily(name, doc, labels=labels)
    for *values, n in rows:
        c.add_metric([str(v) for v in values], n)
    return c


def _histogram(row) -> HistogramMetricFamily:
    count, total, *cumulative = row
    h = HistogramMetricFamily("enricher_processing_seconds", "Time to process one delivery")
    buckets = [(str(b / 1000), int(n or 0)) for b, n in zip(LATENCY_BUCKETS_MS, cumulative, strict=True)]
    buckets.append(("+Inf", int(count or 0)))
    h.add_metric([], buckets, float(total or 0) / 1000)
    return h


def _timers(by_kind: dict[str, dict[str, int]]):
    for state, doc in (("pending", "Timers waiting for their time"), ("due", "Timers whose time has come"),
                       ("overdue", "Timers more than 30 s past their time"), ("dead", "Timers that gave up")):
        g = GaugeMetricFamily(f"enricher_timers_{state}", doc, labels=["kind"])
        for kind, counts in sorted(by_kind.items()):
            g.add_metric([kind], counts[state])
        yield g


def _health(rows):
    """Platform reachability as the workers last saw it (intake does not depend on it)."""
    g = GaugeMetricFamily("enricher_platform_reachable", "1 if the last platform call got an answer",
                          labels=["platform"])
    for key, value in rows:
        g.add_metric([key.split(":")[1]], 1 if (value or {}).get("ok") else 0)
    yield g


def _misclassification(wrong: int, classified: int):
    # DOMAIN.md KPI: tickets returned or marked wrongly classified / all tickets classified.
    total = CounterMetricFamily("enricher_misclassifications", "Tickets whose category or group "
                                "an agent corrected")
    total.add_metric([], wrong)
    rate = GaugeMetricFamily("enricher_misclassification_rate", "Corrected / classified tickets")
    rate.add_metric([], wrong / classified if classified else 0.0)
    return total, rate


def make_registry(ledger: Any, queue: Any) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LedgerCollector(ledger, queue))
    return registry
