"""Jira REST client: Cloud (REST v3, Basic e-mail:API token) and Data Center (REST v2,
Bearer PAT). URLs and auth, one short method per call, nothing of the domain except
`current_state` and `apply`, which speak the WritePlan.
See ../shared/platforms/jira/REFERENCE.md §3.

Field rule (install uses the same): each of our fields is a Jira *text* custom field
whose name is exactly our field name (`enrich_record_quality`); the manifest label
goes into the field's description. Ids differ per site, so they are looked up by
name in `GET /rest/api/N/field`, once per client.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import PlatformError
from ..models import NOTE_HEADER, Article, KnowledgeArticle, Link, WritePlan, canon
from ..text import parse_time
from . import jira, knowledge
from .adf import from_text, to_text
from .base import CurrentState, add_links
from .jira_history import SD, JiraHistory
from .markup import markers_in, to_wiki
from .rest import RestClient

API_VERSION = {"cloud": 3, "dc": 2}
REQUEST_TYPE, ORGANIZATIONS = SD + "vp-origin", SD + "sd-customer-organizations"
CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
TEXT_FIELD = {"type": CF + "textfield", "searcherKey": CF + "textsearcher"}
LINK_TYPES = {"related": "Relates", "duplicate": "Duplicate"}   # Jira's default link type names


class JiraClient(JiraHistory, RestClient):
    platform = "jira"

    def __init__(self, base_url: str, token: str, *, user: str | None = None,
                 flavor: str = "cloud", **kw: Any):
        if flavor not in API_VERSION:
            raise PlatformError(f"ENRICHER_JIRA_FLAVOR must be cloud or dc, not {flavor}",
                                key="not_configured")
        headers = {"Authorization": f"Bearer {token}"} if flavor == "dc" else {}
        # The JSM comment API is experimental on some versions; the opt-in header is harmless.
        headers["X-ExperimentalApi"] = "opt-in"
        super().__init__(base_url, headers, auth=(user, token) if flavor == "cloud" else None, **kw)
        self.flavor = flavor
        self.api = f"/rest/api/{API_VERSION[flavor]}"
        self._cache: dict[str, Any] = {}
        self._cache_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any) -> JiraClient:
        flavor = settings.jira_flavor
        if not settings.jira_url or not settings.jira_token or (flavor == "cloud" and not settings.jira_user):
            raise PlatformError("ENRICHER_JIRA_URL and ENRICHER_JIRA_TOKEN (and on Cloud "
                                "ENRICHER_JIRA_USER) must be set", key="not_configured")
        return cls(settings.jira_url, settings.jira_token, user=settings.jira_user, flavor=flavor,
                   timeout=settings.http_timeout, retries=settings.http_retries)

    def error_detail(self, resp) -> str:
        try:
            body = resp.json()
        except ValueError:
            return ""
        if not isinstance(body, dict):
            return ""
        # Platform API: {"errorMessages": [...], "errors": {field: msg}}; JSM API: {"errorMessage": ...}
        parts = [str(m) for m in body.get("errorMessages") or []]
        parts += [f"{k}: {v}" for k, v in (body.get("errors") or {}).items()]
        parts += [str(body["errorMessage"])] if body.get("errorMessage") else []
        text = "; ".join(parts)
        return f": {text[:500]}" if text else ""

    def _once(self, name: str, load) -> Any:
        with self._cache_lock:
            if name not in self._cache:
                self._cache[name] = load()
            return self._cache[name]

    # -- reads ------------------------------------------------------------------
    def me(self) -> dict:
        return self._once("me", lambda: self.request("GET", f"{self.api}/myself"))

    def catalogue(self) -> list[dict]:
        """Every field of the site, fetched once per client: ids differ per site."""
        return self._once("fields", lambda: self.request("GET", f"{self.api}/field"))

    def own_fields(self) -> dict[str, dict]:
        """Our custom fields by our field name (the field rule in the module docstring)."""
        return {f["name"]: f for f in self.catalogue()
                if f.get("custom") and str(f.get("name", "")).startswith(jira.OWN_FIELD)}

    def field_id(self, schema_custom: str) -> str | None:
        return next((f["id"] for f in self.catalogue()
                     if (f.get("schema") or {}).get("custom") == schema_custom), None)

    def issue(self, key: str, fields: str | None = None, expand: str | None = None) -> dict:
        params = {k: v for k, v in (("fields", fields), ("expand", expand)) if v}
        return self.request("GET", f"{self.api}/issue/{key}", params=params or None)

    def find_user_id(self, login: str) -> str:
        found = self.request("GET", f"{self.api}/user/search",
                             params={"query" if self.flavor == "cloud" else "username": login}) or []
        for user in found:
            if login.lower() in {str(user.get(k, "")).lower() for k in ("emailAddress", "name", "key")}:
                return jira.user_id(user) or ""
        raise PlatformError(f"no Jira user {login}", key="not_found")

    def search(self, jql: str, fields: str = "updated", per_page: int = 100,
               max_pages: int = 50) -> Iterator[dict]:
        """Issues matching `jql`; Cloud pages with nextPageToken, Data Center with startAt."""
        token: str | None = None
        for page in range(max_pages):
            if self.flavor == "cloud":
                params = {"jql": jql, "fields": fields, "maxResults": per_page,
                          **({"nextPageToken": token} if token else {})}
                data = self.request("GET", f"{self.api}/search/jql", params=params)
            else:
                params = {"jql": jql, "fields": fields, "maxResults": per_page, "startAt": page * per_page}
                data = self.request("GET", f"{self.api}/search", params=params)
            issues = data.get("issues") or []
            yield from issues
            token = data.get("nextPageToken")
            last = data.get("isLast") if self.flavor == "cloud" else (
                page * per_page + len(issues) >= int(data.get("total") or 0))
            if last or not issues or (self.flavor == "cloud" and not token):
                return

    def updated_since(self, since: datetime, per_page: int = 100, max_pages: int = 50,
                      max_passes: int = 5):
        """(key, updated, None) of issues updated at or after `since`, oldest first. The
        last actor is not asked for: the newest changelog entry misses comments, so it
        could name the plugin when a customer spoke after it; the ledger decides instead.
        Workers writing to queued issues shift later pages, so passes repeat until one
        finds nothing new (as for Zammad)."""
        jql = f'updated >= "{self._jql_time(since)}" ORDER BY updated ASC'
        seen: set[str] = set()
        for _ in range(max_passes):
            found = 0
            for issue in self.search(jql, "updated", per_page, max_pages):
                if issue["key"] not in seen:
                    seen.add(issue["key"])
                    found += 1
                    yield issue["key"], parse_time((issue.get("fields") or {}).get("updated")), None
            if not found:
                return

    def _jql_time(self, since: datetime) -> str:
        # JQL dates are read in the API user's time zone; minutes only, so round down.
        try:
            zone = ZoneInfo(self.me().get("timeZone") or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            zone = UTC
        return since.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    def webhook_payload(self, key: str) -> bytes:
        """A `jira:issue_updated` body rebuilt from REST, for issues whose webhook never came.
        `names` lets the adapter find our fields by name; there is no actor to name."""
        data = self.issue(key, expand="names")
        body = {"timestamp": int(time.time() * 1000), "webhookEvent": jira.UPDATED,
                "issue_event_type_name": "issue_updated",
                "issue": {"id": data["id"], "key": data["key"], "fields": data.get("fields") or {}},
                "names": data.get("names") or {}}
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()

    # -- writes -----------------------------------------------------------------
    def edit_issue(self, key: str, body: dict) -> None:
        # notifyUsers=false needs project admin; without it Jira ignores the flag, not the edit.
        self.request("PUT", f"{self.api}/issue/{key}", params={"notifyUsers": "false"}, json=body,
                     expect_json=False)

    def reply(self, key: str, text: str, public: bool = True) -> dict:
        """A JSM comment; `public` is always sent, because JSM decides who sees it."""
        return self.request("POST", f"/rest/servicedeskapi/request/{key}/comment",
                            json={"body": text, "public": public})

    def platform_comment(self, key: str, text: str, internal: bool = True) -> dict:
        """A comment through the platform API (for issues that are not JSM requests).
        Without the property JSM would make an agent's comment public."""
        body = {"body": self.rich(text),
                "properties": [{"key": "sd.public.comment", "value": {"internal": internal}}]}
        return self.request("POST", f"{self.api}/issue/{key}/comment", json=body)

    def create_field(self, name: str, description: str = "") -> dict:
        """A text custom field (the field rule); install calls this for each missing field."""
        body = {"name": name, "description": description, **TEXT_FIELD}
        created = self.request("POST", f"{self.api}/field", json=body)
        with self._cache_lock:
            self._cache.pop("fields", None)
        return created

    def search_knowledge(self, query: str, limit: int) -> list[KnowledgeArticle]:
        """Knowledge-base articles (Confluence) matching `query` across the service desks;
        [] (and a log line) when none is linked, it is not licensed or the search fails."""
        return knowledge.safely(self.platform, lambda: knowledge.jira_articles(self.request(
            "GET", "/rest/servicedeskapi/knowledgebase/article", params=knowledge.jira_params(query, limit)),
            self.base_url, self.flavor))

    def webhooks(self) -> list:
        return self.request("GET", "/rest/webhooks/1.0/webhook") or []

    def create_webhook(self, body: dict) -> dict:
        return self.request("POST", "/rest/webhooks/1.0/webhook", json=body)

    def delete_webhook(self, webhook_id: Any) -> None:
        self.request("DELETE", f"/rest/webhooks/1.0/webhook/{webhook_id}", expect_json=False)

    def rich(self, text: str) -> Any:
        """Rich text as the API version takes it: ADF on Cloud v3, wiki text on v2."""
        return from_text(text) if self.flavor == "cloud" else text

    # -- the plan ---------------------------------------------------------------
    def bot_id(self) -> str:
        return jira.user_id(self.me()) or ""

    def current_state(self, key: str) -> CurrentState:
        """One GET (after the cached field lookup): our fields, labels, our notes, and the
        reporter with e-mail and organization, which webhooks lack."""
        ours = self.own_fields()
        extra = [fid for fid in (self.field_id(REQUEST_TYPE), self.field_id(ORGANIZATIONS)) if fid]
        wanted = ["labels", "reporter", "comment", "created", "status", "resolution", "resolutiondate",
                  "assignee", "creator", "issuelinks", *self.sla_fields(), *extra,
                  *(f["id"] for f in ours.values())]
        f = self.issue(key, fields=",".join(wanted)).get("fields") or {}
        comments = (f.get("comment") or {}).get("comments") or []
        texts = [to_text(c.get("body")) for c in comments]
        notes = tuple(t for t in texts if t.startswith(f"[{NOTE_HEADER}]"))
        return CurrentState(markers=markers_in(texts),
            fields={name: jira.field_value(f.get(e["id"])) for name, e in ours.items()},
            tags=tuple(f.get("labels") or ()), notes=notes,
            overrides={"requester": jira.requester(f), "request_type": jira.request_type(f),
                       "channel": jira.channel(f)}, raw={"fields": f}, links=_linked(f))

    def apply(self, plan: WritePlan, current: CurrentState | None = None) -> list[str]:
        """Fields and labels in one PUT (per-issue write limits), then the internal note
        and any articles. A field the site lacks is left out, not the whole write:
        returns the names left out (doctor says how to create them)."""
        body: dict[str, Any] = {}
        ours = self.own_fields() if plan.fields else {}
        missing = sorted(set(plan.fields) - set(ours))
        present = {k: v for k, v in plan.fields.items() if k in ours}
        if present:
            body["fields"] = {ours[k]["id"]: self._wire(ours[k], v) for k, v in present.items()}
        labels = [{"add": t} for t in plan.add_tags] + [{"remove": t} for t in plan.remove_tags]
        if labels:
            body["update"] = {"labels": labels}
        if body:
            self.edit_issue(plan.ticket_id, body)
        if plan.note:
            self.note(plan.ticket_id, plan.note)
        for article in plan.articles:
            self.post_article(plan.ticket_id, article, current)
        return missing + add_links(self.add_link, plan.ticket_id, plan.links)

    def add_link(self, key: str, link: Link) -> None:
        """`POST /issueLink` (201, no body). The outward issue is where the link starts:
        this one "duplicates" / "relates to" the earlier one."""
        self.request("POST", f"{self.api}/issueLink", expect_json=False, json={
            "type": {"name": LINK_TYPES.get(link.kind, "Relates")},
            "inwardIssue": {"key": link.other_number}, "outwardIssue": {"key": key}})

    def note(self, key: str, text: str, public: bool = False, plain: str | None = None) -> None:
        """A JSM comment (wiki text); on a plain Jira issue the platform API with the
        internal flag, where Cloud takes ADF built from `plain` (no wiki escapes)."""
        try:
            self.reply(key, text, public=public)
        except PlatformError as exc:
            if exc.http_status != 404:
                raise
            self.platform_comment(key, plain if plain is not None and self.flavor == "cloud" else text,
                                  internal=not public)

    def post_article(self, key: str, article: Article, current: CurrentState | None = None) -> None:
        """A public reply (or internal comment) with ticket text escaped for the wiki
        renderer, ending with the intent's marker so a retry finds it."""
        tail = f"\n\nRef {article.marker}"
        self.note(key, to_wiki(article.body) + tail, public=article.public, plain=article.body + tail)

    def _wire(self, entry: Mapping[str, Any], value: Any) -> Any:
        # Text fields take text (compared the same way: models.canon); a field an admin
        # made numeric or a select is written in its own shape.
        schema = entry.get("schema") or {}
        if schema.get("type") == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        if schema.get("type") == "option":
            return {"value": canon(value)}
        if schema.get("custom") == CF + "textarea":
            return self.rich(canon(value))
        return canon(value)


def _linked(f: Mapping[str, Any]) -> frozenset[str]:
    """Keys of the issues linked to this one, whichever side the link started from."""
    out = set()
    for link in f.get("issuelinks") or ():
        if isinstance(link, Mapping):
            other = link.get("inwardIssue") or link.get("outwardIssue") or {}
            if isinstance(other, Mapping) and other.get("key"):
                out.add(str(other["key"]))
    return frozenset(out)
