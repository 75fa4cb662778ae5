"""Jira Service Management inbound: signature, payload schema, own-update check, normalize.

Admin webhooks POST `{timestamp, webhookEvent, issue_event_type_name, user, issue,
changelog}` (comment events: `{timestamp, webhookEvent, comment, issue}` with a
cut-down issue and no `user`), signed `X-Hub-Signature: sha256=<HMAC of the raw
body>`, with a delivery id in `X-Atlassian-Webhook-Identifier` that is stable across
retries. Automation "Send web request" calls are unsigned: they carry a shared
secret in a header the admin chooses, and the issue itself (or `{"issue": ...}`).
See ../shared/platforms/jira/REFERENCE.md §1, §3.9 and fixtures/README.md.

One comment reaches us twice on Cloud: `comment_created` and a `jira:issue_updated`
with `issue_event_type_name: issue_commented`. Rule: comment_created is processed;
an issue_commented update is ignored ("comment handled by comment_created") unless
its changelog also changes a field that is not ours (a transition with a comment).

Our custom fields are named exactly like our field names (`enrich_*`), so changelog
items name them without a lookup; our labels are our tags (`enrich:*`).
"""
from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, post_load, validate, validates_schema
from marshmallow import fields as mf

from ..errors import BadPayload, BadSignature
from ..models import Requester, StateChange, Ticket
from ..text import Picker, clean, parse_time
from .adf import to_text
from .base import Adapter, Intake, check_hmac, load_json, parse_json
from .jira_fields import (  # noqa: F401 - read as jira.<name> by the REST client and others
    _IDENTITY,
    OWN_FIELD,
    channel,
    field_value,
    organizations,
    own_fields,
    request_type,
    requester,
    sla,
    user_id,
)

log = logging.getLogger("desk_enricher.jira")

PLATFORM = "jira"
CREATED, UPDATED, COMMENTED = "jira:issue_created", "jira:issue_updated", "comment_created"
HANDLED = (CREATED, UPDATED, COMMENTED)
AUTOMATION = "automation:send_web_request"   # our name: Automation bodies carry no event
OWN_LABEL = "enrich:"


class _Open(Schema):
    class Meta:
        unknown = INCLUDE


class IssueSchema(_Open):
    id = mf.Raw(required=True)                # a string in webhooks, a number in Automation bodies
    key = mf.String(required=True, validate=validate.Length(min=1, max=64))   # the ledger's ticket_id
    fields = mf.Dict(required=True)


class CommentSchema(_Open):
    id = mf.Raw(required=True)
    body = mf.Raw(allow_none=True)            # wiki string; ADF when it came from REST v3
    author = mf.Dict(load_default=dict)
    jsdPublic = mf.Boolean(load_default=True)


class ChangelogSchema(_Open):
    items = mf.List(mf.Dict(), load_default=list)   # Jira's items are always objects


class WebhookSchema(_Open):
    webhookEvent = mf.String(required=True, validate=validate.Length(min=1, max=200))
    timestamp = mf.Integer(load_default=None, allow_none=True)
    issue_event_type_name = mf.String(load_default=None, allow_none=True)
    user = mf.Dict(load_default=None, allow_none=True)
    issue = mf.Nested(IssueSchema, load_default=None)
    comment = mf.Nested(CommentSchema, load_default=None)
    changelog = mf.Nested(ChangelogSchema, load_default=None, allow_none=True)
    names = mf.Dict(load_default=dict)        # only in bodies we rebuild from REST (expand=names)

    @validates_schema
    def _parts_of_handled_events(self, data, **_):
        # Events we do not handle need nothing: they are answered "unsupported", not 400.
        if data["webhookEvent"] in HANDLED and not data.get("issue"):
            raise ValidationError(f"a {data['webhookEvent']} event needs an issue", "issue")
        if data["webhookEvent"] == COMMENTED and not data.get("comment"):
            raise ValidationError("a comment_created event needs a comment", "comment")


class AutomationSchema(_Open):
    issue = mf.Nested(IssueSchema, required=True)
    timestamp = mf.Integer(load_default=None, allow_none=True)


class PayloadSchema(_Open):
    """An admin webhook when `webhookEvent` is present, else an Automation body."""

    @post_load
    def _by_kind(self, data, **_):
        if "webhookEvent" in data:
            return WebhookSchema().load(data)
        # "Automation format" is the issue itself; "Jira format" wraps it in {"issue": ...}.
        wrapped = data if isinstance(data.get("issue"), dict) else {"issue": data}
        loaded = AutomationSchema().load(wrapped)
        user = data.get("initiator") or data.get("user")
        return {"webhookEvent": AUTOMATION, "timestamp": loaded.get("timestamp"),
                "issue_event_type_name": None, "issue": loaded["issue"], "comment": None,
                "changelog": None, "names": {}, "user": user if isinstance(user, dict) else None}



# Built once: a schema per request costs measurable CPU on the intake path.
PAYLOAD_SCHEMA = PayloadSchema()

