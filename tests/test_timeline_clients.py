"""The clients' timeline: one GET more than current_state (Jira: more only past a page
of history), every time in UTC; against the simulators and against answers shaped like
the platforms' own (shared fixtures, served with `responses`)."""
from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
import responses
from responses.matchers import query_param_matcher

from plugin.hooks.base import CurrentState
from plugin.hooks.jira_api import JiraClient
from plugin.hooks.zammad_api import ZammadClient
from plugin.simulators.jira import JiraSimulator
from plugin.simulators.jira_base import AGENT_ID
from plugin.simulators.jira_fields import catalogue
from plugin.simulators.zammad import ZammadSimulator
from plugin.timeline import waiting_periods

from .conftest import JIRA_FIXTURES
from .test_timeline import at, zammad_raw

LIFECYCLE = ("open", "pending reminder", "open", "closed", "open", "closed")
JIRA_LIFECYCLE = ("In Progress", "Waiting for customer", "In Progress", "Resolved", "Closed", "In Progress",
                  "Resolved")
ALEX = "alex.agent@example-co.com"


def calls(client) -> list[tuple[str, str]]:
    return [(c.method, c.path) for c in client.take_calls()]


def utc_only(tl) -> bool:
    return all(e.at.utcoffset() == timedelta(0) for e in tl.events)


# -- against the simulators -------------------------------------------------------------

@pytest.fixture
def zsim():
    with ZammadSimulator(token="t-1") as sim:
        ticks, start = itertools.count(), datetime(2025, 3, 12, 1, tzinfo=UTC)
        sim.now = lambda: (start + timedelta(minutes=next(ticks))).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        yield sim


def test_zammad_timeline_is_one_get_more(zsim):
    client = ZammadClient(zsim.base_url, "t-1", retries=0)
    client.request("POST", "/ticket_articles", json={"ticket_id": 1042, "type": "web", "internal": False,
                                                     "body": "Received: we answer within 4 hours."})
    zsim.reply(1042, "internal hint", internal=True, kind="note")
    for state in LIFECYCLE[:2]:
        zsim.agent_update(1042, state=state)
    zsim.reply(1042, "We reset your VPN profile; does it work now?")
    for state in LIFECYCLE[2:]:
        zsim.agent_update(1042, state=state)
    current, bot = client.current_state("1042"), client.bot_id()
    calls(client)
    tl = client.timeline("1042", current, bot_id=bot)
    assert calls(client) == [("GET", "/ticket_history/1042")]
    assert [e.kind for e in tl.events] == [
        "created", "state", "state", "pending", "first_reply", "state", "resumed", "state", "resolved",
        "closed", "state", "reopened", "state", "resolved", "closed"]
    assert tl.complete and utc_only(tl)
    assert tl.first("first_reply").by == "5"          # Emma, not the bot's acknowledgement
    (start, end), = waiting_periods(tl)
    assert end - start == timedelta(minutes=2)
    assert tl.sla["close_at"] == tl.first("closed").at


def test_zammad_timeline_without_bot_id_asks_once_per_client(zsim):
    client = ZammadClient(zsim.base_url, "t-1", retries=0)
    current = client.current_state("1042")
    calls(client)
    client.timeline("1042", current)
    client.timeline("1042", current)
    assert calls(client) == [("GET", "/users/me"), ("GET", "/ticket_history/1042"),
                             ("GET", "/ticket_history/1042")]


def jira_sim(flavor: str) -> JiraSimulator:
    sim = JiraSimulator(flavor=flavor)
    ticks = itertools.count()
    sim.clock = lambda: 1767952800123 + 60000 * next(ticks)
    return sim


def jira_client(sim) -> JiraClient:
    client = JiraClient(sim.base_url, sim.api_token, user=sim.email, flavor=sim.flavor, retries=0)
    client.bot_id()          # cached per client, as the worker's is
    return client


