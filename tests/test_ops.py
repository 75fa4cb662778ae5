"""Operational surface: /readyz, /metrics, JSON logs without secrets, settings and
manifest validation, and `replay`."""
from __future__ import annotations

import json
import logging
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from plugin.app import create_app
from plugin.cli import cli
from plugin.errors import SettingsError
from plugin.logs import JsonFormatter
from plugin.manifest import MANIFEST_PATH, consistency_problems, load_manifest
from plugin.settings import load_settings
from plugin.store import Ledger

from .conftest import zammad_body, zammad_headers

README = Path(__file__).resolve().parents[1] / "README.md"




def test_readyz_means_this_process_can_accept(make_settings, sim):
    # Ready = the ledger takes a write; a platform outage is when accepting must go on.
    app = create_app(make_settings(ENRICHER_ZAMMAD_URL=sim.base_url, ENRICHER_ZAMMAD_TOKEN=sim.token))
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 200
    assert resp.json["checks"] == {"database": {"ok": True}}
    sim.set_down(True)
    assert app.test_client().get("/readyz").status_code == 200


def test_metrics_count_deliveries_queue_and_latency(make_settings):
    app = create_app(make_settings(), bot_ids={"zammad": "90"})
    client = app.test_client()
    body = zammad_body("01_ticket_create_customer_email")
    client.post("/hooks/zammad", data=body, headers=zammad_headers(body, "m1"))
    ledger = app.extensions["enricher"].ledger
    ledger.record_outcome(1, "zammad", "1042", "enriched", writes_made=2, duration_ms=120.0)
    text = client.get("/metrics").get_data(as_text=True)
    assert 'enricher_deliveries{platform="zammad",status="queued"} 1.0' in text
    assert "enricher_queue_depth 1.0" in text
    assert 'enricher_outcomes_total{outcome="enriched",platform="zammad"} 1.0' in text
    assert 'enricher_processing_seconds_bucket{le="0.25"} 1.0' in text


def test_json_log_lines_carry_ids_and_never_secrets():
    fmt = JsonFormatter(secrets=["tok-123456", "s3cr3t-t0k3n"])
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "failed with tok-123456", (), None)
    record.delivery = "d-1"
    line = json.loads(fmt.format(record))
    assert line["event"] == "failed with ***" and line["delivery"] == "d-1"


def test_service_logs_do_not_contain_secrets(make_settings, capfd):
    from plugin.logs import setup_logging
    settings = make_settings()
    setup_logging("INFO", settings.secret_values())
    app = create_app(settings, bot_ids={"zammad": "90"})
    body = zammad_body("01_ticket_create_customer_email")
    app.test_client().post("/hooks/zammad", data=body, headers=zammad_headers(body, "log-1"))
    logging.getLogger("t").info("token is %s", settings.zammad_token)
    err = capfd.readouterr().err
    assert '"event": "queued"' in err and '"delivery": "log-1"' in err
    assert settings.zammad_token not in err and settings.zammad_webhook_secret not in err
    assert settings.zammad_token not in repr(settings)


@pytest.mark.parametrize("content,suffix,message", [
    ("pipeline: [oops", ".yaml", "is not valid YAML"),
    ('{"pipeline": ', ".json", "is not valid JSON"),
    ("- a list\n", ".yaml", "must hold a mapping"),
    ("pipline: {}\n", ".yaml", "pipline: Unknown field."),
    ("record_quality: {threshold: 140}\n", ".yaml", "record_quality.threshold:"),
])
def test_broken_settings_file_is_a_clear_error(tmp_path, content, suffix, message):
    path = tmp_path / f"settings{suffix}"
    path.write_text(content)
    with pytest.raises(SettingsError) as err:
        load_settings(environ={"ENRICHER_CONFIG": str(path), "ENRICHER_DATA_DIR": str(tmp_path)})
    assert message in err.value.message


def test_bad_environment_value_names_the_variable(tmp_path):
    with pytest.raises(SettingsError) as err:
        load_settings(environ={"ENRICHER_MAX_ATTEMPTS": "lots", "ENRICHER_QUEUE_URL": "amqp://x"})
    assert "ENRICHER_MAX_ATTEMPTS: Not a valid integer." in err.value.message
    assert "ENRICHER_QUEUE_URL: must start with" in err.value.message


