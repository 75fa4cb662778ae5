"""Known outages (plugin.tracking.outage and the tracking step's outage part): which new
ticket matches an open major event, and what the step asks for at each point of the
major event's life."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from plugin.models import Findings, LedgerView, Requester, StepContext, Ticket, Timeline
from plugin.settings import load_settings
from plugin.steps.s900_4_track import track
from plugin.tracking import outage
from plugin.tracking.config import Tracking

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
MAJOR = {"ticket_id": "90", "number": "30090", "title": "邮件系统宕机，全公司无法收发邮件", "created_at": T0,
         "item_id": "office.mail", "state": "open"}


def is_open(state):
    return state not in ("closed", "pending close")


@pytest.mark.parametrize("title,item,arrived,expected", [
    ("Outlook 打不开", "office.mail", T0 + timedelta(minutes=30), "90"),           # same item, in the window
    ("Outlook 打不开", "office.mail", T0 + timedelta(hours=5), None),              # same item, window over
    ("邮件系统宕机，全公司无法收发邮件了", None, T0 + timedelta(hours=5), "90"),       # a title alike, any time
    ("打印机卡纸", "desktop.printer", T0 + timedelta(minutes=5), None),             # another matter
    ("Outlook 打不开", None, T0 + timedelta(minutes=5), None),                      # no item, not alike
])
def test_a_new_ticket_matches_an_open_major_event(title, item, arrived, expected):
    found = outage.match("91", title, item, arrived, [MAJOR], Tracking(), is_open)
    assert (found or {}).get("ticket_id") == expected


def test_a_closed_major_event_and_the_major_event_itself_match_nothing():
    closed = {**MAJOR, "state": "closed"}
    assert outage.match("91", MAJOR["title"], "office.mail", T0, [closed], Tracking(), is_open) is None
    assert outage.match("90", MAJOR["title"], "office.mail", T0, [MAJOR], Tracking(), is_open) is None


def test_the_most_alike_of_two_open_major_events_wins():
    other = {**MAJOR, "ticket_id": "95", "title": "VPN 全部断开", "item_id": "network.vpn"}
    found = outage.match("91", "VPN 全部断开了", None, T0, [other, MAJOR], Tracking(), is_open)
    assert found["ticket_id"] == "95"


# -- the step ---------------------------------------------------------------------

def ticket(tid="91", state="new", title="Outlook 打不开"):
    return Ticket(platform="zammad", id=tid, number=f"300{tid}", title=title, body="", state=state,
                  requester=Requester(id="3", name="李娜", email="li.na@acme.example"), created_at=T0,
                  group="Users")


def context(tmp_path, now=T0, facts=None, **ledger):
    s = load_settings(environ={"ENRICHER_DATA_DIR": str(tmp_path)})
    found = {"classification": Findings("classification", facts={"category": "office.mail", **(facts or {})})}
    return StepContext(settings=s, now=now, history=Timeline(), found=found, ledger=LedgerView(**ledger))


def test_a_new_ticket_on_an_open_major_event_is_linked_and_tagged(tmp_path):
    out = track(ticket(), context(tmp_path, open_major_events=(MAJOR,)))
    assert "enrich:known-outage" in out.tags
    [link] = out.links
    assert (link.other_id, link.other_number) == ("90", "30090")
    assert out.facts["outage_of"] == "90" and out.facts["outage"]["number"] == "30090"


def test_a_major_event_ticket_itself_and_a_known_ticket_are_not_matched(tmp_path):
    assert track(ticket(), context(tmp_path, facts={"major_event": True},
                                   open_major_events=(MAJOR,))).links == ()
    seen = {"first_seen_at": T0, "state": "new"}                        # not new to the ledger
    assert track(ticket(), context(tmp_path, known=seen, open_major_events=(MAJOR,))).links == ()


def test_the_solved_major_event_wakes_every_linked_ticket(tmp_path):
    linked = ({"ticket_id": "91", "number": "30091", "state": "new"},
              {"ticket_id": "92", "number": "30092", "state": "open"})
    out = track(ticket("90", state="closed", title=MAJOR["title"]),
                context(tmp_path, known={"first_seen_at": T0, "major_event": True}, outage_linked=linked))
    assert sorted((t.ticket_id, t.kind, t.due_at) for t in out.timers if t.name.startswith("outage")) == [
        ("91", "reprocess", T0), ("92", "reprocess", T0)]
    assert {t.key("zammad", "90") for t in out.timers if t.name.startswith("outage")} == {
        "outage-solved:90:zammad:91", "outage-solved:90:zammad:92"}


@pytest.mark.parametrize("own_state,parent_state,told", [
    ("open", "closed", True),            # the fix: tell the requester
    ("open", "open", False),             # still going on
    ("closed", "closed", False),         # their ticket closed meanwhile: nothing more to say
])
def test_a_linked_ticket_hears_of_the_fix_only_while_open(tmp_path, own_state, parent_state, told):
    known = {"first_seen_at": T0, "outage_of": "90", "state": own_state}
    out = track(ticket(state=own_state), context(tmp_path, known=known,
                                                 outage_parent={**MAJOR, "state": parent_state}))
    assert out.facts["outage_resolved"] is told and out.facts["outage_of"] == "90"
    assert out.facts["outage_over"] is (parent_state == "closed")


# -- on Jira: the same, through the Jira Cloud and Data Center simulators ---------------

@pytest.mark.parametrize("flavor", ["cloud", "dc"])
def test_known_outage_on_jira_links_relates_and_tells_once_then_the_fix(make_settings, flavor):
    from plugin import timers
    from plugin.jobs import handlers
    from plugin.simulators.jira import JiraSimulator
    from tests.jira_helpers import drain
    from tests.test_worker_jira import make_setup

    with JiraSimulator(flavor=flavor, api_token="pat-1" if flavor == "dc" else "sim-token") as sim:
        ledger, queue, processor, _ = make_setup(make_settings, sim)
        scheduler = timers.Scheduler(ledger, handlers(processor.settings, queue), processor.dispatcher)
        n = iter(range(100))

        def deliver(key, event="jira:issue_updated"):
            pk, _ = ledger.accept("jira", f"d{next(n)}", key, event, sim.webhook_body(event, key))
            queue.enqueue(pk)
            drain(queue)
            assert ledger.delivery(pk)["status"] == "done"

        def said(key, words):
            return [c for c in sim.issues[key]["comments"] if words in str(c["body"]) and c["public"]]

        major = sim.create_request("邮件系统宕机，全公司无法收发邮件", "Exchange 服务器宕机，所有人无法收发邮件。",
                                   "it.ops@acme.example", "运维值班")
        deliver(major, "jira:issue_created")
        follower = sim.create_request("无法收发邮件", "从刚才开始邮件发不出去也收不到。", "li.na@acme.example", "李娜")
        deliver(follower, "jira:issue_created")
        deliver(follower, "jira:issue_created")                            # delivered twice: said once
        assert "enrich:known-outage" in sim.issues[follower]["fields"]["labels"]
        [link] = sim.issues[follower]["fields"]["issuelinks"]
        assert link["type"]["name"] == "Relates" and major in str(link)
        assert len(said(follower, "服务台已经知晓")) == 1

        sim.agent_update(major, status="Resolved")
        deliver(major)
        scheduler.tick()
        drain(queue)
        scheduler.tick()
        drain(queue)
        assert len(said(follower, "服务应已恢复")) == 1 and len(said(follower, "服务台已经知晓")) == 1
