"""The one way a command reports an error: `error: <key>: <message>` on stderr,
details as JSON, exit code 2. No traceback reaches a person."""
from __future__ import annotations

import functools
import json
import sys

import click

from .errors import EnricherError
from .settings import mask_url


def friendly(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except EnricherError as exc:
            _report(exc)
        except Exception as exc:
            known = server_error(exc)
            if known is None:
                raise
            _report(known)
    return wrapper


def _report(exc: EnricherError) -> None:
    click.echo(f"error: {exc.key}: {mask_url(exc.message)}", err=True)
    if exc.details:
        click.echo(mask_url(json.dumps(exc.details, ensure_ascii=False, indent=2)), err=True)
    sys.exit(2)


def server_error(exc: BaseException) -> EnricherError | None:
    """A database or queue server that cannot be reached, as one readable error; None
    for anything else (a bug keeps its traceback)."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
    from sqlalchemy.exc import ArgumentError, DBAPIError

    if isinstance(exc, DBAPIError):
        # The driver's own first line; SQLAlchemy's adds the statement and a link.
        lines = str(exc.orig or exc).strip().splitlines()
        reason = lines[0] if lines else type(exc.orig or exc).__name__
        return EnricherError(f"cannot use the ledger database (ENRICHER_DATABASE_URL): {reason}",
                             key="database_unreachable")
    if isinstance(exc, ArgumentError):
        return EnricherError(f"ENRICHER_DATABASE_URL cannot be used: {exc}", key="invalid_settings")
    if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
        return EnricherError(f"cannot reach the queue server (ENRICHER_QUEUE_URL): {exc}",
                             key="queue_unreachable")
    return None
