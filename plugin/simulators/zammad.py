"""A local Zammad: the REST API the service calls and the webhook sender it listens to.

Used by the end-to-end tests, the benchmarks and `desk-enricher demo`. It answers
with the shapes, status codes and headers of REFERENCE.md §3; it does not model
permissions, Core Workflows or Elasticsearch beyond the queries the service sends.

    with ZammadSimulator() as sim:          # base URL in sim.base_url
        sim.send_webhook(url, secret, 1042, 3311)
        assert sim.writes()[0].body["article"]["internal"] is True
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import operator
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Self

import requests
from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import WSGIRequestHandler, make_server

from .calls import Call
from .zammad_payload import AGENT_ID, BOT_ID, SimError, SimState, compact, now_iso, parse_time

API = "/api/v1"
ADMIN_PATHS = ("/webhooks", "/triggers", "/object_manager_attributes")
MASK = "**********"
_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
_TERM = re.compile(r"(?P<neg>NOT\s+|-)?(?:(?P<field>[A-Za-z_][\w.]*):)?(?P<op>>=|<=|>|<)?(?P<value>.*)")


@dataclass
class _Rule:
    """One fault instruction, used up after `remaining` matching requests."""
    remaining: int
    match: str | None
    status: int = 503
    retry_after: float | None = None
    seconds: float = 0.0

    def take(self, method: str, path: str) -> bool:
        keys = (f"{method} {path}", f"{method} {path.removeprefix(API)}")
        if self.remaining <= 0 or (self.match and not any(self.match in k for k in keys)):
            return False
        self.remaining -= 1
        return True


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any) -> None:  # benchmarks would measure the logging
        pass


def _error(status: int, error: str, human: str | None = None, headers: dict | None = None) -> Response:
    return _json({"error": error, "error_human": human or error}, status, headers)


def _json(obj: Any, status: int = 200, headers: dict | None = None) -> Response:
    # Not jsonify: Flask sorts keys, Zammad keeps nested hashes in insertion order.
    return Response(compact(obj), status, headers, mimetype="application/json")


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("true", "1")


def _body() -> dict:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


class ZammadSimulator(SimState):
    def __init__(self, token: str = "sim-token", bot_login: str = "enricher-bot@helpdesk.example.com",
                 latency: float = 0.0, fixtures_dir: Any = None, strict_attributes: bool = False):
        self.lock = threading.RLock()  # handler threads and the test thread share the state
        super().__init__(bot_login, fixtures_dir, strict_attributes)
        self.token, self.latency = token, latency
        self.calls: list[Call] = []
        self._faults: list[_Rule] = []  # consumed in the order they were added
        self._hangs: list[_Rule] = []
        self._down = False
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.base_url: str | None = None
        self.app = self._build_app()

    # -- server -----------------------------------------------------------
    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        self._server = make_server(host, port, self.app, threaded=True, request_handler=_QuietHandler)
        # A short poll interval keeps stop() fast; new connections wake the loop anyway.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True, name="zammad-sim")
        self._thread.start()
        self.base_url = f"http://{host}:{self._server.server_port}"
        return self.base_url

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- call log and faults ----------------------------------------------
    def writes(self, include_admin: bool = False) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method in ("PUT", "POST", "DELETE")
                    and (include_admin or not any(p in c.path for p in ADMIN_PATHS))]

    def reset_calls(self) -> None:
        with self.lock:
            self.calls.clear()

    def fail_next(self, n: int, status: int = 503, retry_after: float | None = None,
                  match: str | None = None) -> None:
        with self.lock:
            self._faults.append(_Rule(n, match, status, retry_after))

    def hang_next(self, n: int, seconds: float, match: str | None = None) -> None:
        with self.lock:
            self._hangs.append(_Rule(n, match, seconds=seconds))

    def set_down(self, down: bool = True) -> None:
        self._down = down

    def _take(self, rules: list[_Rule]) -> _Rule | None:
        with self.lock:
            rule = next((r for r in rules if r.take(request.method, request.path)), None)
            rules[:] = [r for r in rules if r.remaining > 0]
            return rule

    def _before(self) -> Response | None:
        call = Call(request.method, request.path, request.args.to_dict(), request.get_json(silent=True))
        with self.lock:
            self.calls.append(call)
        g.call = call
        hang = self._take(self._hangs)
        time.sleep(self.latency + (hang.seconds if hang else 0))
        if self._down:
            return _error(503, "Service Unavailable", "Zammad is down (simulated)")
        fault = self._take(self._faults)
        if fault:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return _error(fault.status, f"Simulated failure {fault.status}", headers=headers)
        return None if self._authorized() else _error(
            401, "authentication failed", "Authentication failed!", {"X-Failure": "Authentication failed!"})

    def _authorized(self) -> bool:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        token = value.strip().removeprefix("token=").strip('"') if scheme in ("Token", "Bearer") else ""
        return hmac.compare_digest(token.encode(), self.token.encode())

    def _after(self, response: Response) -> Response:
        if "call" in g:
            g.call.status = response.status_code
        return response

    # -- webhooks out -----------------------------------------------------
    def webhook_body(self, ticket_id: int, article_id: int | None = None) -> bytes:
        with self.lock:
            return compact(self.webhook_payload(ticket_id, article_id))

    def send_webhook(self, url: str, secret: str | None, ticket_id: int, article_id: int | None = None,
                     delivery: str | None = None, trigger: str = "desk-enricher") -> requests.Response:
        body = self.webhook_body(ticket_id, article_id)
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "User-Agent": "Zammad User Agent", "X-Zammad-Trigger": trigger,
                   "X-Zammad-Delivery": delivery or str(uuid.uuid4())}
        if secret is not None:
            digest = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
            headers["X-Hub-Signature"] = f"sha1={digest}"
        return requests.post(url, data=body, headers=headers, timeout=30, allow_redirects=False)

    # -- state changes made from outside the API -----------------------------
    def agent_update(self, ticket_id: int, **changes: Any) -> dict:
        """Change a ticket as agent Emma would in the UI (updated_by_id = 5)."""
        with self.lock:
            return self.update_ticket(ticket_id, changes, AGENT_ID)

    def create_ticket(self, *args: Any, **kwargs: Any) -> int:
        with self.lock:
            return super().create_ticket(*args, **kwargs)

    def apply_fixture(self, name: str) -> int:
        with self.lock:
            return super().apply_fixture(name)

    # -- search -------------------------------------------------------------
    def search(self, query: str) -> list[int]:
        terms = [q for q in re.split(r"\s+AND\s+", query.strip()) if q not in ("", "*")]
        return [tid for tid, t in self.tickets.items()
                if all(self._term_ok(self.sync_ticket(t), term) for term in terms)]

    def _term_ok(self, t: dict, term: str) -> bool:
        m = _TERM.fullmatch(term)
        field, op, value = m["field"], m["op"], m["value"].replace("\\", "").strip('"')
        if field is None:
            ok = value.lower() in f"{t['title']} {t['number']}".lower()
        else:
            actual: Any = t
            for part in field.split("."):  # dotted paths reach nested records: customer.email
                if isinstance(actual, str) and part == "name":
                    continue   # the search index nests state/priority names: state.name:closed
                actual = actual.get(part) if isinstance(actual, dict) else None
            actual = self.tags.get(t["id"], []) if field == "tags" else actual
            ok = _field_matches(actual, op, value)
        return not ok if m["neg"] else ok

    # -- HTTP -------------------------------------------------------------
    def _build_app(self) -> Flask:
        app = Flask(__name__)
        for rule, methods, view in self._routes():
            app.add_url_rule(API + rule, f"{methods[0]} {rule}", self._wrap(view), methods=methods)
        app.before_request(self._before)
        app.after_request(self._after)
        app.register_error_handler(SimError, lambda e: _error(e.status, e.error, e.human))
        app.register_error_handler(HTTPException, lambda e: _error(e.code, e.name, e.description))
        app.register_error_handler(ValueError, lambda e: _error(422, "Invalid parameter", str(e)))
        app.register_error_handler(Exception, lambda e: _error(500, type(e).__name__))
        return app

    def _wrap(self, view: Any) -> Any:
        def handler(**kwargs: Any) -> Response:
            with self.lock:
                result = view(**kwargs)
            body, status = result if isinstance(result, tuple) else (result, 200)
            return _json(body, status)
        return handler

    def _routes(self) -> list[tuple[str, list[str], Any]]:
        tid = "/<int:tid>"
        return [
            ("/users/me", ["GET"], lambda: self.rest_user(BOT_ID, _flag("expand"))),
            ("/users/search", ["GET"], self._v_user_search),
            ("/users/<uid>", ["GET"], lambda uid: self.rest_user(uid, _flag("expand"))),
            ("/organizations/<int:oid>", ["GET"], self._v_org),
            ("/groups", ["GET"], lambda: list(self.groups.values())),
            ("/ticket_states", ["GET"], lambda: list(self.states.values())),
            ("/ticket_priorities", ["GET"], lambda: list(self.priorities.values())),
            ("/tickets/search", ["GET"], self._v_search),
            ("/tickets" + tid, ["GET"], lambda tid: self.ticket_all(tid) if _flag("all")
             else self.rest_ticket(tid, _flag("expand"))),
            ("/tickets" + tid, ["PUT"], self._v_ticket_put),
            ("/ticket_articles", ["POST"], self._v_article_create),
            ("/ticket_articles/by_ticket" + tid, ["GET"], lambda tid: [
                self.rest_article(a) for a in self.articles.get(self.ticket(tid)["id"], [])]),
            ("/tags", ["GET"], lambda: {"tags": list(self.tags.get(self.ticket(
                request.args.get("o_id"))["id"], []))}),
            ("/tags/add", ["POST"], lambda: (self._v_tag(self.tag_add), 201)),
            ("/tags/remove", ["DELETE"], lambda: self._v_tag(self.tag_remove)),
            ("/webhooks/preview", ["GET"], lambda: self.webhook_payload(max(self.tickets))),
            *_crud("/webhooks", self.webhooks, self._admin),
            *_crud("/triggers", self.triggers, self._admin),
            *_crud("/object_manager_attributes", self.attributes, self._admin),
            ("/object_manager_attributes_execute_migrations", ["POST"], self._v_migrate),
        ]

    def _v_user_search(self) -> list[dict]:
        query = request.args.get("query", "").split(":")[-1].strip("*").lower()
        return [self.rest_user(uid) for uid, u in self.users.items()
                if query in " ".join(str(u.get(k)) for k in ("login", "email", "firstname",
                                                              "lastname")).lower()]

    def _v_org(self, oid: int) -> dict:
        if oid not in self.organizations:
            raise SimError(404, f"Couldn't find Organization with 'id'={oid}")
        return self.organizations[oid]

    def _v_ticket_put(self, tid: int) -> dict:
        self.update_ticket(tid, _body(), BOT_ID)
        return self.rest_ticket(tid, _flag("expand"))

    def _v_article_create(self) -> tuple[dict, int]:
        data = _body()
        if not data.get("ticket_id"):
            raise SimError(422, "Need ticket_id")
        return self.rest_article(self.add_article(data["ticket_id"], data, BOT_ID)), 201

    def _v_tag(self, action: Any) -> bool:
        data = {**request.args.to_dict(), **_body()}
        if data.get("object", "Ticket") != "Ticket":
            raise SimError(422, f"Unsupported object {data.get('object')!r}")
        action(data.get("o_id"), data.get("item"))
        return True

    def _v_search(self) -> dict:
        args = request.args
        ids = self.search(args.get("query", "*"))
        key = args.get("sort_by") or "updated_at"
        desc = args.get("order_by", "asc" if args.get("sort_by") else "desc") == "desc"
        values = {i: self.tickets[i].get(key) for i in ids}  # ISO timestamps sort as text
        ids.sort(key=lambda i: (values[i] is None, values[i] if values[i] is not None else 0, i),
                 reverse=desc)
        per_page = min(int(args.get("per_page") or args.get("limit") or 50), 1000)
        start = (max(int(args.get("page") or 1), 1) - 1) * per_page
        page = ids[start:start + per_page]
        # Like Zammad: no total, only this page's count; clients loop until empty.
        return {"tickets": page, "tickets_count": len(page),
                "assets": {"Ticket": {str(i): self.rest_ticket(i) for i in page}}}

    def _admin(self, kind: str, store: dict, rid: int | None, data: dict | None) -> Any:
        """Webhooks, triggers, object attributes: plain stored records with light checks."""
        if rid is not None and rid not in store:
            raise SimError(404, f"Couldn't find {kind} with 'id'={rid}")
        if request.method == "DELETE":
            del store[rid]
            return {}
        if data is None:
            return _masked(store[rid]) if rid else [_masked(r) for r in store.values()]
        if kind == "webhooks" and data.get("signature_token") == MASK:
            data.pop("signature_token")  # the UI echoes the mask back; keep the real one
        rec = {**_DEFAULTS[kind], **(store.get(rid) or {}), **data, "updated_at": now_iso()}
        _validate(kind, rec, store, rid, self.webhooks)
        rec.setdefault("created_at", rec["updated_at"])
        rec["id"] = rid or max(store, default=0) + 1
        store[rec["id"]] = rec
        return _masked(rec), 200 if rid else 201

    def _v_migrate(self) -> dict:
        for attr in self.attributes.values():
            if attr["object"] == "Ticket" and attr.pop("to_create", False):
                attr["to_migrate"] = False
                for t in self.tickets.values():  # a new DB column: every ticket gets the key
                    t.setdefault(attr["name"], None)
                    self.sync_ticket(t)
        return {}


_DEFAULTS = {
    "webhooks": {"active": True, "basic_auth_password": None, "basic_auth_username": None,
                 "bearer_token": None, "custom_payload": None, "customized_payload": False,
                 "http_method": "post", "note": None, "pre_defined_webhook_type": None,
                 "signature_token": None, "ssl_verify": True},
    "triggers": {"activator": "action", "active": True, "condition": {}, "disable_notification": True,
                 "execution_condition_mode": "selective", "localization": "system", "note": None,
                 "perform": {}, "timezone": "system"},
    "object_manager_attributes": {"active": True, "data_option": {}, "editable": True,
                                  "object": "Ticket", "position": 1000, "screens": {},
                                  "to_create": True, "to_delete": False, "to_migrate": True},
}


def _crud(rule: str, store: dict, admin: Any) -> list[tuple[str, list[str], Any]]:
    kind = rule.strip("/")
    return [(rule, ["GET"], lambda: admin(kind, store, None, None)),
            (rule, ["POST"], lambda: admin(kind, store, None, _body())),
            (rule + "/<int:rid>", ["GET", "DELETE"], lambda rid: admin(kind, store, rid, None)),
            (rule + "/<int:rid>", ["PUT"], lambda rid: admin(kind, store, rid, _body()))]


def _masked(rec: dict) -> dict:
    return {**rec, "signature_token": MASK} if rec.get("signature_token") else dict(rec)


def _validate(kind: str, rec: dict, store: dict, rid: int | None, webhooks: dict) -> None:
    name = str(rec.get("name") or "")
    if not name:
        raise SimError(422, "Missing required value for field 'name'!")
    if kind == "webhooks" and not re.match(r"https?://[^/\s]+", str(rec.get("endpoint"))):
        raise SimError(422, "Invalid endpoint (no valid URL)!")
    if kind == "object_manager_attributes" and (not re.fullmatch(r"[a-z][a-z0-9_]*", name) or any(
            a["name"] == name and a["object"] == rec["object"] and i != rid for i, a in store.items())):
        raise SimError(422, f"Invalid or duplicate attribute name {name!r}")
    hook = (rec.get("perform") or {}).get("notification.webhook") if kind == "triggers" else None
    ids = (hook or {}).get("webhook_id")
    if ids is not None and not {int(i) for i in (ids if isinstance(ids, list) else [ids])} <= set(webhooks):
        raise SimError(422, "Unknown webhook_id in perform")


def _field_matches(actual: Any, op: str | None, value: str) -> bool:
    """One Elasticsearch-style term: `field:>=x`, `field:[a TO b]`, `field:*`, `field:x`."""
    if value.startswith("[") and value.endswith("]"):
        low, _, high = value[1:-1].partition(" TO ")
        return all(v.strip() == "*" or _field_matches(actual, o, v.strip())
                   for o, v in ((">=", low), ("<=", high)))
    if op:
        if actual is None:
            return False
        left, right = parse_time(actual), parse_time(value)
        if left is None or right is None:
            try:
                left, right = float(actual), float(value)
            except (TypeError, ValueError):
                left, right = str(actual), value
        return _OPS[op](left, right)
    if value == "*":
        return actual not in (None, "", [], {})
    if isinstance(actual, list):
        return value.lower() in (str(x).lower() for x in actual)
    return json.dumps(actual).strip('"').lower() == value.lower()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a local Zammad simulator.")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--token", default="sim-token")
    parser.add_argument("--bot-login", default="enricher-bot@helpdesk.example.com")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--fixtures-dir", default=None)
    args = parser.parse_args(argv)
    sim = ZammadSimulator(args.token, args.bot_login, args.latency, args.fixtures_dir)
    print(f"zammad simulator on {sim.start(args.port, args.host)}/api/v1", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sim.stop()


if __name__ == "__main__":
    main()
