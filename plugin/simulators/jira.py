"""A local Jira Service Management for end-to-end tests and the demo: Cloud (REST v3 +
servicedeskapi, Basic email:token) or Data Center (REST v2, Bearer PAT), and the
admin-webhook sender with X-Hub-Signature.

    with JiraSimulator() as sim:
        key = sim.create_request("VPN down", "error 809", "dana@example.org")
        sim.send_webhook(url, "secret", "jira:issue_created", key)

Standalone: python -m plugin.simulators.jira --port 8082
"""
from __future__ import annotations

import argparse
import copy
import hmac
import json
import threading
import time
import uuid
from base64 import b64encode
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Self

import requests
from flask import Flask, Response, g, request
from werkzeug.serving import WSGIRequestHandler, make_server

from . import jira_payload as P


@dataclass
class Call:
    method: str
    path: str
    query: dict
    body: Any
    status: int | None = None  # set once answered


@dataclass(frozen=True)
class Edit:
    key: str
    fields: dict
    update: dict
    notify_users: bool  # False when the PUT carried ?notifyUsers=false


WRITE_PATHS = ("/issue/", "/servicedeskapi/request/")


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass  # sim.calls is the record; per-request stderr lines only bury test output
UNAUTHORIZED = "Client must be authenticated to access this resource."


