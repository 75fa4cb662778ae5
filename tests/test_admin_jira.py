"""`install jira` and the Jira checks of `doctor`, through the CLI, against the JSM simulator."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from plugin.cli import cli
from plugin.manifest import load_manifest
from plugin.simulators.jira import JiraSimulator

from .jira_helpers import jira_env

PUBLIC = "https://enricher.example.com"


@pytest.fixture(params=["cloud", "dc"])
def jsim(request):
    s = JiraSimulator(flavor=request.param)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def run(jsim, tmp_path):
    def invoke(*args, **env):
        base = {"ENRICHER_DATA_DIR": str(tmp_path / "data"), "ENRICHER_PUBLIC_URL": PUBLIC,
                "ENRICHER_LOG_LEVEL": "ERROR", **jira_env(jsim, "jira-hook-secret")}
        base.update(env)
        return CliRunner().invoke(cli, list(args), env=base)
    return invoke


def test_install_jira_dry_run_then_apply_then_nothing(jsim, run):
    fields = [f["name"] for f in load_manifest()["fields"]]
    dry = run("install", "jira", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would create  webhook  desk-enricher" in dry.output
    assert all(f"would create  field    {name}" in dry.output for name in fields)
    assert jsim.webhooks == {}
    first = run("install", "jira")
    assert first.exit_code == 0, first.output
    (hook,) = jsim.webhooks.values()
    assert hook["url"] == f"{PUBLIC}/hooks/jira" and hook["secret"] == "jira-hook-secret"
    assert sorted(hook["events"]) == ["comment_created", "jira:issue_created", "jira:issue_updated"]
    names = {f["name"] for f in jsim.fields.values()} if isinstance(jsim.fields, dict) else \
        {f["name"] for f in jsim.fields}
    assert set(fields) <= names
    again = run("install", "jira")
    assert "0 change(s); nothing to do" in again.output
    assert len(jsim.webhooks) == 1


def test_install_jira_replaces_a_webhook_pointing_elsewhere(jsim, run):
    run("install", "jira")
    moved = run("install", "jira", ENRICHER_PUBLIC_URL="https://other.example.com")
    assert "replace webhook  desk-enricher" in moved.output
    (hook,) = jsim.webhooks.values()
    assert hook["url"] == "https://other.example.com/hooks/jira"


def test_doctor_covers_jira(jsim, run):
    before = run("doctor")
    assert before.exit_code == 1
    assert "FAIL  jira.webhook: no enabled webhook" in before.output
    assert "FAIL  jira.fields: missing:" in before.output
    run("install", "jira")
    after = run("doctor")
    assert after.exit_code == 0, after.output
    for key in ("jira.secret", "jira.reachable", "jira.token", "jira.permission.admin",
                "jira.webhook", "jira.fields"):
        assert f"ok    {key}:" in after.output
    bad = run("doctor", ENRICHER_JIRA_TOKEN="nope-nope")
    assert "FAIL  jira.token:" in bad.output and "nope-nope" not in bad.output