@pytest.mark.parametrize("flavor, path", [("cloud", "/rest/api/3/issue/{key}/changelog"),
                                          ("dc", "/rest/api/2/issue/{key}")])
def test_jira_timeline_is_one_get_more(flavor, path):
    with jira_sim(flavor) as sim:
        key = sim.create_request("VPN down", "error 809", "dana.customer@example.org")
        sim.add_comment(key, "ping?")                                   # the customer
        sim.agent_update(key, status="In Progress")
        sim.add_comment(key, "checking logs", public=False, author=ALEX)
        sim.add_comment(key, "Please try again now.", author=ALEX)
        for status in JIRA_LIFECYCLE[1:]:
            sim.agent_update(key, status=status)
        client = jira_client(sim)
        current = client.current_state(key)
        calls(client)
        tl = client.timeline(key, current)
        assert calls(client) == [("GET", path.format(key=key))]
    assert [e.kind for e in tl.events] == [
        "created", "state", "first_reply", "state", "pending", "state", "resumed", "state", "resolved",
        "state", "closed", "state", "reopened", "state", "resolved"]
    assert tl.first("first_reply").by == (AGENT_ID if flavor == "cloud" else "alex.agent")
    assert tl.complete and utc_only(tl)
    assert set(tl.sla) == {"Time to first response", "Time to resolution"}
    assert tl.sla["Time to first response"]["cycles"][0]["stop"] == tl.first("state").at


def test_jira_cloud_reads_a_second_page_only_past_the_first():
    with jira_sim("cloud") as sim:
        key = sim.create_request("Flapping VPN", "up and down", "dana.customer@example.org")
        for n in range(100):
            sim.agent_update(key, labels=[f"flap-{n}"])
        sim.agent_update(key, status="Resolved")
        client = jira_client(sim)
        current = client.current_state(key)
        calls(client)
        tl = client.timeline(key, current)
        assert calls(client) == [("GET", f"/rest/api/3/issue/{key}/changelog")] * 2
        assert tl.complete and [e.kind for e in tl.events][-2:] == ["state", "resolved"]
        values, complete = client.changelog(key, per_page=40)
        assert (len(values), complete, len(calls(client))) == (102, True, 3)


# -- against answers shaped like the platforms' own ----------------------------------

ZAMMAD = "http://zammad.test/api/v1"
ZAMMAD_HISTORY = {"history": [  # History.list rows for fixture 02's ticket (keys as Zammad drops them)
    {"id": 95501, "o_id": 1042, "created_by_id": 27, "created_at": "2025-03-10T08:15:02.117Z",
     "object": "Ticket", "type": "created"},
    {"id": 95502, "o_id": 3311, "related_o_id": 1042, "created_by_id": 27,
     "created_at": "2025-03-10T08:15:02.160Z", "object": "Ticket::Article", "type": "created",
     "related_object": "Ticket"},
    {"id": 95503, "o_id": 1042, "value_from": "", "value_to": "emily.adams@acme.example (ticket_auto_reply)",
     "created_by_id": 1, "created_at": "2025-03-10T08:15:04.002Z", "object": "Ticket", "type": "email"},
    {"id": 95510, "o_id": 1042, "id_to": 5, "id_from": 1, "value_from": "-", "value_to": "Emma Taylor",
     "created_by_id": 5, "created_at": "2025-03-10T08:52:40.611Z", "object": "Ticket", "type": "updated",
     "attribute": "owner"},
    {"id": 95511, "o_id": 1042, "id_to": 2, "id_from": 1, "value_from": "new", "value_to": "open",
     "created_by_id": 5, "created_at": "2025-03-10T08:52:40.611Z", "object": "Ticket", "type": "updated",
     "attribute": "state", "sourceable_type": None, "sourceable_id": None, "sourceable_name": None},
    {"id": 95512, "o_id": 1042, "id_to": 7, "id_from": 2, "value_from": "open", "value_to": "pending close",
     "created_by_id": 5, "created_at": "2025-03-10T17:10:00.000+08:00", "object": "Ticket",
     "type": "updated", "attribute": "state"},
    {"id": 95530, "o_id": 1042, "id_to": 4, "id_from": 7, "value_from": "pending close", "value_to": "closed",
     "created_by_id": 1, "created_at": "2025-03-13T09:10:00.000Z", "object": "Ticket", "type": "updated",
     "attribute": "state", "sourceable_type": "Job", "sourceable_id": 1, "sourceable_name": "auto close"},
], "assets": {}}


