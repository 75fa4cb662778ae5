"""Records and payloads of the Jira simulator: the seed issue, new portal requests and
the status/SLA bookkeeping around them, registered webhooks, and the bodies of webhook
and Automation deliveries.

The rest of the simulator's data lives in jira_base (constants, users, time, ADF),
jira_fields (catalogue, edits), jira_views (REST views) and jira_jql (search).
"""
from __future__ import annotations

import copy
from typing import Any

from .jira_base import (
    CATEGORIES,
    PARTICIPANTS,
    REQUEST_TYPE,
    SITE,
    STATUSES,
    TTFR,
    TTR,
    USER_FIELDS,
    JiraError,
    duration,
    jira_time,
    sd_date,
)
from .jira_fields import priority_obj, status_obj
from .jira_views import comment_view, render_fields, request_links, uview

# --- seed and new requests ----------------------------------------------------------

def seed_issue(fixtures: dict[str, dict]) -> dict:
    """ITSD-42 as issue_created_jsm.json has it, with user fields reduced to accountIds."""
    created = fixtures["issue_created_jsm"]
    issue = copy.deepcopy(created["issue"])
    fields = issue["fields"]
    for name in USER_FIELDS:
        fields[name] = (fields[name] or {}).get("accountId")
    fields[PARTICIPANTS] = [u["accountId"] for u in fields[PARTICIPANTS]]
    history = {"id": created["changelog"]["id"], "author": created["user"]["accountId"],
               "created": fields["created"], "items": copy.deepcopy(created["changelog"]["items"])}
    return {"id": issue["id"], "key": issue["key"], "fields": fields, "comments": [],
            "histories": [history], "properties": {}}


def new_sla(sid: str, name: str, goal: int, issue_id: str, now: int) -> dict:
    return {"id": sid, "name": name,
            "_links": {"self": f"{SITE}/rest/servicedeskapi/request/{issue_id}/sla/{sid}"},
            "completedCycles": [],
            "ongoingCycle": {"startTime": sd_date(now), "breachTime": sd_date(now + goal),
                             "breached": False, "paused": False, "withinCalendarHours": True,
                             "goalDuration": duration(goal, hours=True), "elapsedTime": duration(0),
                             "remainingTime": duration(goal)}}


def stop_sla(fields: dict, fid: str, now: int) -> None:
    cycle = (fields.get(fid) or {}).pop("ongoingCycle", None)
    if not cycle:
        return
    elapsed = now - cycle["startTime"]["epochMillis"]
    goal = cycle["goalDuration"]["millis"]
    fields[fid]["completedCycles"].append({
        "startTime": cycle["startTime"], "stopTime": sd_date(now), "breachTime": cycle["breachTime"],
        "breached": elapsed > goal, "goalDuration": cycle["goalDuration"],
        "elapsedTime": duration(elapsed), "remainingTime": duration(goal - elapsed)})


def new_request_fields(template: dict, issue_id: str, key: str, now: int, **values: Any) -> dict:
    fields = copy.deepcopy(template)
    stamp = jira_time(now)
    fields.update(created=stamp, updated=stamp, statuscategorychangedate=stamp, labels=[],
                  assignee=None, resolution=None, resolutiondate=None, priority=priority_obj("Medium"),
                  status=status_obj("Waiting for support"), **values)
    fields["watches"]["self"] = f"{SITE}/rest/api/2/issue/{key}/watchers"
    fields["votes"]["self"] = f"{SITE}/rest/api/2/issue/{key}/votes"
    fields[TTR] = new_sla("1", "Time to resolution", 86400000, issue_id, now)
    fields[TTFR] = new_sla("2", "Time to first response", 14400000, issue_id, now)
    fields[REQUEST_TYPE]["_links"] = request_links(issue_id, key)
    fields[REQUEST_TYPE]["currentStatus"] = current_status("Waiting for support", now)
    return fields


def current_status(name: str, now: int) -> dict:
    return {"status": name, "statusCategory": CATEGORIES[STATUSES[name][1]][3], "statusDate": sd_date(now)}


