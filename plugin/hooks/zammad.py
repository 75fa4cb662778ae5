"""Zammad inbound: signature, payload schema, own-update check, normalize.

Zammad's default trigger webhook POSTs `{"ticket": {...}, "article": {...}}`,
signed with `X-Hub-Signature: sha1=<HMAC-SHA1 of the raw body>`, with a delivery
id in `X-Zammad-Delivery` that stays the same across its retries.
See ../shared/platforms/zammad/REFERENCE.md §1-2.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates_schema

from ..errors import BadSignature
from ..models import Requester, Ticket
from ..text import Picker, html_to_text
from .base import Adapter, Intake, check_hmac, parse_json

log = logging.getLogger("desk_enricher.zammad")

PLATFORM = "zammad"
# Seeded article type ids (db/seeds/ticket_article_types.rb), for payloads rebuilt from
# REST, which carry ids where the webhook carries names.
ARTICLE_TYPES = {1: "email", 2: "sms", 3: "chat", 4: "fax", 5: "phone", 6: "twitter status",
                 7: "twitter direct-message", 8: "facebook feed post", 9: "facebook feed comment",
                 10: "note", 11: "web", 12: "telegram personal-message"}
# States Zammad keeps for tickets that no longer exist as such: nothing to enrich.
GONE_STATES = {"merged", "removed"}


class _Record(Schema):
    class Meta:
        unknown = INCLUDE


# A PostgreSQL bigint, as Zammad's ids are; a longer number is not a Zammad id and
# would not fit the ledger's ticket_id column either.
_ID = validate.Range(min=1, max=2**63 - 1)


class TicketSchema(_Record):
    id = fields.Integer(required=True, strict=True, validate=_ID)
    title = fields.String(required=True)
    number = fields.String(load_default="")
    state = fields.String(load_default="")
    updated_by_id = fields.Integer(required=True, strict=True, validate=_ID)
    created_at = fields.String(load_default=None, allow_none=True)
    updated_at = fields.String(load_default=None, allow_none=True)
    customer = fields.Dict(load_default=dict)
    organization = fields.Dict(load_default=dict)
    group = fields.Dict(load_default=dict)
    priority = fields.Dict(load_default=dict)
    owner = fields.Dict(load_default=dict)
    article_ids = fields.List(fields.Integer(), load_default=list)


class ArticleSchema(_Record):
    # `{}` is legal: an attribute-only update or a scheduler run carries no article.
    # No defaults here, so an empty article stays empty.
    id = fields.Integer(strict=True)
    body = fields.String(allow_none=True)
    content_type = fields.String(allow_none=True)
    sender = fields.String(allow_none=True)
    type = fields.String(allow_none=True)
    internal = fields.Boolean()
    created_by_id = fields.Integer(allow_none=True)

    @validates_schema
    def _id_when_present(self, data, **_):
        if data and "id" not in data:
            raise ValidationError("an article that is not {} needs an id", "id")


class PayloadSchema(Schema):
    class Meta:
        unknown = INCLUDE

    ticket = fields.Nested(TicketSchema, required=True)
    article = fields.Nested(ArticleSchema, load_default=dict)



# Built once: a schema per request costs measurable CPU on the intake path.
PAYLOAD_SCHEMA = PayloadSchema()

class ZammadAdapter(Adapter):
    name = PLATFORM
    delivery_header = "X-Zammad-Delivery"
    secret_env = ("ENRICHER_ZAMMAD_WEBHOOK_SECRET",)

    def secret_configured(self) -> bool:
        return bool(self.settings.zammad_webhook_secret)

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        secret = self.settings.zammad_webhook_secret
        if not secret:
            if self.insecure:
                return
            raise BadSignature("no webhook secret is configured for zammad")
        check_hmac(secret, raw_body, headers.get("X-Hub-Signature"), "sha1")

    def parse(self, raw_body: bytes) -> dict[str, Any]:
        return parse_json(raw_body, PAYLOAD_SCHEMA)

    def intake(self, payload: Mapping[str, Any], bot_id: str | None) -> Intake:
        ticket, article = payload["ticket"], payload["article"] or {}
        ticket_id = str(ticket["id"])
        event = _event_name(ticket, article)
        if bot_id and (str(ticket["updated_by_id"]) == bot_id
                       or str(article.get("created_by_id")) == bot_id):
            return Intake("ignored", event, ticket_id, "own update")
        if ticket.get("state") in GONE_STATES:
            return Intake("unsupported", event, ticket_id, f"ticket state {ticket['state']}")
        return Intake("process", event, ticket_id)

    def normalize(self, payload: Mapping[str, Any]) -> Ticket:
        t, article = payload["ticket"], payload["article"] or {}
        p = Picker()
        body = p.text(article.get("body"), "article.body")
        if (p.text(article.get("content_type"), "article.content_type")).startswith("text/html"):
            body = html_to_text(body)
        ticket = Ticket(
            platform=PLATFORM, id=str(t["id"]), number=p.text(t.get("number"), "") or str(t["id"]),
            title=p.text(t["title"], ""), body=body, requester=_requester(t, p),
            event=_event_name(t, article), state=p.text(t.get("state"), ""),
            priority=p.text(p.obj(t.get("priority"), "ticket.priority").get("name"), "ticket.priority.name"),
            group=p.maybe_text(p.obj(t.get("group"), "ticket.group").get("name"), "ticket.group.name"),
            owner=_owner(t, p),
            channel=p.maybe_text(t.get("create_article_type"), "ticket.create_article_type"),
            created_at=p.time(t.get("created_at"), "ticket.created_at"),
            updated_at=p.time(t.get("updated_at"), "ticket.updated_at"),
            updated_by_id=str(t["updated_by_id"]),
            article_sender=p.maybe_text(article.get("sender"), "article.sender"),
            article_internal=bool(article.get("internal")),
            fields={k: p.scalar(v, f"ticket.{k}") for k, v in t.items() if k.startswith("enrich_")},
            tags=None, sla=_sla(t, p))
        if p.skipped:
            log.warning("normalize_skipped", extra={"ticket": ticket.id, "skipped": p.skipped})
        return replace(ticket, skipped=tuple(p.skipped))


def _event_name(ticket: Mapping[str, Any], article: Mapping[str, Any]) -> str:
    ids = ticket.get("article_ids") or []
    if article and ids and article.get("id") == min(ids) and len(ids) == 1:
        return "create"
    return "update"


def _requester(t: Mapping[str, Any], p: Picker) -> Requester:
    c = p.obj(t.get("customer"), "ticket.customer")
    org = p.obj(t.get("organization"), "ticket.organization")

    def text(key: str) -> str:
        return p.text(c.get(key), f"ticket.customer.{key}")

    name = " ".join(part for part in (text("firstname"), text("lastname")) if part).strip()
    org_id = p.ident(org.get("id"), "ticket.organization.id")
    return Requester(
        id=p.ident(c.get("id", t.get("customer_id")), "ticket.customer.id") or "", name=name,
        email=text("email"), login=text("login"),
        organization=p.maybe_text(org.get("name"), "ticket.organization.name") or (
            p.maybe_text(c.get("organization"), "ticket.customer.organization")),
        organization_id=org_id, vip=bool(c.get("vip") or org.get("vip")),
        verified=bool(c.get("verified")), active=bool(c.get("active", True)),
        roles=p.texts(c.get("roles"), "ticket.customer.roles"),
        phone=text("phone") or text("mobile"), department=text("department"),
        city=text("city"), country=text("country"))


def _owner(t: Mapping[str, Any], p: Picker) -> str | None:
    owner = p.obj(t.get("owner"), "ticket.owner")
    # Zammad's "nobody" is user 1 with login "-".
    if p.ident(owner.get("id"), "ticket.owner.id") in (None, "1"):
        return None
    return p.maybe_text(owner.get("login"), "ticket.owner.login")


SLA_KEYS = ("first_response_at", "first_response_escalation_at", "first_response_in_min",
            "first_response_diff_in_min", "close_at", "close_escalation_at", "close_in_min",
            "close_diff_in_min", "update_in_min", "update_diff_in_min", "escalation_at")


def _sla(t: Mapping[str, Any], p: Picker) -> dict[str, Any]:
    values = {k: p.scalar(t.get(k), f"ticket.{k}") for k in SLA_KEYS}
    return {k: v for k, v in values.items() if v is not None}


def payload_from_all(data: Mapping[str, Any], states: Mapping[str, str],
                     priorities: Mapping[str, str]) -> dict[str, Any]:
    """`GET /tickets/{id}?all=true` reshaped as the default webhook payload: ids
    resolved to the nested records and names the webhook carries."""
    assets = data.get("assets") or {}
    tid = str(data.get("ticket_id"))
    t = dict((assets.get("Ticket") or {}).get(tid) or {})
    users = assets.get("User") or {}
    t["customer"] = users.get(str(t.get("customer_id"))) or {}
    t["owner"] = users.get(str(t.get("owner_id"))) or {}
    t["organization"] = (assets.get("Organization") or {}).get(str(t.get("organization_id"))) or {}
    t["group"] = (assets.get("Group") or {}).get(str(t.get("group_id"))) or {}
    t["state"] = t.get("state") or states.get(str(t.get("state_id")), "")
    t["priority"] = {"id": t.get("priority_id"),
                     "name": priorities.get(str(t.get("priority_id")), "")}
    articles = sorted((assets.get("TicketArticle") or {}).values(), key=lambda a: a.get("id", 0))
    t["article_ids"] = [a["id"] for a in articles]
    customer_msgs = [a for a in articles if a.get("sender") in (None, "Customer")
                     or a.get("sender_id") == 2]
    article = dict((customer_msgs or articles or [{}])[-1])
    first = articles[0] if articles else {}
    t["create_article_type"] = (t.get("create_article_type") or first.get("type")
                                or ARTICLE_TYPES.get(t.get("create_article_type_id")))
    return {"ticket": t, "article": article}
