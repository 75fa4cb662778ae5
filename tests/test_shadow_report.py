"""The what-if report against a hand count: eight tickets whose final categories, groups,
priorities and value streams differ from the plugin's in known ways (the table below),
after a dry-run backfill on the Zammad simulator. HTML checked in headless Chromium."""
from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from plugin.manifest import load_manifest
from plugin.settings import load_settings
from plugin.shadow import render, report
from plugin.shadow.backfill import Backfill
from plugin.simulators.zammad import ZammadSimulator
from plugin.store import Ledger

from . import browser

T0 = datetime(2025, 6, 3, 9, 0, tzinfo=UTC)
START, END = datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC)
HW, OS, SW = "桌面IT运维管理/终端硬件报修", "桌面IT运维管理/操作系统故障处理", "桌面IT运维管理/软件故障问题"
# text, what the plugin decides (item id; None = triage), what agents finally left (None:
# the ticket stays open). Agents' categories are written as agents write them: a path in
# either language, or something the catalog does not know.
TICKETS = [
    (("打印机卡纸", "三楼打印机卡纸，无法打印。"), "desktop.hardware_repair",
     {"enrich_category": HW + "/终端硬件报修跟进", "group": "桌面运维组", "enrich_priority": "P2",
      "enrich_value_stream": "Incident"}),                                    # all agree
    (("Reset my password", "I forgot my AD password."), "business.permission",
     {"enrich_category": "Business systems/Application permissions/Permission handling",
      "group": "一线服务台", "enrich_priority": "P3", "enrich_value_stream": "服务请求"}),
    (("电脑蓝屏", "电脑开机后蓝屏，反复重启。"), "desktop.os_fault",
     {"enrich_category": HW + "/终端硬件报修跟进", "group": "桌面运维组"}),    # OS taken for hardware
    (("VPN 连不上", "VPN 一直连接失败。"), "desktop.software_fault",
     {"enrich_category": "网络/VPN", "enrich_value_stream": "咨询"}),          # not in the catalog
    (("你好", "请回电话"), None,
     {"enrich_category": "业务系统/应用系统申请/业务系统申请", "group": "业务系统支持组"}),   # triage: a miss
    (("申请开通邮箱", "新员工入职，需要开通企业邮箱账号。"), "business.app_request",
     {"group": "业务系统支持组"}),                                            # no category left
    (("会议室投影仪", "会议室投影仪无法显示。"), "meeting.room_software", None),   # open: no answer yet
    (("电脑又蓝屏", "电脑开机后蓝屏，系统崩溃。"), "desktop.os_fault",
     {"enrich_category": HW + "/终端硬件报修跟进", "group": "桌面运维组"}),
]
# The hand count over the closed tickets (1-6, 8; ticket 7 is open).
EXPECTED = {
    "category": {"answered": 6, "agree": 2, "rate": 0.3333, "undecided": 1, "rate_decided": 0.4},
    "service": {"answered": 6, "agree": 2, "rate": 0.3333, "undecided": 1, "rate_decided": 0.4},
    "group": {"answered": 7, "agree": 4, "rate": 0.5714, "undecided": 0, "rate_decided": 0.5714},
    "priority": {"answered": 2, "agree": 1, "rate": 0.5, "undecided": 0, "rate_decided": 0.5},
    "value_stream": {"answered": 3, "agree": 2, "rate": 0.6667, "undecided": 0, "rate_decided": 0.6667},
}
CONFUSED = [{"agents": HW, "plugin": OS, "count": 2}, {"agents": "网络/VPN", "plugin": SW, "count": 1},
            {"agents": "业务系统/应用系统申请", "plugin": report.TRIAGE, "count": 1}]


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def seed(sim: ZammadSimulator) -> list[int]:
    ids = []
    for i, ((title, body), _, _) in enumerate(TICKETS):
        sim.now = lambda i=i: stamp(T0 + timedelta(hours=i))
        ids.append(sim.create_ticket(title, body, f"person{i}@acme.example", customer_name=f"Person {i}"))
    return ids


