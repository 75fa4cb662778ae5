"""`desk-enricher doctor`: every check an admin would otherwise do by hand, one line
each with a stable key and what to do; exit code 1 when any fails."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from .admin import Check
from .errors import EnricherError


def run_checks(settings: Any) -> list[Check]:
    from .manifest import load_manifest
    from .queue import make_huey
    from .store import Ledger

    out: list[Check] = [Check("settings", True, "environment and settings file are valid")]
    if getattr(settings, "mode", "live") == "shadow":
        out.append(Check("mode", True, "SHADOW MODE: tickets are processed and recorded, nothing is "
                                       "written to the platform and nothing is sent",
                         "set ENRICHER_MODE=live to go live; see `desk-enricher shadow-report` first"))
    try:
        manifest = load_manifest()
        out.append(Check("manifest", True, f"{manifest['name']} {manifest['version']}"))
    except EnricherError as exc:
        return out + [Check("manifest", False, exc.message, "restore manifest.json from the release")]
    out += _store_checks(settings, Ledger, make_huey)
    out.append(_notify_check(settings))
    out.append(_contacts_check(settings))
    out.append(_calendar_check(settings))
    model = _model_check(settings)
    if model:
        out.append(model)
    out += _platform_checks(settings, manifest)
    return out


def _store_checks(settings, ledger_cls, make_huey) -> list[Check]:
    out = []
    try:
        ledger = ledger_cls(settings.database_url, lock_dir=settings.data_dir)
        ledger.ping()
        out.append(Check("database", True, settings.database_url.split("://")[0]))
        dead = len(ledger.by_status("dead"))
        out.append(Check("dead_letters", dead == 0, f"{dead} dead letter(s)",
                         "see `desk-enricher replay --dry-run`, fix the cause, then `replay`"))
        out += _timer_checks(ledger)
    except Exception as exc:  # noqa: BLE001 - any driver error: report it, do not crash
        out.append(Check("database", False, f"{type(exc).__name__}: {_masked(settings, exc)}",
                         "check ENRICHER_DATABASE_URL and that the server runs"))
    try:
        huey = make_huey(settings.queue_url, settings.queue_name)
        out.append(Check("queue", True, f"{settings.queue_url.split('://')[0]}, "
                                        f"{huey.pending_count()} waiting"))
    except Exception as exc:  # noqa: BLE001 - same for the queue's driver
        out.append(Check("queue", False, f"{type(exc).__name__}: {_masked(settings, exc)}",
                         "check ENRICHER_QUEUE_URL and that the server runs"))
    return out


def _masked(settings, exc: Exception) -> str:
    """A driver's message may quote the URL it was given: never its password."""
    from .settings import mask_url
    text = mask_url(str(exc)) or ""
    for secret in settings.secret_values():
        text = text.replace(secret, "***")
    return text[:200]


def _timer_checks(ledger) -> list[Check]:
    from . import outbox, timers
    from .store import utcnow

    by_kind = timers.counts(ledger, utcnow())
    overdue = {k: c["overdue"] for k, c in by_kind.items() if c["overdue"]}
    dead = {k: c["dead"] for k, c in by_kind.items() if c["dead"]}
    pending = sum(c["pending"] for c in by_kind.values())
    unsent = len(outbox.dead(ledger))
    detail = ", ".join(f"{k} {n}" for k, n in sorted(overdue.items())) or f"{pending} pending, none overdue"
    return [Check("timers", not overdue and not dead,
                  detail + (f"; dead: {', '.join(f'{k} {n}' for k, n in sorted(dead.items()))}" if dead else ""),
                  "timers more than 30 s late mean no worker is running: start `desk-enricher worker`"),
            Check("outbox", unsent == 0, f"{unsent} message(s) that could not be sent",
                  "see `desk-enricher replay --dry-run`, fix the channel, then `replay`")]


def _notify_check(settings) -> Check:
    from .notifiers import templates
    from .notifiers.dispatcher import channel_targets
    try:
        target = channel_targets(settings, "notify_major_event")
        templates.notice("major_event", settings)
    except EnricherError as exc:
        return Check("notify.major_event", False, exc.message, "fix the URL or the template")
    return Check("notify.major_event", True, f"{len(target)} channel(s); template ok")


