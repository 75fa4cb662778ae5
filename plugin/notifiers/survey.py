"""Satisfaction links: signed and expiring (itsdangerous, never a hand-rolled HMAC).

One link per answer (满意 / 一般 / 不满意, codes 1/2/3). The token says which
ticket, which answer the link offers and in which language to show the page; its
signature is keyed by ENRICHER_SURVEY_SECRET and its age is checked against
`communication.survey.expire_days` when the page opens. Tokens are made at the
step's `now`, so a retried delivery makes the same links.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from .config import LANGUAGES
from .context import VOTES, label

SALT = "desk-enricher.survey.v1"
CODES = (1, 2, 3)

__all__ = ["BadData", "SignatureExpired", "SurveyToken", "links", "make_token", "read_token"]


@dataclass(frozen=True)
class SurveyToken:
    platform: str
    ticket_id: str
    code: int
    language: str
    issued_at: datetime


def _serializer(secret: str, at: datetime | None = None) -> URLSafeTimedSerializer:
    if at is None:
        return URLSafeTimedSerializer(secret, salt=SALT)
    stamp = int(at.timestamp())

    class _At(TimestampSigner):
        def get_timestamp(self) -> int:
            return stamp
    return URLSafeTimedSerializer(secret, salt=SALT, signer=_At)


def make_token(secret: str, platform: str, ticket_id: str, code: int, language: str, at: datetime) -> str:
    return _serializer(secret, at).dumps([platform, ticket_id, code, language])


def read_token(secret: str, token: str, max_age_seconds: int) -> SurveyToken:
    """The token's content; SignatureExpired when too old, BadData when forged or torn."""
    payload, issued = _serializer(secret).loads(token, max_age=max_age_seconds, return_timestamp=True)
    if (not isinstance(payload, list) or len(payload) != 4 or payload[2] not in CODES
            or payload[3] not in LANGUAGES or not all(isinstance(p, str) for p in payload[:2])):
        raise BadData("not a survey token")
    return SurveyToken(payload[0], payload[1], payload[2], payload[3], issued.astimezone(UTC))


def links(base_url: str, secret: str, platform: str, ticket_id: str, language: str,
          at: datetime) -> list[dict[str, Any]]:
    root = base_url.rstrip("/")
    return [{"code": code, "label": label(VOTES[code], language),
             "url": f"{root}/feedback/{make_token(secret, platform, ticket_id, code, language, at)}"}
            for code in CODES]


def language_hint(secret: str, token: str) -> str | None:
    """The language a token names, read without trusting it: only to word the page
    that says the link is not valid or has expired."""
    try:
        _valid, payload = _serializer(secret).loads_unsafe(token)
    except Exception:  # noqa: BLE001 - any garbage: no hint
        return None
    if isinstance(payload, list) and len(payload) == 4 and payload[3] in LANGUAGES:
        return payload[3]
    return None
