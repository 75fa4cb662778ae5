"""A local Jira Service Management for end-to-end tests and the demo: Cloud (REST v3 +
servicedeskapi, Basic email:token) or Data Center (REST v2, Bearer PAT), and the
admin-webhook sender with X-Hub-Signature.

    with JiraSimulator() as sim:
        key = sim.create_request("VPN down", "error 809", "dana@example.org")
        sim.send_webhook(url, "secret", "jira:issue_created", key)

Standalone: python -m plugin.simulators.jira --port 8082

The class is assembled from jira_http (call log, faults, responses) and jira_webhooks
(deliveries out); the REST routes are in jira_rest, the data in jira_payload & co.
"""
from __future__ import annotations

import argparse
import copy
import threading
import time
import uuid
from base64 import b64encode
from typing import Any, Self

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from .calls import Call
from .jira_base import (
    AGENT_ID,
    BOT_ID,
    EMAILS,
    ORGS,
    REQUEST_TYPE,
    REQUEST_TYPES,
    STATUSES,
    TTFR,
    USER_FIELDS,
    JiraError,
    collect_users,
    fixtures_path,
    jira_time,
    load_fixtures,
    new_user,
)
from .jira_fields import catalogue, change_item, parse_edit, request_type_obj, status_obj
from .jira_http import HttpFront
from .jira_kb import KnowledgeBase
from .jira_payload import new_request_fields, seed_issue, status_side_effects, stop_sla
from .jira_rest import Edit, add_routes
from .jira_views import org_view
from .jira_webhooks import WebhookSender


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass  # sim.calls is the record; per-request stderr lines only bury test output


class JiraSimulator(HttpFront, WebhookSender, KnowledgeBase):
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
        self._seed(load_fixtures(fixtures_path(fixtures_dir)))
        self.app = self._build_app()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.base_url: str | None = None

    def _seed(self, fixtures: dict) -> None:
        self.fields = catalogue()
        self.users: dict[str, dict] = {}
        for n, u in enumerate(collect_users(fixtures)):
            email = EMAILS.get(u["displayName"]) or u["displayName"].lower().replace(" ", ".") + "@example-co.com"
            self.users[u["accountId"]] = new_user(u["accountId"], u["displayName"], u["accountType"],
                                                  email, u["timeZone"], 10100 + n)
        self.bot_id = BOT_ID
        self.users[BOT_ID] = new_user(BOT_ID, "Enricher Bot", "app", self.email, "Etc/UTC", 10099)
        issue = seed_issue(fixtures)
        self.template = copy.deepcopy(issue["fields"])
        self.issues = {issue["key"]: issue}
        self.request_types = dict(REQUEST_TYPES)
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

    def _build_app(self) -> Flask:
        app = Flask(__name__)
        app.before_request(self._gate)
        app.after_request(self._record_status)
        app.register_error_handler(JiraError, lambda e: self._error(e.status, e.messages, e.errors))
        for code in (404, 405):
            app.register_error_handler(code, lambda e: self._error(e.code, [e.description]))
        add_routes(self, app)
        return app

    # --- state changes shared by REST and the test-side helpers -------------------------

    def _issue(self, key: str) -> dict:
        issue = self.issues.get(key) or next((i for i in self.issues.values() if i["id"] == key), None)
        if issue is None:
            raise JiraError(404, ["Issue does not exist or you do not have permission to see it."])
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
            raise JiraError(400, errors={fid: f"User '{ref}' does not exist."})
        return account

    def _apply(self, issue: dict, new: dict, author: str) -> dict | None:
        fields, now = issue["fields"], self.clock()
        items = [change_item(self, f, fields.get(f), v) for f, v in new.items() if fields.get(f) != v]
        if not items:
            return None
        resolution = fields.get("resolution")
        fields.update(new)
        if "status" in new:
            status_side_effects(fields, now)
            if fields.get("resolution") != resolution:   # the transition (un)resolved it
                items.append(change_item(self, "resolution", resolution, fields["resolution"]))
        fields["updated"] = jira_time(now)
        history = {"id": str(self._next("changelog")), "author": author,
                   "created": jira_time(now), "items": items}
        issue["histories"].append(history)
        return history

    def _add_comment(self, issue: dict, text: str, public: bool, author: str) -> dict:
        now = self.clock()
        comment = {"id": str(self._next("comment")), "author": author, "body": text,
                   "public": public, "created": now, "updated": now}
        issue["comments"].append(comment)
        issue["fields"]["updated"] = jira_time(now)
        if public and self.users[author]["accountType"] != "customer":
            stop_sla(issue["fields"], TTFR, now)  # JSM counts a public agent reply as first response
        # Cloud sends both events for one comment (REFERENCE 1.2); receivers must dedupe
        self._emit("comment_created", issue["key"], comment_id=comment["id"])
        self._emit("jira:issue_updated", issue["key"], comment_id=comment["id"])
        return comment

    def _customer(self, email: str, name: str | None) -> str:
        account = self.find_user(email)
        if account is None:
            account = f"qm:{uuid.uuid4()}:{uuid.uuid4()}"  # portal-only customers look like this
            self.users[account] = new_user(account, name or email.split("@")[0], "customer", email,
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
            origin = copy.deepcopy(self.template[REQUEST_TYPE])
            origin["requestType"] = request_type_obj(self.template, rid, self.request_types)
            orgs = [org_view(self._org(organization, reporter))] if organization else []
            fields = new_request_fields(self.template, issue_id, key, now, summary=summary,
                                        description=description, reporter=reporter, creator=reporter,
                                        **{REQUEST_TYPE: origin, ORGS: orgs})
            items = [change_item(self, f, None, fields[f])
                     for f in ("description", "priority", "reporter", "status", "summary")]
            history = {"id": str(self._next("changelog")), "author": reporter,
                       "created": jira_time(now), "items": items}
            self.issues[key] = {"id": issue_id, "key": key, "fields": fields, "comments": [],
                                "histories": [history], "properties": {}}
            self._emit("jira:issue_created", key)
        return key

    def agent_update(self, key: str, actor: str = AGENT_ID, **changes: Any) -> dict | None:
        """A human agent edits the request: status="In Progress", priority="High",
        labels=[...], assignee=<accountId/email>, summary=..., customfield_N=<REST value>.
        Returns the changelog entry (None when nothing changed)."""
        with self.lock:
            issue = self._issue(key)
            status = changes.pop("status", None)
            body = {"fields": {f: self._friendly(f, v) for f, v in changes.items()}}
            new = parse_edit(self, issue, body, 2)
            if status is not None:
                if status not in STATUSES:
                    raise ValueError(f"unknown status {status!r}; known: {sorted(STATUSES)}")
                new["status"] = status_obj(status)
            history = self._apply(issue, new, self.find_user(actor) or actor)
            if history:
                self._emit("jira:issue_updated", key, changelog=history)
        return history

    def _friendly(self, fid: str, value: Any) -> Any:
        if fid == "priority" and isinstance(value, str):
            return {"name": value}
        if fid in USER_FIELDS and isinstance(value, str):
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
