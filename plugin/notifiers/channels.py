"""Channels (email, Feishu/Lark, DingTalk, WeCom, Slack ...) through Apprise.

Who hears of what is configured by Apprise URLs in environment variables (they hold
tokens, so never in the settings file). Each message has an idempotency key in the
ledger: it is sent at most once; a failed send is released and retried with the task.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import apprise

from ..errors import PlatformError, SettingsError
from ..models import Ticket
from . import templates

log = logging.getLogger("desk_enricher.notify")


def split_urls(value: str | None) -> list[str]:
    return [u.strip() for u in (value or "").replace("\n", ",").split(",") if u.strip()]


def build(urls: list[str], label: str) -> apprise.Apprise | None:
    """An Apprise object; bad URLs fail here, at start-up, named without their secrets."""
    if not urls:
        return None
    target = apprise.Apprise()
    for i, url in enumerate(urls, 1):
        if not target.add(url):
            scheme = url.split("://", 1)[0] if "://" in url else "?"
            raise SettingsError(f"{label}: URL #{i} ({scheme}://…) is not a valid Apprise URL",
                                key="bad_channel")
    return target


class MajorEventAlert:
    """900.3: a major or sudden event goes to its responsible owner at once."""

    def __init__(self, settings: Any, ledger: Any):
        self.ledger = ledger
        self.target = build(split_urls(settings.notify_major_event), "ENRICHER_NOTIFY_MAJOR_EVENT")
        overrides = ((getattr(settings, "file", None) or {}).get("templates") or {}).get("major_event")
        self.title, self.body = templates.load("major_event", overrides)

    def __call__(self, *, ticket: Ticket, facts: Mapping[str, Mapping[str, Any]], **_: Any) -> None:
        found = facts.get("classification") or {}
        if self.target is None or not found.get("major_event"):
            return
        key = f"major_event:{ticket.platform}:{ticket.id}"
        if not self.ledger.claim_message(key, "major_event"):
            return   # already told
        why = ", ".join(found.get("major_event_words") or []) or \
            f"{found.get('similar_recent')} similar tickets in the window"
        context = {"ticket": ticket, "category": found.get("category_path"), "why": why}
        ok = bool(self.target.notify(title=templates.render(self.title, **context),
                                     body=templates.render(self.body, **context)))
        self.ledger.mark_message(key, ok)
        log.info("major_event_alert", extra={"ticket": ticket.id, "ok": ok})
        if not ok:
            raise PlatformError("the major-event alert could not be delivered", key="notify_failed",
                                retryable=True)