def test_zammad_real_shapes_one_get_more():
    client = ZammadClient("http://zammad.test", "tok-123456", retries=0)
    raw = zammad_raw()
    with responses.RequestsMock() as rsps:
        rsps.get(f"{ZAMMAD}/tickets/1042", json=raw, match=[query_param_matcher({"all": "true"})])
        current = client.current_state("1042")
        rsps.get(f"{ZAMMAD}/ticket_history/1042", json=ZAMMAD_HISTORY)
        tl = client.timeline("1042", current, bot_id="90")
        assert len(rsps.calls) == 2
    assert [e.kind for e in tl.events] == ["created", "first_reply", "state", "state", "pending", "state",
                                           "resolved", "closed"]
    assert tl.first("pending").at == at("2025-03-10T09:10:00Z")
    assert waiting_periods(tl) == [(at("2025-03-10T09:10:00Z"), at("2025-03-13T09:10:00Z"))]
    assert tl.sla["first_response_in_min"] == raw["assets"]["Ticket"]["1042"]["first_response_in_min"]
    assert tl.complete and utc_only(tl)


@pytest.mark.parametrize("odd", [{"history": None}, {"error": "?"}, ["not", "rows"]])
def test_zammad_odd_history_answer_is_incomplete(odd):
    client = ZammadClient("http://zammad.test", "tok-123456", retries=0)
    with responses.RequestsMock() as rsps:
        rsps.get(f"{ZAMMAD}/tickets/1042", json=zammad_raw())
        rsps.get(f"{ZAMMAD}/ticket_history/1042", json=odd)
        tl = client.timeline("1042", client.current_state("1042"), bot_id="90")
    assert tl.complete is False and tl.first("created") is not None


JIRA = "http://jira.test"


def jira_issue() -> dict:
    doc = json.loads((JIRA_FIXTURES / "issue_updated_status.json").read_text("utf-8"))
    comment = json.loads((JIRA_FIXTURES / "comment_created.json").read_text("utf-8"))["comment"]
    agent = doc["user"]
    reply = {**comment, "id": "10134", "author": agent, "updateAuthor": agent, "jsdPublic": True,
             "body": "Please reinstall the VPN client.", "created": "2026-01-09T10:40:00.000+0000"}
    doc["issue"]["fields"]["comment"] = {"comments": [comment, reply], "maxResults": 2, "total": 2, "startAt": 0}
    return {"id": doc["issue"]["id"], "key": doc["issue"]["key"], "fields": doc["issue"]["fields"]}


def changelog_entry(hid: str, when: str, old: str, new: str, author: dict) -> dict:
    return {"id": hid, "author": author, "created": when, "items": [
        {"field": "status", "fieldtype": "jira", "fieldId": "status", "from": "1", "fromString": old,
         "to": "2", "toString": new}]}


