"""The Jira simulator's field catalogue, field values (priority, status, request type)
and edits (PUT /issue): validation, update operations and changelog items.

`sim` below is the JiraSimulator: its users, fields (catalogue), template and
request_types are read, and resolve_user() is called.
"""
from __future__ import annotations

import copy
import hashlib
from typing import Any

from .jira_base import (
    CATEGORIES,
    PRIORITIES,
    REQUEST_TYPE,
    SITE,
    STATUSES,
    USER_FIELDS,
    JiraError,
    text_value,
)

SYSTEM_FIELDS = [  # (id, name, schema type, items); editable ones are in EDITABLE
    ("summary", "Summary", "string", None), ("description", "Description", "string", None),
    ("environment", "Environment", "string", None), ("status", "Status", "status", None),
    ("priority", "Priority", "priority", None), ("labels", "Labels", "array", "string"),
    ("reporter", "Reporter", "user", None), ("creator", "Creator", "user", None),
    ("assignee", "Assignee", "user", None), ("issuetype", "Issue Type", "issuetype", None),
    ("project", "Project", "project", None), ("created", "Created", "datetime", None),
    ("updated", "Updated", "datetime", None), ("resolution", "Resolution", "resolution", None),
    ("resolutiondate", "Resolved", "datetime", None), ("duedate", "Due date", "date", None),
    ("components", "Components", "array", "component"), ("comment", "Comment", "comments-page", None),
    ("attachment", "Attachment", "array", "attachment"), ("issuelinks", "Linked Issues", "array", "issuelinks"),
    ("subtasks", "Sub-tasks", "array", "issuelinks"), ("fixVersions", "Fix versions", "array", "version"),
    ("versions", "Affects versions", "array", "version"), ("security", "Security Level", "securitylevel", None),
    ("watches", "Watchers", "watches", None), ("votes", "Votes", "votes", None),
    ("timetracking", "Time tracking", "timetracking", None), ("workratio", "Work Ratio", "number", None),
    ("statuscategorychangedate", "Status Category Changed", "datetime", None),
    ("issuerestriction", "Restrict to", "issuerestriction", None), ("lastViewed", "Last Viewed", "datetime", None),


    ("timespent", "Time Spent", "number", None), ("timeestimate", "Remaining Estimate", "number", None),
    ("timeoriginalestimate", "Original estimate", "number", None), ("progress", "Progress", "progress", None),
    ("aggregatetimespent", "Σ Time Spent", "number", None), ("aggregatetimeestimate", "Σ Remaining Estimate", "number", None),
    ("aggregatetimeoriginalestimate", "Σ Original Estimate", "number", None),
    ("aggregateprogress", "Σ Progress", "progress", None),
]
EDITABLE = {"summary", "description", "environment", "priority", "labels", "reporter", "assignee",
            "duedate", "components", "fixVersions", "versions"}
SD = "com.atlassian.servicedesk:"
CUSTOM_FIELDS = [  # ids as in the fixtures; real sites differ, so clients look them up
    ("customfield_10002", "Organizations", "array", "sd-customerorganization", SD + "sd-customer-organizations"),
    ("customfield_10010", "Request Type", "sd-customerrequesttype", None, SD + "vp-origin"),
    ("customfield_10019", "Rank", "any", None, "com.pyxis.greenhopper.jira:gh-lexo-rank"),
    ("customfield_10020", "Sprint", "array", "json", "com.pyxis.greenhopper.jira:gh-sprint"),
    ("customfield_10027", "Request participants", "array", "user", SD + "sd-request-participants"),
    ("customfield_10028", "Satisfaction", "sd-feedback", None, SD + "sd-request-feedback"),
    ("customfield_10029", "Satisfaction date", "datetime", None, SD + "sd-request-feedback-date"),
    ("customfield_10030", "Time to resolution", "sd-servicelevelagreement", None, SD + "sd-sla-field"),
    ("customfield_10031", "Time to first response", "sd-servicelevelagreement", None, SD + "sd-sla-field"),
]
READ_ONLY_CUSTOM = {SD + "sd-sla-field", SD + "sd-request-feedback", SD + "sd-request-feedback-date"}
CF_PREFIX = "com.atlassian.jira.plugin.system.customfieldtypes:"
CF_TYPES = {"textfield": ("string", None), "textarea": ("string", None), "float": ("number", None),
            "select": ("option", None), "radiobuttons": ("option", None), "url": ("string", None),
            "multiselect": ("array", "option"), "multicheckboxes": ("array", "option"),
            "labels": ("array", "string"), "datetime": ("datetime", None), "datepicker": ("date", None),
            "readonlyfield": ("string", None), "userpicker": ("user", None)}
CANNOT_SET = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."


