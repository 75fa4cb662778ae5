"""A local Zammad: the REST API the service calls and the webhook sender it listens to.

Used by the end-to-end tests, the benchmarks and `desk-enricher demo`. It answers
with the shapes, status codes and headers of REFERENCE.md §3; it does not model
permissions, Core Workflows or Elasticsearch beyond the queries the service sends.

    with ZammadSimulator() as sim:          # base URL in sim.base_url
        sim.send_webhook(url, secret, 1042, 3311)
        assert sim.writes()[0].body["article"]["internal"] is True

The class is assembled from zammad_payload (state and its REST forms, with
zammad_writes and zammad_history), zammad_rest (routes) and zammad_search.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Self

import requests
from flask import Response, g, request
from werkzeug.serving import WSGIRequestHandler, make_server

from .calls import Call
from .zammad_base import API
from .zammad_kb import KnowledgeBase
from .zammad_payload import AGENT_ID, SimState, compact
from .zammad_rest import RestRoutes, error_response
from .zammad_search import TicketSearch

ADMIN_PATHS = ("/webhooks", "/triggers", "/object_manager_attributes")
READ_POSTS = ("/knowledge_bases/search",)    # POSTs that change nothing


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


class ZammadSimulator(RestRoutes, TicketSearch, KnowledgeBase, SimState):
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
                    and not c.path.endswith(READ_POSTS)
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
            return error_response(503, "Service Unavailable", "Zammad is down (simulated)")
        fault = self._take(self._faults)
        if fault:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return error_response(fault.status, f"Simulated failure {fault.status}", headers=headers)
        return None if self._authorized() else error_response(
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

    def reply(self, ticket_id: int, body: str, actor_id: int = AGENT_ID, internal: bool = False,
              kind: str = "email") -> dict:
        """An article as someone writes it in the UI (default: agent Emma's public e-mail)."""
        with self.lock:
            return self.add_article(ticket_id, {"type": kind, "internal": internal, "body": body},
                                    actor_id)

    def create_ticket(self, *args: Any, **kwargs: Any) -> int:
        with self.lock:
            return super().create_ticket(*args, **kwargs)

    def apply_fixture(self, name: str) -> int:
        with self.lock:
            return super().apply_fixture(name)


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
