"""Platform adapters: one inbound module (verify, schema, normalize) and one REST
client module per platform. Adding a platform adds a line to `ADAPTERS` and a
manifest entry; the web layer and the pipeline do not change.

The client module may use its adapter's helpers (payload shapes, user ids); the
adapter never imports its client: the pair is joined here, so neither imports the
other in a circle."""
from __future__ import annotations

from .base import Adapter, Intake
from .jira import JiraAdapter
from .jira_api import JiraClient
from .zammad import ZammadAdapter
from .zammad_api import ZammadClient

ZammadAdapter.client_class = ZammadClient
JiraAdapter.client_class = JiraClient

ADAPTERS: dict[str, type[Adapter]] = {
    ZammadAdapter.name: ZammadAdapter,
    JiraAdapter.name: JiraAdapter,
}

__all__ = ["ADAPTERS", "Adapter", "Intake"]
