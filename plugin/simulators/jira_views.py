"""REST views of the Jira simulator's state: issues, comments, requests, organizations
and registered webhooks, as the platform API and servicedeskapi render them."""
from __future__ import annotations

import copy
from typing import Any

from .jira_base import (
    PARTICIPANTS,
    REQUEST_TYPE,
    SITE,
    USER_FIELDS,
    jira_time,
    parse_time,
    sd_date,
    sd_user,
    to_adf,
    user_view,
)
from .jira_fields import is_rich

# --- REST views -----------------------------------------------------------------------
# `sim` below is the JiraSimulator: only its users, fields (catalogue) and flavor are read.

def uview(sim: Any, account_id: str | None, email: bool = True) -> dict | None:
    return user_view(sim.users.get(account_id) if account_id else None, sim.flavor, email)


def render_fields(sim: Any, issue: dict, version: int, webhook: bool = False) -> dict:
    out = {}
    for fid, value in issue["fields"].items():
        if fid in USER_FIELDS:
            value = uview(sim, value, email=not webhook)
        elif fid == PARTICIPANTS:
            value = [uview(sim, a, email=not webhook) for a in value]
        elif version == 3 and is_rich(sim, fid):
            value = to_adf(value)
        out[fid] = copy.deepcopy(value)
    return out


def select_fields(param: str | None, available: list[str], default: str) -> list[str]:
    chosen: list[str] = []
    for name in (param or default).split(","):
        name = name.strip()
        if name in ("*all", "*navigable"):
            chosen += available
        elif name.startswith("-"):
            chosen = [f for f in chosen if f != name[1:]]
        elif name in available:
            chosen.append(name)
    return list(dict.fromkeys(chosen))


def issue_view(sim: Any, issue: dict, version: int, fields: str | None = None,
               expand: str = "", default: str = "*all") -> dict:
    rendered = render_fields(sim, issue, version)
    rendered["comment"] = comments_page(sim, issue, version)
    view = {"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
            "id": issue["id"], "self": f"{SITE}/rest/api/{version}/issue/{issue['id']}", "key": issue["key"]}
    wanted = select_fields(fields, list(rendered), default)
    if wanted:
        view["fields"] = {f: rendered[f] for f in wanted}
    if "changelog" in expand:
        # Cloud: the most recent 100, newest first (the paged /changelog has the rest);
        # Data Center has no /changelog and returns all here (order and any cap unverified).
        order = issue["histories"] if sim.flavor == "dc" else list(reversed(issue["histories"]))[:100]
        histories = [history_view(sim, h) for h in order]
        view["changelog"] = {"startAt": 0, "maxResults": len(histories), "total": len(issue["histories"]),
                             "histories": histories}
    if "names" in expand:
        view["names"] = {f: sim.fields[f]["name"] for f in view.get("fields", {}) if f in sim.fields}
    return view


def history_view(sim: Any, history: dict) -> dict:
    return {"id": history["id"], "author": uview(sim, history["author"]),
            "created": history["created"], "items": copy.deepcopy(history["items"])}


def changelog_page(sim: Any, issue: dict, version: int, start: int, limit: int) -> dict:
    """Cloud's `GET /issue/{key}/changelog`: oldest first, paged with startAt/maxResults."""
    values = [history_view(sim, h) for h in issue["histories"][start:start + limit]]
    base = f"{SITE}/rest/api/{version}/issue/{issue['key']}/changelog"
    page = {"self": f"{base}?startAt={start}&maxResults={limit}", "maxResults": limit, "startAt": start,
            "total": len(issue["histories"]), "isLast": start + limit >= len(issue["histories"]),
            "values": values}
    if not page["isLast"]:
        page["nextPage"] = f"{base}?&startAt={start + limit}&maxResults={limit}"
        page = {k: page[k] for k in ("self", "nextPage", "maxResults", "startAt", "total", "isLast", "values")}
    return page


def comment_view(sim: Any, issue: dict, comment: dict, version: int, webhook: bool = False) -> dict:
    author = uview(sim, comment["author"], email=not webhook)
    view = {"self": f"{SITE}/rest/api/{version}/issue/{issue['id']}/comment/{comment['id']}",
            "id": comment["id"], "author": author,
            "body": to_adf(comment["body"]) if version == 3 else comment["body"],
            "updateAuthor": author, "created": jira_time(comment["created"]),
            "updated": jira_time(comment["updated"]), "jsdPublic": comment["public"]}
    if not webhook:
        view["jsdAuthorCanSeeRequest"] = True
    return view


def comments_page(sim: Any, issue: dict, version: int) -> dict:
    comments = [comment_view(sim, issue, c, version) for c in issue["comments"]]
    return {"comments": comments, "self": f"{SITE}/rest/api/{version}/issue/{issue['id']}/comment",
            "maxResults": len(comments), "total": len(comments), "startAt": 0}


def sd_comment_view(sim: Any, issue: dict, comment: dict) -> dict:
    return {"_expands": ["attachment", "renderedBody"], "id": comment["id"], "body": comment["body"],
            "public": comment["public"], "author": sd_user(sim.users[comment["author"]], sim.flavor),
            "created": sd_date(comment["created"]),
            "_links": {"self": f"{SITE}/rest/servicedeskapi/request/{issue['id']}/comment/{comment['id']}"}}


def sd_request_view(sim: Any, issue: dict) -> dict:
    fields = issue["fields"]
    origin = fields.get(REQUEST_TYPE) or {}
    return {"_expands": ["participant", "status", "sla", "requestType", "serviceDesk", "attachment",
                         "action", "comment"],
            "issueId": issue["id"], "issueKey": issue["key"],
            "requestTypeId": origin.get("requestType", {}).get("id"), "serviceDeskId": "2",
            "createdDate": sd_date(parse_time(fields["created"])),
            "reporter": sd_user(sim.users[fields["reporter"]], sim.flavor),
            "requestFieldValues": [
                {"fieldId": "summary", "label": "Summary", "value": fields["summary"]},
                {"fieldId": "description", "label": "Description", "value": fields["description"]}],
            "currentStatus": origin.get("currentStatus"), "_links": request_links(issue["id"], issue["key"])}


def paged(values: list, start: int = 0, limit: int = 50) -> dict:
    page = values[start:start + limit]
    return {"size": len(page), "start": start, "limit": limit,
            "isLastPage": start + limit >= len(values), "values": page}


def org_view(org: dict) -> dict:
    return {"id": org["id"], "name": org["name"],
            "_links": {"self": f"{SITE}/rest/servicedeskapi/organization/{org['id']}"}}


def webhook_view(hook: dict, bot: dict) -> dict:
    view = {k: hook[k] for k in ("name", "url", "events", "filters", "excludeBody", "enabled")}
    view.update(self=f"{SITE}/rest/webhooks/1.0/webhook/{hook['id']}", lastUpdated=hook["lastUpdated"],
                lastUpdatedUser=bot["key"], lastUpdatedDisplayName=bot["displayName"],
                isSigned=bool(hook["secret"]))
    if hook["secret"]:
        view["secret"] = "********"  # Jira never hands a stored secret back
    return view


def request_links(issue_id: str, key: str) -> dict:
    return {"jiraRest": f"{SITE}/rest/api/2/issue/{issue_id}",
            "web": f"{SITE}/servicedesk/customer/portal/2/{key}",
            "agent": f"{SITE}/browse/{key}", "self": f"{SITE}/rest/servicedeskapi/request/{issue_id}"}
