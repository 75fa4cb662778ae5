"""The verification step: checks in, one status (by the documented precedence), a
tag per flagged check, one note in the ticket's language, the policy's group, links
to possible repeats; decided once."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from plugin import pipeline
from plugin.hooks.base import CurrentState
from plugin.models import Findings, LedgerView, Link, Requester, StepContext, Ticket
from plugin.steps import STEPS
from plugin.steps.s900_2_verify import verify
from plugin.verify import outcome
from plugin.verify.config import load
from plugin.verify.model import Check, Directory

ARRIVED = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)          # Monday 10:00 in Shanghai
LI_NA = Directory(status="ok", requester_found=True, requester_id="31", active=True, email="li.na@acme.example",
                  name="Li Na", organization="Acme Corp", org_domains=("acme.example",), sender_kind="message",
                  sender_address="li.na@acme.example", sender_name="Li Na")
TABLE = {"entitlements": [{"name": "Acme", "organizations": ["Acme Corp"], "services": ["desktop.*"]}],
         "policies": {"not_entitled": {"group": "合同管理组"}, "unverified": {"group": "一线服务台"}}}


def ticket(title="打印机卡纸", body="三楼打印机卡纸，无法打印。", **kw):
    return Ticket(platform="zammad", id="1050", number="31050", title=title, body=body,
                  requester=Requester(id="31", email="li.na@acme.example", organization="Acme Corp"),
                  event="create", created_at=ARRIVED, **kw)


def classified(item="desktop.hardware_repair"):
    return Findings("classification", facts={"category": item, "protected": False})


def run(t=None, directory=LI_NA, item="desktop.hardware_repair", settings=TABLE, recent=(), previous=None):
    ctx = StepContext(settings=load(settings), now=ARRIVED, directory=directory, previous=previous or {},
                      found={"classification": classified(item)}, ledger=LedgerView(requester_recent=recent))
    return verify(t or ticket(), ctx)


CASES = [
    # (id, run kwargs, status, tags)
    ("verified", {}, "verified", set()),
    ("unverified", {"directory": replace(LI_NA, sender_address="ceo@gmail.example")}, "unverified",
     {"enrich:verify-identity"}),
    ("not-entitled", {"item": "business.usage", "t": ticket("系统怎么用", "ERP 报表怎么导出")}, "not_entitled",
     {"enrich:verify-entitlement"}),
    ("out-of-scope", {"item": "hr.payroll"}, "out_of_scope", {"enrich:verify-scope"}),
    ("identity-check", {"t": ticket("忘记密码", "请帮我重置电脑开机密码"), "item": "desktop.os_fault"},
     "identity_check_required", {"enrich:verify-protected"}),
    ("lookup-failed", {"directory": Directory(status="failed", error="timeout")}, "unverified",
     {"enrich:verify-identity"}),
    ("repeat-only", {"recent": ({"ticket_id": "1049", "number": "31049", "title": "打印机又卡纸",
                                 "created_at": ARRIVED - timedelta(hours=3), "item_id": None},)},
     "verified", {"enrich:repeat"}),
]


@pytest.mark.parametrize("kw,status,tags", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_status_and_tags(kw, status, tags):
    found = run(**kw)
    assert found.fields["enrich_verification"] == status
    assert set(found.tags) == tags
    assert not set(found.tags) & set(found.remove_tags)
    assert set(found.tags) | set(found.remove_tags) == set(outcome.TAGS.values())
    assert found.facts["status"] == status and len(found.facts["checks"]) == 5


def C(name, result):
    return Check(name, result)


PRECEDENCE = [
    ([C("identity", "unknown"), C("entitlement", "fail"), C("protected", "fail")], "unverified"),
    ([C("identity", "pass"), C("entitlement", "unknown")], "unverified"),
    ([C("entitlement", "fail"), C("scope", "fail"), C("protected", "fail")], "not_entitled"),
    ([C("scope", "fail"), C("protected", "fail")], "out_of_scope"),
    ([C("scope", "unknown"), C("protected", "fail"), C("repeats", "fail")], "identity_check_required"),
    ([C("identity", "pass"), C("entitlement", "skipped"), C("scope", "unknown"), C("repeats", "fail")],
     "verified"),
]


@pytest.mark.parametrize("checks,status", PRECEDENCE)
def test_precedence(checks, status):
    assert outcome.status_of(checks) == status


def test_every_status_has_a_place_in_the_precedence():
    from plugin.verify.config import STATUSES
    assert set(outcome.PRECEDENCE) | {"verified"} == set(STATUSES)


def test_one_note_lists_every_check_in_the_tickets_language():
    zh = run(t=ticket("忘记密码", "请帮我重置电脑开机密码"), item="desktop.os_fault")
    assert zh.note[0] == "核验结论：需额外身份核验（identity_check_required）"
    assert [line.split("：")[0] for line in zh.note[1:]] == ["- 身份", "- 服务权益", "- 服务范围", "- 受保护信息",
                                                               "- 重复问题"]
    assert "回拨" in zh.note[4] and zh.facts["language"] == "zh-CN"
    en = run(t=ticket("Forgot my password", "Please reset my laptop password"), item="desktop.os_fault")
    assert en.note[0] == "Verification: identity_check_required" and en.facts["language"] == "en"
    assert [line.split(":")[0] for line in en.note[1:]] == ["- Identity", "- Entitlement", "- Scope",
                                                            "- Protected information", "- Repeat"]
    fixed = run(t=ticket("Forgot my password", ""), settings={**TABLE, "language": "zh-CN"})
    assert fixed.note[0].startswith("核验结论")


def test_a_policy_routes_through_enrich_group_after_classification():
    found = run(item="business.usage", t=ticket("系统怎么用", "ERP 报表怎么导出"))
    assert found.fields == {"enrich_verification": "not_entitled", "enrich_group": "合同管理组"}
    assert found.note[-1] == "- 路由：按 not_entitled 策略建议转至“合同管理组”"
    # the plan keeps the later step's value: classification suggested another group
    first = Findings("classification", fields={"enrich_group": "业务系统支持组"})
    fields, _, _ = pipeline.desired([first, found], ["enrich_group", "enrich_verification"])
    assert fields["enrich_group"] == "合同管理组"
    assert "enrich_group" not in run().fields          # verified: no policy, classification's group stays


def test_an_agent_moving_a_ticket_out_of_a_policy_group_is_no_misclassification():
    """Which step wrote a field is recorded with it: the classification counts a correction
    only of its own suggestion, not of the verification policy's group."""
    from plugin.classifiers.step import corrections, settings_of
    from plugin.models import WRITTEN_BY
    from plugin.settings import load_settings
    first = Findings("classification", fields={"enrich_group": "业务系统支持组", "enrich_category": "a/b/c"})
    policy = Findings("verification", fields={"enrich_group": "合同管理组"})
    wanted, _, _ = pipeline.desired([first, policy], ["enrich_group", "enrich_category"])
    owners = pipeline.owners([first, policy], wanted)
    assert owners == {"enrich_group": "verification", "enrich_category": "classification"}
    s = settings_of(StepContext(settings=load_settings(environ={})))
    moved = replace(ticket(), group="一线服务台", fields={"enrich_group": "一线服务台", "enrich_category": "a/b/c"})
    assert corrections(moved, {**wanted, WRITTEN_BY: owners}, s) == []
    # The same move away from the classification's own suggestion is one.
    own = {"enrich_group": "业务系统支持组", "enrich_category": "a/b/c",
           WRITTEN_BY: {"enrich_group": "classification", "enrich_category": "classification"}}
    assert [c["field"] for c in corrections(moved, own, s)] == ["enrich_group"]


