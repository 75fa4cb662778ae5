"""`desk-enricher report`: the service desk review for a period, as HTML, CSV or JSON."""
from __future__ import annotations

from pathlib import Path

import click

from ..console import friendly
from ..errors import InputError
from .params import FORMATS


@click.command()
@click.option("--from", "first", required=True, metavar="DATE",
              help="first day of the period, YYYY-MM-DD, in the desk's time zone")
@click.option("--to", "last", required=True, metavar="DATE", help="last day of the period (included)")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True)
@click.option("--trend", type=click.Choice(["auto", "day", "week"]), default="auto", show_default=True,
              help="trend by day or week (auto: by day up to 31 days)")
@click.option("--platform", type=click.Choice(["zammad", "jira"]), default=None,
              help="only this platform's tickets")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the report to FILE instead of standard output")
@friendly
def report(first, last, fmt, trend, platform, out):
    """The service desk review (902) of the tickets registered from --from to --to."""
    from ..logs import setup_logging
    from ..settings import load_settings
    from ..store import Ledger
    from . import produce
    from .params import parse_request

    settings = load_settings()
    setup_logging(settings.log_level, settings.secret_values())
    values = {"from": first, "to": last, "format": fmt, "trend": trend}
    if platform:
        values["platform"] = platform
    req = parse_request(values, settings.calendar.zone)
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    body, _ = produce(ledger.engine, req)
    if out is None:
        click.echo(body, nl=not body.endswith("\n"))
        return
    try:
        out.write_text(body, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc.strerror}", key="cannot_write") from None
    click.echo(f"report {req.period.first}..{req.period.last} ({fmt}) written to {out}")
