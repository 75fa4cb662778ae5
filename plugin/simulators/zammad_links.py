"""Ticket links of the Zammad simulator (links_controller.rb): `POST /links/add`
names the source ticket by NUMBER and the target by id; `GET /links` and the `links`
of `GET /tickets/{id}?all=true` list the other side as {link_type, link_object,
link_object_value}. "normal" links are symmetric; parent/child are stored as given."""
from __future__ import annotations

from typing import Any

from .zammad_base import SimError

LINK_TYPES = ("normal", "parent", "child")


class TicketLinks:
    """SimState's links (a mixin): ticket id -> [(link_type, other ticket id)]."""

    def _link_table(self) -> dict[int, list[tuple[str, int]]]:
        return self.__dict__.setdefault("ticket_links", {})

    def links_of(self, tid: Any) -> list[dict]:
        return [{"link_type": kind, "link_object": "Ticket", "link_object_value": other}
                for kind, other in self._link_table().get(int(tid), [])]

    def link_add(self, data: dict) -> dict:
        kind = data.get("link_type") or "normal"
        if kind not in LINK_TYPES:
            raise SimError(422, f"No such link type {kind!r}")
        if data.get("link_object_source") != "Ticket" or data.get("link_object_target") != "Ticket":
            raise SimError(422, "No such object!")
        number = str(data.get("link_object_source_number") or "")
        source = next((t for t in self.tickets.values() if str(t.get("number")) == number), None)
        if source is None:
            raise SimError(422, "No such object!")
        target = self.ticket(data.get("link_object_target_value"))
        pair = {"normal": ("normal", "normal"), "parent": ("child", "parent"),
                "child": ("parent", "child")}[kind]
        table = self._link_table()
        sides = ((target["id"], source["id"], pair[0]), (source["id"], target["id"], pair[1]))
        for here, there, k in sides:
            if (k, there) not in table.setdefault(here, []):
                table[here].append((k, there))
        return {"link_type_id": LINK_TYPES.index(kind) + 1, "link_object_source_id": 1,
                "link_object_source_value": source["id"], "link_object_target_id": 1,
                "link_object_target_value": target["id"]}
