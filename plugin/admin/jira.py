"""`desk-enricher install jira` and the Jira part of `doctor`.

Jira's admin webhook API has no update, so a webhook that points elsewhere or
listens to other events is replaced (delete, then create). Custom fields are text
fields named exactly like the manifest's field names (see hooks/jira.py).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import PlatformError
from . import Change, Check

WEBHOOK_NAME = "desk-enricher"
EVENTS = ["jira:issue_created", "jira:issue_updated", "comment_created"]


def webhook_body(endpoint: str, secret: str, jql: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {"name": WEBHOOK_NAME, "url": endpoint, "events": EVENTS,
                            "excludeBody": False, "enabled": True, "secret": secret}
    if jql:
        body["filters"] = {"issue-related-events-section": jql}
    return body


def webhook_id(hook: Mapping[str, Any]) -> str | None:
    # The admin API names a webhook by its `self` URL; older answers carry an id.
    return str(hook.get("id") or str(hook.get("self", "")).rstrip("/").rsplit("/", 1)[-1] or "") or None


def _differs(hook: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    same_filter = (hook.get("filters") or {}).get("issue-related-events-section", "") == \
        (wanted.get("filters") or {}).get("issue-related-events-section", "")
    return (hook.get("url") != wanted["url"] or sorted(hook.get("events") or []) != sorted(EVENTS)
            or not same_filter or hook.get("enabled") is False)


def plan(manifest: Mapping[str, Any], endpoint: str, secret: str, webhooks: list,
         own_fields: Mapping[str, Any], jql: str = "") -> list[Change]:
    changes: list[Change] = []
    wanted = webhook_body(endpoint, secret, jql)
    hook = next((w for w in webhooks if w.get("name") == WEBHOOK_NAME), None)
    if hook is None:
        changes.append(Change("webhook", "create", WEBHOOK_NAME, wanted))
    elif _differs(hook, wanted):
        changes.append(Change("webhook", "replace", WEBHOOK_NAME, wanted, webhook_id(hook)))
    for field in manifest["fields"]:
        if field["name"] not in own_fields:
            changes.append(Change("field", "create", field["name"],
                                  {"name": field["name"], "description": field["label"]["en"]}))
    return changes


def install(client: Any, manifest: Mapping[str, Any], public_url: str, secret: str, bot_id: str,
            dry_run: bool = False, language: str = "zh-CN", jql: str = "") -> list[Change]:
    endpoint = public_url.rstrip("/") + "/hooks/jira"
    changes = plan(manifest, endpoint, secret, client.webhooks(), client.own_fields(), jql)
    if dry_run:
        return changes
    for change in changes:
        if change.kind == "webhook":
            if change.action == "replace":
                client.delete_webhook(change.id)
            client.create_webhook(change.body)
        else:
            client.create_field(change.body["name"], change.body["description"])
    return changes


def checks(client: Any, manifest: Mapping[str, Any], public_url: str | None) -> list[Check]:
    try:
        me = client.me()
    except PlatformError as exc:
        key = "jira.token" if exc.key == "invalid_auth" else "jira.reachable"
        return [Check(key, False, exc.message,
                      "check ENRICHER_JIRA_URL, ENRICHER_JIRA_USER, ENRICHER_JIRA_TOKEN, ENRICHER_JIRA_FLAVOR")]
    name = me.get("displayName") or me.get("emailAddress") or me.get("name")
    out = [Check("jira.reachable", True, client.base_url), Check("jira.token", True, f"plugin account {name}")]
    try:
        hooks = client.webhooks()
        out.append(Check("jira.permission.admin", True, "webhooks readable"))
    except PlatformError as exc:
        hooks = None
        out.append(Check("jira.permission.admin", False, exc.message,
                         "the plugin account needs Jira admin rights to manage webhooks and fields"))
    if hooks is not None:
        endpoint = (public_url or "").rstrip("/") + "/hooks/jira"
        hook = next((h for h in hooks if h.get("url") == endpoint and h.get("enabled", True)), None)
        detail = ("ENRICHER_PUBLIC_URL is not set" if not public_url else
                  f"webhook -> {endpoint}" if hook else f"no enabled webhook -> {endpoint}")
        out.append(Check("jira.webhook", bool(public_url and hook), detail,
                         "set ENRICHER_PUBLIC_URL, then run `desk-enricher install jira`"))
    missing = [f["name"] for f in manifest["fields"] if f["name"] not in client.own_fields()]
    out.append(Check("jira.fields", not missing, "all present" if not missing else
                     f"missing: {', '.join(missing)}", "run `desk-enricher install jira`"))
    return out
