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
from datetime import datetime, timezone
from typing import Any

import requests
from flask import Flask, Response, g, request
from werkzeug.serving import make_server

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

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        self._server = make_server(host, port, self.app, threaded=True)
        self.base_url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="jira-sim", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> JiraSimulator:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
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
            reset = datetime.fromtimestamp(self.clock() / 1000 + float(fault["retry_after"] or 1), timezone.utc)
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
