"""Writes of the Zammad simulator: PUT /tickets (attribute names to ids, Zammad's
validation), articles and the KPI columns they move, new tickets and customers, tags.
Every change is also written to the ticket's history (zammad_history)."""
from __future__ import annotations

from typing import Any

from .zammad_base import (
    ARTICLE_TYPES,
    BOT_ID,
    COMMUNICATION_TYPES,
    READ_ONLY,
    SENDERS,
    SYSTEM_ID,
    SimError,
    key_of,
    make_user,
    names_from,
)


class TicketWrites:
    """SimState's write side (a mixin; the tables are SimState's)."""

    def lookup(self, kind: str, value: Any) -> int | None:
        """Name (or id) -> id, as Zammad's `association_name_to_id_convert` does."""
        table = {"state": self.states, "priority": self.priorities, "group": self.groups,
                 "owner": self.users, "customer": self.users,
                 "organization": self.organizations}[kind]
        if value is None and kind == "organization":
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value in table:
            return value
        for rid, rec in table.items():
            if str(value).lower() in {str(rec.get(k, "")).lower() for k in ("name", "login", "email")}:
                return rid
        if str(value).isdigit() and int(value) in table:
            return int(value)
        raise SimError(422, f"No lookup value found for '{kind}': {value!r}")

    def _custom_allowed(self, key: str) -> bool:
        known = any(a["name"] == key and a["object"] == "Ticket" for a in self.attributes.values())
        return known or (key.startswith("enrich_") and not self.strict_attributes)

    def _ticket_changes(self, t: dict, data: dict) -> dict:
        changes = {}
        for key, value in data.items():
            base = key.removesuffix("_id")
            if base in ("state", "priority", "group", "owner", "customer", "organization"):
                changes[f"{base}_id"] = self.lookup(base, value)
            elif key == "article" or key in READ_ONLY:
                continue
            elif key in t or self._custom_allowed(key):
                changes[key] = value
            # anything else is dropped silently, like Zammad's param_cleanup
        return changes

    def update_ticket(self, tid: Any, data: dict, actor_id: int) -> dict:
        """`PUT /tickets/{id}`: validate everything first, so a 422 changes nothing."""
        t = self.ticket(tid)
        changes = self._ticket_changes(t, data)
        article = data.get("article")
        if article is not None:
            self._check_article(article)
        now = self.now()
        if changes.get("owner_id", t["owner_id"]) != t["owner_id"]:
            changes["last_owner_update_at"] = now
        if isinstance(changes.get("preferences"), dict):
            changes["preferences"] = {**(t.get("preferences") or {}), **changes["preferences"]}
        self.record_changes(t, changes, actor_id, now)
        self._state_effects(t, changes, now)
        t.update(changes)
        self.touch(t, actor_id, now)
        if article is not None:
            self.add_article(t["id"], article, actor_id)
        return t

    def _state_effects(self, t: dict, changes: dict, now: str) -> None:
        """The close columns a state change moves (Zammad sets them on closing)."""
        new = changes.get("state_id", t["state_id"])
        if new != t["state_id"] and self.states[new]["name"] == "closed":
            changes.setdefault("close_at", t.get("close_at") or now)
            changes["last_close_at"] = now

    def touch(self, t: dict, actor_id: int | None = None, at: str | None = None) -> None:
        t["updated_at"] = at or self.now()
        if actor_id is not None:
            t["updated_by_id"] = actor_id
        self.sync_ticket(t)

    def _check_article(self, data: Any) -> None:
        if not isinstance(data, dict):
            raise SimError(422, "article must be an object")
        if not str(data.get("body") or "").strip():
            raise SimError(422, "Need at least article: body")
        if data.get("type", "note") not in ARTICLE_TYPES.values():
            raise SimError(422, f"No lookup value found for 'type': {data.get('type')!r}")
        if data.get("sender", "Agent") not in SENDERS.values():
            raise SimError(422, f"No lookup value found for 'sender': {data.get('sender')!r}")

    def add_article(self, tid: Any, data: dict, actor_id: int) -> dict:
        t = self.ticket(tid)
        self._check_article(data)
        actor = self.users[actor_id]
        kind = data.get("type") or "note"
        sender = data.get("sender") or ("Customer" if actor["role_ids"] == [3] else "Agent")
        now = self.now()
        art = {"attachments": [], "body": data["body"], "cc": data.get("cc"),
               "content_type": data.get("content_type", "text/plain"), "created_at": now,
               "created_by_id": actor_id, "detected_language": None,
               "from": data.get("from") or f"{actor['firstname']} {actor['lastname']}".strip(),
               "id": self._next_article_id(),
               "in_reply_to": data.get("in_reply_to"),
               "internal": data.get("internal", False),  # DB default: public
               "message_id": None, "message_id_md5": None, "origin_by_id": data.get("origin_by_id"),
               "preferences": data.get("preferences") or {}, "reply_to": None, "sender": sender,
               "sender_id": key_of(SENDERS, sender), "subject": data.get("subject"),
               "ticket_id": t["id"], "time_unit": data.get("time_unit"), "to": data.get("to"),
               "type": kind, "type_id": key_of(ARTICLE_TYPES, kind), "updated_at": now,
               "updated_by_id": actor_id, "accounted_time": float(data.get("time_unit") or 0)}
        self.articles.setdefault(t["id"], []).append(art)
        self.record(t["id"], "created", actor_id, now, obj="Ticket::Article", o_id=art["id"])
        self._contact_effects(t, art)
        self.touch(t, actor_id, now)
        return art

    def _next_article_id(self) -> int:
        # A high-water mark (reset when a fixture brings its own articles): a max over every
        # article on each write made seeding 10,000 tickets quadratic.
        high = getattr(self, "_article_high", None)
        if high is None:
            high = max((a["id"] for arts in self.articles.values() for a in arts), default=3000)
        self._article_high = high + 1
        return self._article_high

    def _contact_effects(self, t: dict, art: dict) -> None:
        """The KPI columns an article moves (has_ticket_contact_attributes_impact.rb)."""
        arts = self.articles[t["id"]]
        t["article_count"] = sum(a["sender"] != "System" for a in arts)
        if art["internal"] or art["type"] not in COMMUNICATION_TYPES:
            return
        t["last_contact_at"] = art["created_at"]
        if art["sender"] == "Customer":
            t["last_contact_customer_at"] = art["created_at"]
        elif art["sender"] == "Agent":
            t["last_contact_agent_at"] = art["created_at"]
            t["first_response_at"] = t.get("first_response_at") or art["created_at"]

    def customer_by_email(self, email: str, name: str | None, org_id: int | None,
                          vip: bool) -> int:
        for uid, user in self.users.items():
            if user["email"].lower() == email.lower():
                user["vip"] = user["vip"] or vip
                return uid
        first, _, last = (name or " ".join(names_from(email))).partition(" ")
        org = self.organizations.get(org_id)
        uid = max(self.users) + 1
        self.users[uid] = make_user(uid, email, first, last, [3], org, vip=vip,
                                    created_at=self.now(), updated_at=self.now(), created_by="-",
                                    created_by_id=SYSTEM_ID, updated_by="-", updated_by_id=SYSTEM_ID)
        if org:
            org["member_ids"].append(uid)
            org["members"].append(email)
        return uid

    def create_ticket(self, title: str, body: str, customer_email: str,
                      customer_name: str | None = None, organization: str | None = None,
                      vip: bool = False, group: str = "Users", channel: str = "email") -> int:
        """A ticket plus its first customer article, as an inbound e-mail/web form makes it."""
        domain = customer_email.split("@")[-1]
        org_id = self.org_by_name(organization, domain) if organization else None
        cust = self.customer_by_email(customer_email, customer_name, org_id, vip)
        org_id = self.users[cust].get("organization_id")
        tid, now = max(self.tickets, default=1000) + 1, self.now()
        t = dict.fromkeys(self._ticket_columns)
        t.update({a["name"]: None for a in self.attributes.values()
                  if a["object"] == "Ticket" and not a.get("to_create")})
        t.update(ai_agent_running=False, article_count=0, article_ids=[], id=tid,
                 number=str(30000 + tid), title=title, group_id=self.group_by_name(group),
                 priority_id=2, state_id=1, owner_id=SYSTEM_ID, customer_id=cust,
                 organization_id=org_id, create_article_type_id=key_of(ARTICLE_TYPES, channel),
                 create_article_sender_id=2, created_at=now, created_by_id=cust,
                 preferences={"channel_id": 3}, referencing_checklist_ids=[],
                 referencing_checklists=[], ticket_time_accounting=[], ticket_time_accounting_ids=[])
        self.tickets[tid], self.tags[tid] = t, []
        self.record(tid, "created", cust, now)
        user = self.users[cust]
        self.add_article(tid, {"type": channel, "sender": "Customer", "internal": False,
                               "subject": title, "body": body, "to": "support@helpdesk.example.com",
                               "content_type": "text/html" if "<" in body else "text/plain",
                               "from": f"{user['firstname']} {user['lastname']}".strip()
                               + f" <{customer_email}>"}, cust)
        return tid

    def tag_add(self, tid: Any, item: Any, actor_id: int = BOT_ID) -> None:
        t, item = self.ticket(tid), str(item or "").strip()
        if not item:
            raise SimError(422, "Need item")
        tags = self.tags.setdefault(t["id"], [])
        if item.lower() not in {x.lower() for x in tags}:  # Zammad: case-insensitive no-op
            tags.append(item)
            self.record(t["id"], "added", actor_id, self.now(), attribute="tag", new=item)
            self.touch(t)

    def tag_remove(self, tid: Any, item: Any, actor_id: int = BOT_ID) -> None:
        t, item = self.ticket(tid), str(item or "").strip().lower()
        tags = self.tags.setdefault(t["id"], [])
        if any(x.lower() == item for x in tags):
            tags[:] = [x for x in tags if x.lower() != item]
            self.record(t["id"], "removed", actor_id, self.now(), attribute="tag", new=item)
            self.touch(t)