# --- field catalogue ------------------------------------------------------------------

def field_entry(fid: str, name: str, schema: dict) -> dict:
    custom = fid.startswith("customfield_")
    entry = {"id": fid, "key": fid, "name": name, "custom": custom, "orderable": True,
             "navigable": True, "searchable": True,
             "clauseNames": [f"cf[{fid[12:]}]", name] if custom else [fid], "schema": schema}
    if custom:
        entry["untranslatedName"] = name
    return entry


def catalogue() -> dict[str, dict]:
    fields = {}
    for fid, name, kind, items in SYSTEM_FIELDS:
        schema = {"type": kind, **({"items": items} if items else {}), "system": fid}
        fields[fid] = field_entry(fid, name, schema)
    for fid, name, kind, items, custom in CUSTOM_FIELDS:
        fields[fid] = field_entry(fid, name, custom_schema(kind, items, custom, fid))
    return fields


def custom_schema(kind: str, items: str | None, custom: str, fid: str) -> dict:
    schema = {"type": kind, **({"items": items} if items else {})}
    return {**schema, "custom": custom, "customId": int(fid[12:])}


def new_custom_field(body: Any, number: int) -> dict:
    body = body if isinstance(body, dict) else {}
    kind = str(body.get("type", ""))
    errors = {}
    if not body.get("name"):
        errors["name"] = "The custom field name must be specified."
    if kind.removeprefix(CF_PREFIX) not in CF_TYPES or not kind.startswith(CF_PREFIX):
        errors["type"] = f"Custom field type '{kind}' is not valid."
    if errors:
        raise JiraError(400, errors=errors)
    schema_type, items = CF_TYPES[kind.removeprefix(CF_PREFIX)]
    fid = f"customfield_{number}"
    return field_entry(fid, body["name"], custom_schema(schema_type, items, kind, fid))


def editable(fid: str, fields: dict[str, dict]) -> bool:
    entry = fields.get(fid)
    if entry is None:
        return False
    return fid in EDITABLE or (entry["custom"] and entry["schema"]["custom"] not in READ_ONLY_CUSTOM)


# --- field values ---------------------------------------------------------------------

def priority_obj(ref: Any) -> dict:
    ref = ref if isinstance(ref, dict) else {"name": ref}
    pid = str(ref.get("id") or {v: k for k, v in PRIORITIES.items()}.get(ref.get("name"), ""))
    if pid not in PRIORITIES:
        raise JiraError(400, errors={"priority": f"Priority '{ref.get('name') or ref.get('id')}' is not valid"})
    name = PRIORITIES[pid]
    return {"self": f"{SITE}/rest/api/2/priority/{pid}", "name": name, "id": pid,
            "iconUrl": f"{SITE}/images/icons/priorities/{name.lower()}_new.svg"}


def status_obj(name: str) -> dict:
    sid, cat, description = STATUSES[name]
    cid, colour, cat_name, _ = CATEGORIES[cat]
    return {"self": f"{SITE}/rest/api/2/status/{sid}", "description": description,
            "iconUrl": f"{SITE}/", "name": name, "id": sid,
            "statusCategory": {"self": f"{SITE}/rest/api/2/statuscategory/{cid}", "id": cid,
                               "key": cat, "colorName": colour, "name": cat_name}}


def request_type_obj(template: dict, rid: str, types: dict[str, str]) -> dict:
    names = {v: k for k, v in types.items()}
    if str(rid) not in names:
        raise JiraError(400, errors={REQUEST_TYPE: f"Request type with id '{rid}' does not exist."})
    rtype = copy.deepcopy(template[REQUEST_TYPE]["requestType"])
    rtype.update(id=str(rid), name=names[str(rid)])
    rtype["_links"]["self"] = f"{SITE}/rest/servicedeskapi/servicedesk/2/requesttype/{rid}"
    if rtype["name"] != "Get IT help":
        rtype["description"] = ""
    return rtype


def is_rich(sim: Any, fid: str) -> bool:
    custom = sim.fields.get(fid, {}).get("schema", {}).get("custom", "")
    return fid in ("description", "environment") or custom == CF_PREFIX + "textarea"


# --- edits (PUT /issue) -----------------------------------------------------------------

BAD_PAYLOAD = "Invalid request payload. Refer to the REST API documentation and try again."


