"""The service desk review (902): the KPIs of every ticket in a period, added up from the
ledger's ticket_facts, as HTML with charts, CSV or JSON. The `report` command and the
/reports page both call `produce`."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .params import ReportRequest

MIMETYPES = {"html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8",
             "json": "application/json; charset=utf-8"}


def produce(engine: Any, req: ReportRequest, links: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(body, content type) of the report asked for."""
    from . import export, html, queries

    report = queries.build(engine, req)
    if req.format == "json":
        body = export.to_json(report)
    elif req.format == "csv":
        body = export.to_csv(report)
    else:
        body = html.render(report, links or {"csv": "", "json": ""})
    return body, MIMETYPES[req.format]
