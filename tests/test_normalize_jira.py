"""JiraAdapter.normalize on the shared fixtures and on the shapes Jira varies: pure,
no I/O; one fixture (or one variation) per line and the Ticket it must give."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from plugin.hooks.adf import from_text, to_text
from plugin.hooks.jira import JiraAdapter
from plugin.settings import load_settings
from plugin.text import parse_time

from .jira_helpers import compact, jira_fixture

DANA = "qm:1dc3818c-9fe1-4abf-a66a-f48e41eb4b49:402a5dd8-5d16-4a00-b401-301de53f0f56"
ALEX = "712020:f1ad7cfd-7f82-4dc0-85e4-8bc47bcc08e4"


@pytest.fixture(scope="module")
def adapter(tmp_path_factory):
    return JiraAdapter(load_settings(environ={"ENRICHER_DATA_DIR": str(tmp_path_factory.mktemp("d"))}))


def ticket(adapter, data):
    return adapter.normalize(adapter.parse(compact(data)))


@pytest.mark.parametrize("name,expected", [
    ("issue_created_jsm", {"event": "create", "state": "Waiting for support", "updated_by_id": DANA,
                           "article_sender": "Customer", "tags": (), "owner": None}),
    ("issue_updated_status", {"event": "update", "state": "In Progress", "updated_by_id": ALEX,
                              "article_sender": None, "tags": ("vpn",), "owner": ALEX}),
    ("comment_created", {"event": "comment", "state": "In Progress", "updated_by_id": DANA,
                         "article_sender": "Customer", "tags": None, "owner": ALEX,
                         "body": "Restarting did not help. Screenshot of the error is attached to my email.",
                         "request_type": None, "channel": None}),
])
def test_fixture_to_ticket(adapter, name, expected):
    t = ticket(adapter, jira_fixture(name))
    assert (t.platform, t.id, t.number) == ("jira", "ITSD-42", "ITSD-42")
    assert t.title == "Cannot connect to VPN (error 809)"
    assert t.priority == "Medium" and t.group is None and t.article_internal is False
    defaults = {"body": jira_fixture("issue_updated_status")["issue"]["fields"]["description"],
                "request_type": "Get IT help", "channel": "portal"}
    for attr, value in {**defaults, **expected}.items():
        assert getattr(t, attr) == value, attr


def test_reporter_is_the_requester_without_an_email_in_webhooks(adapter):
    r = ticket(adapter, jira_fixture("issue_created_jsm")).requester
    assert (r.id, r.name, r.email, r.organization) == (DANA, "Dana Customer", "", None)


def test_organization_is_found_by_its_shape(adapter):
    data = jira_fixture("issue_created_jsm")
    data["issue"]["fields"]["customfield_10002"] = [
        {"id": "7", "name": "Acme", "_links": {"self": "https://x/rest/servicedeskapi/organization/7"}}]
    r = ticket(adapter, data).requester
    assert (r.organization, r.organization_id) == ("Acme", "7")


def test_sla_facts_from_sla_shaped_fields(adapter):
    sla = ticket(adapter, jira_fixture("issue_updated_status")).sla
    assert sla["time_to_first_response"] == {
        "running": False, "completed_cycles": 1, "breached": False, "paused": False, "goal_ms": 14400000,
        "elapsed_ms": 2100000, "remaining_ms": 12300000, "breach_at": "2026-01-09T14:00:00+0000"}
    ttr = sla["time_to_resolution"]
    assert ttr["running"] is True and ttr["remaining_ms"] == 84300000


def test_changelog_becomes_history_and_times_are_utc(adapter):
    t = ticket(adapter, jira_fixture("issue_updated_status"))
    (change,) = t.history
    assert (change.field, change.old, change.new) == ("status", "Waiting for support", "In Progress")
    assert change.by == ALEX
    assert t.created_at == datetime(2026, 1, 9, 10, 0, 0, 123000, tzinfo=UTC)


def test_internal_note_by_an_agent(adapter):
    data = jira_fixture("comment_created")
    data["comment"].update(jsdPublic=False, author={"accountId": ALEX, "accountType": "atlassian"})
    data["comment"].pop("updateAuthor")
    t = ticket(adapter, data)
    assert (t.article_internal, t.article_sender, t.updated_by_id) == (True, "Agent", ALEX)


def test_adf_description_and_our_fields_by_names_map(adapter):
    data = jira_fixture("issue_updated_status")
    f = data["issue"]["fields"]
    f["description"] = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "Line one"}, {"type": "hardBreak"},
                                          {"type": "text", "text": "line two"}]},
        {"type": "paragraph", "content": [{"type": "text", "text": "Next "},
                                          {"type": "mention", "attrs": {"text": "@Alex"}}]}]}
    f["customfield_10050"] = "71"
    data["names"] = {"customfield_10050": "enrich_record_quality", "customfield_10010": "Request Type"}
    t = ticket(adapter, data)
    assert t.body == "Line one\nline two\n\nNext @Alex"
    assert t.fields == {"enrich_record_quality": "71"}


def test_data_center_identities_are_name_based(adapter):
    data = jira_fixture("issue_updated_status")
    data["user"] = {"name": "alex.agent", "key": "JIRAUSER10101", "displayName": "Alex Agent"}
    data["issue"]["fields"]["reporter"] = {"name": "dana.customer", "key": "JIRAUSER10100",
                                           "emailAddress": "dana@example.org", "displayName": "Dana Customer"}
    t = ticket(adapter, data)
    assert (t.updated_by_id, t.requester.id, t.requester.email, t.requester.login) == (
        "alex.agent", "dana.customer", "dana@example.org", "dana.customer")


def test_automation_body_is_an_update_without_an_actor(adapter):
    issue = jira_fixture("issue_updated_status")["issue"]
    for body in ({**issue, "id": 10482}, {"issue": issue}):
        t = ticket(adapter, body)
        assert (t.id, t.event, t.updated_by_id, t.state) == ("ITSD-42", "update", None, "In Progress")


@pytest.mark.parametrize("value,text", [(None, ""), ("wiki *bold*", "wiki *bold*"),
                                        ({"type": "doc", "version": 1, "content": []}, "")])
def test_to_text(value, text):
    assert to_text(value) == text


@pytest.mark.parametrize("text", ["one line", "line one\nline two", "para one\n\npara two\nmore",
                                  "满意 https://desk.example.com/feedback/abc.def-1。谢谢\n(see https://kb.example.com/a?b=1)."])
def test_adf_round_trip(text):
    assert to_text(from_text(text)) == text


def test_web_addresses_become_links_without_their_trailing_punctuation():
    [para] = from_text("评价：https://desk.example.com/feedback/abc.def-1。或 (https://kb.example.com/a?b=1).")["content"]
    links = [(n["text"], n["marks"][0]["attrs"]["href"]) for n in para["content"] if n.get("marks")]
    assert links == [("https://desk.example.com/feedback/abc.def-1", "https://desk.example.com/feedback/abc.def-1"),
                     ("https://kb.example.com/a?b=1", "https://kb.example.com/a?b=1")]
    assert [n["text"] for n in para["content"] if not n.get("marks")] == ["评价：", "。或 (", ")."]


# -- odd shapes: skipped and said so, never a dead letter (issue 9) ------------------
TTR, TTFR = "customfield_10030", "customfield_10031"


def _set(data: dict, path: str, value) -> dict:
    *parents, last = path.split(".")
    node = data
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    node[last] = value
    return data


@pytest.mark.parametrize("path,value,skipped,check", [
    ("issue.fields.status", "Open", ("issue.fields.status",), ("state", "")),
    ("issue.fields.priority", 3, ("issue.fields.priority",), ("priority", "")),
    ("issue.fields.status.name", {"x": 1}, ("issue.fields.status.name",), ("state", "")),
    ("issue.fields.summary", 42, ("issue.fields.summary",), ("title", "")),
    ("issue.fields.created", "soon", ("issue.fields.created",), ("created_at", None)),
    ("issue.fields.labels", "vpn", ("issue.fields.labels",), ("tags", None)),
    ("issue.fields.labels", ["vpn", 3], ("issue.fields.labels",), ("tags", ("vpn",))),
    ("issue.fields.reporter.displayName", {}, ("issue.fields.reporter.displayName",), None),
    (f"issue.fields.{TTR}.ongoingCycle", "running", (f"issue.fields.{TTR}.ongoingCycle",), None),
    (f"issue.fields.{TTR}.completedCycles", 5, (f"issue.fields.{TTR}.completedCycles",), None),
    (f"issue.fields.{TTFR}.completedCycles", [1, None], (f"issue.fields.{TTFR}.completedCycles",), None),
    (f"issue.fields.{TTR}.ongoingCycle.goalDuration", "4h",
     (f"issue.fields.{TTR}.goalDuration",), None),
    (f"issue.fields.{TTR}.ongoingCycle.goalDuration.millis", "4h",
     (f"issue.fields.{TTR}.goalDuration.millis",), None),
    (f"issue.fields.{TTR}.ongoingCycle.breachTime", 5, (f"issue.fields.{TTR}.breachTime",), None),
    ("changelog.items.0.fromString", 5, ("changelog.items.fromString",), None),
])
def test_odd_shapes_are_skipped_and_named(adapter, path, value, skipped, check):
    t = ticket(adapter, _set(jira_fixture("issue_updated_status"), path, value))
    assert t.skipped == skipped
    if check:
        assert getattr(t, check[0]) == check[1]
    assert t.id == "ITSD-42" and t.requester.id == DANA


def test_a_well_formed_fixture_skips_nothing(adapter):
    for name in ("issue_created_jsm", "issue_updated_status", "comment_created"):
        assert ticket(adapter, jira_fixture(name)).skipped == ()


def test_skipped_parts_are_logged(adapter, caplog):
    with caplog.at_level("WARNING", logger="desk_enricher.jira"):
        ticket(adapter, _set(jira_fixture("issue_updated_status"), "issue.fields.status", "Open"))
    (record,) = [r for r in caplog.records if r.getMessage() == "normalize_skipped"]
    assert record.ticket == "ITSD-42" and record.skipped == ["issue.fields.status"]


# -- timestamps with an offset are UTC instants (Data Center sends the server's) ------
def _with_offset(name: str, offset: str) -> dict:
    """The shared fixture with its timestamps rewritten as a server at `offset` writes them."""
    data = jira_fixture(name)
    f = data["issue"]["fields"]
    f["created"] = f"2026-03-02T10:15:00.000{offset}"
    f["updated"] = f"2026-03-02T18:40:30.250{offset}"
    return data


@pytest.mark.parametrize("offset,created,updated", [
    ("+0800", datetime(2026, 3, 2, 2, 15, tzinfo=UTC), datetime(2026, 3, 2, 10, 40, 30, 250000, tzinfo=UTC)),
    ("-0500", datetime(2026, 3, 2, 15, 15, tzinfo=UTC), datetime(2026, 3, 2, 23, 40, 30, 250000, tzinfo=UTC)),
    ("Z", datetime(2026, 3, 2, 10, 15, tzinfo=UTC), datetime(2026, 3, 2, 18, 40, 30, 250000, tzinfo=UTC)),
])
@pytest.mark.parametrize("name", ["issue_created_jsm", "issue_updated_status"])
def test_offset_timestamps_become_utc_instants(adapter, name, offset, created, updated):
    t = ticket(adapter, _with_offset(name, offset))
    assert (t.created_at, t.updated_at) == (created, updated)
    # Stored as the database stores it (naive) and read back as UTC: the same instant.
    assert t.created_at.utcoffset().total_seconds() == 0
    assert t.created_at.replace(tzinfo=None).replace(tzinfo=UTC) == created


@pytest.mark.parametrize("value,expected", [
    ("2026-03-02T10:15:00.000+0800", datetime(2026, 3, 2, 2, 15, tzinfo=UTC)),
    ("2026-03-02T10:15:00.000-0500", datetime(2026, 3, 2, 15, 15, tzinfo=UTC)),
    ("2026-03-02T10:15:00Z", datetime(2026, 3, 2, 10, 15, tzinfo=UTC)),
    ("2026-03-02T10:15:00", datetime(2026, 3, 2, 10, 15, tzinfo=UTC)),
    (1772446500000, datetime(2026, 3, 2, 10, 15, tzinfo=UTC)),
    ("not a time", None), (10 ** 30, None), (True, None), (None, None),
])
def test_parse_time(value, expected):
    assert parse_time(value) == expected
