"""The Zammad simulator's `histories` table: what `GET /ticket_history/{id}` answers.

Rendered as Zammad's `History.list` does (app/models/history.rb): the row's columns
plus the names `object`, `type` and `attribute`; `id_from/id_to` and
`value_from/value_to` only when set; `related_o_id/related_object` for a ticket's
articles; oldest first (created_at, id). The answer is `Ticket#history_get(true)`:
`{"history": [...], "assets": {...}}`. Associations log the names an agent reads
("open", "3 high") with the ids beside them. Newer Zammad versions may add columns
(the simulator leaves them out; the client must not depend on their absence).
"""
from __future__ import annotations

import copy
import json
from typing import Any

# Columns Zammad keeps itself and does not log as the user's change.
UNLOGGED = {"updated_at", "updated_by_id", "last_owner_update_at", "preferences", "close_at",
            "last_close_at", "article_count", "article_ids", "first_response_at",
            "last_contact_at", "last_contact_agent_at", "last_contact_customer_at"}
ASSOCIATIONS = ("state", "priority", "group", "owner", "customer", "organization")


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (bool, dict, list)) else str(value)


class TicketHistory:
    """SimState's history side (a mixin; `histories`, `now` and the tables are SimState's)."""

    def record(self, tid: int, kind: str, actor_id: int, at: str, *, obj: str = "Ticket",
               o_id: int | None = None, attribute: str | None = None, old: Any = None, new: Any = None,
               ids: tuple[Any, Any] = (None, None)) -> dict:
        self._history_seq += 1
        entry: dict[str, Any] = {"id": self._history_seq, "o_id": o_id or tid}
        if obj != "Ticket":
            entry["related_o_id"] = tid
        if ids != (None, None):
            entry.update(id_to=ids[1], id_from=ids[0])
        if (old, new) != (None, None):
            entry.update(value_from=old, value_to=new)
        entry.update(created_by_id=actor_id, created_at=at, object=obj, type=kind)
        if attribute:
            entry["attribute"] = attribute
        if obj != "Ticket":
            entry["related_object"] = "Ticket"
        self.histories.setdefault(tid, []).append(entry)
        return entry

    def record_changes(self, t: dict, changes: dict, actor_id: int, at: str) -> None:
        """One `updated` entry per attribute a PUT really changes."""
        for key, value in changes.items():
            old = t.get(key)
            if key in UNLOGGED or old == value:
                continue
            attr = key.removesuffix("_id")
            if attr in ASSOCIATIONS:
                self.record(t["id"], "updated", actor_id, at, attribute=attr, old=self.display(attr, old),
                            new=self.display(attr, value), ids=(old, value))
            else:
                self.record(t["id"], "updated", actor_id, at, attribute=key, old=_text(old), new=_text(value))

    def display(self, attr: str, rid: Any) -> str | None:
        table = {"state": self.states, "priority": self.priorities, "group": self.groups,
                 "owner": self.users, "customer": self.users, "organization": self.organizations}[attr]
        rec = table.get(rid) or {}
        if attr in ("owner", "customer"):
            return f"{rec.get('firstname', '')} {rec.get('lastname', '')}".strip() or rec.get("login")
        return rec.get("name")

    def seed_history(self, ticket: dict, article: dict, previous: dict | None) -> None:
        """What a fixture ticket's history would hold: its creation, a state change over the
        ticket it replaces, its article."""
        tid = ticket["id"]
        if previous is None:
            self.record(tid, "created", ticket["created_by_id"], ticket["created_at"])
        elif previous["state_id"] != ticket["state_id"]:
            self.record(tid, "updated", ticket["updated_by_id"], ticket["updated_at"], attribute="state",
                        old=self.display("state", previous["state_id"]),
                        new=self.display("state", ticket["state_id"]),
                        ids=(previous["state_id"], ticket["state_id"]))
        seen = {e["o_id"] for e in self.histories.get(tid, []) if e["object"] == "Ticket::Article"}
        if article and article["id"] not in seen:
            self.record(tid, "created", article["created_by_id"], article["created_at"],
                        obj="Ticket::Article", o_id=article["id"])

    def ticket_history(self, tid: Any) -> dict:
        """`GET /ticket_history/{id}`: the entries plus the assets they name."""
        t = self.ticket(tid)
        entries = sorted(self.histories.get(t["id"], []), key=lambda e: (e["created_at"], e["id"]))
        users = {e["created_by_id"] for e in entries}
        return {"history": copy.deepcopy(entries),
                "assets": {"Ticket": {str(t["id"]): self.rest_ticket(t["id"])},
                           "User": {str(u): self.rest_user(u) for u in sorted(users) if u in self.users}}}