def test_jira_cloud_real_shapes_page_twice():
    client = JiraClient(JIRA, "tok", user="bot@example-co.com", flavor="cloud", retries=0)
    issue = jira_issue()
    agent = json.loads((JIRA_FIXTURES / "issue_updated_status.json").read_text("utf-8"))["user"]
    created = json.loads((JIRA_FIXTURES / "issue_created_jsm.json").read_text("utf-8"))["changelog"]
    entries = [{"id": created["id"], "author": issue["fields"]["reporter"], "created": issue["fields"]["created"],
                "items": created["items"]},
               changelog_entry("10719", "2026-01-09T10:35:00.456+0000", "Waiting for support", "In Progress", agent),
               changelog_entry("10720", "2026-01-09T11:00:00.000+0000", "In Progress", "Waiting for customer", agent)]
    base = f"{JIRA}/rest/api/3/issue/ITSD-42/changelog"
    with responses.RequestsMock() as rsps:
        rsps.get(f"{JIRA}/rest/api/3/field", json=list(catalogue().values()))
        rsps.get(f"{JIRA}/rest/api/3/myself", json={"accountId": "5b10ac8d82e05b22cc7d4ef5-bot"})
        rsps.get(f"{JIRA}/rest/api/3/issue/ITSD-42", json=issue)
        current = client.current_state("ITSD-42")
        asked = rsps.calls[-1].request.params["fields"].split(",")
        assert {"created", "status", "resolution", "customfield_10030", "customfield_10031"} <= set(asked)
        client.bot_id()
        before = len(rsps.calls)
        rsps.get(base, match=[query_param_matcher({"startAt": "0", "maxResults": "100"})], json={
            "self": f"{base}?startAt=0&maxResults=2", "nextPage": f"{base}?&startAt=2&maxResults=2",
            "maxResults": 2, "startAt": 0, "total": 3, "isLast": False, "values": entries[:2]})
        rsps.get(base, match=[query_param_matcher({"startAt": "2", "maxResults": "100"})], json={
            "self": f"{base}?startAt=2&maxResults=2", "maxResults": 2, "startAt": 2, "total": 3,
            "isLast": True, "values": entries[2:]})
        tl = client.timeline("ITSD-42", current)
        assert len(rsps.calls) - before == 2
    assert [e.kind for e in tl.events] == ["created", "state", "first_reply", "state", "pending"]
    assert tl.first("first_reply").at == at("2026-01-09T10:40:00Z")
    assert tl.sla["Time to first response"]["cycles"][0]["elapsed_ms"] == 2100000
    assert tl.complete and utc_only(tl)


def test_jira_data_center_expand_in_beijing_time():
    client = JiraClient(JIRA, "pat", flavor="dc", retries=0)
    alex = {"name": "alex", "key": "JIRAUSER10100", "displayName": "Alex Agent"}
    fields = {"created": "2026-01-09T18:00:00.123+0800", "reporter": {"name": "dana", "key": "JIRAUSER10200"},
              "status": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}}, "comment": {
                  "comments": [{"id": "1", "author": alex, "body": "On it.", "created": "2026-01-09T18:20:00.000+0800"}],
                  "total": 1}}
    histories = [changelog_entry("3", "2026-01-10T09:00:00.000+0800", "Waiting for customer", "In Progress", alex),
                 changelog_entry("2", "2026-01-09T19:00:00.000+0800", "In Progress", "Waiting for customer", alex)]
    with responses.RequestsMock() as rsps:
        rsps.get(f"{JIRA}/rest/api/2/issue/ITSD-42", json={"key": "ITSD-42", "changelog": {
            "startAt": 0, "maxResults": 2, "total": 3, "histories": histories}},
            match=[query_param_matcher({"fields": "status", "expand": "changelog"})])
        rsps.get(f"{JIRA}/rest/api/2/field", json=list(catalogue().values()))
        tl = client.timeline("ITSD-42", CurrentState({}, (), raw={"fields": fields}), bot_id="enricher-bot")
        assert len(rsps.calls) == 2      # the changelog, and the field catalogue this new client had not read
    assert tl.complete is False          # total 3, two given: Data Center does not page it
    assert tl.first("created").at == at("2026-01-09T10:00:00.123Z")
    assert waiting_periods(tl) == [(at("2026-01-09T11:00:00Z"), at("2026-01-10T01:00:00Z"))]
    assert tl.first("first_reply").at == at("2026-01-09T10:20:00Z") and utc_only(tl)
