"""Platform adapters: one inbound module (verify, schema, normalize) and one REST
client module per platform. Adding a platform adds a line to `ADAPTERS` and a
manifest entry; the web layer and the pipeline do not change."""
from __future__ import annotations

from .base import Adapter, Intake
from .zammad import ZammadAdapter

ADAPTERS: dict[str, type[Adapter]] = {
    ZammadAdapter.name: ZammadAdapter,
}

__all__ = ["ADAPTERS", "Adapter", "Intake"]
