"""The directory facts read from the record current_state already holds: Zammad's
`?all=true` answer and Jira's issue fields, taken from the simulators (real shapes),
then bent one way per row. A record that cannot be read is a failed lookup."""
from __future__ import annotations

import copy

import pytest

from plugin.simulators.jira import JiraSimulator
from plugin.simulators.jira_views import issue_view
from plugin.simulators.zammad import ZammadSimulator
from plugin.verify.directory import directory_of


@pytest.fixture(scope="module")
def zammad_all():
    return ZammadSimulator().ticket_all(1042)      # Emily Adams, Acme Corp (acme.example), e-mail


@pytest.fixture(scope="module")
def jira_fields():
    sim = JiraSimulator()
    key = sim.create_request("VPN down", "error 809", "li.na@acme.example", "Li Na", organization="ACME")
    return issue_view(sim, sim.issues[key], 3, "reporter,creator,customfield_10002,issuelinks")


def _user(raw):
    return raw["assets"]["User"]["27"]


def _first(raw):
    return raw["assets"]["TicketArticle"]["3311"]


ZAMMAD = [
    ("as-is", lambda r: None, {"status": "ok", "requester_found": True, "email": "emily.adams@acme.example",
                               "organization": "Acme Corp", "org_domains": ("acme.example",),
                               "sender_kind": "message", "sender_address": "emily.adams@acme.example",
                               "sender_name": "Emily Adams", "active": True}),
    ("inactive", lambda r: _user(r).update(active=False), {"active": False}),
    ("no-customer", lambda r: r["assets"]["User"].pop("27"), {"status": "ok", "requester_found": False}),
    ("nobody", lambda r: r["assets"]["Ticket"]["1042"].update(customer_id=1), {"requester_found": False}),
    ("no-organization", lambda r: (r["assets"]["Ticket"]["1042"].update(organization_id=None),
                                   _user(r).update(organization_id=None)), {"organization": "", "org_domains": ()}),
    ("no-email", lambda r: _user(r).update(email=""), {"email": "", "sender_address": "emily.adams@acme.example"}),
    ("web-form", lambda r: _first(r).update(type="web", **{"from": "Emily Adams"}),
     {"sender_kind": "account", "sender_address": "emily.adams@acme.example"}),
    ("agent-phone", lambda r: _first(r).update(sender="Agent", type="phone", **{"from": "Emma Taylor"}),
     {"sender_kind": "agent"}),
    ("sender-ids-only", lambda r: (_first(r).pop("sender"), _first(r).update(sender_id=2)),
     {"sender_kind": "message"}),
    ("no-articles", lambda r: r["assets"].update(TicketArticle={}), {"sender_kind": "", "requester_found": True}),
    ("no-assets", lambda r: r.pop("assets"), {"status": "failed"}),
    ("garbage-ticket", lambda r: r["assets"].update(Ticket={"1042": "?"}), {"status": "failed"}),
]


@pytest.mark.parametrize("bend,expected", [c[1:] for c in ZAMMAD], ids=[c[0] for c in ZAMMAD])
def test_zammad_directory(zammad_all, bend, expected):
    raw = copy.deepcopy(zammad_all)
    bend(raw)
    d = directory_of("zammad", raw)
    assert {k: getattr(d, k) for k in expected} == expected
    if d.status == "failed":
        assert d.error


def _reporter(f):
    return f["fields"]["reporter"]


JIRA = [
    ("as-is", lambda f: None, {"status": "ok", "requester_found": True, "email": "li.na@acme.example",
                               "organization": "ACME", "org_domains": (), "sender_kind": "account",
                               "sender_address": "li.na@acme.example", "name": "Li Na"}),
    ("email-hidden", lambda f: _reporter(f).pop("emailAddress"), {"email": "", "sender_address": ""}),
    ("no-organization", lambda f: f["fields"].update(customfield_10002=[]), {"organization": ""}),
    ("no-reporter", lambda f: f["fields"].update(reporter=None), {"requester_found": False}),
    ("inactive", lambda f: _reporter(f).update(active=False), {"active": False}),
    ("raised-by-agent", lambda f: f["fields"].update(creator={"accountId": "5b10a2844c20165700ede21g",
                                                              "accountType": "atlassian",
                                                              "displayName": "Alex Agent"}),
     {"sender_kind": "agent"}),
    ("no-fields", lambda f: f.pop("fields"), {"status": "failed"}),
]


@pytest.mark.parametrize("bend,expected", [c[1:] for c in JIRA], ids=[c[0] for c in JIRA])
def test_jira_directory(jira_fields, bend, expected):
    raw = copy.deepcopy(jira_fields)
    bend(raw)
    d = directory_of("jira", {"fields": raw["fields"]} if "fields" in raw else {"x": 1})
    assert {k: getattr(d, k) for k in expected} == expected


@pytest.mark.parametrize("platform,raw", [("zammad", {}), ("zammad", None), ("servicenow", {"a": 1})])
def test_nothing_read_is_a_failed_lookup_not_a_crash(platform, raw):
    d = directory_of(platform, raw)
    assert d.status == "failed" and d.error and not d.requester_found
