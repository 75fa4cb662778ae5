"""The Zammad simulator's ticket search: the Elasticsearch-style query subset the
service sends (`field:value`, `field:>=time`, `field:[a TO b]`, AND, NOT)."""
from __future__ import annotations

import json
import operator
import re
from typing import Any

from .zammad_base import parse_time

_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}
_TERM = re.compile(r"(?P<neg>NOT\s+|-)?(?:(?P<field>[A-Za-z_][\w.]*):)?(?P<op>>=|<=|>|<)?(?P<value>.*)")


class TicketSearch:
    """ZammadSimulator's search (a mixin; the tables are SimState's)."""

    def search(self, query: str) -> list[int]:
        terms = [q for q in re.split(r"\s+AND\s+", query.strip()) if q not in ("", "*")]
        # A time column needs no re-sync of the ticket's nested records: syncing every
        # ticket for every query made one search over 10,000 tickets take seconds.
        return [tid for tid, t in self.tickets.items()
                if all(self._term_ok(t if _time_term(term) else self.sync_ticket(t), term) for term in terms)]

    def _term_ok(self, t: dict, term: str) -> bool:
        m = _TERM.fullmatch(term)
        field, op, value = m["field"], m["op"], m["value"].replace("\\", "").strip('"')
        if field is None:
            ok = value.lower() in f"{t['title']} {t['number']}".lower()
        else:
            actual: Any = t
            for part in field.split("."):  # dotted paths reach nested records: customer.email
                if isinstance(actual, str) and part == "name":
                    continue   # the search index nests state/priority names: state.name:closed
                actual = actual.get(part) if isinstance(actual, dict) else None
            actual = self.tags.get(t["id"], []) if field == "tags" else actual
            ok = _field_matches(actual, op, value)
        return not ok if m["neg"] else ok


def _time_term(term: str) -> bool:
    field = _TERM.fullmatch(term)["field"]
    return bool(field) and "." not in field and field.endswith("_at")


def _field_matches(actual: Any, op: str | None, value: str) -> bool:
    """One Elasticsearch-style term: `field:>=x`, `field:[a TO b]`, `field:*`, `field:x`."""
    if value.startswith("[") and value.endswith("]"):
        low, _, high = value[1:-1].partition(" TO ")
        return all(v.strip() == "*" or _field_matches(actual, o, v.strip())
                   for o, v in ((">=", low), ("<=", high)))
    if op:
        if actual is None:
            return False
        left, right = parse_time(actual), parse_time(value)
        if left is None or right is None:
            try:
                left, right = float(actual), float(value)
            except (TypeError, ValueError):
                left, right = str(actual), value
        return _OPS[op](left, right)
    if value == "*":
        return actual not in (None, "", [], {})
    if isinstance(actual, list):
        return value.lower() in (str(x).lower() for x in actual)
    return json.dumps(actual).strip('"').lower() == value.lower()

