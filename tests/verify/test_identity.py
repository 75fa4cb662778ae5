"""Identity: one row per case — the directory facts, the settings, the expected result
and a word the reason must contain."""
from __future__ import annotations

from dataclasses import replace

import pytest

from plugin.verify import identity
from plugin.verify.config import load
from plugin.verify.identity import name_matches
from plugin.verify.model import Directory

LI_NA = Directory(status="ok", requester_found=True, requester_id="31", active=True, email="li.na@acme.example",
                  name="Li Na", organization="Acme Corp", org_domains=("acme.example",), sender_kind="message",
                  sender_address="li.na@acme.example", sender_name="Li Na")
CFG = load({})
ALIAS = load({"identity": {"aliases": {"li.na@acme.example": ["nali@acme.example"]}}})
JIRA_ORGS = load({"identity": {"org_domains": {"ACME": ["acme.example"]}}})
NO_ORG_OK = load({"identity": {"require_organization": False}})

CASES = [
    # (id, directory, settings, result, words in the English reason)
    ("all-pass", LI_NA, CFG, "pass", "registered address"),
    ("alias", replace(LI_NA, sender_address="nali@acme.example", sender_name=""), ALIAS, "pass", "known alias"),
    ("subdomain", replace(LI_NA, email="li.na@mail.acme.example", sender_address="li.na@mail.acme.example"),
     CFG, "pass", "domain mail.acme.example belongs"),
    ("private-alias", replace(LI_NA, sender_address="nana@gmail.example", sender_name=""),
     load({"identity": {"aliases": {"li.na@acme.example": ["nana@gmail.example"]}}}), "pass",
     "domain acme.example belongs"),
    ("other-sender", replace(LI_NA, sender_address="li.na@gmail.example"), CFG, "fail", "is not the registered"),
    ("spoofed-name", replace(LI_NA, sender_name="Tom Berg (CEO)"), CFG, "fail", "display name"),
    ("name-check-off", replace(LI_NA, sender_name="Tom Berg"), load({"identity": {"check_display_name": False}}),
     "pass", "registered address"),
    ("foreign-domain", replace(LI_NA, email="li.na@other.example", sender_address="li.na@other.example"), CFG,
     "fail", "is not one of"),
    ("unknown-requester", Directory(status="ok", requester_found=False), CFG, "fail", "unknown to the directory"),
    ("inactive", replace(LI_NA, active=False), CFG, "fail", "inactive"),
    ("agent-recorded", replace(LI_NA, sender_kind="agent", sender_address="", sender_name=""), CFG, "pass",
     "on the requester's behalf"),
    ("portal-account", replace(LI_NA, sender_kind="account"), CFG, "pass", "own account"),
    # missing data: could not verify, never a pass
    ("no-email", replace(LI_NA, email=""), CFG, "unknown", "no registered e-mail"),
    ("no-sender-address", replace(LI_NA, sender_address=""), CFG, "unknown", "no sender address"),
    ("no-first-message", replace(LI_NA, sender_kind=""), CFG, "unknown", "no first message"),
    ("no-organization", replace(LI_NA, organization="", org_domains=()), CFG, "unknown", "no organization"),
    ("no-organization-allowed", replace(LI_NA, organization="", org_domains=()), NO_ORG_OK, "pass", "allowed"),
    ("org-without-domain", replace(LI_NA, org_domains=()), CFG, "unknown", "no known domain"),
    ("jira-org-from-settings", replace(LI_NA, organization="ACME", org_domains=(), sender_kind="account"),
     JIRA_ORGS, "pass", "belongs to 'ACME'"),
    ("lookup-failed", Directory(status="failed", error="unreadable zammad record (KeyError)"), CFG, "unknown",
     "could not verify: unreadable"),
    ("not-read", Directory(), CFG, "unknown", "could not verify"),
]


@pytest.mark.parametrize("directory,cfg,result,words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_identity(directory, cfg, result, words):
    found = identity.check(directory, cfg)
    assert (found.name, found.result) == ("identity", result)
    assert words in found.reason("en")
    assert found.reason("zh-CN") and found.reason("zh-CN") != found.reason("en")


NAMES = [
    ("Li Na", "Li Na", "li.na@acme.example", True),
    ("Na Li", "Li Na", "li.na@acme.example", True),
    ("li.na", "Li Na", "li.na@acme.example", True),
    ("LI NA", "Li Na", "x@acme.example", True),
    ("王伟", "王伟", "wang.wei@xingyun.example", True),
    ("li.na@acme.example", "", "li.na@acme.example", True),
    ("", "Li Na", "li.na@acme.example", True),
    ("张伟", "王伟", "wang.wei@xingyun.example", False),
    ("IT Security Team", "Li Na", "li.na@acme.example", False),
    ("Tom", "", "li.na@acme.example", False),
]


@pytest.mark.parametrize("display,registered,address,ok", NAMES)
def test_display_name_matches_the_registered_person(display, registered, address, ok):
    assert name_matches(display, registered, address) is ok