class JiraAdapter(Adapter):
    name = PLATFORM
    delivery_header = "X-Atlassian-Webhook-Identifier"
    secret_env = ("ENRICHER_JIRA_WEBHOOK_SECRET", "ENRICHER_JIRA_AUTOMATION_SECRET")

    def secret_configured(self) -> bool:
        return bool(self.settings.jira_webhook_secret or self.settings.jira_automation_secret)

    def verify(self, headers: Mapping[str, str], raw_body: bytes) -> None:
        """Admin webhook (X-Hub-Signature) or Automation call (secret header); fail closed."""
        secret, token = self.settings.jira_webhook_secret, self.settings.jira_automation_secret
        header = self.settings.jira_automation_header
        if not secret and not token:
            if self.insecure:
                return
            raise BadSignature("no webhook secret is configured for jira")
        given = headers.get(header) if token else None
        if given is not None and not headers.get("X-Hub-Signature"):
            # Bytes, not text: compare_digest refuses non-ASCII text (a hostile header).
            if not hmac.compare_digest(given.strip().encode("utf-8", "replace"), token.encode()):
                raise BadSignature(f"the {header} header does not match")
            return
        if not secret:
            raise BadSignature(f"missing {header} header")
        check_hmac(secret, raw_body, headers.get("X-Hub-Signature"), "sha256")
        _require_event(raw_body)

    def parse(self, raw_body: bytes) -> dict[str, Any]:
        return parse_json(raw_body, PAYLOAD_SCHEMA)

    def intake(self, payload: Mapping[str, Any], bot_id: str | None) -> Intake:
        event = payload["webhookEvent"]
        key = (payload.get("issue") or {}).get("key")
        if event not in (*HANDLED, AUTOMATION):
            return Intake("unsupported", event, key, f"event {event}")
        if bot_id and bot_id in _actor_ids(payload):
            return Intake("ignored", event, key, "own update")
        items = (payload.get("changelog") or {}).get("items") or []
        foreign = [i for i in items if not _own_item(i)]
        if event == UPDATED and payload.get("issue_event_type_name") == "issue_commented" and not foreign:
            return Intake("ignored", event, key, "comment handled by comment_created")
        if event == UPDATED and items and not foreign:
            return Intake("ignored", event, key, "only our own fields changed")
        return Intake("process", event, key)

    def normalize(self, payload: Mapping[str, Any]) -> Ticket:
        issue, comment = payload["issue"], payload.get("comment") or {}
        f, p = issue["fields"], Picker()
        event = payload["webhookEvent"]
        actor = (comment.get("updateAuthor") or comment.get("author")) if comment else payload.get("user")
        stamp = parse_time(payload.get("timestamp"))
        ticket = Ticket(
            platform=PLATFORM, id=issue["key"], number=issue["key"],
            title=p.text(f.get("summary"), "issue.fields.summary"),
            body=clean(to_text(comment.get("body") if comment else f.get("description"))),
            requester=requester(f, p) or Requester(id=""),
            event={CREATED: "create", COMMENTED: "comment"}.get(event, "update"),
            state=_name(f, "status", p), priority=_name(f, "priority", p),
            # Jira has no group on an issue; a team, where a site has one, is not in webhooks.
            group=None, owner=user_id(f.get("assignee")),
            channel=channel(f), request_type=request_type(f, p),
            created_at=p.time(f.get("created"), "issue.fields.created"),
            updated_at=p.time(f.get("updated") or comment.get("updated"), "issue.fields.updated") or stamp,
            updated_by_id=user_id(actor),
            # The triggering message: the comment, or the description on create; a
            # status change carries none.
            article_sender=_sender(comment.get("author") if comment
                                   else payload.get("user") if event == CREATED else None),
            article_internal=bool(comment) and not comment.get("jsdPublic", True),
            fields=own_fields(f, payload.get("names") or {}),
            tags=_labels(f, p),
            sla=sla(f, p), history=_history(payload, stamp, p))
        if p.skipped:
            log.warning("normalize_skipped", extra={"ticket": ticket.id, "skipped": p.skipped})
        return replace(ticket, skipped=tuple(p.skipped))


def _require_event(raw_body: bytes) -> None:
    # Only Automation bodies lack webhookEvent, and Automation cannot sign: a signed
    # body without one did not come from an admin webhook.
    data = load_json(raw_body)
    if isinstance(data, dict) and "webhookEvent" not in data:
        raise BadPayload("a signed admin webhook must carry webhookEvent",
                         details={"webhookEvent": ["Missing data for required field."]})


def _actor_ids(payload: Mapping[str, Any]) -> set[str]:
    comment = payload.get("comment") or {}
    people = (payload.get("user"), comment.get("author"), comment.get("updateAuthor"))
    return {str(p[k]) for p in people if isinstance(p, dict) for k in _IDENTITY if p.get(k)}


def _own_item(item: Mapping[str, Any]) -> bool:
    if (item.get("fieldId") or item.get("field")) == "labels":
        before = set(str(item.get("fromString") or "").split())
        after = set(str(item.get("toString") or "").split())
        return all(label.startswith(OWN_LABEL) for label in before ^ after)
    return str(item.get("field") or "").startswith(OWN_FIELD)


def _sender(user: Any) -> str | None:
    if not isinstance(user, dict):
        return None
    return "Customer" if user.get("accountType") == "customer" else "Agent"


def _name(f: Mapping[str, Any], key: str, p: Picker) -> str:
    """The name of a status or priority object."""
    return p.text(p.obj(f.get(key), f"issue.fields.{key}").get("name"), f"issue.fields.{key}.name")


def _labels(f: Mapping[str, Any], p: Picker) -> tuple[str, ...] | None:
    labels = f.get("labels")              # None: the payload did not say
    if isinstance(labels, list):
        return p.texts(labels, "issue.fields.labels")
    return None if labels is None else p.skip("issue.fields.labels")


def _history(payload: Mapping[str, Any], at, p: Picker) -> tuple[StateChange, ...]:
    by = user_id(payload.get("user"))
    items = (payload.get("changelog") or {}).get("items") or []
    return tuple(StateChange(field=str(i.get("fieldId") or i.get("field")),
                             old=p.maybe_text(i.get("fromString"), "changelog.items.fromString"),
                             new=p.maybe_text(i.get("toString"), "changelog.items.toString"),
                             at=at, by=by) for i in items)
