"""The Jira simulator's REST routes: platform API (v2/v3), servicedeskapi and the
webhooks admin API. Each handler runs under the simulator's lock."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request

from .jira_base import STATUSES, JiraError, sd_user, text_value
from .jira_fields import BAD_PAYLOAD, new_custom_field, parse_edit, status_obj
from .jira_jql import search
from .jira_kb import kb_search
from .jira_links import issue_link
from .jira_payload import new_webhook
from .jira_views import (
    changelog_page,
    comment_view,
    comments_page,
    issue_view,
    org_view,
    paged,
    sd_comment_view,
    sd_request_view,
    uview,
    webhook_view,
)

if TYPE_CHECKING:
    from .jira import JiraSimulator


@dataclass(frozen=True)
class Edit:
    key: str
    fields: dict
    update: dict
    notify_users: bool  # False when the PUT carried ?notifyUsers=false


# --- REST routes ---------------------------------------------------------------------

def add_routes(sim: JiraSimulator, app: Flask) -> None:
    api, sd, hooks = "/rest/api/<int:ver>", "/rest/servicedeskapi", "/rest/webhooks/1.0/webhook"
    table = [
        (f"{api}/myself", ["GET"], _myself), (f"{api}/user", ["GET"], _user),
        (f"{api}/field", ["GET", "POST"], _fields), (f"{api}/issue/<key>", ["GET", "PUT"], _issue),
        (f"{api}/issue/<key>/comment", ["GET", "POST"], _platform_comments),
        (f"{api}/issue/<key>/changelog", ["GET"], _changelog),
        (f"{api}/issue/<key>/transitions", ["GET", "POST"], _transitions),
        (f"{api}/issue/<key>/properties/<prop>", ["GET", "PUT", "DELETE"], _property),
        (f"{api}/issueLink", ["POST"], issue_link),
        (f"{api}/search", ["GET", "POST"], _search), (f"{api}/search/jql", ["GET", "POST"], _search_jql),
        (f"{sd}/request/<key>", ["GET"], _sd_request), (f"{sd}/request/<key>/comment", ["GET", "POST"], _sd_comments),
        (f"{sd}/organization", ["GET"], _sd_orgs), (f"{sd}/organization/<org_id>", ["GET"], _sd_org),
        (f"{sd}/servicedesk/<sd_id>/customer", ["GET"], _sd_customers),
        (f"{sd}/knowledgebase/article", ["GET"], kb_search),
        (f"{sd}/servicedesk/<sd_id>/knowledgebase/article", ["GET"], kb_search),
        (hooks, ["GET", "POST"], _hooks), (f"{hooks}/<int:hook_id>", ["GET", "DELETE"], _hook),
    ]
    for rule, methods, handler in table:
        app.add_url_rule(rule, rule, _locked(sim, handler), methods=methods)


def _locked(sim: JiraSimulator, handler: Any) -> Any:
    def view(**kwargs: Any) -> Any:
        if "ver" in kwargs and kwargs["ver"] not in ((2,) if sim.flavor == "dc" else (2, 3)):
            raise JiraError(404, [f"null for uri: {request.url}"])
        with sim.lock:
            return handler(sim, **kwargs)
    return view


def _arg(name: str, default: Any = None, source: dict | None = None) -> Any:
    source = request.args if source is None else source
    value = source.get(name, default)
    if isinstance(default, int):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise JiraError(400, [f"The value '{value}' is invalid for {name}."]) from None
    return ",".join(value) if isinstance(value, list) else value


def _body() -> Any:
    return request.get_json(silent=True)


def _myself(sim: JiraSimulator, ver: int) -> Response:
    return sim._json({**uview(sim, sim.bot_id), "locale": "en_US"})


def _user(sim: JiraSimulator, ver: int) -> Response:
    account = sim.find_user(_arg("accountId") or _arg("username") or _arg("key"))
    if account is None:
        raise JiraError(404, ["Specified user does not exist or you do not have required permissions"])
    return sim._json(uview(sim, account))


def _fields(sim: JiraSimulator, ver: int) -> Response:
    if request.method == "GET":
        return sim._json(list(sim.fields.values()))
    entry = new_custom_field(_body(), sim._counters["field"])
    sim._next("field")
    sim.fields[entry["id"]] = entry
    sim.template[entry["id"]] = None  # every issue carries every custom field, null or not
    for issue in sim.issues.values():
        issue["fields"].setdefault(entry["id"], None)
    return sim._json(entry, 201)


def _issue(sim: JiraSimulator, ver: int, key: str) -> Response:
    issue = sim._issue(key)
    if request.method == "GET":
        fields = ",".join(request.args.getlist("fields")) or None
        return sim._json(issue_view(sim, issue, ver, fields, _arg("expand", "")))
    body = _body()
    new = parse_edit(sim, issue, body, ver)
    notify = _arg("notifyUsers", "true").lower() != "false"
    sim.edits.append(Edit(issue["key"], body.get("fields") or {}, body.get("update") or {}, notify))
    history = sim._apply(issue, new, sim.bot_id)
    if history:
        sim._emit("jira:issue_updated", issue["key"], changelog=history)
    if _arg("returnIssue") == "true":
        return sim._json(issue_view(sim, issue, ver))
    return Response(status=204)


def _platform_comments(sim: JiraSimulator, ver: int, key: str) -> Response:
    issue = sim._issue(key)
    if request.method == "GET":
        return sim._json(comments_page(sim, issue, ver))
    body = _body() if isinstance(_body(), dict) else {}
    if not body.get("body"):
        raise JiraError(400, errors={"comment": "Comment body can not be empty!"})
    text = text_value("comment", body["body"], ver)
    # Without this property JSM makes an agent's platform-API comment public
    internal = any(p.get("key") == "sd.public.comment" and (p.get("value") or {}).get("internal")
                   for p in body.get("properties") or [] if isinstance(p, dict))
    comment = sim._add_comment(issue, text, not internal, sim.bot_id)
    return sim._json(comment_view(sim, issue, comment, ver), 201)


def _changelog(sim: JiraSimulator, ver: int, key: str) -> Response:
    if sim.flavor != "cloud":
        # Data Center (9.12) has no such path (atlassian-python-api #1396): expand=changelog instead
        raise JiraError(404, [f"null for uri: {request.url}"])
    start, limit = _arg("startAt", 0), min(max(_arg("maxResults", 100), 1), 100)
    return sim._json(changelog_page(sim, sim._issue(key), ver, start, limit))


def _transitions(sim: JiraSimulator, ver: int, key: str) -> Response:
    """Every status is one transition away, its id the status id (workflows are not modelled)."""
    issue = sim._issue(key)
    current = issue["fields"]["status"]["name"]
    if request.method == "GET":
        return sim._json({"expand": "transitions", "transitions": [
            {"id": STATUSES[n][0], "name": n, "to": status_obj(n), "hasScreen": False, "isGlobal": True,
             "isInitial": False, "isConditional": False} for n in STATUSES if n != current]})
    body = _body() if isinstance(_body(), dict) else {}
    wanted = str((body.get("transition") or {}).get("id") or "")
    name = next((n for n, (sid, _, _) in STATUSES.items() if sid == wanted and n != current), None)
    if name is None:
        raise JiraError(400, [f"Transition id '{wanted}' is not valid for this issue."])
    history = sim._apply(issue, {"status": status_obj(name)}, sim.bot_id)
    sim._emit("jira:issue_updated", issue["key"], changelog=history)
    return Response(status=204)


def _property(sim: JiraSimulator, ver: int, key: str, prop: str) -> Response:
    # Properties change no field and fire no issue_updated: the quiet way to mark work done
    props = sim._issue(key)["properties"]
    if request.method == "PUT":
        if _body() is None:
            raise JiraError(400, [BAD_PAYLOAD])
        status = 200 if prop in props else 201
        props[prop] = _body()
        return Response(status=status)
    if prop not in props:
        raise JiraError(404, [f"The property with key '{prop}' does not exist."])
    if request.method == "DELETE":
        del props[prop]
        return Response(status=204)
    return sim._json({"key": prop, "value": props[prop]})


def _search_args() -> dict:
    return (_body() or {}) if request.method == "POST" else {
        **request.args.to_dict(), "fields": ",".join(request.args.getlist("fields")) or None}


def _search(sim: JiraSimulator, ver: int) -> Response:
    args = _search_args()
    hits = search(sim, args.get("jql") or "", sim.clock())
    start, limit = _arg("startAt", 0, args), min(_arg("maxResults", 50, args), 100)
    issues = [issue_view(sim, i, ver, _arg("fields", None, args), args.get("expand") or "", "*navigable")
              for i in hits[start:start + limit]]
    return sim._json({"expand": "schema,names", "startAt": start, "maxResults": limit,
                      "total": len(hits), "issues": issues})


def _search_jql(sim: JiraSimulator, ver: int) -> Response:
    if sim.flavor != "cloud" or ver != 3:
        raise JiraError(404, [f"null for uri: {request.url}"])
    args = _search_args()
    hits = search(sim, args.get("jql") or "", sim.clock())
    start, limit = _arg("nextPageToken", 0, args), min(_arg("maxResults", 50, args), 100)
    # The token-paged search returns only ids unless fields are asked for
    issues = [issue_view(sim, i, 3, _arg("fields", None, args), args.get("expand") or "", "id")
              for i in hits[start:start + limit]]
    body: dict = {"issues": issues, "isLast": start + limit >= len(hits)}
    if not body["isLast"]:
        body["nextPageToken"] = str(start + limit)
    return sim._json(body)


def _sd_request(sim: JiraSimulator, key: str) -> Response:
    return sim._json(sd_request_view(sim, sim._issue(key)))


def _sd_comments(sim: JiraSimulator, key: str) -> Response:
    issue = sim._issue(key)
    if request.method == "GET":
        show = {True: _arg("public", "true") != "false", False: _arg("internal", "true") != "false"}
        values = [sd_comment_view(sim, issue, c) for c in issue["comments"] if show[c["public"]]]
        return sim._json(paged(values, _arg("start", 0), _arg("limit", 50)))
    body = _body() if isinstance(_body(), dict) else {}
    if not isinstance(body.get("body"), str) or not body["body"].strip():
        raise JiraError(400, ["The comment body must not be empty."])
    if not isinstance(body.get("public"), bool):
        # Simulator rule: the service must always say whether a comment reaches the customer
        raise JiraError(400, ["'public' is required and must be true or false."])
    comment = sim._add_comment(issue, body["body"], body["public"], sim.bot_id)
    return sim._json(sd_comment_view(sim, issue, comment), 201)


def _sd_orgs(sim: JiraSimulator) -> Response:
    account = _arg("accountId")
    orgs = [org_view(o) for o in sim.orgs.values() if account is None or account in o["members"]]
    return sim._json(paged(orgs, _arg("start", 0), _arg("limit", 50)))


def _sd_org(sim: JiraSimulator, org_id: str) -> Response:
    if org_id not in sim.orgs:
        raise JiraError(404, [f"Organization with id {org_id} does not exist."])
    return sim._json(org_view(sim.orgs[org_id]))


def _sd_customers(sim: JiraSimulator, sd_id: str) -> Response:
    query = (_arg("query") or "").lower()
    found = [sd_user(u, sim.flavor) for u in sim.users.values() if u["accountType"] == "customer"
             and any(query in u[k].lower() for k in ("emailAddress", "displayName", "name"))]
    return sim._json(paged(found, _arg("start", 0), _arg("limit", 50)))


def _hooks(sim: JiraSimulator) -> Response:
    bot = sim.users[sim.bot_id]
    if request.method == "GET":
        return sim._json([webhook_view(h, bot) for h in sim.webhooks.values()])
    hook = new_webhook(_body(), sim._counters["webhook"], sim.clock())
    sim.webhooks[sim._next("webhook")] = hook
    return sim._json(webhook_view(hook, bot), 201)


def _hook(sim: JiraSimulator, hook_id: int) -> Response:
    if hook_id not in sim.webhooks:
        raise JiraError(404, [f"Webhook {hook_id} does not exist."])
    if request.method == "DELETE":
        del sim.webhooks[hook_id]
        return Response(status=204)
    return sim._json(webhook_view(sim.webhooks[hook_id], sim.users[sim.bot_id]))
