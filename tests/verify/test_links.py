"""Links on both platforms: current_state reads the links already there (so a plan
asks only for new ones), apply posts them, and a link the platform refuses for good
is left out and named, never a failed delivery."""
from __future__ import annotations

import pytest

from plugin.hooks.zammad_api import ZammadClient
from plugin.models import Link, WritePlan
from plugin.simulators.jira import JiraSimulator

from ..jira_helpers import sim_client


def test_zammad_links_round_trip(sim):
    client = ZammadClient(sim.base_url, sim.token, retries=0)
    earlier = sim.create_ticket("打印机卡纸", "三楼打印机卡纸", "li.na@acme.example", customer_name="Li Na")
    later = sim.create_ticket("打印机又卡纸", "还是卡纸", "li.na@acme.example", customer_name="Li Na")
    assert client.current_state(str(later)).links == frozenset()
    number = sim.tickets[earlier]["number"]
    left_out = client.apply(WritePlan(str(later), links=(Link(str(earlier), number),)))
    assert left_out == []
    assert client.current_state(str(later)).links == {str(earlier)}
    assert client.current_state(str(earlier)).links == {str(later)}        # "normal" links both ways
    assert client.request("GET", "/links", params={"link_object": "Ticket", "link_object_value": earlier})[
        "links"] == [{"link_type": "normal", "link_object": "Ticket", "link_object_value": later}]


def test_zammad_refused_link_is_left_out_not_a_failure(sim):
    client = ZammadClient(sim.base_url, sim.token, retries=0)
    tid = sim.create_ticket("VPN", "down", "li.na@acme.example")
    assert client.apply(WritePlan(str(tid), links=(Link("9999", "39999"),))) == ["link to 39999 (422)"]


def test_zammad_unavailable_link_is_retried_by_the_delivery(sim):
    from plugin.errors import PlatformError
    client = ZammadClient(sim.base_url, sim.token, retries=0)
    tid = sim.create_ticket("VPN", "down", "li.na@acme.example")
    sim.fail_next(1, 503, match="/links/add")
    with pytest.raises(PlatformError) as err:
        client.apply(WritePlan(str(tid), links=(Link("1042", "31042"),)))
    assert err.value.retryable


@pytest.mark.parametrize("flavor", ["cloud", "dc"])
@pytest.mark.parametrize("kind,name", [("related", "Relates"), ("duplicate", "Duplicate")])
def test_jira_links_round_trip(flavor, kind, name):
    with JiraSimulator(flavor=flavor, api_token="pat-1" if flavor == "dc" else "sim-token") as sim:
        client = sim_client(sim)
        earlier = sim.create_request("VPN down", "error 809", "li.na@acme.example")
        later = sim.create_request("VPN down again", "error 809", "li.na@acme.example")
        assert client.current_state(later).links == frozenset()
        assert client.apply(WritePlan(later, links=(Link(earlier, earlier, kind),))) == []
        assert client.current_state(later).links == {earlier}
        assert client.current_state(earlier).links == {later}
        [link] = sim.issues[later]["fields"]["issuelinks"]
        assert link["type"]["name"] == name and link["inwardIssue"]["key"] == earlier


def test_jira_refused_link_is_left_out_not_a_failure():
    with JiraSimulator() as sim:
        client = sim_client(sim)
        key = sim.create_request("VPN down", "error 809", "li.na@acme.example")
        assert client.apply(WritePlan(key, links=(Link("ITSD-999", "ITSD-999"),))) == ["link to ITSD-999 (404)"]
