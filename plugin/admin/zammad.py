"""`desk-enricher install zammad` and the Zammad part of `doctor`.

Install is a plan (pure: what exists vs what the manifest and settings want)
applied through the REST client, so `--dry-run` prints the same plan it would run
and a second run changes nothing.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import PlatformError
from . import Change, Check

WEBHOOK_NAME = "desk-enricher"
TRIGGER_NAME = "desk-enricher: enrich tickets"
ATTRIBUTE_POSITION = 1500
DATA_TYPES = {
    "text": ("input", {"type": "text", "maxlength": 255, "null": True, "default": ""}),
    "integer": ("integer", {"min": 0, "max": 1000000, "null": True, "default": None}),
    "boolean": ("boolean", {"options": {"true": "yes", "false": "no"}, "null": True, "default": False}),
}


def webhook_body(endpoint: str, secret: str) -> dict[str, Any]:
    return {"name": WEBHOOK_NAME, "endpoint": endpoint, "http_method": "post",
            "signature_token": secret, "ssl_verify": True, "customized_payload": False,
            "active": True, "note": "desk-enricher: verify, classify, communicate, measure"}


def trigger_body(webhook_id: int, bot_id: str) -> dict[str, Any]:
    # Fires on create and update, except for the plugin's own writes (no loops).
    return {"name": TRIGGER_NAME, "activator": "action", "execution_condition_mode": "always",
            "condition": {"ticket.action": {"operator": "is", "value": ["create", "update"]},
                          "ticket.updated_by_id": {"operator": "is not", "pre_condition": "specific",
                                                   "value": [str(bot_id)]}},
            "perform": {"notification.webhook": {"webhook_id": webhook_id}}, "active": True}


def attribute_body(field: Mapping[str, Any], position: int, language: str) -> dict[str, Any]:
    data_type, option = DATA_TYPES.get(field["type"], DATA_TYPES["text"])
    label = field["label"]["zh-CN" if language == "zh-CN" else "en"]
    return {"object": "Ticket", "name": field["name"], "display": label, "data_type": data_type,
            "data_option": option, "active": True, "position": position,
            "screens": {"edit": {"ticket.agent": {"shown": True, "required": False}},
                        "create_middle": {"ticket.agent": {"shown": False, "required": False}}}}


def _differs(existing: Mapping[str, Any], wanted: Mapping[str, Any], ignore=("signature_token",)) -> bool:
    return any(existing.get(k) != v for k, v in wanted.items() if k not in ignore)


# Zammad's seeded trigger that mails every new customer ticket an English "we got it"
# (db/seeds/triggers.rb). The plugin's acknowledgement replaces it: with both on, the
# requester gets two. Matched by name, or by what it does if an admin renamed it.
AUTO_REPLY_NAME = "auto reply (on new tickets)"


def is_stock_auto_reply(trigger: Mapping[str, Any]) -> bool:
    if trigger.get("name") == AUTO_REPLY_NAME:
        return True
    action = ((trigger.get("condition") or {}).get("ticket.action") or {}).get("value")
    mail = (trigger.get("perform") or {}).get("notification.email") or {}
    recipients = mail.get("recipient") if isinstance(mail.get("recipient"), list) else [mail.get("recipient")]
    return action in ("create", ["create"]) and bool({"article_last_sender", "ticket_customer"} & set(recipients))


def auto_reply_changes(triggers: list) -> list[Change]:
    """Deactivate the stock auto-reply (only `active`: the rest of it stays, to switch back on)."""
    return [Change("trigger", "deactivate", t["name"], {"active": False}, t["id"])
            for t in triggers if t.get("active") and t.get("name") != TRIGGER_NAME and is_stock_auto_reply(t)]


def plan(manifest: Mapping[str, Any], endpoint: str, secret: str, bot_id: str,
         webhooks: list, triggers: list, attributes: list, language: str = "zh-CN",
         deactivate_auto_reply: bool = False) -> list[Change]:
    changes: list[Change] = auto_reply_changes(triggers) if deactivate_auto_reply else []
    hook = next((w for w in webhooks if w.get("name") == WEBHOOK_NAME), None)
    wanted_hook = webhook_body(endpoint, secret)
    if hook is None:
        changes.append(Change("webhook", "create", WEBHOOK_NAME, wanted_hook))
    elif _differs(hook, wanted_hook):
        changes.append(Change("webhook", "update", WEBHOOK_NAME, wanted_hook, hook["id"]))
    hook_id = hook["id"] if hook else None
    trigger = next((t for t in triggers if t.get("name") == TRIGGER_NAME), None)
    wanted_trigger = trigger_body(hook_id or 0, bot_id)
    if trigger is None:
        changes.append(Change("trigger", "create", TRIGGER_NAME, wanted_trigger))
    elif hook_id is None or _differs(trigger, wanted_trigger):
        changes.append(Change("trigger", "update", TRIGGER_NAME, wanted_trigger, trigger["id"]))
    have = {a.get("name") for a in attributes if a.get("object") == "Ticket"}
    for i, field in enumerate(manifest["fields"]):
        if field["name"] not in have:
            changes.append(Change("field", "create", field["name"],
                                  attribute_body(field, ATTRIBUTE_POSITION + i, language)))
    return changes


def install(client: Any, manifest: Mapping[str, Any], public_url: str, secret: str, bot_id: str,
            dry_run: bool = False, language: str = "zh-CN", deactivate_auto_reply: bool = False) -> list[Change]:
    """`deactivate_auto_reply`: also switch off Zammad's stock auto-reply trigger, so a new
    ticket's requester gets the plugin's acknowledgement only (a second run finds it off)."""
    endpoint = public_url.rstrip("/") + "/hooks/zammad"
    changes = plan(manifest, endpoint, secret, bot_id, client.webhooks(), client.triggers(),
                   client.object_attributes(), language, deactivate_auto_reply)
    if dry_run:
        return changes
    hook_id = next((w["id"] for w in client.webhooks() if w.get("name") == WEBHOOK_NAME), None)
    for change in changes:
        if change.kind == "webhook":
            result = (client.create_webhook(change.body) if change.action == "create"
                      else client.update_webhook(change.id, change.body))
            hook_id = result["id"]
        elif change.action == "deactivate":
            client.update_trigger(change.id, change.body)
        elif change.kind == "trigger":
            body = {**change.body, "perform": {"notification.webhook": {"webhook_id": hook_id}}}
            (client.create_trigger(body) if change.action == "create"
             else client.update_trigger(change.id, body))
        else:
            client.create_object_attribute(change.body)
    if any(c.kind == "field" for c in changes):
        client.execute_migrations()   # adds the new columns; fields work after this
    return changes


def checks(client: Any, manifest: Mapping[str, Any], public_url: str | None) -> list[Check]:
    """doctor: reachability, token, permissions, webhook, trigger, fields."""
    try:
        bot = client.me()
    except PlatformError as exc:
        key = "zammad.token" if exc.key == "invalid_auth" else "zammad.reachable"
        return [Check(key, False, exc.message, "check ENRICHER_ZAMMAD_URL and ENRICHER_ZAMMAD_TOKEN")]
    out = [Check("zammad.reachable", True, client.base_url),
           Check("zammad.token", True, f"plugin user {bot.get('login')} (id {bot.get('id')})")]
    admin: dict[str, Any] = {}
    for name, perm in (("webhooks", "admin.webhook"), ("triggers", "admin.trigger"),
                       ("object_attributes", "admin.object")):
        try:
            admin[name] = getattr(client, name)()
            out.append(Check(f"zammad.permission.{perm}", True, "granted"))
        except PlatformError as exc:
            out.append(Check(f"zammad.permission.{perm}", False, exc.message,
                             f"give the plugin user the {perm} permission, or install as an admin"))
    if "webhooks" in admin and "triggers" in admin:
        out += _wiring_checks(admin["webhooks"], admin["triggers"], str(bot.get("id")), public_url)
        stock = auto_reply_changes(admin["triggers"])
        out.append(Check("zammad.auto_reply", not stock,
                         "no stock auto-reply: requesters get the plugin's acknowledgement only" if not stock
                         else f"trigger '{stock[0].name}' also answers new tickets: requesters get two "
                              "acknowledgements", "switch it off in Zammad (Admin › Triggers; `install` "
                              "can, see admin.zammad.install), or set communication.acknowledgement: false"))
    if "object_attributes" in admin:
        have = {a.get("name") for a in admin["object_attributes"]}
        missing = [f["name"] for f in manifest["fields"] if f["name"] not in have]
        out.append(Check("zammad.fields", not missing,
                         "all present" if not missing else f"missing: {', '.join(missing)}",
                         "run `desk-enricher install zammad`"))
    return out


def _wiring_checks(webhooks: list, triggers: list, bot_id: str, public_url: str | None) -> list[Check]:
    endpoint = (public_url or "").rstrip("/") + "/hooks/zammad"
    hook = next((w for w in webhooks if w.get("endpoint") == endpoint and w.get("active")), None)
    if not public_url:
        return [Check("zammad.webhook", False, "ENRICHER_PUBLIC_URL is not set",
                      "set ENRICHER_PUBLIC_URL to the URL Zammad reaches this service at")]
    out = [Check("zammad.webhook", hook is not None,
                 f"webhook {hook['id']} -> {endpoint}" if hook else f"no active webhook -> {endpoint}",
                 "run `desk-enricher install zammad`")]
    fires = [t for t in triggers if t.get("active") and hook and
             (t.get("perform") or {}).get("notification.webhook", {}).get("webhook_id") in
             (hook["id"], [hook["id"]])]
    guarded = [t for t in fires if bot_id in [str(v) for v in (t.get("condition") or {})
                                              .get("ticket.updated_by_id", {}).get("value", [])]]
    out.append(Check("zammad.trigger", bool(guarded),
                     f"trigger '{guarded[0]['name']}'" if guarded else
                     ("a trigger fires the webhook but not `updated_by_id is not` the plugin user"
                      if fires else "no active trigger fires the webhook"),
                     "run `desk-enricher install zammad`"))
    return out
