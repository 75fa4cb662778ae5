"""What both platform simulators record of every REST call they answer."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Call:
    method: str
    path: str
    query: dict
    body: Any
    status: int | None = None  # filled in once the simulator has answered
