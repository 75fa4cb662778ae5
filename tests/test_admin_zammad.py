"""`install zammad` and `doctor` through the CLI against the Zammad simulator."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from plugin.admin import zammad as admin
from plugin.cli import cli
from plugin.manifest import load_manifest

PUBLIC = "https://enricher.example.com"




@pytest.fixture
def run(sim, tmp_path):
    def invoke(*args, **env):
        base = {"ENRICHER_DATA_DIR": str(tmp_path / "data"), "ENRICHER_ZAMMAD_URL": sim.base_url,
                "ENRICHER_ZAMMAD_TOKEN": sim.token, "ENRICHER_ZAMMAD_WEBHOOK_SECRET": "hook-secret-1",
                "ENRICHER_PUBLIC_URL": PUBLIC, "ENRICHER_LOG_LEVEL": "ERROR"}
        base.update(env)
        return CliRunner().invoke(cli, list(args), env=base)
    return invoke


def test_dry_run_plans_everything_and_writes_nothing(sim, run):
    result = run("install", "zammad", "--dry-run")
    assert result.exit_code == 0, result.output
    fields = [f["name"] for f in load_manifest()["fields"]]
    assert "would create  webhook  desk-enricher" in result.output
    assert "would create  trigger  desk-enricher: enrich tickets" in result.output
    assert all(f"would create  field    {name}" in result.output for name in fields)
    assert sim.writes(include_admin=True) == []


def test_install_creates_wiring_and_is_idempotent(sim, run):
    first = run("install", "zammad")
    assert first.exit_code == 0, first.output
    (hook,) = sim.webhooks.values()
    assert hook["endpoint"] == f"{PUBLIC}/hooks/zammad" and hook["signature_token"] == "hook-secret-1"
    (trigger,) = sim.triggers.values()
    assert trigger["perform"]["notification.webhook"]["webhook_id"] == hook["id"]
    assert trigger["condition"]["ticket.updated_by_id"] == {
        "operator": "is not", "pre_condition": "specific", "value": ["90"]}
    names = {a["name"] for a in sim.attributes.values()}
    assert {f["name"] for f in load_manifest()["fields"]} <= names
    before = len(sim.writes(include_admin=True))
    second = run("install", "zammad")
    assert "0 change(s); nothing to do" in second.output
    assert len(sim.writes(include_admin=True)) == before


def test_install_updates_a_webhook_that_points_elsewhere(sim, run):
    run("install", "zammad")
    result = run("install", "zammad", ENRICHER_PUBLIC_URL="https://new-host.example.com")
    assert "update  webhook  desk-enricher" in result.output
    (hook,) = sim.webhooks.values()
    assert hook["endpoint"] == "https://new-host.example.com/hooks/zammad"


def test_install_needs_public_url_and_secret(run):
    result = run("install", "zammad", ENRICHER_PUBLIC_URL="")
    assert result.exit_code == 2
    assert "error: not_configured: set ENRICHER_PUBLIC_URL" in result.output


def test_doctor_fails_before_install_and_passes_after(sim, run):
    before = run("doctor")
    assert before.exit_code == 1
    assert "FAIL  zammad.webhook: no active webhook" in before.output
    assert "FAIL  zammad.fields: missing:" in before.output
    run("install", "zammad")
    after = run("doctor")
    assert after.exit_code == 0, after.output
    for key in ("settings", "manifest", "database", "queue", "dead_letters", "zammad.secret",
                "zammad.reachable", "zammad.token", "zammad.webhook", "zammad.trigger", "zammad.fields"):
        assert f"ok    {key}:" in after.output


def test_doctor_reports_bad_token_and_unreachable_platform(run):
    bad = run("doctor", ENRICHER_ZAMMAD_TOKEN="wrong-token")
    assert bad.exit_code == 1 and "FAIL  zammad.token:" in bad.output
    assert "wrong-token" not in bad.output
    down = run("doctor", ENRICHER_ZAMMAD_URL="http://127.0.0.1:9", ENRICHER_HTTP_RETRIES="0")
    assert "FAIL  zammad.reachable: cannot reach zammad" in down.output


def test_doctor_reports_missing_permission(sim, run):
    sim.fail_next(1, status=403, match="GET /api/v1/triggers")
    result = run("doctor")
    assert "FAIL  zammad.permission.admin.trigger:" in result.output
    assert "give the plugin user the admin.trigger permission" in result.output


def test_doctor_counts_dead_letters(run, tmp_path):
    from plugin.store import Ledger
    ledger = Ledger(f"sqlite:///{tmp_path / 'data' / 'ledger.db'}", lock_dir=tmp_path / "data")
    pk, _ = ledger.accept("zammad", "x", "1", "create", b"{}")
    ledger.set_status(pk, "dead", error="boom")
    result = run("doctor")
    assert "FAIL  dead_letters: 1 dead letter(s)" in result.output


def test_trigger_without_bot_guard_is_flagged():
    checks = admin._wiring_checks(
        [{"id": 1, "endpoint": f"{PUBLIC}/hooks/zammad", "active": True}],
        [{"name": "t", "active": True, "perform": {"notification.webhook": {"webhook_id": 1}},
          "condition": {}}], "90", PUBLIC)
    assert [c.ok for c in checks] == [True, False]
    assert "not `updated_by_id is not` the plugin user" in checks[1].detail


def test_doctor_checks_the_learned_model_named_in_the_settings(sim, run, tmp_path):
    from plugin.classifiers.model import train
    model_path = tmp_path / "model.joblib"
    config = tmp_path / "enricher.yaml"
    config.write_text(f"classification:\n  model_path: {model_path}\n", encoding="utf-8")
    missing = run("doctor", ENRICHER_CONFIG=str(config))
    assert missing.exit_code == 1
    assert f"FAIL  classification.model: model file {model_path} does not exist" in missing.output
    assert f"run `desk-enricher train … --model {model_path}`" in missing.output
    train(["vpn fails", "vpn down", "printer jam", "printer broken"],
          ["net", "net", "print", "print"]).save(model_path)
    found = run("doctor", ENRICHER_CONFIG=str(config))
    assert "ok    classification.model: 2 labels, trained " in found.output
    assert "on 4 tickets" in found.output
    assert "classification.model" not in run("doctor").output      # no model named: no check
