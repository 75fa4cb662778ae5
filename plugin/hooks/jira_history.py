"""The Jira client's history reads (a mixin of JiraClient): the changelog, paged on Cloud
and expanded on Data Center, and the issue's timeline built from it for the steps that
ask (plugin/timeline_jira.py). Kept apart from the writes: one concern per module."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..timeline import Timeline, jira_timeline
from .base import CurrentState

SD = "com.atlassian.servicedesk:"


class JiraHistory:
    """Needs the client's `request`, `issue`, `catalogue`, `bot_id`, `api` and `flavor`."""

    api: str
    flavor: str
    request: Any
    issue: Any
    catalogue: Any
    bot_id: Any

    def sla_fields(self) -> dict[str, str]:
        """JSM SLA field id -> name, from the cached field catalogue (ids differ per site)."""
        return {f["id"]: str(f.get("name") or f["id"]) for f in self.catalogue()
                if (f.get("schema") or {}).get("custom") == SD + "sd-sla-field"}

    def changelog(self, key: str, per_page: int = 100, max_pages: int = 50) -> tuple[list[dict], bool]:
        """The issue's changelog entries and whether that is all of them. Cloud pages
        `/issue/{key}/changelog` (a second call only past `per_page` entries); Data
        Center has no such path, so the issue GET with `expand=changelog`, which has no
        pages: incomplete when its total says there are more."""
        if self.flavor == "dc":
            log = self.issue(key, fields="status", expand="changelog").get("changelog") or {}
            values = log.get("histories") if isinstance(log.get("histories"), list) else []
            total = log.get("total")
            return values, not (isinstance(total, int) and total > len(values))
        values: list[dict] = []
        for _ in range(max_pages):
            page = self.request("GET", f"{self.api}/issue/{key}/changelog",
                                params={"startAt": len(values), "maxResults": per_page}) or {}
            got = page.get("values") if isinstance(page.get("values"), list) else []
            values += got
            last = page.get("isLast")
            if last is None and isinstance(page.get("total"), int):
                last = len(values) >= page["total"]
            if last or (last is None and len(got) < per_page):
                return values, True
            if not got:
                return values, False   # "not the last page" yet empty: stop rather than loop
        return values, False

    def timeline(self, key: str, current: CurrentState, *, bot_id: str | None = None) -> Timeline:
        """The issue's timeline for a step that asks for it: `current.raw` (the fields
        current_state read: created, status, resolution, comments, SLA fields) plus the
        changelog. The bot and the SLA names come from this client's caches. Only a
        `current` without its raw fields costs a second GET."""
        fields = (current.raw or {}).get("fields")
        if not isinstance(fields, Mapping):
            wanted = ["created", "status", "resolution", "resolutiondate", "reporter", "comment",
                      *self.sla_fields()]
            fields = self.issue(key, fields=",".join(wanted)).get("fields") or {}
        values, complete = self.changelog(key)
        found = jira_timeline(fields, values, bot_id=bot_id or self.bot_id(), sla_names=self.sla_fields())
        return found if complete else Timeline(found.events, found.sla, complete=False)