def _contacts_check(settings) -> Check:
    """Every person of the tracking contact table can be reached on their channel: a lead
    on feishu without ENRICHER_NOTIFY_FEISHU would hear of no stale ticket and no digest."""
    from .tracking import config, contacts
    cfg = config.of(settings)
    people = {**{f"lead of {g}": c for g, c in cfg.contacts.items()},
              **({"manager": cfg.manager} if cfg.manager else {})}
    if not people:
        return Check("tracking.contacts", True, "no contact table: stale tickets get the note and the tag "
                                                "only, no digest is sent")
    unreachable = [f"{who} ({c.channel})" for who, c in sorted(people.items())
                   if contacts.route(c, settings) is None]
    return Check("tracking.contacts", not unreachable,
                 f"{len(people) - len(unreachable)} of {len(people)} contact(s) reachable"
                 + (f"; not: {', '.join(unreachable)}" if unreachable else ""),
                 "set ENRICHER_NOTIFY_<CHANNEL> for those channels (ENRICHER_NOTIFY_EMAIL for e-mail)")


# How far ahead `doctor` looks for days the holiday data does not cover.
CALENDAR_AHEAD_DAYS = 60


def _calendar_check(settings, today: date | None = None) -> Check:
    """The working calendar covers today and the coming weeks. From the first day the
    holiday data lacks (a year not yet published in chinese-calendar), KPIs, the stale
    clock and the digest record "not measured": the admin hears of it before, here."""
    from .workcal import COVERAGE_FIX as fix
    from .workcal import CalendarError, of
    cal = of(settings)
    today = today or datetime.now(UTC).astimezone(cal.zone).date()
    for ahead in range(CALENDAR_AHEAD_DAYS + 1):
        day = today + timedelta(days=ahead)
        try:
            cal.is_working_day(day)
        except CalendarError:
            if ahead == 0:
                return Check("calendar", False, f"{day.isoformat()} is not covered by the holiday "
                                                "data: working time is not measured", fix)
            return Check("calendar", True, f"covered until {(day - timedelta(days=1)).isoformat()}; "
                                           f"from {day.isoformat()} working time will not be "
                                           f"measured unless you {fix}")
    return Check("calendar", True, f"covered for the next {CALENDAR_AHEAD_DAYS} days")


def _model_check(settings) -> Check | None:
    """The learned model named in the settings loads (none named: rules only, no check)."""
    from .classifiers.loader import model_path
    path = model_path(settings)
    if not path:
        return None
    from .classifiers.model import TrainedModel
    try:
        model = TrainedModel.load(path)
    except EnricherError as exc:
        return Check("classification.model", False, exc.message,
                     "run `desk-enricher train … --model " + str(path) + "`")
    return Check("classification.model", True, f"{len(model.labels)} labels, trained "
                                               f"{model.trained_at} on {model.n_samples} tickets")


def _platform_checks(settings, manifest) -> list[Check]:
    from .app import enabled_platforms
    from .hooks import ADAPTERS

    platforms = enabled_platforms(settings)
    if not platforms:
        return [Check("platforms", False, "no platform configured",
                      "set ENRICHER_ZAMMAD_URL or ENRICHER_JIRA_URL with their tokens and secrets")]
    out = []
    for name in platforms:
        adapter = ADAPTERS[name](settings)
        out.append(Check(f"{name}.secret", adapter.secret_configured(),
                         "webhook secret set" if adapter.secret_configured() else "no webhook secret",
                         f"set ENRICHER_{name.upper()}_WEBHOOK_SECRET"))
        try:
            client = adapter.client()
        except EnricherError as exc:
            out.append(Check(f"{name}.reachable", False, exc.message, "set the platform URL and token"))
            continue
        out += _admin_module(name).checks(client, manifest, settings.public_url)
    return out


def _admin_module(name: str):
    import importlib
    return importlib.import_module(f".admin.{name}", __package__)
