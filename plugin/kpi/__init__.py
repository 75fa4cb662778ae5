"""Service desk KPIs (DOMAIN.md 流程衡量指标) per ticket: pure computations the `kpi`
step (plugin/steps/s902_measure.py) runs and the review report (plugin/reports) adds up.

COLUMNS: the ticket_facts columns the step's facts fill (plugin/record.py facts_row).
"""
from __future__ import annotations

COLUMNS = ("registered_day", "service_level", "accepted_at", "first_response_at", "resolved_at",
           "closed_at", "response_minutes", "first_response_minutes", "resolution_minutes",
           "handling_minutes", "waiting_minutes", "response_breached", "sla_breached", "sla_at_risk",
           "reopened", "repeat", "misclassified")

__all__ = ["COLUMNS"]
