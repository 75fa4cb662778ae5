"""The Jira simulator's front door: the call log, fault injection (failures, hangs,
outages, latency), the auth check and Jira-shaped JSON and error responses."""
from __future__ import annotations

import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

from flask import Response, g, request

from .calls import Call

WRITE_PATHS = ("/issue/", "/issueLink", "/servicedeskapi/request/")
UNAUTHORIZED = "Client must be authenticated to access this resource."


class HttpFront:
    """JiraSimulator's request gate and responses (a mixin; the state is JiraSimulator's)."""

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

    def _record_status(self, response: Response) -> Response:
        if "call" in g:
            g.call.status = response.status_code
        return response
