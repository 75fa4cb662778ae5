"""The Zammad simulator's ticket history: what state changes, articles and tags leave
behind, and `GET /api/v1/ticket_history/{id}` in Zammad's `History.list` shape."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
import requests

from plugin.simulators.zammad import ZammadSimulator
from plugin.simulators.zammad_payload import AGENT_ID, BOT_ID

TOKEN = "t-123"


@pytest.fixture
def sim():
    with ZammadSimulator(token=TOKEN) as s:
        ticks, start = itertools.count(), datetime(2025, 3, 12, 9, tzinfo=UTC)
        # A stepping clock: every write gets its own instant, so order is never a tie.
        s.now = lambda: (start + timedelta(seconds=next(ticks))).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        yield s


@pytest.fixture
def api(sim):
    session = requests.Session()
    session.headers["Authorization"] = f"Token token={TOKEN}"

    def call(method, path, **kwargs):
        return session.request(method, sim.base_url + "/api/v1" + path, timeout=5, **kwargs)
    return call


def states(history: dict) -> list[tuple[str, str, int]]:
    return [(e["value_from"], e["value_to"], e["created_by_id"]) for e in history["history"]
            if e.get("attribute") == "state"]


def test_seeded_ticket_has_its_creation_and_first_article(api):
    got = api("GET", "/ticket_history/1042")
    assert got.status_code == 200 and set(got.json()) == {"history", "assets"}
    created, article = got.json()["history"]
    assert created == {"id": created["id"], "o_id": 1042, "created_by_id": 27,
                       "created_at": "2025-03-10T08:15:02.117Z", "object": "Ticket", "type": "created"}
    assert (article["object"], article["type"], article["o_id"]) == ("Ticket::Article", "created", 3311)
    assert (article["related_o_id"], article["related_object"]) == (1042, "Ticket")
    assert "value_from" not in created and "id_from" not in created   # absent when unset, as History.list


def test_fixture_update_records_the_agents_state_change(sim, api):
    sim.apply_fixture("02")
    assert states(api("GET", "/ticket_history/1042").json()) == [("new", "open", AGENT_ID)]


def test_put_state_changes_are_logged_in_order_with_ids(sim, api):
    for state in ("open", "pending reminder", "open", "closed", "open", "closed"):
        assert api("PUT", "/tickets/1042", json={"state": state}).status_code == 200
    history = api("GET", "/ticket_history/1042").json()
    assert states(history) == [("new", "open", BOT_ID), ("open", "pending reminder", BOT_ID),
                               ("pending reminder", "open", BOT_ID), ("open", "closed", BOT_ID),
                               ("closed", "open", BOT_ID), ("open", "closed", BOT_ID)]
    reopen = [e for e in history["history"] if e.get("attribute") == "state"][4]
    assert (reopen["id_from"], reopen["id_to"]) == (4, 2)
    times = [e["created_at"] for e in history["history"]]
    assert times == sorted(times)
    assert str(BOT_ID) in history["assets"]["User"] and "1042" in history["assets"]["Ticket"]


def test_closing_sets_the_close_columns(sim):
    sim.agent_update(1042, state="closed")
    first = sim.tickets[1042]["close_at"]
    sim.agent_update(1042, state="open")
    sim.agent_update(1042, state="closed")
    ticket = sim.tickets[1042]
    assert ticket["close_at"] == first and ticket["last_close_at"] > first


def test_unchanged_and_own_columns_are_not_logged(sim, api):
    api("PUT", "/tickets/1042", json={"state": "new", "title": "VPN down", "enrich_category": "network"})
    changes = [(e["attribute"], e["value_from"], e["value_to"])
               for e in api("GET", "/ticket_history/1042").json()["history"] if e["type"] == "updated"]
    assert ("title", sim.load_fixture("01")["ticket"]["title"], "VPN down") in changes
    assert ("enrich_category", None, "network") in changes
    assert all(attr != "state" for attr, _, _ in changes)


def test_articles_and_tags_leave_entries(sim, api):
    api("POST", "/ticket_articles", json={"ticket_id": 1042, "body": "note", "internal": True})
    sim.reply(1042, "We reset your VPN profile.")
    api("POST", "/tags/add", json={"object": "Ticket", "o_id": 1042, "item": "vpn"})
    api("DELETE", "/tags/remove", json={"object": "Ticket", "o_id": 1042, "item": "vpn"})
    entries = api("GET", "/ticket_history/1042").json()["history"][2:]
    assert [(e["object"], e["type"], e["created_by_id"]) for e in entries] == [
        ("Ticket::Article", "created", BOT_ID), ("Ticket::Article", "created", AGENT_ID),
        ("Ticket", "added", BOT_ID), ("Ticket", "removed", BOT_ID)]
    assert entries[2]["attribute"] == "tag" and entries[2]["value_to"] == "vpn"
    reply = sim.articles[1042][-1]
    assert (reply["sender"], reply["internal"], reply["type"]) == ("Agent", False, "email")


def test_new_ticket_history_starts_with_its_creation(sim, api):
    tid = sim.create_ticket("打印机卡纸", "三楼打印机卡纸了", "wang.wei@example.cn")
    history = api("GET", f"/ticket_history/{tid}").json()["history"]
    assert [(e["object"], e["type"]) for e in history] == [("Ticket", "created"), ("Ticket::Article", "created")]
    assert history[0]["created_at"] == sim.tickets[tid]["created_at"]


def test_errors(sim, api):
    assert api("GET", "/ticket_history/999").status_code == 404
    assert requests.get(sim.base_url + "/api/v1/ticket_history/1042", timeout=5).status_code == 401
