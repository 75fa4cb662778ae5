"""Table tests of the pure timeline builders, on records shaped like the platforms' own
(the shared fixtures, reshaped into the REST answers the clients read)."""
from __future__ import annotations

import copy
import itertools
import json
from datetime import UTC, datetime

import pytest

from plugin.timeline import jira_timeline, waiting_periods, zammad_timeline

from .conftest import JIRA_FIXTURES, ZAMMAD_FIXTURES

BOT, AGENT, CUSTOMER = 90, 5, 27
IDS = itertools.count(7001)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# -- Zammad -----------------------------------------------------------------------------

def zammad_raw(articles: list[dict] | None = None) -> dict:
    """`GET /tickets/1042?all=true` built from fixture 02: assets keep ids, not nested records."""
    doc = json.loads((ZAMMAD_FIXTURES / "02_ticket_update_agent_reply.json").read_text("utf-8"))
    ticket = {k: v for k, v in doc["ticket"].items() if not isinstance(v, dict)}
    reply = {k: v for k, v in doc["article"].items() if not isinstance(v, dict)}
    arts = [reply] if articles is None else articles
    return {"ticket_id": 1042, "ticket_article_ids": [a["id"] for a in arts],
            "assets": {"Ticket": {"1042": ticket}, "TicketArticle": {str(a["id"]): a for a in arts}},
            "tags": [], "links": [], "mentions": [], "time_accountings": []}


def zh(when: str, old: str, new: str, by: int = AGENT) -> dict:
    """One `ticket_history` entry for a state change, as History.list renders it."""
    return {"id": next(IDS), "o_id": 1042, "object": "Ticket", "type": "updated",
            "attribute": "state", "value_from": old, "value_to": new, "created_by_id": by,
            "created_at": when}


def article(aid: int, when: str, by: int, sender: str | None, internal: bool, **extra) -> dict:
    rec = {"id": aid, "ticket_id": 1042, "created_by_id": by, "created_at": when,
           "internal": internal, "type": "email", "body": "…"}
    return {**rec, **({"sender": sender} if sender else {}), **extra}


LIFECYCLE = [  # new → open → pending → open → closed → open (reopen) → closed; Beijing time
    zh("2025-03-10T16:40:00.000+08:00", "new", "open"),
    zh("2025-03-10T17:00:00.000+08:00", "open", "pending reminder"),
    zh("2025-03-11T09:30:00.000+0800", "pending reminder", "open", by=CUSTOMER),
    zh("2025-03-11T10:00:00.000+08:00", "open", "closed"),
    zh("2025-03-12T08:00:00.000+08:00", "closed", "open", by=CUSTOMER),
    zh("2025-03-12T11:00:00.000+08:00", "open", "closed"),
]

ZAMMAD_CASES = [
    ("lifecycle", LIFECYCLE, {},
     ["created", "state", "first_reply", "state", "pending", "state", "resumed", "state", "resolved",
      "closed", "state", "reopened", "state", "resolved", "closed"]),
    ("pending close ends by closing", [
        zh("2025-03-10T09:00:00Z", "new", "pending close"),
        zh("2025-03-13T09:00:00Z", "pending close", "closed", by=1)], {},
     ["created", "first_reply", "state", "pending", "state", "resolved", "closed"]),
    ("a merge closes but solves nothing", [zh("2025-03-10T09:00:00Z", "new", "merged")], {},
     ["created", "first_reply", "state", "closed"]),
    ("custom pending state", [zh("2025-03-10T09:00:00Z", "open", "awaiting parts"),
                              zh("2025-03-11T09:00:00Z", "awaiting parts", "open")],
     {"awaiting parts": "pending"},
     ["created", "first_reply", "state", "pending", "state", "resumed"]),
]


@pytest.mark.parametrize("history, states, kinds", [c[1:] for c in ZAMMAD_CASES],
                         ids=[c[0] for c in ZAMMAD_CASES])
def test_zammad_kinds(history, states, kinds):
    tl = zammad_timeline(zammad_raw(), {"history": history, "assets": {}},
                         states=states, bot_id=BOT)
    assert [e.kind for e in tl.events] == kinds
    assert tl.complete


