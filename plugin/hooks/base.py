"""What every platform adapter provides, and the pieces they share."""
from __future__ import annotations

import abc
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError

from ..errors import BadPayload, BadSignature, PlatformError
from ..models import Ticket


@dataclass(frozen=True)
class Intake:
    """What the web layer needs to know about an inbound event, before queueing."""

    outcome: str            # "process" | "ignored" | "unsupported"
    event: str              # the platform's event name, or ours ("create"/"update") for Zammad
    ticket_id: str | None
    reason: str = ""


@dataclass(frozen=True)
class CurrentState:
    """The ticket as the platform holds it now: what a write plan is diffed against."""

    fields: Mapping[str, Any]
    tags: tuple[str, ...]
    group: str | None = None
    updated_by_id: str | None = None
    # Ticket attributes the same GET returns fresher or fuller than the payload (Jira:
    # the reporter's e-mail, which webhooks never carry, and what a cut-down comment
    # event leaves out). The worker lays them over the normalized ticket.
    overrides: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()   # the plugin's notes already on the ticket (a timed-out write may have landed)
    description: str | None = None   # the ticket's first message, for events that carry none
    markers: frozenset[str] = frozenset()   # intent markers ("de:…") found in the ticket's articles
    # The platform's own record as the GET returned it (ticket, articles or comments,
    # SLA fields): the timeline is built from it plus one history call at most.
    raw: Mapping[str, Any] = field(default_factory=dict)
    links: frozenset[str] = frozenset()   # ids/keys of the tickets already linked to this one


def add_links(add: Any, ticket_id: str, links: Any) -> list[str]:
    """Post each link with `add(ticket_id, link)`. A link the platform refuses for good
    (a link type the site lacks, no permission) is left out and named, not a failed
    delivery: the fields and the note that say "possible repeat" are already written."""
    left_out = []
    for link in links:
        try:
            add(ticket_id, link)
        except PlatformError as exc:
            if exc.retryable:
                raise
            left_out.append(f"link to {link.other_number} ({exc.http_status or exc.key})")
    return left_out


def check_hmac(secret: str, raw_body: bytes, header_value: str | None, algorithm: str) -> None:
    """Compare `<algorithm>=<hex>` against the HMAC of the raw body, in constant time."""
    if not header_value:
        raise BadSignature("missing signature header")
    prefix, _, given = header_value.partition("=")
    if prefix.strip().lower() != algorithm or not given:
        raise BadSignature(f"signature must look like '{algorithm}=<hex>'")
    expected = hmac.new(secret.encode(), raw_body, getattr(hashlib, algorithm)).hexdigest().encode()
    # Bytes on both sides: compare_digest raises TypeError on non-ASCII text, and a
    # header can carry any byte a client chooses (`sha1=\xe9`).
    if not hmac.compare_digest(expected, given.strip().lower().encode("utf-8", "replace")):
        raise BadSignature("signature does not match the body")


def load_json(raw_body: bytes) -> Any:
    """Raw bytes to JSON values; every way a body can fail to be JSON is a BadPayload."""
    try:
        return json.loads(raw_body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadPayload("body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise BadPayload(f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                         key="bad_json") from None
    except RecursionError:
        raise BadPayload("body is nested too deeply", key="bad_json") from None
    except ValueError as exc:     # e.g. an integer over Python's 4,300-digit conversion limit
        raise BadPayload(f"body is not usable JSON: {exc}", key="bad_json") from None


def parse_json(raw_body: bytes, schema: Schema) -> dict[str, Any]:
    """Raw bytes to a validated payload; every failure is a readable BadPayload."""
    data = load_json(raw_body)
    if not isinstance(data, dict):
        raise BadPayload("body must be a JSON object")
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise BadPayload("payload does not have the expected shape", details=exc.messages) from None
    except RecursionError:        # a nested schema walking a structure JSON allowed
        raise BadPayload("payload is nested too deeply") from None


class Adapter(abc.ABC):
    """Inbound side of a platform. Subclasses are small and pure: no I/O here."""

    name = ""
    delivery_header = ""
    secret_env: tuple[str, ...] = ()   # any one of these configures inbound authentication

    def __init__(self, settings: Any, insecure: bool = False):
        self.settings = settings
        # --insecure-no-signature: unsigned webhooks accepted (local trials only).
        self.insecure = insecure or bool(getattr(settings, "insecure_no_signature", False))

    @abc.abstractmethod
    def secret_configured(self) -> bool:
        """See the platform modules."""

    @abc.abstractmethod
    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        """See the platform modules."""

    @abc.abstractmethod
    def parse(self, raw_body: bytes) -> dict[str, Any]:
        """See the platform modules."""

    def delivery_key(self, headers: Mapping[str, str], raw_body: bytes) -> str:
        given = headers.get(self.delivery_header)
        # A sender without a delivery id still gets at-least-once dedupe by content.
        return given.strip() if given else "sha256:" + hashlib.sha256(raw_body).hexdigest()

    @abc.abstractmethod
    def intake(self, payload: Mapping[str, Any], bot_id: str | None) -> Intake:
        """See the platform modules."""

    @abc.abstractmethod
    def normalize(self, payload: Mapping[str, Any]) -> Ticket:
        """See the platform modules."""

    client_class: Any = None   # the platform's REST client, joined in hooks/__init__.py

    def client(self):
        """The platform's REST client, built from the settings."""
        return self.client_class.from_settings(self.settings)
