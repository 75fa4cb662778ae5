"""The review page over a generated quarter, served by the app over real HTTP and opened in
headless Chromium at a phone's size: the token link signs in, the figures the browser shows
are the JSON report's, the charts are there, and nothing is fetched from elsewhere."""
from __future__ import annotations

import json
import re
import threading
import urllib.request
from datetime import date

import pytest
from werkzeug.serving import make_server

from plugin.app import create_app
from plugin.reports import sample
from plugin.store import Ledger

from .browser import PHONE, dom, screenshot

TOKEN = "review-token-2026"
QUARTER = "from=2026-10-01&to=2026-12-31"


@pytest.fixture
def served(make_settings):
    settings = make_settings(ENRICHER_ADMIN_TOKEN=TOKEN)
    ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
    sample.fill(ledger.engine, date(2026, 10, 1), date(2026, 12, 31), 30)
    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def _json(base: str) -> dict:
    req = urllib.request.Request(f"{base}/reports?{QUARTER}&format=json",
                                 headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=30) as response:
        return json.loads(response.read())


def test_the_quarter_opens_on_a_phone_and_shows_the_reports_figures(served, tmp_path):
    report = _json(served)
    page = dom(f"{served}/reports?{QUARTER}&token={TOKEN}", PHONE)
    assert "服务台评审报告" in page and "Service desk review" in page
    summary = report["summary"]
    card = re.search(r'id="fig-tickets".*?<b>([^<]+)</b>', page, re.DOTALL)
    assert card and card.group(1) == f"{summary['tickets']:,}"
    assert f"{summary['avg_response_minutes']:.1f} min" in page
    assert f"{100 * summary['response_attainment']:.1f}%" in page
    assert page.count("<svg") >= 4 and len(report["trend"]) == 14        # a quarter, by week
    assert all(f'id="def-{fid}"' in page
               for fid in ("tickets", "sla_attainment", "avg_waiting_share", "self_help_resolution"))
    assert f"{summary['self_help_resolved']} / {summary['self_help_judged']} 张 tickets" in page
    assert summary["self_help_judged"] > 0
    for agent in sample.AGENTS:
        assert agent in page
    assert TOKEN not in page
    shot = screenshot(f"{served}/reports?{QUARTER}&token={TOKEN}", tmp_path / "phone.png", (390, 2400))
    assert shot.stat().st_size > 10_000
