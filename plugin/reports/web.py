"""`/reports`: the review report in a browser, behind the admin token.

No ENRICHER_ADMIN_TOKEN, no page (404): nothing to guess at. With one, a request shows
it by `Authorization: Bearer <token>`, or by a session cookie: a link with `?token=`
sets the cookie (HttpOnly, SameSite=Strict, only for /reports) and redirects to the
same address without the token, so it stays out of the address bar, history and any
Referer. Tokens are compared in constant time.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from flask import Blueprint, Response, current_app, redirect, request, url_for

from ..errors import Forbidden, NotFound, Unauthorized
from . import produce
from .params import default_period, parse_request

bp = Blueprint("reports", __name__)
COOKIE = "enricher_reports"
SESSION_SECONDS = 8 * 3600
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
           "X-Content-Type-Options": "nosniff",
           # The page is self-contained: inline styles and SVG, no script, nothing from elsewhere.
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                      "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"}


def _session(token: str) -> str:
    # The cookie carries a value derived from the token, never the token itself.
    return hmac.new(token.encode(), b"desk-enricher reports session", hashlib.sha256).hexdigest()


def _same(given: str, wanted: str) -> bool:
    return hmac.compare_digest(given.encode(), wanted.encode())


def _authorize(token: str) -> None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        if not _same(header[len("Bearer "):].strip(), token):
            raise Forbidden("the admin token is not right")
        return
    cookie = request.cookies.get(COOKIE)
    if cookie is None:
        raise Unauthorized("the review report needs the admin token: send Authorization: Bearer "
                           "<ENRICHER_ADMIN_TOKEN>, or open /reports?token=<ENRICHER_ADMIN_TOKEN> once")
    if not _same(cookie, _session(token)):
        raise Forbidden("the report session is not valid: open /reports?token=<ENRICHER_ADMIN_TOKEN> again")


@bp.get("/reports")
def reports():
    core = current_app.extensions["enricher"]
    token = getattr(core.settings, "admin_token", None)
    if not token:
        raise NotFound("not found")
    args = {k: v for k, v in request.args.items() if k != "token"}
    if "token" in request.args:
        return _sign_in(request.args["token"], token, args)
    _authorize(token)
    zone = core.settings.calendar.zone
    if "from" not in args and "to" not in args:
        args.update(default_period(datetime.now(zone).date()))
    req = parse_request(args, zone)
    links = {"csv": url_for("reports.reports", **{**args, "format": "csv"}),
             "json": url_for("reports.reports", **{**args, "format": "json"}),
             "form": url_for("reports.reports")}
    body, mimetype = produce(core.ledger.engine, req, links)
    response = Response(body, content_type=mimetype, headers=HEADERS)
    if req.format == "csv":
        response.headers["Content-Disposition"] = \
            f'attachment; filename="desk-review-{req.period.first}-{req.period.last}.csv"'
    return response


def _sign_in(given: str, token: str, args: dict[str, str]):
    if not _same(given, token):
        raise Forbidden("the admin token is not right")
    response = redirect(url_for("reports.reports", **args), 303)
    response.set_cookie(COOKIE, _session(token), max_age=SESSION_SECONDS, httponly=True,
                        samesite="Strict", secure=request.is_secure, path="/reports")
    response.headers.update(HEADERS)
    return response
