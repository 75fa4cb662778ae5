"""The what-if report as HTML (one self-contained page: no CDN, no script, readable on
a phone), JSON (the figures) or CSV (one row per ticket, to recount by hand)."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..errors import InputError
from .report import DIMENSIONS

TEMPLATES = Path(__file__).parent / "templates"
CSV_DIMENSIONS = DIMENSIONS
# zh-CN first, English beside it: the page an admin shows to a desk in China.
NAMES = {"category": "服务目录分类 Category", "service": "服务 Service", "group": "处理组 Group",
         "priority": "优先级 Priority", "value_stream": "价值流 Value stream"}
STEPS = {"record_quality": "记录质量 Record quality", "verification": "核验 Verification",
         "classification": "分类 Classification", "kpi": "度量 KPI", "communication": "沟通 Communication"}
KINDS = {"acknowledgements": "受理回执 Acknowledgements", "public_replies": "公开回复 Public replies",
         "internal_notes": "内部备注 Internal notes"}


def render(data: Mapping[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps({k: v for k, v in data.items() if k != "rows"}, ensure_ascii=False,
                          indent=2, default=str) + "\n"
    if fmt == "csv":
        return to_csv(data["rows"])
    if fmt == "html":
        return to_html(data)
    raise InputError(f"unknown format {fmt}: html, json or csv", key="bad_input")


def to_csv(rows: list[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    head = ["platform", "ticket_id", "number", "title", "created_at", "mode", "closed", "triage",
            "confidence", "verification"]
    for d in CSV_DIMENSIONS:
        head += [f"plugin_{d}", f"agents_{d}", f"{d}_agree"]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(head)
    for r in rows:
        line = [r[k] for k in head[:10]]
        for d in CSV_DIMENSIONS:
            mine, theirs = r["plugin"][d], r["agents"][d]
            line += [mine, theirs, "" if theirs is None else "yes" if mine == theirs else "no"]
        writer.writerow(["" if v is None else v for v in line])
    return out.getvalue()


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _kind(name: str) -> str:
    if name.startswith("messages:"):
        return f"渠道消息 Messages ({name.split(':', 1)[1]})"
    return KINDS.get(name, name)


def to_html(data: Mapping[str, Any]) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(pct=_pct, kind=_kind, step=lambda name: STEPS.get(name, name))
    disagreements = [r for r in data["rows"] if r["agents"]["category"] is not None
                     and r["plugin"]["category"] != r["agents"]["category"]][:50]
    return env.get_template("shadow_report.html").render(
        d=data, names=NAMES, dimensions=DIMENSIONS, disagreements=disagreements)
