"""The review report as one self-contained HTML page (Chinese with English alongside),
for the desk manager's monthly or quarterly review: headline figures, a trend, the mix
of channels and categories, the tables per agent, group and category, and a section of
definitions every figure links to."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from . import svg
from .definitions import BY_ID, DEFINITIONS

_ENV = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)

CARDS = ("tickets", "avg_response_minutes", "response_attainment", "sla_attainment",
         "avg_waiting_share", "satisfaction", "misclassification_rate", "avg_record_quality",
         "avg_handling_minutes", "reopened", "repeat", "self_help_resolution")
COLUMNS = ("tickets", "avg_response_minutes", "response_attainment", "sla_attainment",
           "avg_handling_minutes", "avg_waiting_share", "misclassification_rate", "avg_record_quality",
           "satisfaction")
TABLES = (("by_agent", "按处理人", "By agent", "处理人", "agent"),
          ("by_group", "按处理组", "By group", "处理组", "group"),
          ("by_category", "按分类", "By category", "分类", "category"))


def show(fid: str, figures: Mapping[str, Any]) -> str:
    """A figure as a person reads it: minutes with one decimal, shares as percentages."""
    value = figures.get("satisfied_share" if fid == "satisfaction" else fid)
    if value is None:
        return "—"
    unit = BY_ID[fid].unit if fid in BY_ID else ""
    if unit == "%":
        return f"{100 * value:.1f}%"
    if unit == "min":
        return f"{value:.1f} min"
    return f"{value:,}"


def _cards(summary: Mapping[str, Any]) -> list[dict[str, str]]:
    notes = {"response_attainment": f"{summary['response_judged']} 张有结论 judged",
             "satisfaction": f"满意 satisfied · {summary['satisfaction_answers']} 份回复 answers",
             "sla_attainment": f"{summary['sla_judged']} 张有结论 judged",
             "misclassification_rate": f"{summary['misclassified']} 张 tickets",
             "self_help_resolution": f"{summary['self_help_resolved']} / {summary['self_help_judged']} 张 tickets"}
    return [{"id": fid, "zh": BY_ID[fid].zh, "en": BY_ID[fid].en, "value": show(fid, summary),
             "note": notes.get(fid, "")} for fid in CARDS]


def _charts(report: Mapping[str, Any]) -> dict[str, Any]:
    sat = report["satisfaction"]
    return {
        "trend": svg.trend([(p["key"], p["tickets"], p["response_attainment"]) for p in report["trend"]],
                           "趋势 Trend"),
        "satisfaction": svg.stacked([("满意 satisfied", sat["satisfied"]), ("一般 neutral", sat["neutral"]),
                                     ("不满意 dissatisfied", sat["dissatisfied"])], "用户满意度 Satisfaction"),
        "channels": svg.hbars([(c["key"], c["tickets"], f"{c['tickets']} ({100 * (c['share'] or 0):.0f}%)")
                               for c in report["channels"]], "渠道构成 Channel mix"),
        "categories": svg.hbars([(c["key"], c["tickets"], str(c["tickets"])) for c in report["top_categories"]],
                                "主要问询分类 Top categories", svg.TEAL),
    }


def render(report: Mapping[str, Any], links: Mapping[str, str]) -> str:
    columns = [{"id": fid, "zh": BY_ID[fid].zh, "en": BY_ID[fid].en} for fid in COLUMNS]
    tables = [{"id": key, "zh": zh, "en": en, "key_zh": kzh, "key_en": ken,
               "rows": [{"key": row["key"], **{fid: show(fid, row) for fid in COLUMNS}}
                        for row in report[key]]}
              for key, zh, en, kzh, ken in TABLES]
    return _ENV.get_template("report.html").render(
        r=report, links=links, cards=_cards(report["summary"]), charts=_charts(report),
        tables=tables, columns=columns, definitions=DEFINITIONS)
