"""pipeline.plan: desired state minus current state, as a table."""
from __future__ import annotations

import re

import pytest

from plugin.errors import SettingsError
from plugin.hooks.base import CurrentState
from plugin.models import Findings
from plugin.pipeline import plan

FIELDS = ["enrich_record_quality", "enrich_category"]
TAGS = ["enrich:record-incomplete", "enrich:vs:*"]
QUALITY = Findings("record_quality", fields={"enrich_record_quality": 71},
                   tags=frozenset({"enrich:record-incomplete"}), note=("quality line",))
CATEGORY = Findings("classification", fields={"enrich_category": "a/b/c"},
                    tags=frozenset({"enrich:vs:incident"}), note=("category line",))


def state(fields=None, tags=(), notes=()):
    return CurrentState(fields=fields or {}, tags=tuple(tags), notes=tuple(notes))


@pytest.mark.parametrize("current,expected", [
    (state(), {"fields": {"enrich_record_quality": 71, "enrich_category": "a/b/c"},
                   "add_tags": ("enrich:record-incomplete", "enrich:vs:incident"),
                   "note": "[desk-enricher]\nquality line\ncategory line"}),
    # the platform stores text: "71" is 71; tags compare without case
    (state({"enrich_record_quality": "71", "enrich_category": "a/b/c"},
           ["Enrich:Record-Incomplete", "enrich:vs:incident"]),
     {"fields": {}, "add_tags": (), "note": None}),
    # only the changed step speaks in the note
    (state({"enrich_record_quality": 71}, ["enrich:record-incomplete"]),
     {"fields": {"enrich_category": "a/b/c"}, "add_tags": ("enrich:vs:incident",),
          "note": "[desk-enricher]\ncategory line"}),
    # a note that already landed (a timed-out write) is not written again
    (state({"enrich_record_quality": 5}, notes=["[desk-enricher]\nquality line\ncategory line"]),
     {"fields": {"enrich_record_quality": 71, "enrich_category": "a/b/c"},
          "add_tags": ("enrich:record-incomplete", "enrich:vs:incident"), "note": None}),
])
def test_plan_table(current, expected):
    p = plan("7", current, [QUALITY, CATEGORY], FIELDS, TAGS)
    assert dict(p.fields) == expected["fields"]
    assert p.add_tags == expected["add_tags"]
    assert p.note == expected["note"]


def test_removed_tags_only_when_present_and_not_wanted():
    complete = Findings("record_quality", fields={"enrich_record_quality": 100},
                        remove_tags=frozenset({"enrich:record-incomplete"}))
    p = plan("7", state({"enrich_record_quality": 100}, ["enrich:record-incomplete", "vip"]),
             [complete], FIELDS, TAGS)
    assert p.remove_tags == ("enrich:record-incomplete",) and not p.fields and p.note is None
    assert plan("7", state({"enrich_record_quality": 100}, ["vip"]), [complete], FIELDS, TAGS).empty


@pytest.mark.parametrize("finding,message", [
    (Findings("x", fields={"enrich_secret": 1}), "field(s) not declared in manifest.json: enrich_secret"),
    (Findings("x", tags=frozenset({"enrich:other"})), "tag(s) not declared in manifest.json: enrich:other"),
])
def test_undeclared_writes_are_refused(finding, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        plan("7", state(), [finding], FIELDS, TAGS)


# -- the note is never lost when only part of a write landed ------------------------

def test_note_planned_again_when_fields_landed_but_the_note_did_not():
    """A Jira comment POST failed after the fields PUT landed: the retry sees the fields
    already there, but the ledger has not recorded them as written, so the note comes."""
    landed = state({"enrich_record_quality": "71", "enrich_category": "a/b/c"},
                   ["enrich:record-incomplete", "enrich:vs:incident"])
    retry = plan("7", landed, [QUALITY, CATEGORY], FIELDS, TAGS, previous={})
    assert not retry.fields and not retry.add_tags
    assert retry.note == "[desk-enricher]\nquality line\ncategory line"
    settled = plan("7", landed, [QUALITY, CATEGORY], FIELDS, TAGS,
                   previous={"enrich_record_quality": 71, "enrich_category": "a/b/c"})
    assert settled.empty                      # recorded as written: a replay says nothing
    posted = state(landed.fields, landed.tags, notes=[retry.note])
    assert plan("7", posted, [QUALITY, CATEGORY], FIELDS, TAGS, previous={}).note is None


# -- articles (public replies) carry a marker and are posted once ------------------

def test_articles_are_planned_unless_their_marker_is_on_the_ticket():
    from plugin.hooks.markup import marker
    from plugin.models import Intent
    from plugin.pipeline import articles_for

    ack = Intent(event="ack", audience="requester", channel="ticket", body="已受理 <b>", public=True)
    mail = Intent(event="major_event", audience="owner", channel="apprise", body="x", target="notify_x")
    articles = articles_for("zammad", "7", [ack, mail])
    assert [a.key for a in articles] == ["zammad:7:ack:requester:ticket"]
    assert articles[0].marker == marker("zammad:7:ack:requester:ticket") and articles[0].public
    assert plan("7", state(), [], FIELDS, TAGS, articles=articles).articles == tuple(articles)
    on_ticket = CurrentState(fields={}, tags=(), markers=frozenset({articles[0].marker}))
    assert plan("7", on_ticket, [], FIELDS, TAGS, articles=articles).empty
    assert articles_for("zammad", "7", [ack], done={"zammad:7:ack:requester:ticket": "sent"}) == []


# -- steps see what came before; a broken order stops start-up ---------------------

def test_a_step_sees_the_findings_of_the_steps_before_it():
    from plugin.models import Requester, StepContext, Ticket
    from plugin.pipeline import resolve, run
    from plugin.steps import StepSpec

    seen = {}
    steps = resolve(["record_quality", "classification"])
    spy = StepSpec(name="spy", run=lambda t, ctx: seen.update(ctx.found) or Findings("spy"))
    ticket = Ticket(platform="zammad", id="1", number="1", title="VPN 无法连接", body="VPN down",
                    requester=Requester(id="1"))
    run(ticket, StepContext(), [*steps, spy])
    assert set(seen) == {"record_quality", "classification"}
    assert seen["record_quality"].fields["enrich_record_quality"] < 100


@pytest.mark.parametrize("names,message", [
    (["communication", "classification"], "step communication needs classification, which comes after it"),
    (["record_quality", "communication"], "step communication needs classification, which is not in the pipeline"),
])
def test_a_pipeline_order_that_breaks_a_dependency_is_refused(names, message):
    from plugin.pipeline import resolve
    with pytest.raises(SettingsError, match=re.escape(message)) as err:
        resolve(names)
    assert err.value.key == "bad_pipeline"