class JiraSimulator:
    def __init__(self, email: str = "enricher-bot@example-co.com", api_token: str = "sim-token",
                 flavor: str = "cloud", latency: float = 0.0, fixtures_dir: Any = None,
                 auto_deliver: bool = False):
        if flavor not in ("cloud", "dc"):
            raise ValueError(f"flavor must be 'cloud' or 'dc', not {flavor!r}")
        self.email, self.api_token, self.flavor, self.latency = email, api_token, flavor, latency
        self.auto_deliver = auto_deliver  # push events to webhooks registered over REST
        self.clock = lambda: int(time.time() * 1000)  # epoch ms; tests may replace it
        self.lock = threading.RLock()  # guards the Jira state
        self._meta = threading.Lock()  # guards the call log and fault queues only
        self._calls: list[Call] = []
        self._faults: list[dict] = []
        self._hangs: list[dict] = []
        self._down = False
        self.edits: list[Edit] = []
        self.deliveries: list[dict] = []
        self._seed(P.load_fixtures(P.fixtures_path(fixtures_dir)))
        self.app = self._build_app()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.base_url: str | None = None

    def _seed(self, fixtures: dict) -> None:
        self.fields = P.catalogue()
        self.users: dict[str, dict] = {}
        for n, u in enumerate(P.collect_users(fixtures)):
            email = P.EMAILS.get(u["displayName"]) or u["displayName"].lower().replace(" ", ".") + "@example-co.com"
            self.users[u["accountId"]] = P.new_user(u["accountId"], u["displayName"], u["accountType"],
                                                    email, u["timeZone"], 10100 + n)
        self.bot_id = P.BOT_ID
        self.users[P.BOT_ID] = P.new_user(P.BOT_ID, "Enricher Bot", "app", self.email, "Etc/UTC", 10099)
        issue = P.seed_issue(fixtures)
        self.template = copy.deepcopy(issue["fields"])
        self.issues = {issue["key"]: issue}
        self.request_types = dict(P.REQUEST_TYPES)
        self.orgs: dict[str, dict] = {}
        self.webhooks: dict[int, dict] = {}
        self._counters = {"issue": int(issue["id"]) + 1, "num": int(issue["key"].split("-")[1]) + 1,
                          "comment": 10133, "changelog": 10719, "field": 10050, "webhook": 1, "org": 1}

    def _next(self, name: str) -> int:
        value = self._counters[name]
        self._counters[name] += 1
        return value

    # --- server -----------------------------------------------------------------------

    def start(self, port: int = 0, host: str = "127.0.0.1", log: bool = False) -> str:
        handler = WSGIRequestHandler if log else _QuietHandler
        self._server = make_server(host, port, self.app, threaded=True, request_handler=handler)
        self.base_url = f"http://{host}:{self._server.server_port}"
        # a short poll interval keeps stop() fast; each test starts its own simulator
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="jira-sim", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def auth_headers(self) -> dict[str, str]:
        if self.flavor == "dc":
            return {"Authorization": f"Bearer {self.api_token}"}
        token = b64encode(f"{self.email}:{self.api_token}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    # --- call log and faults ----------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._meta:
            return list(self._calls)

    def writes(self) -> list[Call]:
        return [c for c in self.calls if c.method in ("PUT", "POST", "DELETE")
                and any(p in c.path for p in WRITE_PATHS)]

    def reset_calls(self) -> None:
        with self._meta:
            self._calls.clear()
            self.edits.clear()

    def fail_next(self, n: int, status: int = 503, retry_after: Any = None, match: str | None = None) -> None:
        with self._meta:
            self._faults.append({"left": n, "status": status, "retry_after": retry_after, "match": match})

    def set_down(self, down: bool = True) -> None:
        self._down = down

    def hang_next(self, n: int, seconds: float) -> None:
        with self._meta:
            self._hangs.append({"left": n, "seconds": seconds, "match": None})

    def _take(self, queue: list[dict], target: str) -> dict | None:
        with self._meta:
            for entry in queue:
                if entry["match"] is None or entry["match"] in target:
                    entry["left"] -= 1
                    if entry["left"] <= 0:
                        queue.remove(entry)
                    return entry
        return None

    def _gate(self) -> Response | None:
        body = request.get_json(silent=True)
        call = Call(request.method, request.path, request.args.to_dict(),
                    body if body is not None else request.get_data(as_text=True) or None)
        with self._meta:
            self._calls.append(call)
        g.call = call
        if self._down:
            return self._error(503, ["Service Unavailable"])
        hang = self._take(self._hangs, "")
        if hang:
            time.sleep(hang["seconds"])
        fault = self._take(self._faults, f"{request.method} {request.path}")
        if fault:
            return self._fault(fault)
        if self.latency:
            time.sleep(self.latency)
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, self.auth_headers()["Authorization"].encode()):
            return self._error(401, [UNAUTHORIZED])
        return None

    def _fault(self, fault: dict) -> Response:
        headers = {}
        if fault["retry_after"] is not None:
            headers["Retry-After"] = str(fault["retry_after"])
        if fault["status"] == 429:
            reset = datetime.fromtimestamp(self.clock() / 1000 + float(fault["retry_after"] or 1), UTC)
            headers.update({"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0",
                            "X-RateLimit-Reset": reset.isoformat(timespec="seconds").replace("+00:00", "Z"),
                            "RateLimit-Reason": "jira-cost-based"})
        text = {429: "Rate limit exceeded.", 503: "Service Unavailable"}.get(fault["status"], "Simulated failure")
        return self._error(fault["status"], [text], headers=headers)

    # --- responses --------------------------------------------------------------------

    def _json(self, body: Any, status: int = 200, headers: dict | None = None) -> Response:
        return Response(json.dumps(body, ensure_ascii=False), status, headers,
                        content_type="application/json;charset=UTF-8")

    def _error(self, status: int, messages: list[str] = (), errors: dict | None = None,
               headers: dict | None = None) -> Response:
        if request.path.startswith("/rest/servicedeskapi/"):
            # JSM's own API reports errors in its own shape, not the platform's
            text = "; ".join([*messages, *(errors or {}).values()])
            body: dict = {"errorMessage": text, "i18nErrorMessage": {"i18nKey": "sd.sim.error", "parameters": []}}
        else:
            body = {"errorMessages": list(messages), "errors": errors or {}}
        return self._json(body, status, headers)

    def _build_app(self) -> Flask:
        app = Flask(__name__)
        app.before_request(self._gate)
        app.after_request(self._record_status)
        app.register_error_handler(P.JiraError, lambda e: self._error(e.status, e.messages, e.errors))
        for code in (404, 405):
            app.register_error_handler(code, lambda e: self._error(e.code, [e.description]))
        _add_routes(self, app)
        return app

    def _record_status(self, response: Response) -> Response:
        if "call" in g:
            g.call.status = response.status_code
        return response

    # --- state changes shared by REST and the test-side helpers -------------------------

    def _issue(self, key: str) -> dict:
        issue = self.issues.get(key) or next((i for i in self.issues.values() if i["id"] == key), None)
        if issue is None:
            raise P.JiraError(404, ["Issue does not exist or you do not have permission to see it."])
        return issue

    def find_user(self, ref: str | None) -> str | None:
        """accountId of the user with this accountId, name, key or email."""
        return next((a for a, u in self.users.items()
                     if ref in (a, u["name"], u["key"], u["emailAddress"])), None) if ref else None

    def resolve_user(self, fid: str, value: Any) -> str | None:
        if value is None:
            return None
        ref = value if isinstance(value, str) else next(
            (value[k] for k in ("accountId", "name", "key", "id") if isinstance(value, dict) and value.get(k)), None)
        account = self.find_user(ref)
        if account is None:
            raise P.JiraError(400, errors={fid: f"User '{ref}' does not exist."})
        return account

    def _apply(self, issue: dict, new: dict, author: str) -> dict | None:
        fields, now = issue["fields"], self.clock()
        items = [P.change_item(self, f, fields.get(f), v) for f, v in new.items() if fields.get(f) != v]
        if not items:
            return None
        fields.update(new)
        if "status" in new:
            P.status_side_effects(fields, now)
        fields["updated"] = P.jira_time(now)
        history = {"id": str(self._next("changelog")), "author": author,
                   "created": P.jira_time(now), "items": items}
        issue["histories"].append(history)
        return history

    def _add_comment(self, issue: dict, text: str, public: bool, author: str) -> dict:
        now = self.clock()
        comment = {"id": str(self._next("comment")), "author": author, "body": text,
                   "public": public, "created": now, "updated": now}
        issue["comments"].append(comment)
        issue["fields"]["updated"] = P.jira_time(now)
        if public and self.users[author]["accountType"] != "customer":
            P.stop_sla(issue["fields"], P.TTFR, now)  # JSM counts a public agent reply as first response
        # Cloud sends both events for one comment (REFERENCE 1.2); receivers must dedupe
        self._emit("comment_created", issue["key"], comment_id=comment["id"])
        self._emit("jira:issue_updated", issue["key"], comment_id=comment["id"])
        return comment

    def _customer(self, email: str, name: str | None) -> str:
        account = self.find_user(email)
        if account is None:
            account = f"qm:{uuid.uuid4()}:{uuid.uuid4()}"  # portal-only customers look like this
            self.users[account] = P.new_user(account, name or email.split("@")[0], "customer", email,
                                             "Etc/UTC", 10200 + len(self.users))
        return account

    def _org(self, name: str, member: str) -> dict:
        org = next((o for o in self.orgs.values() if o["name"] == name), None)
        if org is None:
            org_id = str(self._next("org"))
            org = self.orgs[org_id] = {"id": org_id, "name": name, "members": set()}
        org["members"].add(member)
        return org

    # --- test-side actors ---------------------------------------------------------------

    def create_request(self, summary: str, description: str, reporter_email: str,
                       reporter_name: str | None = None, request_type: str = "Get IT help",
                       organization: str | None = None) -> str:
        """A customer raises a request on the portal; returns its key (ITSD-43, ...)."""
        with self.lock:
            reporter = self._customer(reporter_email, reporter_name)
            rid = self.request_types.setdefault(request_type, str(max(map(int, self.request_types.values())) + 1))
            issue_id, key, now = str(self._next("issue")), f"ITSD-{self._next('num')}", self.clock()
            origin = copy.deepcopy(self.template[P.REQUEST_TYPE])
            origin["requestType"] = P.request_type_obj(self.template, rid, self.request_types)
            orgs = [P.org_view(self._org(organization, reporter))] if organization else []
            fields = P.new_request_fields(self.template, issue_id, key, now, summary=summary,
                                          description=description, reporter=reporter, creator=reporter,
                                          **{P.REQUEST_TYPE: origin, P.ORGS: orgs})
            items = [P.change_item(self, f, None, fields[f])
                     for f in ("description", "priority", "reporter", "status", "summary")]
            history = {"id": str(self._next("changelog")), "author": reporter,
                       "created": P.jira_time(now), "items": items}
            self.issues[key] = {"id": issue_id, "key": key, "fields": fields, "comments": [],
                                "histories": [history], "properties": {}}
            self._emit("jira:issue_created", key)
        return key

    def agent_update(self, key: str, actor: str = P.AGENT_ID, **changes: Any) -> dict | None:
        """A human agent edits the request: status="In Progress", priority="High",
        labels=[...], assignee=<accountId/email>, summary=..., customfield_N=<REST value>.
        Returns the changelog entry (None when nothing changed)."""
        with self.lock:
            issue = self._issue(key)
            status = changes.pop("status", None)
            body = {"fields": {f: self._friendly(f, v) for f, v in changes.items()}}
            new = P.parse_edit(self, issue, body, 2)
            if status is not None:
                if status not in P.STATUSES:
                    raise ValueError(f"unknown status {status!r}; known: {sorted(P.STATUSES)}")
                new["status"] = P.status_obj(status)
            history = self._apply(issue, new, self.find_user(actor) or actor)
            if history:
                self._emit("jira:issue_updated", key, changelog=history)
        return history

    def _friendly(self, fid: str, value: Any) -> Any:
        if fid == "priority" and isinstance(value, str):
            return {"name": value}
        if fid in P.USER_FIELDS and isinstance(value, str):
            return {"accountId": self.find_user(value) or value}
        return value

    def add_comment(self, key: str, body: str, public: bool = True, author: str | None = None) -> str:
        """A comment by `author` (accountId/email; default the reporter). Returns its id."""
        with self.lock:
            issue = self._issue(key)
            account = self.find_user(author) if author else issue["fields"]["reporter"]
            if account is None:
                raise ValueError(f"unknown user {author!r}")
            return self._add_comment(issue, body, public, account)["id"]

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
                body = P.comment_event(self, event, issue, comment, now)
            else:
                history = self._history_for(issue, event, changelog, comment)
                actor = comment["author"] if comment else (history or {}).get("author") or issue["fields"]["reporter"]
                name = event_type_name or P.event_type_name(event, history, comment)
                body = P.issue_event(self, event, issue, now, actor, name, history, comment)
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
            headers["X-Hub-Signature"] = P.sign(body, secret)
        headers.update(extra_headers or {})
        return requests.post(url, data=body, headers=headers, timeout=(5, 20))

    def send_automation(self, url: str, header_name: str, header_value: str, key: str,
                        fmt: str = "automation") -> requests.Response:
        """An Automation "Send web request": unsigned, a secret in a header of the rule's choosing."""
        with self.lock:
            doc = P.automation_body(self, self._issue(key), fmt)
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
                        not jql or any(i is issue for i in P.search(self, jql, self.clock()))):
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


