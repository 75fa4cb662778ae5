"""The Zammad simulator's REST routes (REFERENCE §3): tickets, articles, tags, users,
lookups, ticket history and the admin objects (webhooks, triggers, object attributes).
Each view runs under the simulator's lock and answers in Zammad's JSON shapes."""
from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from .zammad_base import API, BOT_ID, SimError, compact, now_iso

MASK = "**********"


def error_response(status: int, error: str, human: str | None = None, headers: dict | None = None) -> Response:
    return json_response({"error": error, "error_human": human or error}, status, headers)


def json_response(obj: Any, status: int = 200, headers: dict | None = None) -> Response:
    # Not jsonify: Flask sorts keys, Zammad keeps nested hashes in insertion order.
    return Response(compact(obj), status, headers, mimetype="application/json")


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("true", "1")


def _body() -> dict:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


class RestRoutes:
    """ZammadSimulator's REST side (a mixin; the state is SimState's)."""

    def _build_app(self) -> Flask:
        app = Flask(__name__)
        for rule, methods, view in self._routes():
            app.add_url_rule(API + rule, f"{methods[0]} {rule}", self._wrap(view), methods=methods)
        app.before_request(self._before)
        app.after_request(self._after)
        app.register_error_handler(SimError, lambda e: error_response(e.status, e.error, e.human))
        app.register_error_handler(HTTPException, lambda e: error_response(e.code, e.name, e.description))
        app.register_error_handler(ValueError, lambda e: error_response(422, "Invalid parameter", str(e)))
        app.register_error_handler(Exception, lambda e: error_response(500, type(e).__name__))
        return app

    def _wrap(self, view: Any) -> Any:
        def handler(**kwargs: Any) -> Response:
            with self.lock:
                result = view(**kwargs)
            body, status = result if isinstance(result, tuple) else (result, 200)
            return json_response(body, status)
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
            ("/ticket_history" + tid, ["GET"], self.ticket_history),
            ("/ticket_articles", ["POST"], self._v_article_create),
            ("/ticket_articles/by_ticket" + tid, ["GET"], lambda tid: [
                self.rest_article(a) for a in self.articles.get(self.ticket(tid)["id"], [])]),
            ("/tags", ["GET"], lambda: {"tags": list(self.tags.get(self.ticket(
                request.args.get("o_id"))["id"], []))}),
            ("/tags/add", ["POST"], lambda: (self._v_tag(self.tag_add), 201)),
            ("/tags/remove", ["DELETE"], lambda: self._v_tag(self.tag_remove)),
            ("/links", ["GET"], lambda: {"links": self.links_of(self.ticket(
                request.args.get("link_object_value"))["id"]), "assets": {}}),
            ("/links/add", ["POST"], lambda: (self.link_add({**request.args.to_dict(), **_body()}), 201)),
            ("/knowledge_bases/search", ["POST"], lambda: self.kb_search(_body())),
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

