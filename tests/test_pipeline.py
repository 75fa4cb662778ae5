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
