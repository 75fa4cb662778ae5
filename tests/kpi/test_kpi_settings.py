"""The settings file's `kpi:` section: defaults, a desk's own values over them, and a bad
value or a typo stopping start-up with the key named."""
from __future__ import annotations

import pytest

from plugin.errors import SettingsError
from plugin.kpi.config import DEFAULT_TARGETS, kpi_settings


def load(make_settings, tmp_path, text: str):
    path = tmp_path / "settings.yaml"
    path.write_text(text, encoding="utf-8")
    return make_settings(ENRICHER_CONFIG=str(path))


def test_defaults_without_a_section(make_settings):
    cfg = kpi_settings(make_settings())
    assert (cfg.response_limit_minutes, cfg.at_risk_share, cfg.default_service_level) == (5.0, 0.8, "5x8")
    assert cfg.target("P4") == 240 and cfg.target(None) == DEFAULT_TARGETS["default"]
    assert cfg.registered("zammad") == {"new"} and "waiting for support" in cfg.registered("jira")


def test_a_desks_values_over_the_defaults(make_settings, tmp_path):
    cfg = kpi_settings(load(make_settings, tmp_path, """
kpi:
  response_limit_minutes: 10
  resolution_minutes: {P4: 120, VIP: 60}
  registered_states: {zammad: [new, 待受理]}
"""))
    assert cfg.response_limit_minutes == 10 and cfg.target("P4") == 120 and cfg.target("P1") == 2400
    assert cfg.target("VIP") == 60 and cfg.registered("zammad") == {"new", "待受理"}
    assert "open" in cfg.registered("jira")


@pytest.mark.parametrize("text, named", [
    ("kpi:\n  response_limit_minutes: 0\n", "kpi.response_limit_minutes"),
    ("kpi:\n  at_risk_share: 1.5\n", "kpi.at_risk_share"),
    ("kpi:\n  respons_limit_minutes: 5\n", "kpi.respons_limit_minutes"),
    ("kpi:\n  registered_states: {servicenow: [new]}\n", "kpi.registered_states"),
    ("kpi:\n  default_service_level: 9x5\n", "kpi.default_service_level"),
])
def test_a_bad_value_names_its_key(make_settings, tmp_path, text, named):
    with pytest.raises(SettingsError, match=named.replace(".", r"\.")):
        load(make_settings, tmp_path, text)
