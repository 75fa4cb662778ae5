"""The review report as JSON (everything, definitions included) and as CSV (one row per
group: the summary, each agent, group, category, channel and trend point, with the same
columns, so a spreadsheet can pivot it)."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from .definitions import DEFINITIONS

CSV_COLUMNS = ("tickets", "resolved", "avg_response_minutes", "response_attainment", "response_judged",
               "sla_attainment", "sla_judged", "avg_first_response_minutes", "avg_resolution_minutes",
               "avg_handling_minutes", "avg_waiting_share", "misclassified", "misclassification_rate",
               "avg_record_quality", "reopened", "repeat", "satisfied", "neutral", "dissatisfied",
               "satisfaction_answers", "satisfied_share", "self_help_resolved", "self_help_judged",
               "self_help_resolution")
SECTIONS = ("by_agent", "by_group", "by_category", "trend")


def to_json(report: Mapping[str, Any]) -> str:
    body = {**report, "definitions": [asdict(d) for d in DEFINITIONS]}
    return json.dumps(body, ensure_ascii=False, indent=2)


def to_csv(report: Mapping[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "key", *CSV_COLUMNS])
    writer.writerow(["summary", f"{report['period']['from']}..{report['period']['to']}",
                     *_cells(report["summary"])])
    for section in SECTIONS:
        for row in report[section]:
            writer.writerow([section, row["key"], *_cells(row)])
    for row in report["channels"]:
        writer.writerow(["channel", row["key"], row["tickets"], *[""] * (len(CSV_COLUMNS) - 1)])
    return out.getvalue()


def _cells(figures: Mapping[str, Any]) -> list[Any]:
    return ["" if figures.get(name) is None else figures[name] for name in CSV_COLUMNS]
