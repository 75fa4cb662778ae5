"""The Jira simulator's issue history: changelog entries for status and resolution
changes, Cloud's paged `/issue/{key}/changelog`, Data Center's `expand=changelog`,
and transitions."""
from __future__ import annotations

import itertools

import pytest
import requests

from plugin.simulators.jira import JiraSimulator
from plugin.simulators.jira_base import AGENT_ID, BOT_ID

LIFECYCLE = ("In Progress", "Waiting for customer", "In Progress", "Resolved", "Closed", "In Progress")


def start(flavor: str) -> JiraSimulator:
    sim = JiraSimulator(flavor=flavor)
    ticks = itertools.count()
    sim.clock = lambda: 1767952800123 + 60000 * next(ticks)   # a minute per change: no ties
    sim.start()
    return sim


@pytest.fixture(params=["cloud", "dc"])
def sim(request):
    s = start(request.param)
    yield s
    s.stop()


def call(sim, method, path, **kwargs):
    return requests.request(method, sim.base_url + path, headers=sim.auth_headers(), timeout=5, **kwargs)


def walk(sim) -> str:
    key = sim.create_request("VPN down", "error 809", "dana.customer@example.org")
    for status in LIFECYCLE:
        sim.agent_update(key, status=status)
    return key


def status_items(values: list[dict]) -> list[tuple]:
    out = []
    for history in values:
        for item in history["items"]:
            if item["fieldId"] in ("status", "resolution"):
                out.append((item["fieldId"], item["fromString"], item["toString"]))
    return out


def test_transitions_record_status_and_resolution(sim):
    key = walk(sim)
    items = status_items(sim.issues[key]["histories"])
    assert items[1:] == [
        ("status", "Waiting for support", "In Progress"), ("status", "In Progress", "Waiting for customer"),
        ("status", "Waiting for customer", "In Progress"), ("status", "In Progress", "Resolved"),
        ("resolution", None, "Done"), ("status", "Resolved", "Closed"), ("status", "Closed", "In Progress"),
        ("resolution", "Done", None)]
    fields = sim.issues[key]["fields"]
    assert fields["resolution"] is None and fields["resolutiondate"] is None


def test_cloud_changelog_pages_oldest_first():
    sim = start("cloud")
    try:
        key = walk(sim)
        path = f"/rest/api/3/issue/{key}/changelog"
        first = call(sim, "GET", path, params={"startAt": 0, "maxResults": 3}).json()
        assert (first["startAt"], first["maxResults"], first["total"], first["isLast"]) == (0, 3, 7, False)
        assert first["nextPage"].endswith("/changelog?&startAt=3&maxResults=3")
        rest = call(sim, "GET", path, params={"startAt": 3, "maxResults": 3}).json()
        last = call(sim, "GET", path, params={"startAt": 6, "maxResults": 3}).json()
        assert last["isLast"] is True and "nextPage" not in last
        values = first["values"] + rest["values"] + last["values"]
        assert [v["created"] for v in values] == sorted(v["created"] for v in values)
        assert values[1]["author"]["accountId"] == AGENT_ID and set(values[1]) == {"id", "author", "created", "items"}
        assert status_items(values) == status_items(sim.issues[key]["histories"])
        whole = call(sim, "GET", path).json()
        assert (whole["maxResults"], whole["isLast"], len(whole["values"])) == (100, True, 7)
    finally:
        sim.stop()


def test_expand_changelog_per_flavor(sim):
    key = walk(sim)
    log = call(sim, "GET", f"/rest/api/2/issue/{key}", params={"fields": "status", "expand": "changelog"}).json()
    stamps = [h["created"] for h in log["changelog"]["histories"]]
    assert log["changelog"]["total"] == 7 and len(stamps) == 7
    # Cloud: the most recent first; Data Center: oldest first (the client sorts either way)
    assert stamps == sorted(stamps, reverse=sim.flavor == "cloud")
    assert list(log["fields"]) == ["status"]


def test_data_center_has_no_changelog_path():
    sim = start("dc")
    try:
        assert call(sim, "GET", "/rest/api/2/issue/ITSD-42/changelog").status_code == 404
    finally:
        sim.stop()


def test_cloud_expand_gives_only_the_latest_hundred():
    sim = start("cloud")
    try:
        key = sim.create_request("Flapping", "up and down", "dana.customer@example.org")
        for n in range(101):
            sim.agent_update(key, labels=[f"flap-{n}"])
        log = call(sim, "GET", f"/rest/api/3/issue/{key}", params={"expand": "changelog"}).json()["changelog"]
        assert (log["total"], len(log["histories"])) == (102, 100)
    finally:
        sim.stop()


def test_transitions_over_rest(sim):
    api = 2 if sim.flavor == "dc" else 3
    path = f"/rest/api/{api}/issue/ITSD-42/transitions"
    offered = call(sim, "GET", path).json()["transitions"]
    resolve = next(t for t in offered if t["to"]["name"] == "Resolved")
    assert "Waiting for support" not in {t["to"]["name"] for t in offered}
    assert call(sim, "POST", path, json={"transition": {"id": resolve["id"]}}).status_code == 204
    history = sim.issues["ITSD-42"]["histories"][-1]
    assert history["author"] == BOT_ID
    assert status_items([history]) == [("status", "Waiting for support", "Resolved"), ("resolution", None, "Done")]
    assert call(sim, "POST", path, json={"transition": {"id": resolve["id"]}}).status_code == 400
    assert call(sim, "POST", path, json={"transition": {"id": "nope"}}).status_code == 400
