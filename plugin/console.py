"""The one way a command reports an error: `error: <key>: <message>` on stderr,
details as JSON, exit code 2. No traceback reaches a person."""
from __future__ import annotations

import functools
import json
import sys

import click

from .errors import EnricherError


def friendly(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except EnricherError as exc:
            click.echo(f"error: {exc.key}: {exc.message}", err=True)
            if exc.details:
                click.echo(json.dumps(exc.details, ensure_ascii=False, indent=2), err=True)
            sys.exit(2)
    return wrapper
