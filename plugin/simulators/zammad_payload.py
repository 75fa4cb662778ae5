"""State of the Zammad simulator, kept in the shapes Zammad puts on the wire.

Tickets and articles are stored in the default-webhook shape
(`attributes_with_association_names`, keys sorted, associations nested) because
that is what the service has to parse; the REST forms are derived from it.
Shapes follow shared/platforms/zammad/fixtures (see its README for each rule).
"""
from __future__ import annotations

import copy
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FIXTURES = {"01": "01_ticket_create_customer_email", "02": "02_ticket_update_agent_reply",
            "03": "03_ticket_create_chinese_email"}
USER_REFS = ("owner", "customer", "created_by", "updated_by")
TICKET_ASSOCIATIONS = USER_REFS + ("organization", "priority", "group")
TICKET_NAME_KEYS = ("state", "create_article_type", "create_article_sender",
                    "ticket_time_accounting", "referencing_checklists")
# Ids, timestamps and association lists are Zammad's to maintain; PUT drops them.
READ_ONLY = {"id", "number", "created_at", "updated_at", "created_by_id", "updated_by_id",
             "article_ids", "article_count", "ticket_time_accounting_ids",
             "referencing_checklist_ids", *TICKET_ASSOCIATIONS, *TICKET_NAME_KEYS}
STATES = {1: ("new", 1), 2: ("open", 2), 3: ("pending reminder", 3), 4: ("closed", 5),
          5: ("merged", 6), 6: ("removed", 7), 7: ("pending close", 4)}
ARTICLE_TYPES = {1: "email", 5: "phone", 10: "note", 11: "web"}
COMMUNICATION_TYPES = {"email", "phone", "web"}  # `note` never counts as contact
SENDERS = {1: "Agent", 2: "Customer", 3: "System"}
ROLES = {1: "Admin", 2: "Agent", 3: "Customer"}
SYSTEM_ID, ADMIN_ID, AGENT_ID, BOT_ID = 1, 3, 5, 90
ADMIN_LOGIN = "admin@helpdesk.example.com"
SEED_TS = "2024-01-15T10:05:12.400Z"
USER_NAME_KEYS = ("roles", "organization", "organizations", "karma_user", "created_by", "updated_by")


class SimError(Exception):
    """An error the simulated API answers with `{"error", "error_human"}`."""

    def __init__(self, status: int, error: str, human: str | None = None):
        super().__init__(error)
        self.status, self.error, self.human = status, error, human or error


def default_fixtures_dir() -> Path:
    shared = os.environ.get("ENRICHER_SHARED_DIR")
    base = Path(shared) if shared else Path(__file__).resolve().parents[2].parent / "shared"
    return base / "platforms" / "zammad" / "fixtures"


