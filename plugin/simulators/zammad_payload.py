"""State of the Zammad simulator, kept in the shapes Zammad puts on the wire.

Tickets and articles are stored in the default-webhook shape
(`attributes_with_association_names`, keys sorted, associations nested) because
that is what the service has to parse; the REST forms are derived from it.
Shapes follow shared/platforms/zammad/fixtures (see its README for each rule).
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from .zammad_base import (  # noqa: F401  (re-exported: tests and benchmarks import them here)
    ADMIN_ID,
    ADMIN_LOGIN,
    AGENT_ID,
    ARTICLE_TYPES,
    BOT_ID,
    FIXTURES,
    SENDERS,
    STATES,
    SYSTEM_ID,
    TICKET_ASSOCIATIONS,
    TICKET_NAME_KEYS,
    USER_NAME_KEYS,
    USER_REFS,
    SimError,
    compact,
    default_fixtures_dir,
    make_user,
    name_of,
    names_from,
    now_iso,
    parse_time,
    sort_record,
)
from .zammad_history import TicketHistory
from .zammad_links import TicketLinks
from .zammad_writes import TicketWrites


class SimState(TicketWrites, TicketHistory, TicketLinks):
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
        self.histories: dict[int, list[dict]] = {}  # ticket id -> history entries, as recorded
        self._history_seq = 0
        self.now = now_iso  # the clock of every ticket write; a test may set its own
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
        previous = self.tickets.get(tid)
        self.tickets[tid] = ticket
        arts = [a for a in self.articles.get(tid, []) if a["id"] != doc["article"].get("id")]
        if doc["article"]:
            arts.append(copy.deepcopy(doc["article"]))
        self.articles[tid] = sorted(arts, key=lambda a: a["id"])
        self._article_high = None          # fixture ids: the next new article looks again
        self.tags.setdefault(tid, [])
        self.seed_history(ticket, doc["article"], previous)
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
            return {k: name_of(v) if k in TICKET_ASSOCIATIONS else v for k, v in t.items()}
        return {k: v for k, v in t.items()
                if k not in TICKET_ASSOCIATIONS and k not in TICKET_NAME_KEYS}

    def rest_article(self, art: dict) -> dict:
        out = self.article_payload(art)
        out["created_by"], out["updated_by"] = name_of(out["created_by"]), name_of(out["updated_by"])
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
                "links": self.links_of(t["id"]), "tags": list(self.tags.get(t["id"], [])), "mentions": [],
                "time_accountings": []}

