"""When to try again: one backoff rule for deliveries, outbox sends and timers, and
which database errors are passing (a locked SQLite file, a dropped connection)."""
from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError


def backoff(attempt: int, base: float, cap: float, retry_after: float | None = None) -> float:
    """Exponential backoff, never shorter than the platform's Retry-After."""
    delay = min(cap, base * (2 ** max(0, attempt - 1)))
    return max(delay, retry_after or 0.0)


def transient_db_error(exc: BaseException) -> bool:
    """A database error that trying again later may cure: the server restarting or
    unreachable, a connection reset, SQLite busy or locked. Not a constraint or a bug."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)
