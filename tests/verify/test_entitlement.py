"""Entitlement: the table in the settings, a requester, a service and a day in; the
result and its reason out. Dates are inclusive; an empty table is "not checked"."""
from __future__ import annotations

from datetime import date

import pytest

from plugin.classifiers.catalog import default_catalog, find_item
from plugin.errors import SettingsError
from plugin.verify import entitlement
from plugin.verify.config import load
from plugin.verify.entitlement import Who

CATALOG = default_catalog()
OS_FAULT = find_item(CATALOG, "desktop.os_fault")
PERMISSION = find_item(CATALOG, "business.permission")
DAY = date(2026, 3, 2)
TABLE = load({
    "requester_groups": {"executives": ["ceo@partner.example"]},
    "entitlements": [
        {"name": "Acme desktop", "organizations": ["Acme Corp"], "services": ["desktop.*"],
         "service_level": "5x8", "valid_from": "2026-01-01", "valid_to": "2026-12-31"},
        {"name": "Acme business (old)", "domains": ["acme.example"], "services": ["业务系统/*"],
         "valid_to": "2025-12-31"},
        {"name": "Partner executives", "groups": ["executives"], "services": ["*"], "service_level": "7x24"},
        {"name": "Xingyun 2027", "organizations": ["上海星云科技有限公司"], "services": ["*"],
         "valid_from": "2027-01-01"},
    ]})
ACME = Who("li.na@acme.example", "Acme Corp")

CASES = [
    # (id, who, item, settings, result, words in the English reason)
    ("org-covers", ACME, OS_FAULT, TABLE, "pass", "contract 'Acme desktop' covers"),
    ("org-name-any-case", Who("", "acme corp"), OS_FAULT, TABLE, "pass", "Acme desktop"),
    ("not-covered", Who("", "Acme Corp"), PERMISSION, TABLE, "fail", "do not cover"),
    ("expired", ACME, PERMISSION, TABLE, "fail", "expired on 2025-12-31"),
    ("not-started", Who("wang.wei@xingyun.example", "上海星云科技有限公司"), OS_FAULT, TABLE, "fail",
     "starts on 2027-01-01"),
    ("group", Who("ceo@partner.example", ""), PERMISSION, TABLE, "pass", "Partner executives"),
    ("no-contract", Who("someone@elsewhere.example", "Elsewhere Ltd"), OS_FAULT, TABLE, "fail",
     "no contract for 'Elsewhere Ltd'"),
    ("unclassified", ACME, None, TABLE, "pass", "requester checked only"),
    ("no-org-no-email", Who("", ""), OS_FAULT, TABLE, "unknown", "could not verify"),
    ("no-organization", Who("li.na@acme.example", ""), OS_FAULT, TABLE, "fail", "do not cover"),
    ("no-table", ACME, OS_FAULT, load({}), "skipped", "no entitlement table"),
]


@pytest.mark.parametrize("who,item,cfg,result,words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_entitlement(who, item, cfg, result, words):
    found = entitlement.check(who, item, DAY, cfg)
    assert (found.name, found.result) == ("entitlement", result)
    assert words in found.reason("en")


def test_a_valid_row_hands_its_service_level_to_scope():
    found = entitlement.check(Who("ceo@partner.example", ""), OS_FAULT, DAY, TABLE)
    assert found.facts == {"contract": "Partner executives", "service_level": "7x24", "valid_to": None}


def test_the_last_day_of_a_contract_still_counts():
    assert entitlement.check(ACME, OS_FAULT, date(2026, 12, 31), TABLE).result == "pass"
    assert entitlement.check(ACME, OS_FAULT, date(2027, 1, 1), TABLE).result == "fail"


BAD = [
    ({"entitlements": [{"name": "x", "services": ["*"]}]}, "entitlements.0.organizations"),
    ({"entitlements": [{"name": "x", "organizations": ["A"], "services": []}]}, "entitlements.0.services"),
    ({"entitlements": [{"name": "x", "organizations": ["A"], "services": ["*"], "valid_to": "soon"}]},
     "entitlements.0.valid_to"),
    ({"entitlements": [{"name": "x", "organizations": ["A"], "services": ["*"], "service_level": "24x7"}]},
     "entitlements.0.service_level"),
    ({"entitlements": [{"name": "x", "groups": ["vip"], "services": ["*"]}]}, "entitlements.0.groups"),
    ({"entitlements": [{"name": "x", "domains": ["not a domain"], "services": ["*"]}]},
     "entitlements.0.domains"),
    ({"requester_groups": {"vip": ["not-an-address"]}}, "requester_groups"),
    ({"policies": {"blocked": {"group": "x"}}}, "policies.blocked"),
    ({"policies": {"not_entitled": {"queue": "x"}}}, "policies.not_entitled.queue"),
    ({"entitlement": []}, "entitlement: Unknown field"),
]


@pytest.mark.parametrize("section,key", BAD, ids=[b[1] for b in BAD])
def test_bad_settings_name_the_key(section, key):
    with pytest.raises(SettingsError) as err:
        load(section)
    assert err.value.message.startswith("verification: ") and key in err.value.message