# --- REST routes ---------------------------------------------------------------------

def _add_routes(sim: JiraSimulator, app: Flask) -> None:
    api, sd, hooks = "/rest/api/<int:ver>", "/rest/servicedeskapi", "/rest/webhooks/1.0/webhook"
    table = [
        (f"{api}/myself", ["GET"], _myself), (f"{api}/user", ["GET"], _user),
        (f"{api}/field", ["GET", "POST"], _fields), (f"{api}/issue/<key>", ["GET", "PUT"], _issue),
        (f"{api}/issue/<key>/comment", ["GET", "POST"], _platform_comments),
        (f"{api}/issue/<key>/properties/<prop>", ["GET", "PUT", "DELETE"], _property),
        (f"{api}/search", ["GET", "POST"], _search), (f"{api}/search/jql", ["GET", "POST"], _search_jql),
        (f"{sd}/request/<key>", ["GET"], _sd_request), (f"{sd}/request/<key>/comment", ["GET", "POST"], _sd_comments),
        (f"{sd}/organization", ["GET"], _sd_orgs), (f"{sd}/organization/<org_id>", ["GET"], _sd_org),
        (f"{sd}/servicedesk/<sd_id>/customer", ["GET"], _sd_customers),
        (hooks, ["GET", "POST"], _hooks), (f"{hooks}/<int:hook_id>", ["GET", "DELETE"], _hook),
    ]
    for rule, methods, handler in table:
        app.add_url_rule(rule, rule, _locked(sim, handler), methods=methods)