def now_iso() -> str:
    t = datetime.now(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_time(value: Any) -> datetime | None:
    try:
        t = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def compact(obj: Any) -> bytes:
    """Serialise like Zammad's `to_json`: compact, UTF-8, key order as built."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def sort_record(rec: dict, last: tuple = ()) -> dict:
    """Top-level keys alphabetical (nested hashes keep their order), `last` appended."""
    out = {k: rec[k] for k in sorted(rec) if k not in last}
    out.update((k, rec[k]) for k in last if k in rec)
    return out


def _name_of(value: Any) -> Any:
    return (value.get("login") or value.get("name")) if value else None


def names_from(login: str) -> tuple[str, str]:
    parts = login.split("@")[0].replace("_", ".").split(".")
    return parts[0].capitalize(), " ".join(p.capitalize() for p in parts[1:])


def make_user(uid: int, login: str, first: str, last: str, role_ids: list[int],
              org: dict | None = None, **extra: Any) -> dict:
    """A user in the nested-payload form (filtered attributes already absent)."""
    rec = dict.fromkeys(("address", "city", "country", "department", "fax", "mobile",
                         "note", "phone", "street", "web", "zip"), "")
    rec.update(dict.fromkeys(("image", "image_source", "organization_id", "source",
                              "out_of_office_end_at", "out_of_office_replacement_id",
                              "out_of_office_start_at")))
    rec.update(active=True, created_at=SEED_TS, created_by=ADMIN_LOGIN, created_by_id=ADMIN_ID,
               email=login, firstname=first, id=uid, karma_user=[], karma_user_ids=[],
               lastname=last, login=login, organization_ids=[], organizations=[],
               out_of_office=False, role_ids=list(role_ids), roles=[ROLES[r] for r in role_ids],
               updated_at=SEED_TS, updated_by=ADMIN_LOGIN, updated_by_id=ADMIN_ID,
               verified=False, vip=False)
    if org:
        rec.update(organization=org["name"], organization_id=org["id"])
    rec.update(extra)
    return sort_record(rec)


class SimState:
    """Tickets, articles, tags, directory and admin objects of one fake Zammad."""

    def __init__(self, bot_login: str, fixtures_dir: str | Path | None = None,
                 strict_attributes: bool = False):
        self.bot_login, self.strict_attributes = bot_login, strict_attributes
        self.fixtures_dir = Path(fixtures_dir) if fixtures_dir else default_fixtures_dir()
        # Every table is id -> record; tickets/users/orgs/groups/priorities in payload shape.
        self.users, self.organizations, self.groups, self.priorities = {}, {}, {}, {}
        self.states = {i: {"active": True, "id": i, "ignore_escalation": i > 2, "name": n,
                           "state_type_id": st} for i, (n, st) in STATES.items()}
        self.tickets: dict[int, dict] = {}
        self.articles: dict[int, list[dict]] = {}  # ticket id -> articles, oldest first
        self.tags: dict[int, list[str]] = {}
        self.attributes, self.webhooks, self.triggers = {}, {}, {}
        for name in FIXTURES:
            self._register(self.load_fixture(name))
        self._ticket_columns = list(self.load_fixture("03")["ticket"])
        self._seed_directory()
        self.apply_fixture("01")
        self.apply_fixture("03")

    # -- seeding ----------------------------------------------------------
    def load_fixture(self, name: str) -> dict:
        stem = FIXTURES.get(name) or Path(name).name.split(".")[0]
        return json.loads((self.fixtures_dir / f"{stem}.compact.json").read_bytes())

    def apply_fixture(self, name: str) -> int:
        """Replace a ticket's state with a fixture's ticket (and upsert its article)."""
        doc = self.load_fixture(name)
        self._register(doc)
        ticket = copy.deepcopy(doc["ticket"])
        tid = ticket["id"]
        self.tickets[tid] = ticket
        arts = [a for a in self.articles.get(tid, []) if a["id"] != doc["article"].get("id")]
        if doc["article"]:
            arts.append(copy.deepcopy(doc["article"]))
        self.articles[tid] = sorted(arts, key=lambda a: a["id"])
        self.tags.setdefault(tid, [])
        return tid

    def _register(self, doc: dict) -> None:
        ticket, article = doc["ticket"], doc["article"]
        for key in USER_REFS:
            self.users.setdefault(ticket[key]["id"], copy.deepcopy(ticket[key]))
        for key in ("created_by", "updated_by"):
            if article.get(key):
                self.users.setdefault(article[key]["id"], copy.deepcopy(article[key]))
        for key, table in (("organization", self.organizations), ("priority", self.priorities),
                           ("group", self.groups)):
            if ticket[key]:
                table.setdefault(ticket[key]["id"], copy.deepcopy(ticket[key]))

    def _seed_directory(self) -> None:
        """Users named only by login in groups/orgs, plus Zammad's seed records."""
        for group in list(self.groups.values()):
            for uid, login in zip(group["user_ids"], group["users"]):
                admin = login == ADMIN_LOGIN
                extra = {"created_by": "-", "created_by_id": SYSTEM_ID} if admin else {}
                if uid not in self.users:
                    self.users[uid] = make_user(uid, login, *names_from(login),
                                                [1, 2] if admin else [2], **extra)
        for org in self.organizations.values():
            for uid, login in zip(org["member_ids"], org["members"]):
                if uid not in self.users:
                    self.users[uid] = make_user(uid, login, *names_from(login), [3], org)
        self.users[BOT_ID] = make_user(BOT_ID, self.bot_login, "Enricher", "Bot", [2])
        low = dict(self.priorities[2], id=1, name="1 low", default_create=False,
                   ui_color="low-priority", ui_icon="low-priority")
        self.priorities = {1: low, **self.priorities}
        self.group_by_name("Users")

    def group_by_name(self, name: str) -> int:
        for gid, group in self.groups.items():
            if group["name"].lower() == name.lower():
                return gid
        gid = 1 if 1 not in self.groups else max(self.groups) + 1
        self.groups[gid] = dict(copy.deepcopy(self.groups[2]), id=gid, name=name, name_last=name,
                                email_address="Helpdesk", email_address_id=1)
        return gid

    def org_by_name(self, name: str, domain: str = "") -> int:
        for oid, org in self.organizations.items():
            if org["name"].lower() == name.lower():
                return oid
        oid = max(self.organizations, default=0) + 1
        self.organizations[oid] = dict(copy.deepcopy(self.organizations[5]), id=oid, name=name,
                                       domain=domain, member_ids=[], members=[], note="",
                                       created_at=now_iso(), updated_at=now_iso())
        return oid

    # -- rendering --------------------------------------------------------
    def ticket(self, tid: Any) -> dict:
        try:
            return self.tickets[int(tid)]
        except (KeyError, TypeError, ValueError):
            raise SimError(404, f"Couldn't find Ticket with 'id'={tid}") from None

    def sync_ticket(self, t: dict) -> dict:
        """Re-derive names and nested records from the id columns, as Zammad would."""
        t["state"] = STATES[t["state_id"]][0]
        t["create_article_type"] = ARTICLE_TYPES.get(t.get("create_article_type_id"))
        t["create_article_sender"] = SENDERS.get(t.get("create_article_sender_id"))
        for key in USER_REFS:
            t[key] = copy.deepcopy(self.users.get(t[f"{key}_id"], {}))
        t["organization"] = copy.deepcopy(self.organizations.get(t["organization_id"]) or {})
        t["priority"] = copy.deepcopy(self.priorities[t["priority_id"]])
        t["group"] = copy.deepcopy(self.groups[t["group_id"]])
        t["article_ids"] = [a["id"] for a in self.articles.get(t["id"], [])]
        ordered = sort_record(t)
        t.clear()
        t.update(ordered)
        return t

    def article_payload(self, art: dict) -> dict:
        art = copy.deepcopy(art)
        for key in ("created_by", "updated_by"):
            art[key] = copy.deepcopy(self.users.get(art[f"{key}_id"], {}))
        if art.get("origin_by_id"):
            art["origin_by"] = self.users.get(art["origin_by_id"], {}).get("login")
        return sort_record(art, last=("accounted_time",))

    def webhook_payload(self, tid: int, article_id: int | None = None) -> dict:
        ticket = copy.deepcopy(self.sync_ticket(self.ticket(tid)))
        arts = [a for a in self.articles.get(int(tid), []) if a["id"] == article_id]
        if article_id is not None and not arts:
            raise SimError(404, f"Couldn't find Ticket::Article with 'id'={article_id}")
        return {"ticket": ticket, "article": self.article_payload(arts[0]) if arts else {}}

    def rest_ticket(self, tid: Any, expand: bool = False) -> dict:
        t = copy.deepcopy(self.sync_ticket(self.ticket(tid)))
        if expand:
            return {k: _name_of(v) if k in TICKET_ASSOCIATIONS else v for k, v in t.items()}
        return {k: v for k, v in t.items()
                if k not in TICKET_ASSOCIATIONS and k not in TICKET_NAME_KEYS}

    def rest_article(self, art: dict) -> dict:
        out = self.article_payload(art)
        out["created_by"], out["updated_by"] = _name_of(out["created_by"]), _name_of(out["updated_by"])
        return out

    def rest_user(self, uid: Any, expand: bool = False) -> dict:
        user = self.users.get(int(uid)) if str(uid).isdigit() else None
        if user is None:
            raise SimError(404, f"Couldn't find User with 'id'={uid}")
        return copy.deepcopy(user) if expand else {
            k: v for k, v in user.items() if k not in USER_NAME_KEYS}

    def ticket_all(self, tid: Any) -> dict:
        """`GET /tickets/{id}?all=true`: the one call with tags, articles and users."""
        t = self.sync_ticket(self.ticket(tid))
        arts = self.articles.get(t["id"], [])
        uids = {t[f"{k}_id"] for k in USER_REFS} | {a[f"{k}_id"] for a in arts
                                                    for k in ("created_by", "updated_by")}
        org = t["organization"]
        return {"ticket_id": t["id"], "ticket_article_ids": [a["id"] for a in arts],
                "assets": {"Ticket": {str(t["id"]): self.rest_ticket(t["id"])},
                           "User": {str(u): self.rest_user(u) for u in sorted(uids) if u in self.users},
                           "Organization": {str(org["id"]): copy.deepcopy(org)} if org else {},
                           "Group": {str(t["group_id"]): copy.deepcopy(t["group"])},
                           "TicketArticle": {str(a["id"]): self.rest_article(a) for a in arts}},
                "links": [], "tags": list(self.tags.get(t["id"], [])), "mentions": [],
                "time_accountings": []}

    # -- writes -----------------------------------------------------------
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
        if changes.get("owner_id", t["owner_id"]) != t["owner_id"]:
            changes["last_owner_update_at"] = now_iso()
        if isinstance(changes.get("preferences"), dict):
            changes["preferences"] = {**(t.get("preferences") or {}), **changes["preferences"]}
        t.update(changes)
        self.touch(t, actor_id)
        if article is not None:
            self.add_article(t["id"], article, actor_id)
        return t

    def touch(self, t: dict, actor_id: int | None = None) -> None:
        t["updated_at"] = now_iso()
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
        now = now_iso()
        art = {"attachments": [], "body": data["body"], "cc": data.get("cc"),
               "content_type": data.get("content_type", "text/plain"), "created_at": now,
               "created_by_id": actor_id, "detected_language": None,
               "from": data.get("from") or f"{actor['firstname']} {actor['lastname']}".strip(),
               "id": 1 + max((a["id"] for arts in self.articles.values() for a in arts), default=3000),
               "in_reply_to": data.get("in_reply_to"),
               "internal": data.get("internal", False),  # DB default: public
               "message_id": None, "message_id_md5": None, "origin_by_id": data.get("origin_by_id"),
               "preferences": data.get("preferences") or {}, "reply_to": None, "sender": sender,
               "sender_id": _key_of(SENDERS, sender), "subject": data.get("subject"),
               "ticket_id": t["id"], "time_unit": data.get("time_unit"), "to": data.get("to"),
               "type": kind, "type_id": _key_of(ARTICLE_TYPES, kind), "updated_at": now,
               "updated_by_id": actor_id, "accounted_time": float(data.get("time_unit") or 0)}
        self.articles.setdefault(t["id"], []).append(art)
        self._contact_effects(t, art)
        self.touch(t, actor_id)
        return art

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
                                    created_at=now_iso(), updated_at=now_iso(), created_by="-",
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
        tid = max(self.tickets, default=1000) + 1
        t = dict.fromkeys(self._ticket_columns)
        t.update({a["name"]: None for a in self.attributes.values()
                  if a["object"] == "Ticket" and not a.get("to_create")})
        t.update(ai_agent_running=False, article_count=0, article_ids=[], id=tid,
                 number=str(30000 + tid), title=title, group_id=self.group_by_name(group),
                 priority_id=2, state_id=1, owner_id=SYSTEM_ID, customer_id=cust,
                 organization_id=org_id, create_article_type_id=_key_of(ARTICLE_TYPES, channel),
                 create_article_sender_id=2, created_at=now_iso(), created_by_id=cust,
                 preferences={"channel_id": 3}, referencing_checklist_ids=[],
                 referencing_checklists=[], ticket_time_accounting=[], ticket_time_accounting_ids=[])
        self.tickets[tid], self.tags[tid] = t, []
        user = self.users[cust]
        self.add_article(tid, {"type": channel, "sender": "Customer", "internal": False,
                               "subject": title, "body": body, "to": "support@helpdesk.example.com",
                               "content_type": "text/html" if "<" in body else "text/plain",
                               "from": f"{user['firstname']} {user['lastname']}".strip()
                               + f" <{customer_email}>"}, cust)
        return tid

    def tag_add(self, tid: Any, item: Any) -> None:
        t, item = self.ticket(tid), str(item or "").strip()
        if not item:
            raise SimError(422, "Need item")
        tags = self.tags.setdefault(t["id"], [])
        if item.lower() not in {x.lower() for x in tags}:  # Zammad: case-insensitive no-op
            tags.append(item)
            self.touch(t)

    def tag_remove(self, tid: Any, item: Any) -> None:
        t, item = self.ticket(tid), str(item or "").strip().lower()
        tags = self.tags.setdefault(t["id"], [])
        if any(x.lower() == item for x in tags):
            tags[:] = [x for x in tags if x.lower() != item]
            self.touch(t)


def _key_of(table: dict, name: str) -> int:
    if name not in table.values():
        raise SimError(422, f"No lookup value found for {name!r}")
    return next(k for k, v in table.items() if v == name)