def finish(sim: ZammadSimulator, ids: list[int]) -> None:
    """What agents did later: their values, and closing."""
    sim.now = lambda: stamp(T0 + timedelta(days=3))
    for tid, (_, _, final) in zip(ids, TICKETS):
        if final is None:
            continue
        changes = {k: v for k, v in final.items() if k != "group"}
        if "group" in final:
            with sim.lock:
                sim.group_by_name(final["group"])
            changes["group"] = final["group"]
        sim.agent_update(tid, state="closed", **changes)


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """A dry-run backfill of June, then the report built from the ledger."""
    with ZammadSimulator() as sim:
        ids = seed(sim)
        finish(sim, ids)
        env = {"ENRICHER_DATA_DIR": str(tmp_path_factory.mktemp("whatif") / "data"),
               "ENRICHER_ZAMMAD_URL": sim.base_url, "ENRICHER_ZAMMAD_TOKEN": sim.token,
               "ENRICHER_BACKFILL_RATE": "0"}
        settings = load_settings(environ=env)
        ledger = Ledger(settings.database_url, lock_dir=settings.data_dir)
        Backfill(settings, ledger, load_manifest(), "zammad", dry_run=True).run(START, END)
        yield {"sim": sim, "ids": ids, "env": env, "settings": settings, "ledger": ledger,
               "data": report.build(settings, ledger, START, END)}


def test_the_plugin_decided_what_the_table_says(desk):
    decided = {r["ticket_id"]: r["plugin"]["category"] for r in desk["data"]["rows"]}
    assert decided == {str(tid): item for tid, (_, item, _) in zip(desk["ids"], TICKETS)}


def test_agreement_figures_match_the_hand_count(desk):
    data = desk["data"]
    assert data["tickets"] == 8 and data["closed"] == 7 and data["modes"] == {"shadow": 8}
    assert data["agreement"] == EXPECTED
    assert data["confusion"]["top"] == CONFUSED
    assert data["triage"] == {"count": 1, "share": 0.125}


def test_messages_steps_and_verification_are_the_ledgers(desk):
    data, ledger = desk["data"], desk["ledger"]
    rows = ledger.rows("outbox")
    assert {r["status"] for r in rows} == {"shadow"} and data["messages"]["live"] == {}
    assert sum(data["messages"]["would"].values()) == len(rows)
    assert data["messages"]["would"].get("internal_notes") == sum(r["event"].startswith("note-") for r in rows)
    classification = data["steps"]["by_step"]["classification"]["fields"]
    assert classification["enrich_category"]["tickets"] == 7 and classification["enrich_triage"]["tickets"] == 8
    assert sum(data["verification"].values()) == 8


def test_csv_has_one_row_per_ticket_to_recount_by_hand(desk):
    rows = list(csv.DictReader(io.StringIO(render.render(desk["data"], "csv"))))
    assert len(rows) == 8
    assert [r["category_agree"] for r in rows] == ["yes", "yes", "no", "no", "no", "", "", "no"]


def test_refresh_reads_what_agents_did_after_shadow_mode_saw_the_ticket(desk):
    sim, ids, settings, ledger = desk["sim"], desk["ids"], desk["settings"], desk["ledger"]
    sim.agent_update(ids[6], state="closed", enrich_category="会议支持/会议室会议软件维护/会议软件支持")
    assert report.refresh_answers(settings, ledger, "zammad", START, END) == 8
    again = report.build(settings, ledger, START, END)["agreement"]["category"]
    assert (again["answered"], again["agree"]) == (7, 3)


def test_the_command_writes_json_csv_and_html(desk, tmp_path):
    from plugin.cli import cli
    runner = CliRunner()
    out = runner.invoke(cli, ["shadow-report", "--from", "2025-06-01", "--to", "2025-06-30", "--format", "json"],
                        env=desk["env"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["tickets"] == 8
    page = tmp_path / "whatif.html"
    out = runner.invoke(cli, ["shadow-report", "--out", str(page)], env=desk["env"], catch_exceptions=False)
    assert out.exit_code == 0 and page.stat().st_size > 5000


def test_the_html_page_is_self_contained_and_reads_on_a_phone(desk, tmp_path):
    html = render.render(desk["data"], "html")
    assert '<html lang="zh-CN">' in html and 'name="viewport"' in html
    assert not any(s in html for s in ("<script", "<link", "src=", "url(", "http://", "https://"))
    page = tmp_path / "whatif.html"
    page.write_text(html, encoding="utf-8")
    dom = browser.dom(page.as_uri())
    for text in ("影子模式预演报告", "Shadow-mode what-if report", "33.3%", "57.1%", "Confusion between services",
                 OS, "网络/VPN", "待分诊 triage", "Verification outcomes", "What each step would write"):
        assert text in dom, text
    shot = browser.screenshot(page.as_uri(), tmp_path / "phone.png")
    assert shot.stat().st_size > 10_000
