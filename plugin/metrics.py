"""Prometheus metrics read from the ledger and the queue at scrape time.

Intake and workers may be separate processes (or machines): counting in the shared
ledger instead of in process memory makes every scrape see all of them."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import func, select

from .tables import corrections, deliveries, outcomes, tickets, writes

LATENCY_BUCKETS_MS = (25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


class LedgerCollector(Collector):
    def __init__(self, ledger: Any, queue: Any):
        self.ledger = ledger
        self.queue = queue

    def collect(self) -> Iterator[Any]:
        with self.ledger.engine.connect() as conn:
            by_status = conn.execute(select(deliveries.c.platform, deliveries.c.status, func.count())
                                     .group_by(deliveries.c.platform, deliveries.c.status)).all()
            by_outcome = conn.execute(select(outcomes.c.platform, outcomes.c.outcome, func.count())
                                      .group_by(outcomes.c.platform, outcomes.c.outcome)).all()
            calls = conn.execute(select(writes.c.platform, writes.c.method, writes.c.status, func.count())
                                 .group_by(writes.c.platform, writes.c.method, writes.c.status)).all()
            durations = [d for (d,) in conn.execute(select(outcomes.c.duration_ms).where(
                outcomes.c.duration_ms.is_not(None), outcomes.c.outcome.in_(["enriched", "unchanged"])))]
            wrong = conn.execute(select(func.count(func.distinct(corrections.c.platform + ":"
                                                                 + corrections.c.ticket_id)))).scalar()
            classified = conn.execute(select(func.count()).select_from(tickets)
                                      .where(tickets.c.category.is_not(None))).scalar()
        yield _gauge("enricher_deliveries", "Deliveries in the ledger by status",
                     ["platform", "status"], by_status)
        yield _counter("enricher_outcomes", "Processing outcomes", ["platform", "outcome"], by_outcome)
        yield _counter("enricher_platform_writes", "Platform write calls by HTTP status",
                       ["platform", "method", "status"], calls)
        depth = GaugeMetricFamily("enricher_queue_depth", "Tasks waiting or scheduled in the queue")
        depth.add_metric([], self.queue.pending())
        yield depth
        yield _histogram(durations)
        yield from _misclassification(wrong or 0, classified or 0)


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


def _histogram(durations_ms: list[float]):
    h = HistogramMetricFamily("enricher_processing_seconds", "Time to process one delivery")
    buckets = [(str(b / 1000), sum(1 for d in durations_ms if d <= b)) for b in LATENCY_BUCKETS_MS]
    buckets.append(("+Inf", len(durations_ms)))
    h.add_metric([], buckets, sum(durations_ms) / 1000)
    return h


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
