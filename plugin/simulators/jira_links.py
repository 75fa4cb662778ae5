"""Issue links of the Jira simulator: `POST /rest/api/{2|3}/issueLink` (201, empty
body) with Jira's default link types; each side's `issuelinks` field then lists the
other issue, under `inwardIssue` on the outward issue and `outwardIssue` on the
inward one (developer.atlassian.com, "Jira issue linking model")."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Response, request

from .jira_base import SITE, JiraError

if TYPE_CHECKING:
    from .jira import JiraSimulator

LINK_TYPES = {"Blocks": ("10000", "is blocked by", "blocks"),
              "Cloners": ("10001", "is cloned by", "clones"),
              "Duplicate": ("10002", "is duplicated by", "duplicates"),
              "Relates": ("10003", "relates to", "relates to")}


def issue_link(sim: JiraSimulator, ver: int) -> Response:
    body = request.get_json(silent=True) or {}
    kind = body.get("type") or {}
    name = kind.get("name") or next((n for n, t in LINK_TYPES.items() if t[0] == kind.get("id")), None)
    if name not in LINK_TYPES:
        asked = kind.get("name") or kind.get("id")
        raise JiraError(404, [f"No issue link type with name '{asked}' found."])
    inward, outward = sim._issue(_ref(body, "inwardIssue")), sim._issue(_ref(body, "outwardIssue"))
    counters = sim._counters
    link_id = str(counters.setdefault("link", 10500))
    counters["link"] += 1
    tid, inward_text, outward_text = LINK_TYPES[name]
    type_view = {"id": tid, "name": name, "inward": inward_text, "outward": outward_text,
                 "self": f"{SITE}/rest/api/{ver}/issueLinkType/{tid}"}
    for here, side, other in ((outward, "inwardIssue", inward), (inward, "outwardIssue", outward)):
        links = here["fields"].get("issuelinks") or []
        links.append({"id": link_id, "self": f"{SITE}/rest/api/{ver}/issueLink/{link_id}",
                      "type": type_view,
                      side: {"id": other["id"], "key": other["key"],
                             "self": f"{SITE}/rest/api/{ver}/issue/{other['id']}",
                             "fields": {"summary": other["fields"].get("summary"),
                                        "status": other["fields"].get("status")}}})
        here["fields"]["issuelinks"] = links
    return Response(status=201)


def _ref(body: dict, side: str) -> str:
    issue = body.get(side) if isinstance(body.get(side), dict) else {}
    return str(issue.get("key") or issue.get("id") or "")