def test_zammad_lifecycle_times_are_utc_and_ordered():
    tl = zammad_timeline(zammad_raw(), {"history": LIFECYCLE}, bot_id=BOT)
    assert all(e.at.utcoffset().total_seconds() == 0 for e in tl.events)
    assert [e.at for e in tl.events] == sorted(e.at for e in tl.events)
    created = tl.first("created")
    assert (created.at, created.by, created.state) == (at("2025-03-10T08:15:02.117Z"), "27", "new")
    assert tl.first("pending").at == at("2025-03-10T09:00:00Z")        # 17:00 in +08:00
    assert tl.first("resumed").at == at("2025-03-11T01:30:00Z")        # +0800 without a colon
    assert (tl.first("reopened").by, tl.first("reopened").old_state) == ("27", "closed")
    assert [e.at for e in tl.of("closed")] == [at("2025-03-11T02:00:00Z"), at("2025-03-12T03:00:00Z")]
    assert waiting_periods(tl) == [(at("2025-03-10T09:00:00Z"), at("2025-03-11T01:30:00Z"))]
    assert tl.sla["first_response_at"] == at("2025-03-10T08:52:40.518Z")


def test_zammad_first_public_agent_reply_skips_notes_customers_and_the_bot():
    arts = [article(1, "2025-03-10T08:15:02Z", CUSTOMER, "Customer", False),
            article(2, "2025-03-10T08:20:00Z", AGENT, "Agent", True, type="note"),
            article(3, "2025-03-10T08:21:00Z", BOT, "Agent", False, type="note"),
            article(4, "2025-03-10T08:30:00+08:00", AGENT, None, False, sender_id=1),  # assets: ids only
            article(5, "2025-03-10T08:52:40Z", AGENT, "Agent", False),
            article(6, "2025-03-10T09:00:00Z", 1, "System", False)]
    tl = zammad_timeline(zammad_raw(arts), {"history": []}, bot_id=str(BOT))
    assert [(e.kind, e.by, e.at) for e in tl.events if "reply" in e.kind] == [
        ("first_reply", "5", at("2025-03-10T00:30:00Z")), ("reply", "5", at("2025-03-10T08:52:40Z"))]


@pytest.mark.parametrize("raw, history", [
    ({}, {"history": LIFECYCLE}),                       # no ticket in the answer
    (None, None),
    ("<html>", {"history": "nope"}),
    (zammad_raw(), None),                                # the history call gave nothing
    (zammad_raw(), {"history": [None, 7, zh("yesterday", "open", "closed")]}),
])
def test_zammad_odd_input_is_incomplete_not_an_error(raw, history):
    tl = zammad_timeline(raw, history)
    assert tl.complete is False
    assert all(isinstance(e.at, datetime) for e in tl.events)


def test_zammad_without_articles_uses_the_first_response_column():
    raw = zammad_raw()
    raw["assets"].pop("TicketArticle")
    tl = zammad_timeline(raw, {"history": []})
    assert tl.first("first_reply").at == at("2025-03-10T08:52:40.518Z")


def test_zammad_odd_kpi_column_is_skipped():
    raw = zammad_raw()
    raw["assets"]["Ticket"]["1042"].update(close_at="soon", first_response_in_min="37")
    tl = zammad_timeline(raw, {"history": []})
    assert "close_at" not in tl.sla and "first_response_in_min" not in tl.sla
    assert tl.complete is False


# -- Jira -------------------------------------------------------------------------------

def jira_fields() -> dict:
    """The issue's fields as the REST GET returns them (fixture issue_created_jsm)."""
    doc = json.loads((JIRA_FIXTURES / "issue_created_jsm.json").read_text("utf-8"))
    return copy.deepcopy(doc["issue"]["fields"])


def user(name: str, kind: str | None = "atlassian", dc: bool = False) -> dict:
    ident = {"name": name, "key": f"JIRAUSER-{name}"} if dc else {"accountId": f"id-{name}"}
    return {**ident, "displayName": name.title(), **({"accountType": kind} if kind and not dc else {})}


def entry(when: str, *items: dict, who: dict | None = None) -> dict:
    return {"id": str(next(IDS)), "author": who or user("alex"),
            "created": when, "items": list(items)}


def status(old: str, new: str) -> dict:
    return {"field": "status", "fieldtype": "jira", "fieldId": "status", "from": "1", "fromString": old,
            "to": "2", "toString": new}


