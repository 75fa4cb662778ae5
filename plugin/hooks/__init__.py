"""Platform adapters: one inbound module (verify, schema, normalize) and one REST
client module per platform. Adding a platform adds a line to `ADAPTERS` and a
manifest entry; the web layer and the pipeline do not change."""
from __future__ import annotations

from .base import Adapter, Intake
from .jira import JiraAdapter
from .zammad import ZammadAdapter

ADAPTERS: dict[str, type[Adapter]] = {
    ZammadAdapter.name: ZammadAdapter,
    JiraAdapter.name: JiraAdapter,
}

__all__ = ["ADAPTERS", "Adapter", "Intake"]
