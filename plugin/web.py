"""The blueprint: webhook intake and the operational endpoints. Thin on purpose:
verify, check shape, store durably, answer. Everything else happens in the worker."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify, request

from .errors import NotFound, PayloadTooLarge

log = logging.getLogger("desk_enricher.web")
bp = Blueprint("enricher", __name__)


def _core():
    return current_app.extensions["enricher"]


@bp.post("/hooks/<platform>")
def hook(platform: str):
    core = _core()
    adapter = core.adapters.get(platform)
    if adapter is None:
        raise NotFound(f"no platform '{platform}' is configured here", key="unknown_platform")
    limit = core.settings.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"body of {request.content_length} bytes is over the {limit} byte limit")
    raw = request.get_data(cache=False)
    if len(raw) > limit:
        raise PayloadTooLarge(f"body is over the {limit} byte limit")
    adapter.verify(request.headers, raw)
    payload = adapter.parse(raw)
    intake = adapter.intake(payload, core.bot_id(platform))
    key = adapter.delivery_key(request.headers, raw)
    if intake.outcome == "ignored":
        log.info("ignored", extra={"delivery": key, "ticket": intake.ticket_id, "reason": intake.reason})
        return jsonify(status="ignored", reason=intake.reason), 200
    if intake.outcome == "unsupported":
        # Logged apart so the admin can see it; 200 so the platform does not retry or disable us.
        log.warning("unsupported", extra={"delivery": key, "ticket": intake.ticket_id,
                                          "event": intake.event, "reason": intake.reason})
        return jsonify(status="unsupported", event=intake.event, reason=intake.reason), 200
    pk, new = core.ledger.accept(platform, key, intake.ticket_id, intake.event, raw)
    if not new:
        log.info("duplicate", extra={"delivery": key, "ticket": intake.ticket_id})
        return jsonify(status="duplicate", delivery_id=pk), 200
    core.queue.enqueue(pk)
    log.info("queued", extra={"delivery": key, "ticket": intake.ticket_id, "delivery_id": pk})
    return jsonify(status="queued", delivery_id=pk), 202


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    checks = _core().readiness()
    ok = all(c["ok"] for c in checks.values())
    return jsonify(status="ready" if ok else "not_ready", checks=checks), 200 if ok else 503


@bp.get("/metrics")
def metrics():
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
    return Response(generate_latest(_core().metrics_registry), mimetype=CONTENT_TYPE_LATEST)
