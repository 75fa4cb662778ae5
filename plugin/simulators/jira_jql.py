"""The JQL the Jira simulator searches with: a tokenizer, parser and evaluator for the
subset a poller needs."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from .jira_base import PARTICIPANTS, USER_FIELDS, JiraError, parse_time

# --- JQL: the subset a poller needs -------------------------------------------------
# Clauses `field op value` joined by AND/OR (no parentheses); ops = != > >= < <= ~ !~
# IN, NOT IN, IS [NOT] EMPTY; ORDER BY. Dates are UTC (real Jira uses the user's zone).

TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|(!=|>=|<=|!~|[=<>~(),])|([^\s=<>!~(),"\']+))')
DATE_FIELDS = {"updated", "created", "resolutiondate"}
ALIASES = {"issuekey": "key", "type": "issuetype", "resolved": "resolutiondate"}
UNITS = {"m": 60000, "h": 3600000, "d": 86400000, "w": 604800000}
DATE_HELP = ("Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', "
             "'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.")


def jql_error(message: str) -> JiraError:
    return JiraError(400, [f"Error in the JQL Query: {message}"])


def tokenize(jql: str) -> list[tuple[str, str]]:
    tokens, pos, text = [], 0, jql.strip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match:
            raise jql_error(f"The character '{text[pos]}' is a reserved JQL character.")
        pos = match.end()
        dq, sq, op, word = match.groups()
        tokens.append(("op", op) if op else ("word", word) if word is not None
                      else ("str", dq if dq is not None else sq))
    return tokens


def search(sim: Any, jql: str, now: int) -> list[dict]:
    groups, order = compile_jql(sim, jql or "", now)
    me = strings_of_user(sim.users[sim.bot_id])
    hits = [i for i in sim.issues.values()
            if not groups or any(all(clause_matches(sim, i, c, me) for c in g) for g in groups)]
    hits.sort(key=lambda i: int(i["id"]))
    for fid, desc in reversed(order):
        hits.sort(key=lambda i: sort_key(sim, i, fid), reverse=desc)
    return hits


def compile_jql(sim: Any, jql: str, now: int) -> tuple[list[list[tuple]], list[tuple[str, bool]]]:
    tokens, order = tokenize(jql), []
    words = [v.lower() if k == "word" else None for k, v in tokens]
    for i in range(len(tokens) - 1):
        if words[i] == "order" and words[i + 1] == "by":
            order = [(resolve_field(sim, t[1]), d) for t, d in order_terms(tokens[i + 2:])]
            tokens = tokens[:i]
            break
    groups, current, i = [], [], 0
    while i < len(tokens):
        clause, i = parse_clause(sim, tokens, i, now)
        current.append(clause)
        if i < len(tokens):
            joiner = tokens[i][1].lower() if tokens[i][0] == "word" else ""
            if joiner not in ("and", "or") or i + 1 == len(tokens):
                raise jql_error(f"Expecting either 'OR' or 'AND' but got '{tokens[i][1]}'.")
            if joiner == "or":
                groups.append(current)
                current = []
            i += 1
    return groups + ([current] if current else []), order


def order_terms(tokens: list) -> list[tuple[tuple, bool]]:
    terms, i = [], 0
    while i < len(tokens):
        field, i = tokens[i], i + 1
        desc = False
        if i < len(tokens) and tokens[i][1].lower() in ("asc", "desc"):
            desc, i = tokens[i][1].lower() == "desc", i + 1
        terms.append((field, desc))
        if i < len(tokens) and tokens[i] == ("op", ","):
            i += 1
    return terms


def parse_clause(sim: Any, tokens: list, i: int, now: int) -> tuple[tuple, int]:
    if tokens[i][0] == "op":
        raise jql_error(f"'{tokens[i][1]}' is not supported by the simulator here.")
    fid = resolve_field(sim, tokens[i][1])
    op, i = parse_operator(tokens, i + 1)
    if op in ("in", "not in"):
        values, i = parse_list(tokens, i)
    else:
        value, i = parse_value(tokens, i)
        values = [value]
    if op in ("is", "is not") and values[0].lower() not in ("empty", "null"):
        raise jql_error(f"'IS' needs EMPTY or NULL, not '{values[0]}'.")
    if fid in DATE_FIELDS and op not in ("is", "is not"):
        values = [jql_date(v, fid, now) for v in values]
    elif op in (">", ">=", "<", "<="):
        raise jql_error(f"The operator '{op}' is not supported by the '{fid}' field.")
    return (fid, op, values), i


def parse_operator(tokens: list, i: int) -> tuple[str, int]:
    kind, text = tokens[i] if i < len(tokens) else ("", "")
    low = text.lower()
    if kind == "op" and text in ("=", "!=", ">", ">=", "<", "<=", "~", "!~"):
        return text, i + 1
    nxt = tokens[i + 1][1].lower() if i + 1 < len(tokens) else ""
    if low == "in":
        return "in", i + 1
    if low in ("not", "is") and nxt in ("in", "not"):
        return f"{low} {nxt}", i + 2
    if low == "is":
        return "is", i + 1
    raise jql_error(f"Expecting operator but got '{text}'.")


def parse_value(tokens: list, i: int) -> tuple[str, int]:
    if i >= len(tokens) or tokens[i][0] == "op":
        raise jql_error("Expecting a value.")
    value = tokens[i][1]
    if tokens[i + 1:i + 3] == [("op", "("), ("op", ")")]:  # a function such as currentUser()
        return value.lower() + "()", i + 3
    return value, i + 1


def parse_list(tokens: list, i: int) -> tuple[list[str], int]:
    if tokens[i:i + 1] != [("op", "(")]:
        raise jql_error("Expecting '(' after IN.")
    values, i = [], i + 1
    while True:
        value, i = parse_value(tokens, i)
        values.append(value)
        if tokens[i:i + 1] == [("op", ")")]:
            return values, i + 1
        if tokens[i:i + 1] != [("op", ",")]:
            raise jql_error("Expecting ',' or ')' in the list.")
        i += 1


def resolve_field(sim: Any, name: str) -> str:
    low = ALIASES.get(name.lower(), name.lower())
    custom = re.fullmatch(r"cf\[(\d+)\]", low)
    candidates = [f"customfield_{custom[1]}"] if custom else [low]
    candidates += [f["id"] for f in sim.fields.values() if f["name"].lower() == low]
    for fid in candidates:
        if fid in sim.fields or fid in ("key", "id") or fid.startswith("issue.property["):
            return fid
    raise JiraError(400, [f"Field '{name}' does not exist or you do not have permission to view it."])


def jql_date(raw: str, fid: str, now: int) -> int:
    if raw == "now()":
        return now
    if re.fullmatch(r"\d{9,}", raw):
        return int(raw)
    period = re.fullmatch(r"([-+]?)(\d+)([wdhm])", raw)
    if period:
        delta = int(period[2]) * UNITS[period[3]]
        return now - delta if period[1] == "-" else now + delta
    for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
        try:
            return int(datetime.strptime(raw, fmt).replace(tzinfo=UTC).timestamp() * 1000)
        except ValueError:
            pass
    raise JiraError(400, [f"Date value '{raw}' for field '{fid}' is invalid. {DATE_HELP}"])


def strings_of(value: Any) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, list):
        return set().union(*map(strings_of, value)) if value else set()
    if isinstance(value, dict):
        found = {str(value[k]).lower() for k in ("id", "key", "name", "value") if value.get(k) is not None}
        return found | strings_of(value.get("requestType"))
    return {str(value).lower()}


def strings_of_user(user: dict | None) -> set[str]:
    keys = ("accountId", "name", "key", "emailAddress", "displayName")
    return {str(user[k]).lower() for k in keys} if user else set()


def field_strings(sim: Any, issue: dict, fid: str) -> set[str]:
    if fid == "key":
        return {issue["key"].lower(), issue["id"]}
    if fid == "id":
        return {issue["id"]}
    if fid.startswith("issue.property["):
        prop, _, path = fid[len("issue.property["):].partition("]")
        value: Any = issue["properties"].get(prop)
        for part in filter(None, path.split(".")):
            value = value.get(part) if isinstance(value, dict) else None
        return strings_of(value)
    value = issue["fields"].get(fid)
    if fid in USER_FIELDS or fid == PARTICIPANTS:
        ids = value if isinstance(value, list) else [value]
        return set().union(*(strings_of_user(sim.users.get(a)) for a in ids if a))
    return strings_of(value)


def clause_matches(sim: Any, issue: dict, clause: tuple, me: set[str]) -> bool:
    fid, op, values = clause
    actual = field_strings(sim, issue, fid)
    if op in ("is", "is not"):
        return (not actual) == (op == "is")
    if not actual:  # JQL comparisons, negations included, never match an EMPTY field
        return False
    if fid in DATE_FIELDS:
        stamp, wanted = parse_time(issue["fields"][fid]), values[0]
        return {"=": stamp == wanted, "!=": stamp != wanted, ">": stamp > wanted,
                ">=": stamp >= wanted, "<": stamp < wanted, "<=": stamp <= wanted, "in": stamp in values,
                "not in": stamp not in values, "~": False, "!~": False}[op]
    wanted = set().union(*(me if v == "currentuser()" else {v.lower()} for v in values))
    if op in ("~", "!~"):
        hit = any(w.strip("*") in a for a in actual for w in wanted)
        return hit == (op == "~")
    return bool(actual & wanted) == (op in ("=", "in"))


def sort_key(sim: Any, issue: dict, fid: str) -> Any:
    if fid in DATE_FIELDS:
        return parse_time(issue["fields"][fid]) if issue["fields"].get(fid) else 0
    if fid in ("key", "id"):
        return int(issue["id"])
    return sorted(field_strings(sim, issue, fid))
