"""The satisfaction page, `/feedback/<token>`: a person on a phone, no login.

GET only shows the choice (the link's answer picked, a comment box, a button): a
mail scanner that opens every link casts no vote. The vote is the POST from that
page. A forged or torn link, or one past its age, gets a page that says so and
changes nothing. Voting again replaces the answer. The page records the vote in
the ledger and sets a "reprocess" timer; the worker writes it to the ticket.

Errors here are pages for a person (HTML in their language), not the JSON shape
API clients get.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, render_template, request

from .. import workcal
from ..notifiers import config, survey
from ..notifiers.commitment import when
from ..store import utcnow
from . import votes
from .texts import TEXTS

log = logging.getLogger("desk_enricher.feedback")
bp = Blueprint("feedback", __name__, url_prefix="/feedback", template_folder="templates")
COMMENT_CHARS = 1000
HEADERS = {
    # The token is in the URL: no Referer may carry it off, no cache or index keep it.
    "Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


@bp.get("/<token>")
def show(token: str):
    found = _token(token)
    if not isinstance(found, survey.SurveyToken):
        return found
    core = current_app.extensions["enricher"]
    return _page("confirm", found.language, 200, token=found, chosen=found.code,
                 before=votes.current(core.ledger, found.platform, found.ticket_id),
                 ticket=votes.ticket(core.ledger, found.platform, found.ticket_id))


@bp.post("/<token>")
def cast(token: str):
    found = _token(token)
    if not isinstance(found, survey.SurveyToken):
        return found
    core = current_app.extensions["enricher"]
    code = request.form.get("code", "")
    ticket = votes.ticket(core.ledger, found.platform, found.ticket_id)
    if code not in ("1", "2", "3"):
        return _page("confirm", found.language, 400, token=found, chosen=None, missing=True,
                     before=votes.current(core.ledger, found.platform, found.ticket_id), ticket=ticket)
    comment = " ".join((request.form.get("comment") or "").split())[:COMMENT_CHARS]
    revision = votes.record(core.ledger, found.platform, found.ticket_id, int(code), comment, found.language,
                            utcnow())
    log.info("vote", extra={"ticket": found.ticket_id, "platform": found.platform, "code": int(code),
                            "revision": revision})
    return _page("thanks", found.language, 200, code=int(code), ticket=ticket)


def _token(token: str) -> survey.SurveyToken | Any:
    """The checked token, or the page that says why it cannot be used."""
    settings = current_app.extensions["enricher"].settings
    secret = getattr(settings, "survey_secret", None)
    comm = config.of(settings)
    fallback = _browser_language(settings)
    if not secret or not comm.survey_enabled:
        return _page("problem", fallback, 404, kind="disabled")
    try:
        return survey.read_token(secret, token, comm.survey_days * 86400)
    except survey.SignatureExpired:
        return _page("problem", survey.language_hint(secret, token) or fallback, 410, kind="expired",
                     days=comm.survey_days)
    except survey.BadData:
        log.info("vote_refused", extra={"reason": "bad token"})
        return _page("problem", survey.language_hint(secret, token) or fallback, 400, kind="invalid")


def _browser_language(settings: Any) -> str:
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    if best:
        return "en" if best == "en" else "zh-CN"
    return getattr(settings, "language", "zh-CN")


def _page(name: str, language: str, status: int, **values: Any):
    texts = TEXTS[language]
    before = values.get("before")
    if before:
        values["before_text"] = texts["before"].format(
            label=texts["choices"][before["code"]], when=when(before["voted_at"], _zone(), language))
    html = render_template(f"feedback/{name}.html", t=texts, lang=language, **values)
    return html, status, {**HEADERS, "Content-Type": "text/html; charset=utf-8"}


def _zone():
    settings = current_app.extensions["enricher"].settings
    return workcal.of(settings).zone