def resolution(old: str | None, new: str | None) -> dict:
    return {"field": "resolution", "fieldtype": "jira", "fieldId": "resolution", "from": old and "10000",
            "fromString": old, "to": new and "10000", "toString": new}


DC_LIFECYCLE = [  # a Data Center in Beijing: every time in +0800
    entry("2026-01-09T18:35:00.000+0800", status("Waiting for support", "In Progress")),
    entry("2026-01-09T19:00:00.000+0800", status("In Progress", "Waiting for customer")),
    entry("2026-01-10T09:00:00.000+0800", status("Waiting for customer", "In Progress"),
          who=user("dana", "customer")),
    entry("2026-01-10T10:00:00.000+0800", status("In Progress", "Resolved"), resolution(None, "Done")),
    entry("2026-01-12T10:00:00.000+0800", status("Resolved", "Closed")),
    entry("2026-01-13T10:00:00.000+0800", status("Closed", "In Progress"), resolution("Done", None)),
    entry("2026-01-13T15:00:00.000+0800", status("In Progress", "Resolved"), resolution(None, "Done")),
]

JIRA_CASES = [
    ("lifecycle", DC_LIFECYCLE,
     ["created", "state", "state", "pending", "state", "resumed", "state", "resolved", "state", "closed",
      "state", "reopened", "state", "resolved"]),
    ("newest first, as expand=changelog gives it", list(reversed(DC_LIFECYCLE[:4])),
     ["created", "state", "state", "pending", "state", "resumed", "state", "resolved"]),
    ("creation items are no change", [entry("2026-01-09T10:00:00.123+0000", status(None, "Waiting for support"))],
     ["created"]),
    ("resolution alone", [entry("2026-01-10T10:00:00Z", resolution(None, "Won't Do")),
                          entry("2026-01-11T10:00:00Z", resolution("Won't Do", None))],
     ["created", "resolved", "reopened"]),
    ("canceled straight from pending", [entry("2026-01-10T10:00:00Z", status("Waiting for support", "Pending")),
                                        entry("2026-01-11T10:00:00Z", status("Pending", "Canceled"))],
     ["created", "state", "pending", "state", "resolved", "closed"]),
    ("other fields only", [entry("2026-01-10T10:00:00Z", {"field": "labels", "fromString": "", "toString": "vpn"})],
     ["created"]),
]


@pytest.mark.parametrize("values, kinds", [c[1:] for c in JIRA_CASES], ids=[c[0] for c in JIRA_CASES])
def test_jira_kinds(values, kinds):
    tl = jira_timeline(jira_fields(), values, bot_id="bot")
    assert [e.kind for e in tl.events] == kinds
    assert tl.complete


def test_jira_lifecycle_times_are_utc_and_waiting_is_measured():
    tl = jira_timeline(jira_fields(), DC_LIFECYCLE)
    assert all(e.at.tzinfo == UTC for e in tl.events)
    assert tl.first("created").at == at("2026-01-09T10:00:00.123Z")
    assert tl.first("created").state == "Waiting for support"
    assert [e.at for e in tl.of("resolved")] == [at("2026-01-10T02:00:00Z"), at("2026-01-13T07:00:00Z")]
    assert waiting_periods(tl) == [(at("2026-01-09T11:00:00Z"), at("2026-01-10T01:00:00Z"))]
    assert tl.first("resumed").by == "id-dana"
    reopened = tl.first("reopened")
    assert (reopened.old_state, reopened.state) == ("Closed", "In Progress")


def comment(cid: str, when: str, author: dict, **flags) -> dict:
    return {"id": cid, "author": author, "body": "…", "created": when, "updated": when, **flags}


def test_jira_first_public_agent_reply():
    f = jira_fields()
    dana = f["reporter"]
    f["comment"] = {"startAt": 0, "maxResults": 8, "total": 8, "comments": [
        comment("1", "2026-01-09T10:05:00.000+0000", dana, jsdPublic=True),
        comment("2", "2026-01-09T10:06:00.000+0000", user("alex"), jsdPublic=False),
        comment("3", "2026-01-09T10:07:00.000+0000", user("alex"),
                properties=[{"key": "sd.public.comment", "value": {"internal": True}}]),
        comment("4", "2026-01-09T10:08:00.000+0000", user("alex"), visibility={"type": "role", "value": "Dev"}),
        comment("5", "2026-01-09T10:09:00.000+0000", user("bot", "app"), jsdPublic=True),
        comment("6", "2026-01-09T18:20:00.000+0800", user("alex"), jsdPublic=True),
        comment("7", "2026-01-09T10:30:00.000+0000", user("alex"),
                properties=[{"key": "sd.public.comment", "value": {"internal": False}}]),
        comment("8", "2026-01-09T10:31:00.000+0000", {"displayName": "no id"}),
    ]}
    tl = jira_timeline(f, [], bot_id="id-bot")
    assert [(e.kind, e.at) for e in tl.events if "reply" in e.kind] == [
        ("first_reply", at("2026-01-09T10:20:00Z")), ("reply", at("2026-01-09T10:30:00Z"))]