def test_after_hours_commitment_is_in_facts_and_note():
    late = replace(ticket(), created_at=datetime(2026, 3, 6, 11, 0, tzinfo=UTC))   # Friday 19:00 Shanghai
    found = run(t=late)
    assert found.facts["after_hours"] is True
    assert found.facts["next_open"] == "2026-03-09T01:00:00+00:00"
    assert "2026-03-09 09:00" in found.note[3]


def test_repeats_are_linked_once():
    recent = ({"ticket_id": "1049", "number": "31049", "title": "打印机又卡纸",
               "created_at": ARRIVED - timedelta(hours=3), "item_id": None},)
    found = run(recent=recent)
    assert found.links == (Link("1049", "31049", "related"),)
    assert run(recent=recent, settings={**TABLE, "repeats": {"link": "none"}}).links == ()
    plan = pipeline.plan("1050", CurrentState(fields={}, tags=()), [found],
                         ["enrich_verification", "enrich_group"], ["enrich:*"])
    assert plan.links == found.links
    linked = CurrentState(fields={}, tags=(), links=frozenset({"1049"}))
    assert pipeline.plan("1050", linked, [found], ["enrich_verification"], ["enrich:*"]).links == ()


def test_decided_once_an_agents_status_is_never_overwritten():
    t = replace(ticket(), fields={"enrich_verification": "verified"})
    found = run(t=t, directory=replace(LI_NA, sender_address="ceo@gmail.example"),
                previous={"enrich_verification": "unverified"})
    assert (found.fields, found.tags, found.note, found.links) == ({}, frozenset(), (), ())
    assert found.facts == {"status": "verified", "first": False}


def test_registered_after_classification_and_needing_it():
    spec = STEPS["verification"]
    assert spec.needs == ("classification",) and not spec.history
    with pytest.raises(Exception, match="needs classification"):
        pipeline.resolve(["record_quality", "verification", "classification"])


def test_without_a_creation_time_or_clock_nothing_dated_passes():
    ctx = StepContext(settings=load(TABLE), directory=LI_NA, found={"classification": classified()})
    found = verify(replace(ticket(), created_at=None), ctx)
    results = {k: v["result"] for k, v in found.facts["checks"].items()}
    assert results == {"identity": "pass", "entitlement": "unknown", "scope": "unknown", "protected": "pass",
                       "repeats": "unknown"}
    assert found.fields["enrich_verification"] == "unverified"