def parse_edit(sim: Any, issue: dict, body: Any, version: int) -> dict[str, Any]:
    """The new value of every field a PUT body touches, validated as Jira does."""
    sets = body.get("fields") or {} if isinstance(body, dict) else None
    update = body.get("update") or {} if isinstance(body, dict) else None
    if not isinstance(sets, dict) or not isinstance(update, dict):
        raise JiraError(400, [BAD_PAYLOAD])
    errors = {f: CANNOT_SET.format(f) for f in [*sets, *update] if not editable(f, sim.fields)}
    errors.update({f: f"Field '{f}' cannot be in both 'fields' and 'update'." for f in set(sets) & set(update)})
    if errors:
        raise JiraError(400, errors=errors)
    new = {fid: coerce(sim, fid, value, version) for fid, value in sets.items()}
    for fid, ops in update.items():
        new[fid] = apply_ops(sim, fid, issue["fields"].get(fid), ops, version)
    return new


def coerce(sim: Any, fid: str, value: Any, version: int) -> Any:
    schema = sim.fields[fid]["schema"]
    kind, items = schema["type"], schema.get("items")
    if fid == "summary" and not (isinstance(value, str) and value.strip()):
        raise JiraError(400, errors={fid: "You must specify a summary of the issue."})
    if is_rich(sim, fid):
        return text_value(fid, value, version)
    if fid == "priority":
        return priority_obj(value)
    if fid == REQUEST_TYPE:
        return request_type_value(sim, value)
    if kind == "user":
        return sim.resolve_user(fid, value)
    if kind == "array" and items in ("string", "option") and value is not None:
        if not isinstance(value, list):
            raise JiraError(400, errors={fid: "Operation value must be an array"})
        return [coerce_item(fid, v, items) for v in value]
    if kind in ("number", "string", "option") and value is not None:
        return coerce_item(fid, value, kind)
    return value


def coerce_item(fid: str, value: Any, kind: str) -> Any:
    if kind == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise JiraError(400, errors={fid: "Operation value must be a number"})
    if kind == "string" and not isinstance(value, str):
        raise JiraError(400, errors={fid: "Operation value must be a string"})
    if fid == "labels" and any(c.isspace() for c in value):
        raise JiraError(400, errors={fid: f"The label '{value}' contains spaces which is invalid."})
    if kind == "option":
        if not isinstance(value, dict) or not (value.get("value") or value.get("id")):
            raise JiraError(400, errors={fid: "Specify a valid 'id' or 'name' for " + fid})
        # The simulator keeps no option lists: any value is accepted, with a stable id.
        text = str(value.get("value") or value["id"])
        oid = str(value.get("id") or 10100 + int(hashlib.md5(text.encode()).hexdigest(), 16) % 900)
        return {"self": f"{SITE}/rest/api/2/customFieldOption/{oid}", "value": text, "id": oid}
    return value


def request_type_value(sim: Any, value: Any) -> dict:
    rid = value.get("id") if isinstance(value, dict) else value
    origin = copy.deepcopy(sim.template[REQUEST_TYPE])
    origin["requestType"] = request_type_obj(sim.template, rid, sim.request_types)
    return origin


def apply_ops(sim: Any, fid: str, current: Any, ops: Any, version: int) -> Any:
    if not isinstance(ops, list) or not all(isinstance(o, dict) and len(o) == 1 for o in ops):
        raise JiraError(400, [BAD_PAYLOAD])
    is_array = sim.fields[fid]["schema"]["type"] == "array"
    value = list(current or []) if is_array else current
    for op in ops:
        ((verb, arg),) = op.items()
        if verb == "set":
            value = coerce(sim, fid, arg, version)
        elif is_array and verb in ("add", "remove"):
            item = coerce(sim, fid, [arg], version)[0]
            if verb == "add" and item not in value:
                value.append(item)
            elif verb == "remove" and item in value:
                value.remove(item)
        else:
            raise JiraError(400, errors={fid: f"Field '{fid}' does not support operation '{verb}'."})
    return value


def describe(sim: Any, fid: str, value: Any) -> tuple[Any, Any]:
    """A changelog side: (raw id, display string), as Jira writes them."""
    if value is None or value == []:
        return None, None
    if fid in USER_FIELDS:
        return value, sim.users[value]["displayName"]
    if isinstance(value, list):
        parts = [str(describe(sim, "", v)[1]) for v in value]
        return None, (" " if fid == "labels" else ", ").join(parts)
    if isinstance(value, dict):
        value = value.get("requestType", value)
        return value.get("id"), value.get("name") or value.get("value")
    return None, str(value)


def change_item(sim: Any, fid: str, old: Any, new: Any) -> dict:
    entry = sim.fields[fid]
    (src, src_text), (dst, dst_text) = describe(sim, fid, old), describe(sim, fid, new)
    item = {"field": entry["name"] if entry["custom"] else fid,
            "fieldtype": "custom" if entry["custom"] else "jira", "fieldId": fid,
            "from": src, "fromString": src_text, "to": dst, "toString": dst_text}
    if fid in USER_FIELDS:
        item.update(tmpFromAccountId=src, tmpToAccountId=dst)
    return item