def _locked(sim: JiraSimulator, handler: Any) -> Any:
    def view(**kwargs: Any) -> Any:
        if "ver" in kwargs and kwargs["ver"] not in ((2,) if sim.flavor == "dc" else (2, 3)):
            raise P.JiraError(404, [f"null for uri: {request.url}"])
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
            raise P.JiraError(400, [f"The value '{value}' is invalid for {name}."]) from None
    return ",".join(value) if isinstance(value, list) else value


def _body() -> Any:
    return request.get_json(silent=True)


def _myself(sim: JiraSimulator, ver: int) -> Response:
    return sim._json({**P.uview(sim, sim.bot_id), "locale": "en_US"})


def _user(sim: JiraSimulator, ver: int) -> Response:
    account = sim.find_user(_arg("accountId") or _arg("username") or _arg("key"))
    if account is None:
        raise P.JiraError(404, ["Specified user does not exist or you do not have required permissions"])
    return sim._json(P.uview(sim, account))


def _fields(sim: JiraSimulator, ver: int) -> Response:
    if request.method == "GET":
        return sim._json(list(sim.fields.values()))
    entry = P.new_custom_field(_body(), sim._counters["field"])
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
        return sim._json(P.issue_view(sim, issue, ver, fields, _arg("expand", "")))
    body = _body()
    new = P.parse_edit(sim, issue, body, ver)
    notify = _arg("notifyUsers", "true").lower() != "false"
    sim.edits.append(Edit(issue["key"], body.get("fields") or {}, body.get("update") or {}, notify))
    history = sim._apply(issue, new, sim.bot_id)
    if history:
        sim._emit("jira:issue_updated", issue["key"], changelog=history)
    if _arg("returnIssue") == "true":
        return sim._json(P.issue_view(sim, issue, ver))
    return Response(status=204)


