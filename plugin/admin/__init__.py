"""Admin tools: install (create or update what the plugin needs on a platform) and
the checks behind `doctor`. Both speak in small records a person can read."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Change:
    kind: str            # webhook | trigger | field
    action: str          # create | update
    name: str
    body: dict = field(default_factory=dict, compare=False)
    id: Any = None

    def line(self) -> str:
        return f"{self.action:7} {self.kind:8} {self.name}"


@dataclass(frozen=True)
class Check:
    key: str             # stable: admins search for it and scripts match on it
    ok: bool
    detail: str = ""
    fix: str = ""

    def line(self) -> str:
        if self.ok:
            return f"ok    {self.key}: {self.detail}"
        return f"FAIL  {self.key}: {self.detail}" + (f" -> {self.fix}" if self.fix else "")
