"""Application factory: settings, manifest, ledger, queue, adapters, blueprint, errors."""
from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from .errors import EnricherError, SettingsError, error_body
from .hooks import ADAPTERS
from .manifest import load_manifest
from .metrics import make_registry
from .queue import Queue
from .settings import Settings, load_settings
from .store import Ledger

log = logging.getLogger("desk_enricher.app")


class Core:
    """What the web layer and the worker share in one process."""

    def __init__(self, settings: Settings, *, ledger: Ledger | None = None, queue: Queue | None = None,
                 bot_ids: Mapping[str, str] | None = None, insecure: bool = False,
                 processor_factory=None):
        self.settings = settings
        self.manifest = load_manifest()
        self.ledger = ledger or Ledger(settings.database_url, lock_dir=settings.data_dir)
        self.queue = queue or Queue(settings, self.ledger, processor_factory)
        self.adapters = {name: cls(settings, insecure) for name, cls in ADAPTERS.items()
                         if name in enabled_platforms(settings)}
        check_secrets(self.adapters, insecure)
        self._bot_ids = dict(bot_ids or {})
        self.metrics_registry = make_registry(self.ledger, self.queue)

    def bot_id(self, platform: str) -> str | None:
        if platform not in self._bot_ids:
            self._bot_ids[platform] = _fetch_bot_id(self.adapters[platform])
        return self._bot_ids[platform]

    def readiness(self) -> dict[str, dict[str, Any]]:
        """Can this process accept? That needs the ledger to take a write, and nothing
        else: the queue is refilled from the ledger, and a platform outage is exactly when
        accepting must go on (its reachability is for `doctor` and /metrics)."""
        return {"database": _check(lambda: ledger_writable(self.ledger))}


def enabled_platforms(settings: Settings) -> list[str]:
    # Any credential for inbound webhooks enables intake, even without the REST URL (a
    # web-only process); Jira Automation calls have a secret of their own.
    keys = ("url", "webhook_secret", "automation_secret")
    return [name for name in ADAPTERS if any(getattr(settings, f"{name}_{k}", None) for k in keys)]


def check_secrets(adapters: Mapping[str, Any], insecure: bool) -> None:
    """Fail closed: a platform without a webhook secret is refused unless told otherwise."""
    missing = [name for name, a in adapters.items() if not a.secret_configured()]
    if missing and not insecure:
        wanted = "; ".join(" or ".join(adapters[m].secret_env) for m in missing)
        raise SettingsError(f"no webhook secret for {', '.join(missing)}: set {wanted} "
                            "(or --insecure-no-signature, for local trials only)", key="missing_secret")
    for name in missing:
        log.warning("INSECURE: accepting unsigned webhooks", extra={"platform": name})


def ledger_writable(ledger: Ledger, timeout: float = 2.0) -> None:
    """Take the ledger's write lock and let go, writing nothing. SQLite: on a connection
    of its own, so a probe waits `timeout` at most, not the ledger's 30 s busy timeout."""
    if not ledger.is_sqlite:
        with ledger.engine.connect() as conn:
            if conn.exec_driver_sql("SHOW transaction_read_only").scalar() != "off":
                raise EnricherError("the ledger database is read-only", key="ledger_read_only")
        return
    conn = sqlite3.connect(ledger.engine.url.database, timeout=timeout, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def _fetch_bot_id(adapter: Any) -> str | None:
    try:
        return adapter.client().bot_id()
    except EnricherError as exc:
        # The worker checks again before writing; intake must not fail for this.
        log.warning("bot_id_unknown", extra={"platform": adapter.name, "error": exc.key})
        return None


def _check(fn) -> dict[str, Any]:
    try:
        fn()
        return {"ok": True}
    except EnricherError as exc:
        return {"ok": False, "error": exc.key, "message": exc.message}
    except Exception as exc:  # noqa: BLE001 - a readiness probe reports, it does not crash
        return {"ok": False, "error": type(exc).__name__}


def create_app(settings: Settings | None = None, **core_options: Any) -> Flask:
    settings = settings or load_settings()
    app = Flask("desk_enricher")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json = JSONProvider(app)
    app.extensions["enricher"] = Core(settings, insecure=core_options.pop("insecure", False)
                                      or bool(getattr(settings, "insecure_no_signature", False)),
                                      **core_options)
    from .web import bp
    app.register_blueprint(bp)
    from .reports.web import bp as reports_bp
    app.register_blueprint(reports_bp)
    from .feedback import bp as feedback_bp
    app.register_blueprint(feedback_bp)
    register_errors(app)
    return app


class JSONProvider(DefaultJSONProvider):
    """Readable UTF-8 (Chinese stays Chinese), and always encodable: a lone surrogate
    echoed from a payload (an event name) cannot be sent as UTF-8, so such an answer
    is escaped instead of failing."""

    ensure_ascii = False
    sort_keys = False          # validation details may mix key types; order means nothing

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        text = super().dumps(obj, **kwargs)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return super().dumps(obj, **{**kwargs, "ensure_ascii": True})
        return text


def register_errors(app: Flask) -> None:
    """Every error, the server's own included, in the one shape; never a stack trace."""
    @app.errorhandler(EnricherError)
    def _enricher_error(exc: EnricherError):
        return jsonify(exc.to_dict()), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        key = "payload_too_large" if exc.code == 413 else (exc.name or "error").lower().replace(" ", "_")
        response = exc.get_response()      # keeps what the status needs (Allow on a 405)
        response.set_data(app.json.dumps(error_body(key, exc.description or exc.name)))
        response.mimetype = "application/json"
        return response

    @app.errorhandler(Exception)
    def _internal(exc: Exception):
        log.exception("internal_error")
        return jsonify(error_body("internal_error", "internal error; see the service log")), 500