def test_unknown_pipeline_step_refuses_to_start(tmp_path, make_settings):
    path = tmp_path / "s.yaml"
    path.write_text("pipeline: {steps: [record_quality, astrology]}\n")
    app = create_app(make_settings(ENRICHER_CONFIG=str(path)), bot_ids={"zammad": "90"})
    from plugin.worker import Processor
    with pytest.raises(SettingsError, match="unknown pipeline step"):
        Processor(app.extensions["enricher"].settings, app.extensions["enricher"].ledger, load_manifest())


def test_manifest_is_valid_and_matches_code():
    manifest = load_manifest()
    assert consistency_problems(manifest) == []


def test_manifest_that_names_missing_code_is_rejected(tmp_path):
    bad = json.loads(MANIFEST_PATH.read_text())
    bad["pipeline"].append("telepathy")
    bad["platforms"]["zammad"]["webhook_path"] = "/hooks/zammad"
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(SettingsError, match="step 'telepathy' does not exist"):
        load_manifest(path)
    bad["version"] = "one"
    path.write_text(json.dumps(bad))
    with pytest.raises(SettingsError) as err:
        load_manifest(path)
    assert "version" in err.value.details


def test_readme_lists_every_field_tag_and_setting_of_the_manifest():
    manifest = load_manifest()
    readme = README.read_text()
    for field in manifest["fields"]:
        assert f"`{field['name']}`" in readme, field["name"]
    for tag in manifest["tags"]:
        assert f"`{tag['name']}`" in readme, tag["name"]
    for setting in manifest["settings"]:
        assert setting["env"] in readme, setting["env"]
    table_fields = set(re.findall(r"^\| `(enrich_[a-z_]+)` \|", readme, re.MULTILINE))
    assert table_fields == {f["name"] for f in manifest["fields"]}


def test_replay_dry_run_lists_and_changes_nothing_then_replays(tmp_path):
    data = tmp_path / "data"
    ledger = Ledger(f"sqlite:///{data / 'ledger.db'}", lock_dir=data)
    pk, _ = ledger.accept("zammad", "dead-1", "1042", "create", b"{}")
    ledger.set_status(pk, "dead", error="zammad failed on PUT with HTTP 503", attempts=6)
    env = {"ENRICHER_DATA_DIR": str(data), "ENRICHER_LOG_LEVEL": "ERROR"}
    dry = CliRunner().invoke(cli, ["replay", "--dry-run"], env=env)
    assert dry.exit_code == 0
    assert "ticket 1042" in dry.output and "1 dead letter(s) would be replayed" in dry.output
    assert ledger.delivery(pk)["status"] == "dead"
    real = CliRunner().invoke(cli, ["replay"], env=env)
    assert "1 dead letter(s) queued again" in real.output
    assert ledger.delivery(pk)["status"] == "queued" and ledger.delivery(pk)["attempts"] == 0


def test_doctor_says_when_the_holiday_data_runs_out(make_settings):
    """chinese-calendar covers the years published so far: the admin hears of the end of
    the data before working time stops being measured, and what to do about it."""
    import dataclasses

    import chinese_calendar

    from plugin.doctor import _calendar_check
    from plugin.workcal import from_settings

    last = max(chinese_calendar.holidays).year
    settings = make_settings()
    mid = _calendar_check(settings, today=date(last, 6, 1))
    assert mid.ok and mid.detail == "covered for the next 60 days"
    soon = _calendar_check(settings, today=date(last, 12, 1))
    assert soon.ok
    assert f"covered until {last}-12-31; from {last + 1}-01-01" in soon.detail
    assert "calendar.days" in soon.detail
    after = _calendar_check(settings, today=date(last + 1, 1, 5))
    assert not after.ok and after.detail.startswith(f"{last + 1}-01-05 is not covered")
    assert "calendar.days" in after.line()
    # the desk lists next year's days: covered (its other days count Monday to Friday)
    declared = dataclasses.replace(settings, calendar=from_settings(
        {"days": {f"{last + 1}-01-01": "holiday"}}))
    assert _calendar_check(declared, today=date(last + 1, 1, 5)).ok
    weekends_only = dataclasses.replace(settings, calendar=from_settings({"holidays": "none"}))
    assert _calendar_check(weekends_only, today=date(last + 1, 1, 5)).ok
