"""Tickets created in a period, oldest first, and each one's create event rebuilt.

Paging is by keyset: each query starts at the creation time of the last ticket seen,
so a run can resume from a time (its position in the ledger), and deep pages never
hit Elasticsearch's result window (10,000 by default; Zammad's search runs on it).
Zammad: `GET /tickets/search` on `created_at` (REFERENCE §3.2; there is no total,
so a short page ends it). Jira: JQL `created >= … AND created < …`, paged by the
client (Cloud nextPageToken, Data Center startAt); JQL times have minutes only and
are read in the API user's time zone, so the bounds are checked here again.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..hooks import jira
from ..hooks.zammad import ARTICLE_TYPES, payload_from_all
from ..models import NOTE_HEADER
from ..text import parse_time

PER_PAGE = 100
JIRA_PAGES = 10            # pages per JQL query before the next query starts from the cursor
ZAMMAD_SENDERS = {1: "Agent", 2: "Customer", 3: "System"}
# A ticket in one of these states is finished: its facts are recorded, nothing is written.
ZAMMAD_CLOSED = {"closed", "merged", "removed", "pending close"}
ZAMMAD_NEW = "1"          # the seeded state every ticket is created in (db/seeds: "new")
# JSM's default request workflow starts here; the search record has no changelog to say.
JIRA_ARRIVAL_STATUS = {"name": "Waiting for support", "statusCategory": {"key": "new", "name": "To Do"}}


@dataclass(frozen=True)
class Found:
    ticket_id: str
    created_at: datetime
    closed: bool
    answer: Mapping[str, Any]                    # what agents finally did (answers.py)
    record: Mapping[str, Any] = field(default_factory=dict, repr=False)   # the listing's record


def tickets(platform: str, client: Any, start: datetime, end: datetime,
            since: datetime | None = None, *, full: bool = True) -> Iterator[Found]:
    """`full=False`: the answers and states only (Jira then asks for a few fields, not all)."""
    if platform == "zammad":
        return zammad_tickets(client, start, end, since or start)
    return jira_tickets(client, start, end, since or start, full)


def create_payload(platform: str, client: Any, found: Found) -> bytes:
    build = zammad_create if platform == "zammad" else jira_create
    return json.dumps(build(client, found), separators=(",", ":"), ensure_ascii=False).encode()


# -- Zammad ---------------------------------------------------------------------

def _stamp(t: datetime) -> str:
    # Colons are reserved in a query string: escaped, as Elasticsearch reads them.
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ").replace(":", "\\:")


def zammad_tickets(client: Any, start: datetime, end: datetime, since: datetime) -> Iterator[Found]:
    states, groups = client.lookup_names("ticket_states"), client.lookup_names("groups")
    page, seen = 1, {}          # seen: id -> created, for the tickets at or after the cursor
    while True:
        query = f"created_at:>={_stamp(since)} AND created_at:<{_stamp(end)}"
        data = client.request("GET", "/tickets/search", params={
            "query": query, "page": page, "per_page": PER_PAGE, "sort_by": "created_at",
            "order_by": "asc", "expand": "false"})
        ids = [str(i) for i in data.get("tickets") or []]
        assets = (data.get("assets") or {}).get("Ticket") or {}
        last = since
        for tid in ids:
            t = assets.get(tid) or {}
            created = parse_time(t.get("created_at"))
            if tid in seen or created is None or not start <= created < end:
                continue
            seen[tid], last = created, max(last, created)
            yield Found(tid, created, _zammad_state(t, states) in ZAMMAD_CLOSED,
                        zammad_answer(t, states, groups), t)
        if len(ids) < PER_PAGE:
            return
        # The next query starts at the last creation time; a page that did not move it
        # (a hundred tickets at one instant) is followed by the next page at that instant.
        page, since = (page + 1, since) if last == since else (1, last)
        seen = {tid: at for tid, at in seen.items() if at >= since}


def _zammad_state(t: Mapping[str, Any], states: Mapping[str, str]) -> str:
    return str(t.get("state") or states.get(str(t.get("state_id")), ""))


def zammad_answer(t: Mapping[str, Any], states: Mapping[str, str], groups: Mapping[str, str]) -> dict:
    return {"category": t.get("enrich_category"), "priority": t.get("enrich_priority"),
            "value_stream": t.get("enrich_value_stream"),
            "group": groups.get(str(t.get("group_id"))) if t.get("group_id") is not None else None,
            "state": _zammad_state(t, states) or None}


def zammad_create(client: Any, found: Found) -> dict:
    """The default webhook body of the ticket's creation: its first message, its first
    state, none of our fields, the customer as the last updater (steps decide on the
    ticket as it arrived: a closed one would get no acknowledgement). The record's KPI
    columns stay, and the KPI step reads the history: it measures the whole life."""
    data = client.ticket_all(found.ticket_id)
    client.memo.keep(f"all:{found.ticket_id}", data)     # the worker's current_state reads it next
    payload = payload_from_all(data, client.lookup_names("ticket_states"),
                               client.lookup_names("ticket_priorities"))
    articles = sorted(((data.get("assets") or {}).get("TicketArticle") or {}).values(),
                      key=lambda a: a.get("id", 0))
    first = dict(next((a for a in articles if a.get("subject") != NOTE_HEADER), {}))
    if first:   # REST records may carry ids where the webhook carries names
        first["sender"] = first.get("sender") or ZAMMAD_SENDERS.get(first.get("sender_id"))
        first["type"] = first.get("type") or ARTICLE_TYPES.get(first.get("type_id"))
    t = {k: v for k, v in payload["ticket"].items() if not k.startswith("enrich_")}
    t.update(article_ids=[first["id"]] if first else [], state_id=int(ZAMMAD_NEW),
             state=client.lookup_names("ticket_states").get(ZAMMAD_NEW, "new"),
             updated_by_id=t.get("created_by_id") or t.get("customer_id") or t.get("updated_by_id"),
             updated_at=t.get("created_at"))
    return {"ticket": t, "article": first}


# -- Jira -----------------------------------------------------------------------

def _jql_time(client: Any, t: datetime) -> str:
    try:
        zone = ZoneInfo(client.me().get("timeZone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return t.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def jira_tickets(client: Any, start: datetime, end: datetime, since: datetime,
                 full: bool = True) -> Iterator[Found]:
    ours = {e["id"]: name for name, e in client.own_fields().items()}
    wanted = "*all" if full else ",".join(["created", "status", "resolution", *ours])
    seen: set[str] = set()
    while True:
        # Minutes only: the bounds are rounded down and checked again below.
        jql = (f'created >= "{_jql_time(client, since)}" AND created < "{_jql_time(client, end)}" '
               f"ORDER BY created ASC, key ASC")
        n, last = 0, since
        for issue in client.search(jql, wanted, PER_PAGE, JIRA_PAGES):
            n += 1
            f = issue.get("fields") or {}
            created = parse_time(f.get("created"))
            if issue["key"] in seen or created is None or not start <= created < end:
                continue
            seen.add(issue["key"])
            last = max(last, created)
            yield Found(issue["key"], created, jira_closed(f), jira_answer(f, ours), issue)
        # A short answer is the end; a full one goes on from the last creation time (a
        # thousand tickets in one minute would end it here: JQL cannot page inside a minute).
        if n < PER_PAGE * JIRA_PAGES or last == since:
            return
        since = last


def jira_closed(f: Mapping[str, Any]) -> bool:
    category = ((f.get("status") or {}).get("statusCategory") or {}).get("key")
    return category == "done" or bool(f.get("resolution"))


def jira_answer(f: Mapping[str, Any], ours: Mapping[str, str]) -> dict:
    values = {name: jira.field_value(f.get(fid)) for fid, name in ours.items()}
    return {"category": values.get("enrich_category"), "priority": values.get("enrich_priority"),
            "value_stream": values.get("enrich_value_stream"), "group": None,
            "state": (f.get("status") or {}).get("name")}


def jira_create(client: Any, found: Found) -> dict:
    """A `jira:issue_created` body from the search record: the reporter as the actor, the
    workflow's first status, none of our fields or labels (added later by agents or us)."""
    ours = {e["id"] for e in client.own_fields().values()}
    issue = found.record
    fields = {k: v for k, v in (issue.get("fields") or {}).items() if k not in ours}
    fields.update(labels=[], status=dict(JIRA_ARRIVAL_STATUS), resolution=None, resolutiondate=None)
    return {"timestamp": int(found.created_at.timestamp() * 1000), "webhookEvent": jira.CREATED,
            "issue_event_type_name": "issue_created", "user": fields.get("reporter"),
            "issue": {"id": issue["id"], "key": issue["key"], "fields": fields}}
