"""The dispatcher: carries out the outbox's intents, each once (see plugin.outbox).

Ticket intents go through the platform client on the checked path: read the
ticket, look for the intent's marker, post only if it is not there. Channel
intents go through Apprise, one URL at a time, remembering which URLs took the
message so a retry after a partial failure does not repeat it to the others.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import apprise

from .. import outbox
from ..errors import PlatformError, SettingsError
from ..hooks.markup import marker
from ..models import Article
from ..retrying import backoff
from ..store import lease_owner, utcnow
from .channels import addressed, build, split_urls

log = logging.getLogger("desk_enricher.dispatch")

HOLD_SECONDS = 120.0     # a claim outlives a send that hangs to its timeout


class SendFailed(Exception):
    def __init__(self, message: str, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


class Dispatcher:
    def __init__(self, settings: Any, ledger: Any, client_for: Callable[[str], Any]):
        self.settings = settings
        self.ledger = ledger
        self.client_for = client_for
        self._targets: dict[str, list[apprise.Apprise]] = {}
        for name in target_names(settings):
            self._targets[name] = channel_targets(settings, name)   # bad URLs stop start-up

    def run_due(self, limit: int = 100) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row_id in outbox.due_ids(self.ledger, utcnow(), limit):
            result = self.dispatch(row_id)
            counts[result] = counts.get(result, 0) + 1
        return counts

    def dispatch(self, row_id: int) -> str:
        """Claim, carry out, mark. Returns sent | retry | dead | taken."""
        owner = lease_owner()
        row = outbox.claim(self.ledger, row_id, owner, utcnow(), HOLD_SECONDS)
        if row is None:
            return "taken"
        try:
            self._send(row, owner)
        except (SendFailed, PlatformError) as exc:
            return self._failed(row, owner, exc)
        outbox.finish(self.ledger, row_id, owner, utcnow())
        log.info("sent", extra={"outbox": row_id, "ticket": row["ticket_id"], "event": row["event"],
                                "channel": row["channel"]})
        return "sent"

    def _failed(self, row: dict, owner: str, exc: Exception) -> str:
        attempt = (row["attempts"] or 0) + 1
        retryable = getattr(exc, "retryable", True) and attempt < self.settings.max_attempts
        delay = backoff(attempt, self.settings.retry_base_seconds, self.settings.retry_max_seconds,
                        getattr(exc, "retry_after", None))
        message = getattr(exc, "message", None) or str(exc)
        when = utcnow() + timedelta(seconds=delay) if retryable else None
        outbox.fail(self.ledger, row["id"], owner, message, when)
        log.warning("send_failed", extra={"outbox": row["id"], "ticket": row["ticket_id"],
                                          "attempt": attempt, "dead": when is None})
        return "retry" if retryable else "dead"

    def _send(self, row: dict, owner: str) -> None:
        if row["channel"] == "ticket":
            self._ticket(row)
        else:
            self._channels(row, owner)

    def _ticket(self, row: dict) -> None:
        client = self.client_for(row["platform"])
        current = client.current_state(row["ticket_id"])
        mark = marker(row["key"])
        if mark in current.markers:
            return   # an earlier try posted it and was cut off before marking it sent
        client.post_article(row["ticket_id"], Article(key=row["key"], marker=mark, body=row["body"],
                                                      public=bool(row["public"]), title=row["title"]),
                            current)

    def _channels(self, row: dict, owner: str) -> None:
        data = dict(row["data"] or {})
        targets = self._targets.get(row["target"])
        if targets is not None and data.get("to"):
            # A message to one person (the requester's e-mail): the setting's URLs, addressed.
            try:
                targets = addressed(split_urls(getattr(self.settings, row["target"])), data["to"],
                                    data.get("reply_to"), f"ENRICHER_{row['target'].upper()}")
            except SettingsError as exc:
                raise SendFailed(exc.message, retryable=False) from None
        if targets is None:
            raise SendFailed(f"no channel URLs are set for {row['target']}", retryable=False)
        delivered = set(data.get("delivered") or [])
        for i, target in enumerate(targets):
            if i in delivered:
                continue
            # Bodies are plain text (models.Intent): Apprise escapes them for HTML mail or Markdown chat.
            if not target.notify(title=row["title"], body=row["body"], body_format=apprise.NotifyFormat.TEXT):
                raise SendFailed(f"channel #{i + 1} of {row['target']} did not take the message")
            delivered.add(i)
            if len(targets) > 1:
                outbox.progress(self.ledger, row["id"], owner, {**data, "delivered": sorted(delivered)})


def target_names(settings: Any) -> list[str]:
    """The settings that hold Apprise URLs (ENRICHER_NOTIFY_*)."""
    env = getattr(settings, "env", {}) or {}
    return sorted(k for k, v in env.items() if k.startswith("notify_") and v)


def channel_targets(settings: Any, name: str) -> list[apprise.Apprise]:
    if not name.startswith("notify_"):
        raise SettingsError(f"{name} is not a channel setting", key="bad_channel")
    urls = split_urls(getattr(settings, name, None))
    build(urls, f"ENRICHER_{name.upper()}")          # every URL valid, named without its secret
    return [build([url], f"ENRICHER_{name.upper()}") for url in urls]

