"""The review report over a small fixed data set whose figures are counted by hand, in
JSON, CSV and HTML, from the command line and from /reports behind the admin token; on
SQLite and, when a server answers, PostgreSQL (the same SQL aggregates)."""
from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from plugin.app import create_app
from plugin.cli import cli
from plugin.store import Ledger
from plugin.tables import ticket_facts

TOKEN = "review-token-2026"
SOFT = "桌面IT运维管理/软件故障问题/一般软件故障"
USAGE = "业务系统/使用咨询/各业务系统使用问题"
PERIOD = ["--from", "2026-11-02", "--to", "2026-11-08"]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


def row(tid: str, created: str, **kw) -> dict:
    base = {**dict.fromkeys(c.name for c in ticket_facts.columns), "platform": "zammad", "ticket_id": tid, "created_at": at(created), "first_seen_at": at(created),
            "last_seen_at": at(created), "corrected": False, "registered_day": created[:10]}
    return {**base, **kw}


ROWS = [
    row("1", "2026-11-02 10:00", owner="alice", group_name="桌面运维组", category=SOFT, channel="email",
        response_minutes=3, response_breached=False, resolved_at=at("2026-11-02 12:00"),
        resolution_minutes=100, waiting_minutes=20, handling_minutes=80, sla_breached=False,
        record_quality=100, satisfaction=1),
    row("2", "2026-11-02 11:00", owner="alice", group_name="桌面运维组", category=SOFT, channel="phone",
        response_minutes=12, response_breached=True, resolved_at=at("2026-11-03 12:00"),
        resolution_minutes=200, waiting_minutes=0, handling_minutes=200, sla_breached=True,
        record_quality=80, satisfaction=3, misclassified=True),
    row("3", "2026-11-03 09:00", owner="bob", group_name="业务系统组", category=USAGE, channel="email",
        response_minutes=4, response_breached=False, record_quality=60, reopened=True),
    row("4", "2026-11-05 14:00", owner="bob", group_name="业务系统组", channel="web",
        response_breached=True, record_quality=70, repeat=True, corrected=True),
    # 00:30 in Shanghai is still 11-01 in UTC: inside the period all the same
    row("7", "2026-11-02 00:30", channel="email", response_minutes=0.5, response_breached=False,
        record_quality=90, satisfaction=2),
    # outside the period, just before and just after it (desk time)
    row("5", "2026-11-01 23:59", channel="email", record_quality=0, response_minutes=99),
    row("6", "2026-11-09 00:00", channel="email", record_quality=0, response_minutes=99),
]

SUMMARY = {"tickets": 5, "resolved": 2, "avg_response_minutes": 4.9, "response_attainment": 0.6,
           "response_judged": 5, "sla_attainment": 0.5, "sla_judged": 2, "avg_resolution_minutes": 150.0,
           "avg_handling_minutes": 140.0, "avg_waiting_share": 0.1, "misclassified": 2,
           "misclassification_rate": 0.4, "avg_record_quality": 0.8, "reopened": 1, "repeat": 1,
           "satisfied": 1, "neutral": 1, "dissatisfied": 1, "satisfaction_answers": 3,
           "satisfied_share": 0.3333}


@pytest.fixture
def settings(make_settings, backend):
    s = make_settings(ENRICHER_ADMIN_TOKEN=TOKEN, **backend)
    ledger = Ledger(s.database_url, lock_dir=s.data_dir)
    with ledger.transaction() as conn:
        conn.execute(insert(ticket_facts), ROWS)
    return s


def env(settings) -> dict[str, str]:
    return {"ENRICHER_DATA_DIR": str(settings.data_dir), "ENRICHER_DATABASE_URL": settings.database_url,
            "ENRICHER_LOG_LEVEL": "ERROR"}


def test_json_figures_match_the_hand_count(settings):
    out = CliRunner().invoke(cli, ["report", *PERIOD, "--format", "json"], env=env(settings))
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert {k: report["summary"][k] for k in SUMMARY} == SUMMARY
    assert report["channels"] == [{"key": "email", "tickets": 3, "share": 0.6},
                                  {"key": "phone", "tickets": 1, "share": 0.2},
                                  {"key": "web", "tickets": 1, "share": 0.2}]
    assert [(r["key"], r["tickets"]) for r in report["top_categories"]] == [(SOFT, 2), ("(none)", 2), (USAGE, 1)]
    alice, bob, nobody = report["by_agent"]
    assert (alice["key"], alice["avg_response_minutes"], alice["response_attainment"],
            alice["sla_attainment"], alice["misclassification_rate"]) == ("alice", 7.5, 0.5, 0.5, 0.5)
    assert (bob["key"], bob["avg_response_minutes"], bob["response_attainment"]) == ("bob", 4.0, 0.5)
    assert nobody["key"] == "(none)" and nobody["tickets"] == 1
    days = {p["key"]: (p["tickets"], p["response_attainment"]) for p in report["trend"]}
    assert days == {"2026-11-02": (3, 0.6667), "2026-11-03": (1, 1.0), "2026-11-04": (0, None),
                    "2026-11-05": (1, 0.0), "2026-11-06": (0, None), "2026-11-07": (0, None),
                    "2026-11-08": (0, None)}
    assert {d["id"] for d in report["definitions"]} >= {"tickets", "avg_response_minutes", "sla_attainment"}


