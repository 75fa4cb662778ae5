"""Secrets at start-up and in output (issue 9): weak webhook secrets refused, passwords
in server URLs masked wherever settings are printed or logged, and an unreachable
database or queue reported as one `error: key: message` line."""
from __future__ import annotations

import json
import logging

import pytest
from click.testing import CliRunner

from plugin.cli import cli
from plugin.errors import SettingsError
from plugin.logs import JsonFormatter
from plugin.settings import load_settings, mask_url

PG = "postgresql+psycopg://enricher:pg%40Secret9@127.0.0.1:1/ledger"
REDIS = "redis://:rds-Secret7@127.0.0.1:1/0"


@pytest.mark.parametrize("name", ["ENRICHER_ZAMMAD_WEBHOOK_SECRET", "ENRICHER_JIRA_WEBHOOK_SECRET",
                                  "ENRICHER_JIRA_AUTOMATION_SECRET"])
@pytest.mark.parametrize("value", ["        ", "x", "abc def g", "1234567"])
def test_weak_webhook_secret_is_refused_naming_the_variable(tmp_path, name, value):
    with pytest.raises(SettingsError) as err:
        load_settings(environ={"ENRICHER_DATA_DIR": str(tmp_path), name: value})
    assert f"{name}: must have at least 8 characters that are not spaces" in err.value.message


def test_a_secret_of_eight_characters_is_enough(tmp_path):
    s = load_settings(environ={"ENRICHER_DATA_DIR": str(tmp_path),
                               "ENRICHER_ZAMMAD_WEBHOOK_SECRET": "8 chars ok"})
    assert s.zammad_webhook_secret == "8 chars ok"


def test_url_passwords_are_masked_in_repr_and_listed_for_logs(tmp_path):
    s = load_settings(environ={"ENRICHER_DATA_DIR": str(tmp_path), "ENRICHER_DATABASE_URL": PG,
                               "ENRICHER_QUEUE_URL": REDIS})
    shown = repr(s)
    assert "pg%40Secret9" not in shown and "rds-Secret7" not in shown
    assert "enricher:***@127.0.0.1:1/ledger" in shown and "redis://:***@127.0.0.1:1/0" in shown
    assert {"pg%40Secret9", "pg@Secret9", "rds-Secret7"} <= set(s.secret_values())


@pytest.mark.parametrize("text,masked", [
    (PG, "postgresql+psycopg://enricher:***@127.0.0.1:1/ledger"),
    ("cannot reach redis://u:pw@h:6379/0 now", "cannot reach redis://u:***@h:6379/0 now"),
    ("sqlite:////data/ledger.db", "sqlite:////data/ledger.db"),
    ("https://zammad.example.com/api/v1", "https://zammad.example.com/api/v1"),
])
def test_mask_url(text, masked):
    assert mask_url(text) == masked


def _line(fmt: JsonFormatter, message: str) -> str:
    return fmt.format(logging.LogRecord("t", logging.INFO, __file__, 1, message, (), None))


@pytest.mark.parametrize("secret,message,shown", [
    ("pw", "login with pw failed", "login with *** failed"),
    ("pw", "moving upward", "moving upward"),              # inside a word: not the secret
    ("x1", "token=x1;", "token=***;"),
    ('q"uote\\d', 'secret q"uote\\d here', "secret *** here"),
    ("tok-123456", "Bearer tok-123456", "Bearer ***"),
])
def test_log_lines_mask_short_and_escaped_secrets(secret, message, shown):
    assert json.loads(_line(JsonFormatter([secret]), message))["event"] == shown


@pytest.mark.parametrize("env,key,hidden", [
    ({"ENRICHER_DATABASE_URL": PG}, "database_unreachable", "pg%40Secret9"),
    ({"ENRICHER_QUEUE_URL": REDIS}, "queue_unreachable", "rds-Secret7"),
])
def test_unreachable_servers_are_one_error_line_without_a_traceback(tmp_path, env, key, hidden):
    base = {"ENRICHER_DATA_DIR": str(tmp_path / "data"), "ENRICHER_LOG_LEVEL": "ERROR"}
    result = CliRunner().invoke(cli, ["worker"], env={**base, **env})
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: {key}: ") and len(result.output.splitlines()) == 1
    assert "Traceback" not in result.output and hidden not in result.output