def _platform_comments(sim: JiraSimulator, ver: int, key: str) -> Response:
    issue = sim._issue(key)
    if request.method == "GET":
        return sim._json(P.comments_page(sim, issue, ver))
    body = _body() if isinstance(_body(), dict) else {}
    if not body.get("body"):
        raise P.JiraError(400, errors={"comment": "Comment body can not be empty!"})
    text = P.text_value("comment", body["body"], ver)
    # Without this property JSM makes an agent's platform-API comment public
    internal = any(p.get("key") == "sd.public.comment" and (p.get("value") or {}).get("internal")
                   for p in body.get("properties") or [] if isinstance(p, dict))
    comment = sim._add_comment(issue, text, not internal, sim.bot_id)
    return sim._json(P.comment_view(sim, issue, comment, ver), 201)


def _property(sim: JiraSimulator, ver: int, key: str, prop: str) -> Response:
    # Properties change no field and fire no issue_updated: the quiet way to mark work done
    props = sim._issue(key)["properties"]
    if request.method == "PUT":
        if _body() is None:
            raise P.JiraError(400, [P.BAD_PAYLOAD])
        status = 200 if prop in props else 201
        props[prop] = _body()
        return Response(status=status)
    if prop not in props:
        raise P.JiraError(404, [f"The property with key '{prop}' does not exist."])
    if request.method == "DELETE":
        del props[prop]
        return Response(status=204)
    return sim._json({"key": prop, "value": props[prop]})


def _search_args() -> dict:
    return (_body() or {}) if request.method == "POST" else {
        **request.args.to_dict(), "fields": ",".join(request.args.getlist("fields")) or None}


def _search(sim: JiraSimulator, ver: int) -> Response:
    args = _search_args()
    hits = P.search(sim, args.get("jql") or "", sim.clock())
    start, limit = _arg("startAt", 0, args), min(_arg("maxResults", 50, args), 100)
    issues = [P.issue_view(sim, i, ver, _arg("fields", None, args), args.get("expand") or "", "*navigable")
              for i in hits[start:start + limit]]
    return sim._json({"expand": "schema,names", "startAt": start, "maxResults": limit,
                      "total": len(hits), "issues": issues})