def status_side_effects(fields: dict, now: int) -> None:
    """What JSM does around a transition: portal status, SLA clocks, resolution."""
    name = fields["status"]["name"]
    if fields.get(REQUEST_TYPE):
        fields[REQUEST_TYPE]["currentStatus"] = current_status(name, now)
    fields["statuscategorychangedate"] = jira_time(now)
    if name != "Waiting for support":  # as in issue_updated_status.json: TTFR stops on pick-up
        stop_sla(fields, TTFR, now)
    if STATUSES[name][1] == "done":
        stop_sla(fields, TTR, now)
        if not fields.get("resolution"):
            fields["resolution"] = {"self": f"{SITE}/rest/api/2/resolution/10000", "id": "10000",
                                    "description": "Work has been completed on this issue.", "name": "Done"}
            fields["resolutiondate"] = jira_time(now)
    else:
        # JSM's reopen transitions clear the resolution (Jira: unresolved again).
        fields["resolution"] = fields["resolutiondate"] = None


def new_webhook(body: Any, hook_id: int, now: int) -> dict:
    body = body if isinstance(body, dict) else {}
    errors = {k: f"The '{k}' field is required." for k in ("name", "url") if not body.get(k)}
    if not isinstance(body.get("events", []), list):
        errors["events"] = "'events' must be a list of event names."
    if errors:
        raise JiraError(400, errors=errors)
    return {"id": hook_id, "name": body["name"], "url": body["url"], "events": body.get("events", []),
            "filters": body.get("filters", {}), "excludeBody": bool(body.get("excludeBody")),
            "enabled": body.get("enabled", True), "secret": body.get("secret") or None,
            "lastUpdated": now}


# --- webhook bodies ---------------------------------------------------------------------

CUT_FIELDS = ("summary", "issuetype", "project", "assignee", "priority", "status")


def webhook_issue(sim: Any, issue: dict) -> dict:
    # Cloud issue events carry `self` without "/issue/" (fixtures README); never parse it.
    path = f"{issue['id']}" if sim.flavor == "cloud" else f"issue/{issue['id']}"
    return {"id": issue["id"], "self": f"{SITE}/rest/api/2/{path}", "key": issue["key"],
            "fields": render_fields(sim, issue, 2, webhook=True)}


def event_type_name(event: str, history: dict | None, comment: dict | None) -> str:
    if event == "jira:issue_created":
        return "issue_created"
    if event == "jira:issue_deleted":
        return "issue_deleted"
    if comment is not None:
        return "issue_commented"
    touched = {item.get("fieldId") for item in (history or {}).get("items", [])}
    if "status" in touched:
        return "issue_generic"
    return "issue_assigned" if touched == {"assignee"} else "issue_updated"


def issue_event(sim: Any, event: str, issue: dict, now: int, actor: str, type_name: str,
                history: dict | None = None, comment: dict | None = None) -> dict:
    body = {"timestamp": now, "webhookEvent": event, "issue_event_type_name": type_name,
            "user": uview(sim, actor, email=False), "issue": webhook_issue(sim, issue)}
    if comment is not None:
        body["comment"] = comment_view(sim, issue, comment, 2, webhook=True)
    if history is not None:
        body["changelog"] = {"id": history["id"], "items": copy.deepcopy(history["items"])}
    return body


def comment_event(sim: Any, event: str, issue: dict, comment: dict, now: int) -> dict:
    """Comment events have no top-level user and a cut-down issue (fixtures README)."""
    fields = render_fields(sim, issue, 2, webhook=True)
    return {"timestamp": now, "webhookEvent": event,
            "comment": comment_view(sim, issue, comment, 2, webhook=True),
            "issue": {"id": issue["id"], "self": f"{SITE}/rest/api/2/issue/{issue['id']}",
                      "key": issue["key"], "fields": {f: fields[f] for f in CUT_FIELDS}}}


def automation_body(sim: Any, issue: dict, fmt: str = "automation") -> dict:
    """Automation "Send web request" bodies: the issue itself, or {"issue": ...} in Jira format."""
    doc = {"self": f"{SITE}/rest/api/2/issue/{issue['id']}", "id": int(issue["id"]), "key": issue["key"],
           "changelog": {"startAt": 0, "maxResults": 0, "total": 0, "histories": None},
           "fields": render_fields(sim, issue, 2, webhook=True)}
    return doc if fmt == "automation" else {"issue": doc}
