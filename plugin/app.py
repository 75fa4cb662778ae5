"""Application factory: settings, manifest, ledger, queue, adapters, blueprint, errors."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from .errors import EnricherError, SettingsError
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
        checks = {"database": _check(self.ledger.ping), "queue": _check(self.queue.pending)}
        for name, adapter in self.adapters.items():
            checks[name] = _check(lambda a=adapter: a.client().bot_id())
        return checks


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
    app.json.ensure_ascii = False
    app.extensions["enricher"] = Core(settings, insecure=core_options.pop("insecure", False)
                                      or bool(getattr(settings, "insecure_no_signature", False)),
                                      **core_options)
    from .web import bp
    app.register_blueprint(bp)
    register_errors(app)
    return app


def register_errors(app: Flask) -> None:
    @app.errorhandler(EnricherError)
    def _enricher_error(exc: EnricherError):
        return jsonify(exc.to_dict()), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        key = "payload_too_large" if exc.code == 413 else (exc.name or "error").lower().replace(" ", "_")
        return jsonify(error=key, message=exc.description), exc.code

    @app.errorhandler(Exception)
    def _internal(exc: Exception):
        log.exception("internal_error")
        return jsonify(error="internal_error", message="internal error; see the service log"), 500
