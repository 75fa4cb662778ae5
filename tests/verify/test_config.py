"""The `verification:` section is validated at start-up with the rest of the settings
file; an error names the key, and the step finds the validated settings."""
from __future__ import annotations

import json

import pytest

from plugin.errors import SettingsError
from plugin.verify.config import Policy, VerificationSettings, settings_of

EXAMPLE = {"verification": {
    "identity": {"org_domains": {"ACME": ["acme.example"]}, "aliases": {"li.na@acme.example": ["nana@acme.cn"]}},
    "requester_groups": {"executives": ["ceo@partner.example"]},
    "entitlements": [{"name": "ACME 2026", "organizations": ["ACME"], "services": ["desktop.*", "业务系统/*"],
                      "service_level": "5x8", "valid_from": "2026-01-01", "valid_to": "2026-12-31"}],
    "protected": {"checks": {"business.permission": {"zh": "系统负责人审批", "en": "system owner's approval"}}},
    "repeats": {"window_hours": 48},
    "policies": {"not_entitled": {"group": "合同管理组"}}}}


def write(tmp_path, data) -> str:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_the_settings_file_section_reaches_the_step(make_settings, tmp_path):
    settings = make_settings(ENRICHER_CONFIG=write(tmp_path, EXAMPLE))
    cfg = settings_of(settings)
    assert cfg.org_domains == {"acme": ("acme.example",)} and cfg.repeat_window_hours == 48
    assert cfg.entitlements[0].services == ("desktop.*", "业务系统/*")
    assert cfg.policies == {"not_entitled": Policy(group="合同管理组")}


def test_defaults_without_a_section(make_settings):
    assert settings_of(make_settings()) == VerificationSettings()
    assert settings_of(None) == VerificationSettings()


def test_a_bad_value_stops_start_up_naming_the_key(make_settings, tmp_path):
    bad = json.loads(json.dumps(EXAMPLE))
    bad["verification"]["entitlements"][0]["valid_to"] = "2025-12-31"
    with pytest.raises(SettingsError) as err:
        make_settings(ENRICHER_CONFIG=write(tmp_path, bad))
    assert "verification.entitlements.0.valid_to: must not be before valid_from" in err.value.message
