"""The blueprint: webhook intake and the operational endpoints. Thin on purpose:
verify, check shape, store durably, answer. Everything else happens in the worker."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from .errors import BadPayload, EnricherError, NotFound, PayloadTooLarge
from .tables import deliveries

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
    raw = read_body(core.settings.max_body_bytes)
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
    check_storable(delivery_key=key, ticket_id=intake.ticket_id, event=intake.event)
    pk, new = core.ledger.accept(platform, key, intake.ticket_id, intake.event, raw)
    if not new:
        log.info("duplicate", extra={"delivery": key, "ticket": intake.ticket_id})
        return jsonify(status="duplicate", delivery_id=pk), 200
    try:
        core.queue.enqueue(pk)
    except Exception as exc:  # noqa: BLE001 - any queue driver error (Redis down, SQLite locked)
        # Accepted means stored, and it is: the row is committed, and the worker's periodic
        # `recover` queues unfinished deliveries again. Refusing now would only make the
        # platform retry a delivery we already hold.
        log.warning("enqueue_failed", extra={"delivery": key, "delivery_id": pk,
                                             "error": type(exc).__name__})
    else:
        log.info("queued", extra={"delivery": key, "ticket": intake.ticket_id, "delivery_id": pk})
    return jsonify(status="queued", delivery_id=pk), 202


# A client that stops sending mid-body is cut off after this long without a byte,
# so it cannot hold a worker (a thread, or a greenlet and a socket) for good.
BODY_READ_TIMEOUT = 10.0
# What the ledger's columns hold: longer values are refused here, not by the database.
_COLUMNS = {name: deliveries.c[name].type.length for name in ("delivery_key", "ticket_id", "event")}
# Errors a server's own body parser raises from wsgi.input (gunicorn: a bad chunk size).
try:
    from gunicorn.http.errors import ParseException as _ServerParseError
except ImportError:  # pragma: no cover - gunicorn is a dependency, but not the only WSGI server
    _ServerParseError = ValueError


def read_body(limit: int) -> bytes:
    """The whole body, or a 4xx: over `limit` (also when chunked: never cut silently),
    malformed chunked encoding, shorter than announced, or stalled."""
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"body of {request.content_length} bytes is over the {limit} byte limit")
    # One byte over the limit tells "over" from "exactly at" for a chunked body, which
    # werkzeug would otherwise stop reading at the limit without a word.
    request.max_content_length = limit + 1
    sock = request.environ.get("gunicorn.socket")
    if sock is not None:
        sock.settimeout(BODY_READ_TIMEOUT)
    chunks, size = [], 0
    try:
        while chunk := request.stream.read(65536):
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"body is over the {limit} byte limit")
            chunks.append(chunk)
    except RequestEntityTooLarge:
        raise PayloadTooLarge(f"body is over the {limit} byte limit") from None
    except ClientDisconnected as exc:
        if isinstance(exc.__context__, TimeoutError):
            raise EnricherError(f"no body byte for {BODY_READ_TIMEOUT:g} s", key="body_timeout",
                                status=408) from None
        raise BadPayload("body ended before its announced length", key="incomplete_body") from None
    except (_ServerParseError, OSError, ValueError) as exc:
        raise BadPayload(f"body could not be read: {type(exc).__name__}", key="bad_body") from None
    return b"".join(chunks)


def check_storable(**values: str | None) -> None:
    """Refuse at intake what the ledger could not store (a 500 from the database otherwise):
    values over their column's length, NUL (PostgreSQL refuses it) and lone surrogates."""
    for name, value in values.items():
        if value is None:
            continue
        if len(value) > _COLUMNS[name]:
            raise BadPayload(f"{name} is longer than {_COLUMNS[name]} characters",
                             details={name: [f"Longer than maximum length {_COLUMNS[name]}."]})
        if "\x00" in value or _has_surrogate(value):
            raise BadPayload(f"{name} holds characters that cannot be stored",
                             details={name: ["NUL or an unpaired surrogate."]})


def _has_surrogate(value: str) -> bool:
    try:
        value.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


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
