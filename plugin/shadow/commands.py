"""`desk-enricher backfill` and `desk-enricher shadow-report`.

Errors print `error: <key>: <message>` and exit 2 (plugin.console.friendly).
"""
from __future__ import annotations

import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import click

from ..console import friendly
from ..errors import InputError
from ..logs import setup_logging
from ..settings import load_settings

PLATFORMS = ("zammad", "jira")
PROGRESS_SECONDS = 2.0        # a terminal line this often; a log line every PROGRESS_TICKETS
PROGRESS_TICKETS = 500


class When(click.ParamType):
    """A date (the desk's calendar day) or an ISO date-time; `end=True` makes a bare
    date mean the end of that day, so `--to 2025-03-31` includes the 31st."""

    name = "DATE"

    def __init__(self, end: bool = False):
        self.end = end

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if isinstance(value, (datetime, date)) or value is None:
            return value
        try:
            return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date (2025-03-31) or an ISO date-time", param, ctx)


def bounds(settings: Any, start: date | datetime | None, end: date | datetime | None):
    """UTC instants [start, end): bare dates are days of the desk's calendar time zone."""
    zone = getattr(getattr(settings, "calendar", None), "zone", None) or UTC

    def instant(value, next_day: bool) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            value = datetime.combine(value + timedelta(days=1 if next_day else 0), datetime.min.time())
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)

    low, high = instant(start, False), instant(end, True)
    if low and high and low >= high:
        raise InputError("--from must be before --to", key="bad_input")
    return low, high


def _settings():
    settings = load_settings()
    setup_logging(settings.log_level, settings.secret_values())
    return settings


def platforms_of(settings: Any, platform: str | None) -> list[str]:
    chosen = [platform] if platform else [p for p in PLATFORMS if settings.platform_configured(p)]
    missing = [p for p in chosen if not settings.platform_configured(p)]
    if not chosen or missing:
        raise InputError(f"{(missing or ['no platform'])[0]} is not configured: set ENRICHER_ZAMMAD_URL "
                         "or ENRICHER_JIRA_URL (and the token)", key="not_configured")
    return chosen


@click.command()
@click.option("--from", "start", required=True, type=When(), help="first day (or ISO time) of creation")
@click.option("--to", "end", required=True, type=When(end=True), help="last day (inclusive) or ISO time")
@click.option("--dry-run", is_flag=True, help="shadow mode for every ticket: nothing is written or sent")
@click.option("--platform", type=click.Choice(PLATFORMS), help="default: every configured platform")
@click.option("--workers", default=4, show_default=True, type=click.IntRange(1, 32),
              help="tickets in flight at once (ENRICHER_BACKFILL_RATE still caps the requests)")
@friendly
def backfill(start, end, dry_run, platform, workers):
    """Run the pipeline on the tickets created in a period, each as it arrived; resumable."""
    from ..classifiers.loader import model_source
    from ..manifest import load_manifest
    from ..store import Ledger
    from .backfill import Backfill

    settings = _settings()
    low, high = bounds(settings, start, end)
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    for name in platforms_of(settings, platform):
        click.echo(_heading(name, low, high, dry_run, settings.mode), err=True)
        run = Backfill(settings, ledger, load_manifest(), name, dry_run=dry_run, workers=workers,
                       model_source=model_source(settings))
        tally = run.run(low, high, progress=Progress(name))
        for line in summary(tally, settings.backfill_rate):
            click.echo(line)


def _heading(platform: str, low: datetime, high: datetime, dry_run: bool, mode: str) -> str:
    how = ("dry run: every ticket in shadow mode, nothing is written or sent" if dry_run else
           "open tickets enriched (" + ("SHADOW MODE: nothing written" if mode == "shadow" else "live")
           + "), closed ones recorded in shadow mode")
    return f"backfill {platform} {low:%Y-%m-%d %H:%M}Z → {high:%Y-%m-%d %H:%M}Z ({how})"


class Progress:
    """A line that rewrites itself on a terminal; a line per PROGRESS_TICKETS elsewhere."""

    def __init__(self, platform: str):
        self.platform, self.tty = platform, sys.stderr.isatty()
        self._shown, self._count = 0.0, 0

    def __call__(self, tally) -> None:
        count = tally.processed + tally.already + tally.dry_seen + tally.failed
        now = time.monotonic()
        if self.tty and now - self._shown >= PROGRESS_SECONDS:
            click.echo(f"\r{self.platform}: {count} tickets, {tally.rate:.1f}/s, at {tally.cursor}  ",
                       err=True, nl=False)
            self._shown = now
        elif not self.tty and count // PROGRESS_TICKETS > self._count // PROGRESS_TICKETS:
            click.echo(f"{self.platform}: {count} tickets, {tally.rate:.1f}/s, at {tally.cursor}", err=True)
        self._count = count


def summary(tally, rate_limit: float) -> list[str]:
    by = ", ".join(f"{k} {v}" for k, v in sorted(tally.outcomes.items())) or "none"
    lines = ["", (f"{tally.listed} listed: {tally.processed} processed ({by}), "
                  f"{tally.already} already done, {tally.failed} failed")]
    if tally.dry_seen:
        lines.append(f"{tally.dry_seen} were done by an earlier --dry-run in this ledger and are not redone: "
                     "run dry runs on a scratch ledger (ENRICHER_DATA_DIR) to enrich them here")
    busy = max(tally.busy, 1e-9)
    rest = max(0.0, busy - tally.reads - tally.steps)
    limit = f"limit {rate_limit:g}/s" if rate_limit else "no limit"
    lines.append(f"{tally.rate:.1f} tickets/s, {tally.wall:.1f} s; {tally.requests} requests "
                 f"({limit}); thread time: platform reads {tally.reads / busy:.0%}, "
                 f"steps {tally.steps / busy:.0%}, ledger and the rest {rest / busy:.0%}")
    lines.append(f"position {tally.cursor}" + (f"; {tally.failed} failed: run again to retry them"
                                               if tally.failed else ""))
    return lines


@click.command("shadow-report")
@click.option("--from", "start", type=When(), help="tickets created from this day")
@click.option("--to", "end", type=When(end=True), help="up to this day (inclusive)")
@click.option("--format", "fmt", type=click.Choice(["html", "json", "csv"]), default="html", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="write here (default: standard output)")
@click.option("--platform", type=click.Choice(PLATFORMS), help="default: every platform in the ledger")
@click.option("--refresh", is_flag=True,
              help="read what agents finally did from the platform first (tickets shadow mode saw live)")
@friendly
def shadow_report(start, end, fmt, out, platform, refresh):
    """What the plugin would have done beside what agents did: the page to show before go-live."""
    from ..store import Ledger
    from . import render, report

    settings = _settings()
    low, high = bounds(settings, start, end)
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    if refresh:
        for name in platforms_of(settings, platform):
            n = report.refresh_answers(settings, ledger, name, low, high)
            click.echo(f"{name}: read what agents did on {n} tickets", err=True)
    data = report.build(settings, ledger, low, high, platform)
    text = render.render(data, fmt)
    if out:
        with open(out, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        click.echo(f"{data['tickets']} tickets -> {out}", err=True)
    else:
        click.echo(text, nl=False)