def test_jira_data_center_reporter_is_the_customer():
    f = jira_fields()
    f["reporter"] = user("dana", dc=True)
    f["comment"] = {"total": 2, "comments": [
        comment("1", "2026-01-09T18:05:00.000+0800", user("dana", dc=True)),
        comment("2", "2026-01-09T18:30:00.000+0800", user("alex", dc=True))]}
    tl = jira_timeline(f, [], bot_id="enricher-bot")
    assert [(e.kind, e.by) for e in tl.events if "reply" in e.kind] == [("first_reply", "alex")]


def test_jira_sla_fields_are_read_by_name():
    doc = json.loads((JIRA_FIXTURES / "issue_updated_status.json").read_text("utf-8"))
    f = doc["issue"]["fields"]
    tl = jira_timeline(f, [], sla_names={"customfield_10031": "Time to first response",
                                         "customfield_10030": "Time to resolution"})
    ttfr, ttr = tl.sla["Time to first response"], tl.sla["Time to resolution"]
    assert (ttfr["running"], ttfr["breached"], ttfr["cycles"][0]["elapsed_ms"]) == (False, False, 2100000)
    assert ttfr["cycles"][0]["stop"] == at("2026-01-09T10:35:00.123Z")
    assert ttr["running"] and ttr["breach_at"] == at("2026-01-10T10:00:00.123Z")
    assert tl.complete


@pytest.mark.parametrize("odd", ["Time to resolution", {"completedCycles": "x"},
                                 {"ongoingCycle": [1, 2]}, {"completedCycles": [None]}])
def test_jira_odd_sla_shapes_make_it_incomplete(odd):
    f = jira_fields()
    f["customfield_10030"] = odd
    tl = jira_timeline(f, [], sla_names={"customfield_10030": "Time to resolution"})
    assert tl.complete is False
    assert "Time to resolution" not in tl.sla and "Time to first response" in tl.sla


def test_jira_missing_changelog_falls_back_to_the_resolution_date():
    f = jira_fields()
    f.update(resolution={"id": "10000", "name": "Done"}, resolutiondate="2026-01-10T18:00:00.000+0800",
             status={"name": "Resolved", "statusCategory": {"key": "done"}})
    tl = jira_timeline(f, None)
    assert tl.complete is False
    assert tl.first("resolved").at == at("2026-01-10T10:00:00Z")


def test_jira_cut_comment_page_is_incomplete():
    f = jira_fields()
    f["comment"] = {"total": 60, "comments": []}
    assert jira_timeline(f, []).complete is False


def test_jira_current_status_category_names_an_unknown_status():
    f = jira_fields()
    f["status"] = {"name": "Fertig", "statusCategory": {"key": "done"}}
    tl = jira_timeline(f, [entry("2026-01-10T10:00:00Z", status("In Progress", "Fertig"))])
    assert [e.kind for e in tl.events] == ["created", "state", "resolved"]


@pytest.mark.parametrize("fields, values", [
    (None, None), ({}, "nope"), ({"created": 12.5e30}, [None, {"items": "x"}]),
    (jira_fields(), [entry("not a time", status("In Progress", "Resolved"))]),
    ({"created": True, "comment": {"comments": [{"author": "x"}]}, "status": "Open"}, []),
])
def test_jira_odd_input_is_incomplete_not_an_error(fields, values):
    tl = jira_timeline(fields, values)
    assert tl.complete is False


def test_waiting_period_still_open():
    tl = jira_timeline(jira_fields(), DC_LIFECYCLE[:2])
    assert waiting_periods(tl) == [(at("2026-01-09T11:00:00Z"), None)]