def test_weekly_trend_folds_the_days(settings):
    out = CliRunner().invoke(cli, ["report", "--from", "2026-10-01", "--to", "2026-11-30", "--format", "json"],
                             env=env(settings))
    weeks = {p["key"]: p["tickets"] for p in json.loads(out.output)["trend"]}
    assert json.loads(out.output)["period"]["trend_unit"] == "week"
    assert weeks["2026-11-02"] == 5 and weeks["2026-10-26"] == 1 and weeks["2026-11-09"] == 1
    assert next(iter(weeks)) == "2026-09-28"        # the Monday of the week Oct 1 falls in


def test_csv_rows_carry_the_same_figures(settings, tmp_path):
    path = tmp_path / "review.csv"
    out = CliRunner().invoke(cli, ["report", *PERIOD, "--format", "csv", "--out", str(path)], env=env(settings))
    assert out.exit_code == 0 and "written to" in out.output
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    summary = rows[0]
    assert (summary["section"], summary["key"]) == ("summary", "2026-11-02..2026-11-08")
    assert {k: summary[k] for k in ("tickets", "avg_response_minutes", "response_attainment",
                                    "sla_attainment", "avg_waiting_share", "misclassification_rate")} == \
        {"tickets": "5", "avg_response_minutes": "4.9", "response_attainment": "0.6",
         "sla_attainment": "0.5", "avg_waiting_share": "0.1", "misclassification_rate": "0.4"}
    by = {(r["section"], r["key"]): r for r in rows}
    assert by[("by_agent", "alice")]["tickets"] == "2" and by[("by_group", "业务系统组")]["tickets"] == "2"
    assert by[("channel", "email")]["tickets"] == "3" and by[("trend", "2026-11-04")]["tickets"] == "0"


def test_html_shows_each_figure_linked_to_its_definition(settings):
    out = CliRunner().invoke(cli, ["report", *PERIOD], env=env(settings))
    page = out.output
    for shown in ("4.9 min", "60.0%", "50.0%", "10.0%", "40.0%", "80.0%", "33.3%", "3 份回复 answers"):
        assert shown in page, shown
    for fid in ("tickets", "avg_response_minutes", "response_attainment", "sla_attainment",
                "avg_waiting_share", "satisfaction", "misclassification_rate", "avg_record_quality"):
        assert f'href="#def-{fid}"' in page and f'id="def-{fid}"' in page
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_bad_parameters_are_one_readable_error(settings):
    out = CliRunner().invoke(cli, ["report", "--from", "2026-11-08", "--to", "2026-11-01"], env=env(settings))
    assert out.exit_code == 2 and "error: bad_report_parameters" in out.output
    assert "must not be before from" in out.output


@pytest.fixture
def app(settings):
    return create_app(settings)


def test_the_page_needs_the_token(app):
    client = app.test_client()
    missing = client.get("/reports?from=2026-11-02&to=2026-11-08")
    assert missing.status_code == 401 and missing.json["error"] == "unauthorized"
    assert set(missing.json) == {"error", "message", "details"}
    wrong = client.get("/reports", headers={"Authorization": "Bearer nope-nope-nope"})
    assert wrong.status_code == 403 and wrong.json["error"] == "forbidden"
    assert client.get("/reports?token=nope-nope").status_code == 403
    ok = client.get("/reports?from=2026-11-02&to=2026-11-08&format=json",
                    headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and ok.json["summary"]["tickets"] == 5
    assert ok.headers["Cache-Control"] == "no-store"


def test_a_token_link_becomes_a_cookie_and_leaves_the_address(app):
    client = app.test_client()
    signin = client.get(f"/reports?from=2026-11-02&to=2026-11-08&token={TOKEN}")
    assert signin.status_code == 303 and TOKEN not in signin.headers["Location"]
    assert "from=2026-11-02" in signin.headers["Location"]
    cookie = signin.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
    page = client.get(signin.headers["Location"])
    assert page.status_code == 200 and page.mimetype == "text/html" and "4.9 min" in page.text
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    data = client.get("/reports?from=2026-11-02&to=2026-11-08&format=csv")
    assert data.mimetype == "text/csv" and "attachment" in data.headers["Content-Disposition"]
    bad = client.get("/reports?from=2026-13-01&to=2026-11-08")
    assert bad.status_code == 400 and bad.json["error"] == "bad_report_parameters"
    assert "from" in bad.json["details"]


def test_without_a_token_configured_there_is_no_page(make_settings):
    app = create_app(make_settings())
    response = app.test_client().get(f"/reports?token={TOKEN}")
    assert response.status_code == 404 and response.json["error"] == "not_found"


def test_a_short_period_of_a_long_ledger_counts_the_same(settings):
    # One day of seven: on SQLite the created_at index is used (the quarter reads straight through).
    out = CliRunner().invoke(cli, ["report", "--from", "2026-11-03", "--to", "2026-11-03", "--format", "json"],
                             env=env(settings))
    summary = json.loads(out.output)["summary"]
    assert (summary["tickets"], summary["avg_response_minutes"], summary["reopened"]) == (1, 4.0, 1)
