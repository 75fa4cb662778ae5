"""Vocabulary of the Zammad simulator: Zammad's seed ids and names, the error it
answers with, time and JSON formats, and user records in the nested-payload form.
Shapes follow shared/platforms/zammad/fixtures (see its README for each rule).
"""
from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

API = "/api/v1"
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


def name_of(value: Any) -> Any:
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



def key_of(table: dict, name: str) -> int:
    if name not in table.values():
        raise SimError(422, f"No lookup value found for {name!r}")
    return next(k for k, v in table.items() if v == name)
