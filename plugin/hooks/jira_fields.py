"""Readers of a Jira issue's fields, shared by the webhook adapter (jira.py), the REST
client (jira_api.py), verification's directory and the shadow listing: who the reporter
is, the JSM organization, request type and channel, the SLA fields (found by shape: their
ids differ per site), and our own `enrich_*` fields. Each tolerates what it does not
need and, given a Picker, says what it skipped."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..models import Requester
from ..text import Picker
from .adf import to_text

OWN_FIELD = "enrich_"
_IDENTITY = ("accountId", "name", "key")     # Cloud accountId; Data Center name/key


def user_id(user: Any) -> str | None:
    if not isinstance(user, dict):
        return None
    return next((str(user[k]) for k in _IDENTITY if user.get(k)), None)


def requester(f: Mapping[str, Any], p: Picker | None = None) -> Requester | None:
    """The reporter, with the first JSM organization; e-mail only where REST gave it."""
    r, p = f.get("reporter"), p or Picker()
    if not isinstance(r, dict):
        return None
    org = next(iter(organizations(f)), {})
    email = p.text(r.get("emailAddress"), "issue.fields.reporter.emailAddress")
    return Requester(id=user_id(r) or "",
                     name=p.text(r.get("displayName"), "issue.fields.reporter.displayName"),
                     email=email, login=p.text(r.get("name"), "issue.fields.reporter.name") or email,
                     organization=p.maybe_text(org.get("name"), "issue.fields.organizations.name"),
                     organization_id=p.ident(org.get("id"), "issue.fields.organizations.id") or None,
                     active=bool(r.get("active", True)))


def organizations(f: Mapping[str, Any]) -> list[dict]:
    # Found by shape: the Organizations field id differs per site and webhooks carry no schema.
    for fid, value in f.items():
        if fid.startswith("customfield_") and isinstance(value, list) and value and all(
                isinstance(o, dict) and isinstance(o.get("_links"), dict)
                and "/organization/" in str(o["_links"].get("self")) for o in value):
            return value
    return []


def _request_type_obj(f: Mapping[str, Any]) -> dict | None:
    for fid, value in f.items():
        if fid.startswith("customfield_") and isinstance(value, dict) \
                and isinstance(value.get("requestType"), dict):
            return value["requestType"]
    return None


def request_type(f: Mapping[str, Any], p: Picker | None = None) -> str | None:
    rtype = _request_type_obj(f)
    return (p or Picker()).maybe_text(rtype.get("name"), "issue.fields.requestType.name") if rtype else None


def channel(f: Mapping[str, Any]) -> str | None:
    # A request type means a JSM customer request (help-center portal, or the e-mail
    # channel feeding it); the payload does not tell those apart. No request type:
    # created inside Jira, and the channel is not derivable.
    return "portal" if _request_type_obj(f) else None


def sla(f: Mapping[str, Any], p: Picker | None = None) -> dict[str, Any]:
    """JSM SLA fields, found by shape; a cycle or duration of another shape is left out."""
    out, p = {}, p or Picker()
    for fid, value in f.items():
        if not (isinstance(value, dict) and ("ongoingCycle" in value or "completedCycles" in value)):
            continue
        where = f"issue.fields.{fid}"
        done = _cycles(value.get("completedCycles"), f"{where}.completedCycles", p)
        ongoing = p.obj(value.get("ongoingCycle"), f"{where}.ongoingCycle")
        cycle = ongoing or (done[-1] if done else {})
        slug = re.sub(r"\W+", "_", str(value.get("name") or value.get("id") or fid)).strip("_").lower()
        out[slug] = {
            "running": bool(ongoing), "completed_cycles": len(done),
            "breached": any(c.get("breached") is True for c in [*done, ongoing]),
            "paused": cycle.get("paused") is True,
            "goal_ms": _millis(cycle, "goalDuration", where, p),
            "elapsed_ms": _millis(cycle, "elapsedTime", where, p),
            "remaining_ms": _millis(cycle, "remainingTime", where, p),
            "breach_at": p.maybe_text(p.obj(cycle.get("breachTime"), f"{where}.breachTime").get("iso8601"),
                                      f"{where}.breachTime.iso8601")}
    return out


def _cycles(value: Any, path: str, p: Picker) -> list[Mapping[str, Any]]:
    kept = [c for c in value if isinstance(c, dict)] if isinstance(value, list) else []
    if value is not None and (not isinstance(value, list) or len(kept) != len(value)):
        p.skip(path)
    return kept


def _millis(cycle: Mapping[str, Any], key: str, where: str, p: Picker) -> int | None:
    value = p.obj(cycle.get(key), f"{where}.{key}").get("millis")
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return p.skip(f"{where}.{key}.millis")


def own_fields(f: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """Our fields by our name: by key if the body uses names, else via a REST `names` map."""
    out = {k: field_value(v) for k, v in f.items() if k.startswith(OWN_FIELD)}
    out.update({names[k]: field_value(v) for k, v in f.items()
                if str(names.get(k, "")).startswith(OWN_FIELD)})
    return out


def field_value(value: Any) -> Any:
    if isinstance(value, dict) and value.get("type") == "doc":
        return to_text(value)
    if isinstance(value, dict) and "value" in value:      # a select option
        return value["value"]
    return value
