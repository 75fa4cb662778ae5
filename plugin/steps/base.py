"""What a step is: a pure function with a name, the steps it needs, and what it reads.

A step gets the ticket and a read-only context (settings, the clock's `now`, what
earlier steps found, a snapshot of the ledger, the ticket's history when it asked
for it) and returns Findings. No network, no clock of its own, no database.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..models import Findings, StepContext, Ticket


@dataclass(frozen=True)
class StepSpec:
    name: str                                   # registry key, manifest and settings name
    run: Callable[[Ticket, StepContext], Findings]
    needs: tuple[str, ...] = ()                 # steps whose findings it reads (ctx.found)
    history: bool = False                       # reads the ticket's timeline (one more REST call)
    knowledge: bool = False                     # reads the platform's knowledge base (one more REST call)
