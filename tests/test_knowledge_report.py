"""The review's self-help figure on fixed ledger rows counted by hand: of the period's
tickets that got knowledge suggestions and are resolved, how many were resolved without
agent work, as a count and a share, in JSON, CSV and HTML with its definition."""
from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from plugin.cli import cli
from plugin.store import Ledger
from plugin.tables import ticket_facts

from .test_report import PERIOD, at, env, row

ROWS = [
    row("1", "2026-11-02 10:00", owner="alice", resolved_at=at("2026-11-02 12:00"),
        knowledge_suggested=2, self_help_resolved=True),          # self-help: counted, resolved by it
    row("2", "2026-11-03 10:00", owner="alice", resolved_at=at("2026-11-04 12:00"),
        knowledge_suggested=1, self_help_resolved=False),         # an engineer replied
    row("3", "2026-11-04 10:00", owner="bob", resolved_at=at("2026-11-04 11:00"),
        knowledge_suggested=3, self_help_resolved=True),
    row("4", "2026-11-05 10:00", owner="bob", knowledge_suggested=0, self_help_resolved=True),  # none suggested
    row("5", "2026-11-05 11:00", owner="bob", knowledge_suggested=2),                          # still open
    row("6", "2026-11-06 11:00", owner="carol"),                                               # before the step
    row("7", "2026-11-09 00:00", owner="alice", knowledge_suggested=1, self_help_resolved=True),  # after the period
]


@pytest.fixture
def settings(make_settings, backend):
    s = make_settings(**backend)
    ledger = Ledger(s.database_url, lock_dir=s.data_dir)
    with ledger.transaction() as conn:
        conn.execute(insert(ticket_facts), ROWS)
    return s


def report(settings, fmt: str) -> str:
    out = CliRunner().invoke(cli, ["report", *PERIOD, "--format", fmt], env=env(settings))
    assert out.exit_code == 0, out.output
    return out.output


def test_json_counts_self_help_resolutions_by_hand(settings):
    data = json.loads(report(settings, "json"))
    s = data["summary"]
    assert (s["tickets"], s["self_help_resolved"], s["self_help_judged"], s["self_help_resolution"]) == \
        (6, 2, 3, 0.6667)                                         # tickets 1 and 3 of 1, 2, 3
    agents = {r["key"]: (r["self_help_resolved"], r["self_help_judged"], r["self_help_resolution"])
              for r in data["by_agent"]}
    assert agents == {"alice": (1, 2, 0.5), "bob": (1, 1, 1.0), "carol": (0, 0, None)}
    [definition] = [d for d in data["definitions"] if d["id"] == "self_help_resolution"]
    assert definition["unit"] == "%" and "without a public reply" in definition["how_en"]
    assert "自助解决" in definition["zh"]


def test_csv_carries_the_count_and_the_share(settings):
    rows = list(csv.DictReader(io.StringIO(report(settings, "csv"))))
    summary = rows[0]
    assert (summary["self_help_resolved"], summary["self_help_judged"], summary["self_help_resolution"]) == \
        ("2", "3", "0.6667")
    by = {(r["section"], r["key"]): r for r in rows}
    assert by[("by_agent", "carol")]["self_help_resolution"] == ""     # nothing to judge: blank, not 0


def test_html_shows_the_figure_linked_to_its_definition(settings):
    page = report(settings, "html")
    card = page[page.index('id="fig-self_help_resolution"'):]
    card = card[:card.index("</div>")]
    assert "66.7%" in card and "2 / 3 张 tickets" in card and 'href="#def-self_help_resolution"' in card
    assert 'id="def-self_help_resolution"' in page and "自助解决率" in page
