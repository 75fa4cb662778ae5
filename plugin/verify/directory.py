"""The requester's directory facts from the record `current_state` already read
(CurrentState.raw), so identity costs no extra REST call and the step stays pure.

Zammad: `GET /tickets/{id}?all=true` carries the customer (User: email, active,
organization_id, names), the Organization (name, domain) and the articles (the first
one's `from`, sender and type). Jira: the issue's reporter (emailAddress, active,
accountType, displayName), creator and the JSM Organizations field; Jira has no
organization domains, the settings name them (verification.identity.org_domains).

A record that cannot be read is `status="failed"` with the reason: the checks then
say "could not verify", they do not crash and do not pass.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from email.utils import parseaddr
from typing import Any

from ..hooks import jira
from ..models import NOTE_HEADER
from .model import Directory

ZAMMAD_SENDERS = {1: "Agent", 2: "Customer", 3: "System"}
ZAMMAD_TYPES = {1: "email", 5: "phone", 10: "note", 11: "web"}
ZAMMAD_NOBODY = "1"                 # Zammad's "-" user: no real customer


def directory_of(platform: str, raw: Mapping[str, Any] | None) -> Directory:
    """Never raises: a record of an unexpected shape is a failed lookup, said so."""
    if not raw:
        return Directory(status="failed", error="the platform's record of the ticket was not read")
    try:
        if platform == "zammad":
            return _zammad(raw)
        if platform == "jira":
            return _jira(raw)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        return Directory(status="failed", error=f"unreadable {platform} record ({type(exc).__name__})")
    return Directory(status="failed", error=f"no directory reader for platform {platform}")


# --- Zammad ---------------------------------------------------------------------

def _zammad(raw: Mapping[str, Any]) -> Directory:
    assets = raw.get("assets")
    if not isinstance(assets, Mapping):
        return Directory(status="failed", error="the ticket's record has no assets")
    ticket = (assets.get("Ticket") or {}).get(str(raw.get("ticket_id"))) or {}
    if not ticket:
        return Directory(status="failed", error="the ticket is missing from its own record")
    cid = str(ticket.get("customer_id") or "")
    user = (assets.get("User") or {}).get(cid) if cid and cid != ZAMMAD_NOBODY else None
    if not isinstance(user, Mapping):
        return Directory(status="ok", requester_found=False, requester_id=cid)
    org_id = str(ticket.get("organization_id") or user.get("organization_id") or "")
    org = ((assets.get("Organization") or {}).get(org_id) or {}) if org_id else {}
    name = " ".join(p for p in (str(user.get("firstname") or ""), str(user.get("lastname") or "")) if p)
    base = Directory(status="ok", requester_found=True, requester_id=cid,
                     active=bool(user.get("active", True)), email=str(user.get("email") or "").strip().lower(), name=name.strip(),
                     organization=str(org.get("name") or ""), org_domains=_domains(org.get("domain")))
    return _zammad_sender(base, assets.get("TicketArticle") or {}, cid)


def _domains(value: Any) -> tuple[str, ...]:
    # Zammad keeps one domain per organization; a list written with commas is read too.
    return tuple(d.strip().lower().lstrip("@") for d in str(value or "").replace(";", ",").split(",")
                 if d.strip())


def _zammad_sender(base: Directory, articles: Mapping[str, Any], customer_id: str) -> Directory:
    ordered = sorted((a for a in articles.values() if isinstance(a, Mapping)
                      and a.get("subject") != NOTE_HEADER), key=lambda a: a.get("id") or 0)
    if not ordered:
        return base
    first = ordered[0]
    sender = first.get("sender") or ZAMMAD_SENDERS.get(first.get("sender_id"))
    kind = first.get("type") or ZAMMAD_TYPES.get(first.get("type_id"))
    name, address = parseaddr(str(first.get("from") or ""))
    if sender != "Customer":
        return _with(base, "agent", address, name)
    if "@" in address:
        return _with(base, "message", address, name)
    if str(first.get("created_by_id")) == customer_id and kind != "email":
        # A web or chat message written by the signed-in customer: the session is the proof.
        return _with(base, "account", base.email, name or str(first.get("from") or ""))
    return _with(base, "message", "", name or str(first.get("from") or ""))


def _with(base: Directory, kind: str, address: str, name: str) -> Directory:
    return replace(base, sender_kind=kind, sender_address=address.strip().lower(), sender_name=name.strip())


# --- Jira -----------------------------------------------------------------------

def _jira(raw: Mapping[str, Any]) -> Directory:
    f = raw.get("fields")
    if not isinstance(f, Mapping):
        return Directory(status="failed", error="the issue's record has no fields")
    reporter = f.get("reporter")
    if not isinstance(reporter, Mapping) or not jira.user_id(reporter):
        return Directory(status="ok", requester_found=False)
    rid = jira.user_id(reporter) or ""
    # Privacy settings may hide emailAddress: then the address checks cannot be done.
    email = str(reporter.get("emailAddress") or "").strip().lower()
    org = next(iter(jira.organizations(f)), {})
    base = Directory(status="ok", requester_found=True, requester_id=rid,
                     active=bool(reporter.get("active", True)), email=email,
                     name=str(reporter.get("displayName") or "").strip(),
                     organization=str(org.get("name") or ""))
    creator = f.get("creator")
    if isinstance(creator, Mapping) and jira.user_id(creator) not in (None, rid) \
            and creator.get("accountType") != "customer":
        return _with(base, "agent", str(creator.get("emailAddress") or ""),
                     str(creator.get("displayName") or ""))
    # JSM: a request is raised from the reporter's own account (portal, or the e-mail
    # channel, which makes the account from the From address).
    return _with(base, "account", email, base.name)
