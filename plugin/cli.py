"""`desk-enricher` command line: serve, worker, replay, demo, and the admin tools.

Every command turns an EnricherError into one `error: <key>: <message>` line on
stderr and exit code 2: no traceback reaches a person.
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys

import click

from .console import friendly
from .errors import EnricherError
from .logs import setup_logging
from .settings import load_settings

log = logging.getLogger("desk_enricher.cli")


def _settings(**overrides):
    settings = load_settings(**overrides)
    setup_logging(settings.log_level, settings.secret_values())
    return settings


@click.group()
def cli():
    """desk-enricher: verify, classify, communicate and measure helpdesk tickets."""


@cli.command()
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--web-workers", default=None, type=int,
              help="gunicorn worker processes for intake [default: gevent one per CPU core, "
                   "at least 2; sync and gthread 4]")
@click.option("--worker-class", type=click.Choice(["gevent", "gthread", "sync"]), default="gevent",
              show_default=True,
              help="gunicorn worker model (see `_run_gunicorn` for why gevent)")
@click.option("--threads", default=16, show_default=True, type=int,
              help="threads per web worker with --worker-class gthread")
@click.option("--workers", default=None, type=int, help="worker threads (ENRICHER_WORKERS)")
@click.option("--no-worker", is_flag=True, help="intake only; run `desk-enricher worker` elsewhere")
@click.option("--insecure-no-signature", is_flag=True,
              help="accept unsigned webhooks (local trials only)")
@friendly
def serve(port, host, web_workers, worker_class, threads, workers, no_worker, insecure_no_signature):
    """Run intake (gunicorn) and the worker together on embedded defaults."""
    from .app import Core, create_app, enabled_platforms

    settings = _settings(insecure_no_signature=insecure_no_signature)
    if not enabled_platforms(settings):
        raise EnricherError("no platform is configured: set ENRICHER_ZAMMAD_URL (and its token and "
                            "webhook secret) or ENRICHER_JIRA_URL; `desk-enricher demo` needs none",
                            key="no_platform")
    core = Core(settings, insecure=insecure_no_signature)   # fails fast on bad settings or secrets
    check_notices(settings)                                  # and on bad channels or templates
    bot_ids = {name: core.bot_id(name) for name in core.adapters}
    child = None if no_worker else _spawn_worker(workers)
    try:
        _run_gunicorn(lambda: create_app(settings, bot_ids=bot_ids,
                                         insecure=insecure_no_signature),
                      # threads > 1 would turn gunicorn's sync workers into gthread ones
                      {"bind": f"{host}:{port}", "workers": web_workers or default_web_workers(worker_class),
                       "worker_class": worker_class,
                       "threads": threads if worker_class == "gthread" else 1})
    finally:
        if child is not None and child.poll() is None:
            child.terminate()
            child.wait(timeout=10)


def _leave_ctrl_c_to_the_arbiter() -> None:
    """Ctrl-C sends SIGINT to every process of the terminal's group, and gunicorn's arbiter
    answers it with SIGQUIT to each web worker. A worker quits on either by raising
    SystemExit from the signal handler wherever it is: a second signal while exiting, or
    one landing in a garbage-collector callback, printed a traceback (gevent and gthread
    alike) and, in the second case, left the worker running until it was killed. So from
    the start of loading the app a web worker ignores SIGINT and treats SIGQUIT as SIGTERM:
    stop accepting, finish the requests in hand, exit (the arbiter still kills a worker
    that takes longer than `graceful_timeout`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    graceful = signal.getsignal(signal.SIGTERM)       # the worker's own, set just before
    if callable(graceful):
        signal.signal(signal.SIGQUIT, graceful)


def default_web_workers(worker_class: str) -> int:
    """gevent: one process per core. A process serves all its connections in turn and
    intake is CPU plus one ledger commit, so more processes than cores only queue on the
    ledger's lock (bench_intake.py: 2 workers on 2 cores ~4% more requests per second
    and less CPU per request than 4). Sync and gthread workers hold one request per
    thread, so they keep 4 processes."""
    if worker_class != "gevent":
        return 4
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:   # pragma: no cover - not Linux
        cores = os.cpu_count() or 2
    return max(2, cores)


def _spawn_worker(workers):
    cmd = [sys.executable, "-m", "plugin", "worker"] + (["--workers", str(workers)] if workers else [])
    # prctl(PDEATHSIG) can only be set in the child; serve spawns before starting any thread
    return subprocess.Popen(cmd, preexec_fn=_die_with_parent)  # noqa: PLW1509


def _die_with_parent():
    # Linux PR_SET_PDEATHSIG: if `serve` is killed, its worker goes too; accepted
    # work stays in the ledger and queue for the next start.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


def _run_gunicorn(factory, options):
    """gunicorn with gevent workers by default: each connection is a greenlet, so clients
    that send slowly (or not at all) cost a socket each instead of a whole worker. With
    sync workers three such clients held every worker for the full 30 s timeout and
    /healthz waited behind them; gthread only moves that limit to the thread count. The
    request itself is CPU and one ledger commit, which the requests a process has in hand
    share (Ledger.accept), so greenlets gain throughput instead of costing it
    (bench/README.md, bench_intake.py --slow-clients). gunicorn stops waiting for a
    request's headers after `keepalive` seconds under gevent; the web layer bounds the
    body (plugin/web.py, BODY_READ_TIMEOUT)."""
    import warnings

    from gunicorn.app.base import BaseApplication

    defaults = {"accesslog": None, "loglevel": "warning", "timeout": 30, "graceful_timeout": 5}
    if options.get("worker_class") == "gevent":
        # Workers patch after serve has imported ssl (requests, redis); intake itself makes
        # no TLS call (bot ids are fetched before the fork), so the warning is noise.
        warnings.filterwarnings("ignore", message="Monkey-patching ssl after ssl")

    class Server(BaseApplication):
        def load_config(self):
            for key, value in {**defaults, **options}.items():
                self.cfg.set(key, value)

        def load(self):                       # in each web worker, right after its signals
            _leave_ctrl_c_to_the_arbiter()
            return factory()

    Server().run()


@cli.command()
@click.option("--workers", default=None, type=int, help="worker threads (ENRICHER_WORKERS)")
@friendly
def worker(workers):
    """Run queue workers alone (scale out: run several, anywhere)."""
    settings = _settings()
    queue = build_worker_queue(settings)
    queue.ledger.clear_dead_leases()
    lost = queue.requeue_all_unfinished()
    build_scheduler(settings, queue).start()   # timers (the sweep first) and outbox retries
    if settings.mode == "shadow":
        log.warning("SHADOW MODE: nothing is written to the platform and nothing is sent",
                    extra={"mode": "shadow"})
    log.info("worker_start", extra={"requeued": lost, "queue": settings.queue_url.split(":")[0]})
    queue.consumer(workers or settings.workers).run()


def build_scheduler(settings, queue):
    from .jobs import ensure_recurring, handlers
    from .timers import Scheduler

    ensure_recurring(queue.ledger, settings)
    return Scheduler(queue.ledger, handlers(settings, queue), queue.processor.dispatcher)


def build_worker_queue(settings, clients=None):
    from .classifiers.loader import model_source
    from .manifest import load_manifest
    from .queue import Queue
    from .store import Ledger
    from .worker import Processor

    manifest = load_manifest()
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    check_notices(settings)                      # bad URLs or templates stop the start here
    return Queue(settings, ledger, lambda: Processor(settings, ledger, manifest, clients=clients,
                                                     model_source=model_source(settings, ledger)))


def check_notices(settings) -> None:
    """Every channel URL and template is valid, or start-up stops with the one that is not."""
    from .notifiers import templates
    from .notifiers.dispatcher import channel_targets, target_names

    for name in target_names(settings):
        channel_targets(settings, name)
    templates.notice("major_event", settings)


@cli.command()
@click.option("--dry-run", is_flag=True, help="list what would be replayed; change nothing")
@click.option("--delivery", "ids", multiple=True, type=int, help="only these delivery ids")
@click.option("--message", "messages", multiple=True, type=int, help="only these outbox message ids")
@friendly
def replay(dry_run, ids, messages):
    """Re-run dead-lettered deliveries, and dead outbox messages (--messages)."""
    from . import outbox
    from .queue import Queue
    from .store import Ledger, utcnow

    settings = _settings()
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    dead = [d for d in ledger.by_status("dead") if not ids or d["id"] in ids]
    for d in dead:
        click.echo(f"{d['id']}\t{d['platform']}\tticket {d['ticket_id']}\t{d['event']}\t"
                   f"attempts {d['attempts']}\t{d['last_error']}")
    unsent = [m for m in outbox.dead(ledger) if not messages or m["id"] in messages]
    for m in unsent:
        click.echo(f"message {m['id']}\t{m['key']}\tattempts {m['attempts']}\t{m['last_error']}")
    if dry_run:
        click.echo(f"{len(dead)} dead letter(s) would be replayed; {len(unsent)} dead message(s) would be sent again")
        return
    Queue(settings, ledger).replay([d["id"] for d in dead])
    outbox.requeue(ledger, [m["id"] for m in unsent], utcnow())
    click.echo(f"{len(dead)} dead letter(s) queued again; {len(unsent)} dead message(s) set to send again")


@cli.command()
@click.argument("platform", type=click.Choice(["zammad", "jira"]))
@click.option("--dry-run", is_flag=True, help="print what would change; change nothing")
@click.option("--bot-login", default=None,
              help="the plugin user's login, when the token used here is an admin's")
@click.option("--jql", default="", help="jira: only issues matching this JQL fire the webhook")
@click.option("--deactivate-auto-reply", is_flag=True,
              help="zammad: switch off Zammad's stock auto-reply (the plugin acknowledges new tickets)")
@friendly
def install(platform, dry_run, bot_login, jql, deactivate_auto_reply):
    """Create or update the webhook, trigger and fields the plugin needs (idempotent)."""
    import importlib

    from .hooks import ADAPTERS
    from .manifest import load_manifest

    settings = _settings()
    secret = getattr(settings, f"{platform}_webhook_secret")
    if not settings.public_url or not secret:
        raise EnricherError(f"set ENRICHER_PUBLIC_URL and ENRICHER_{platform.upper()}_WEBHOOK_SECRET "
                            "first: the webhook is created with them", key="not_configured")
    client = ADAPTERS[platform](settings).client()
    bot_id = client.find_user_id(bot_login) if bot_login else client.bot_id()
    admin = importlib.import_module(f"plugin.admin.{platform}")
    extra = {"jql": jql} if platform == "jira" else {"deactivate_auto_reply": deactivate_auto_reply}
    changes = admin.install(client, load_manifest(), settings.public_url, secret, bot_id,
                            dry_run=dry_run, language=settings.language, **extra)
    for change in changes:
        click.echo(("would " if dry_run else "") + change.line())
    click.echo(f"{len(changes)} change(s){' planned' if dry_run else ''}; "
               f"{'nothing to do' if not changes else 'done' if not dry_run else 'run without --dry-run to apply'}")


@cli.command()
@friendly
def doctor():
    """Check settings, platforms, permissions, webhook wiring, queue, database, dead letters."""
    from .doctor import run_checks

    results = run_checks(_settings())
    for check in results:
        click.echo(check.line())
    failed = [c for c in results if not c.ok]
    click.echo(f"{len(results) - len(failed)} ok, {len(failed)} failed")
    sys.exit(1 if failed else 0)


def main():
    try:
        cli()
    except KeyboardInterrupt:     # Ctrl-C before click's own handling starts (or after it)
        raise SystemExit(130) from None


def _register_commands():
    # Commands that live next to what they work on; imported here to keep start-up light.
    from .classifiers.commands import evaluate, train
    from .classifiers.model_cli import build_default_model, model
    from .demo import demo
    from .migrate import migrate
    from .notifiers.check import templates_group
    from .reports.commands import report
    from .shadow.commands import backfill, shadow_report
    for command in (demo, train, evaluate, migrate, report, templates_group, backfill, shadow_report,
                    model, build_default_model):
        cli.add_command(command)


_register_commands()


if __name__ == "__main__":
    main()