def _search_jql(sim: JiraSimulator, ver: int) -> Response:
    if sim.flavor != "cloud" or ver != 3:
        raise P.JiraError(404, [f"null for uri: {request.url}"])
    args = _search_args()
    hits = P.search(sim, args.get("jql") or "", sim.clock())
    start, limit = _arg("nextPageToken", 0, args), min(_arg("maxResults", 50, args), 100)
    # The token-paged search returns only ids unless fields are asked for
    issues = [P.issue_view(sim, i, 3, _arg("fields", None, args), args.get("expand") or "", "id")
              for i in hits[start:start + limit]]
    body: dict = {"issues": issues, "isLast": start + limit >= len(hits)}
    if not body["isLast"]:
        body["nextPageToken"] = str(start + limit)
    return sim._json(body)


def _sd_request(sim: JiraSimulator, key: str) -> Response:
    return sim._json(P.sd_request_view(sim, sim._issue(key)))


def _sd_comments(sim: JiraSimulator, key: str) -> Response:
    issue = sim._issue(key)
    if request.method == "GET":
        show = {True: _arg("public", "true") != "false", False: _arg("internal", "true") != "false"}
        values = [P.sd_comment_view(sim, issue, c) for c in issue["comments"] if show[c["public"]]]
        return sim._json(P.paged(values, _arg("start", 0), _arg("limit", 50)))
    body = _body() if isinstance(_body(), dict) else {}
    if not isinstance(body.get("body"), str) or not body["body"].strip():
        raise P.JiraError(400, ["The comment body must not be empty."])
    if not isinstance(body.get("public"), bool):
        # Simulator rule: the service must always say whether a comment reaches the customer
        raise P.JiraError(400, ["'public' is required and must be true or false."])
    comment = sim._add_comment(issue, body["body"], body["public"], sim.bot_id)
    return sim._json(P.sd_comment_view(sim, issue, comment), 201)


def _sd_orgs(sim: JiraSimulator) -> Response:
    account = _arg("accountId")
    orgs = [P.org_view(o) for o in sim.orgs.values() if account is None or account in o["members"]]
    return sim._json(P.paged(orgs, _arg("start", 0), _arg("limit", 50)))


def _sd_org(sim: JiraSimulator, org_id: str) -> Response:
    if org_id not in sim.orgs:
        raise P.JiraError(404, [f"Organization with id {org_id} does not exist."])
    return sim._json(P.org_view(sim.orgs[org_id]))


def _sd_customers(sim: JiraSimulator, sd_id: str) -> Response:
    query = (_arg("query") or "").lower()
    found = [P.sd_user(u, sim.flavor) for u in sim.users.values() if u["accountType"] == "customer"
             and any(query in u[k].lower() for k in ("emailAddress", "displayName", "name"))]
    return sim._json(P.paged(found, _arg("start", 0), _arg("limit", 50)))


def _hooks(sim: JiraSimulator) -> Response:
    bot = sim.users[sim.bot_id]
    if request.method == "GET":
        return sim._json([P.webhook_view(h, bot) for h in sim.webhooks.values()])
    hook = P.new_webhook(_body(), sim._counters["webhook"], sim.clock())
    sim.webhooks[sim._next("webhook")] = hook
    return sim._json(P.webhook_view(hook, bot), 201)


def _hook(sim: JiraSimulator, hook_id: int) -> Response:
    if hook_id not in sim.webhooks:
        raise P.JiraError(404, [f"Webhook {hook_id} does not exist."])
    if request.method == "DELETE":
        del sim.webhooks[hook_id]
        return Response(status=204)
    return sim._json(P.webhook_view(sim.webhooks[hook_id], sim.users[sim.bot_id]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m plugin.simulators.jira",
                                     description="Local Jira Service Management (REST + webhook sender).")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--flavor", choices=("cloud", "dc"), default="cloud")
    parser.add_argument("--email", default="enricher-bot@example-co.com")
    parser.add_argument("--token", default="sim-token")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--fixtures-dir")
    parser.add_argument("--auto-deliver", action="store_true", help="push events to registered webhooks")
    args = parser.parse_args(argv)
    sim = JiraSimulator(args.email, args.token, args.flavor, args.latency, args.fixtures_dir, args.auto_deliver)
    url = sim.start(args.port, args.host, log=True)
    print(f"Jira simulator ({args.flavor}) at {url}, user {args.email}", flush=True)
    try:
        sim._thread.join()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
