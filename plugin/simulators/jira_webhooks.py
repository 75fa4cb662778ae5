"""Deliveries out of the Jira simulator: admin-webhook bodies and sends (signed with
X-Hub-Signature), Automation web requests, and pushes to webhooks registered over REST."""
from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import requests

from .jira_base import sign
from .jira_jql import search
from .jira_payload import automation_body, comment_event, issue_event
from .jira_payload import event_type_name as type_name_of


class WebhookSender:
    """JiraSimulator's webhook sender (a mixin; the state is JiraSimulator's)."""

    # --- webhooks out -------------------------------------------------------------------

    def webhook_body(self, event: str, key: str, comment_id: str | None = None,
                     changelog: dict | None = None, event_type_name: str | None = None) -> bytes:
        with self.lock:
            issue, now = self._issue(key), self.clock()
            comment = None
            if comment_id or event.startswith("comment_"):
                comment = next((c for c in reversed(issue["comments"]) if comment_id in (None, c["id"])), None)
                if comment is None:
                    raise ValueError(f"{key} has no comment {comment_id or ''}".rstrip())
            if event.startswith("comment_"):
                body = comment_event(self, event, issue, comment, now)
            else:
                history = self._history_for(issue, event, changelog, comment)
                actor = comment["author"] if comment else (history or {}).get("author") or issue["fields"]["reporter"]
                name = event_type_name or type_name_of(event, history, comment)
                body = issue_event(self, event, issue, now, actor, name, history, comment)
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    def _history_for(self, issue: dict, event: str, changelog: dict | None, comment: dict | None) -> dict | None:
        if changelog is not None:
            return {"id": str(changelog.get("id", self._next("changelog"))), "items": changelog.get("items", []),
                    "author": changelog.get("author")}
        if comment is not None or not issue["histories"]:
            return None
        return issue["histories"][0 if event == "jira:issue_created" else -1]

    def send_webhook(self, url: str, secret: str | None, event: str, key: str, comment_id: str | None = None,
                     changelog: dict | None = None, delivery: str | None = None,
                     extra_headers: dict | None = None, *, retry: int | None = None, body: bytes | None = None,
                     event_type_name: str | None = None, flow: str = "Primary") -> requests.Response:
        """POST one admin-webhook delivery. Resend `body` with the same `delivery` and a
        `retry` count to imitate Jira's retries (same identifier, same bytes)."""
        if body is None:
            body = self.webhook_body(event, key, comment_id, changelog, event_type_name)
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "X-Atlassian-Webhook-Identifier": delivery or str(uuid.uuid4()),
                   "X-Atlassian-Webhook-Flow": flow}
        if retry:
            headers["X-Atlassian-Webhook-Retry"] = str(retry)
        if secret is not None:
            headers["X-Hub-Signature"] = sign(body, secret)
        headers.update(extra_headers or {})
        return requests.post(url, data=body, headers=headers, timeout=(5, 20))

    def send_automation(self, url: str, header_name: str, header_value: str, key: str,
                        fmt: str = "automation") -> requests.Response:
        """An Automation "Send web request": unsigned, a secret in a header of the rule's choosing."""
        with self.lock:
            doc = automation_body(self, self._issue(key), fmt)
        body = json.dumps(doc, ensure_ascii=False).encode()
        return requests.post(url, data=body, timeout=(5, 30),
                             headers={"Content-Type": "application/json", header_name: header_value})

    def deliver(self, event: str, key: str, **kwargs: Any) -> list[tuple[int, Any]]:
        """Send `event` now to every registered webhook subscribed to it; (id, response|error)."""
        body = self.webhook_body(event, key, **kwargs)
        return [(h["id"], self._post_hook(h, event, body)) for h in self._subscribers(event, key)]

    def _emit(self, event: str, key: str, **kwargs: Any) -> None:
        # Jira delivers asynchronously: a receiver that calls back into us must not deadlock
        hooks = self._subscribers(event, key) if self.auto_deliver else []
        body = self.webhook_body(event, key, **kwargs) if hooks else b""
        for hook in hooks:
            threading.Thread(target=self._post_hook, args=(hook, event, body), daemon=True).start()

    def _subscribers(self, event: str, key: str) -> list[dict]:
        with self.lock:
            issue, hooks = self._issue(key), []
            for hook in self.webhooks.values():
                jql = (hook["filters"] or {}).get("issue-related-events-section")
                if hook["enabled"] and event in hook["events"] and (
                        not jql or any(i is issue for i in search(self, jql, self.clock()))):
                    hooks.append(hook)
            return hooks

    def _post_hook(self, hook: dict, event: str, body: bytes) -> Any:
        try:
            result: Any = self.send_webhook(hook["url"], hook["secret"], event, "", body=body)
        except requests.RequestException as exc:
            result = exc
        with self._meta:
            self.deliveries.append({"webhook": hook["id"], "event": event,
                                    "status": getattr(result, "status_code", None), "body": body})
        return result
