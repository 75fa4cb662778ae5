"""`train --from zammad`: closed tickets with their final (agent-corrected) category,
read over REST from the simulator, become catalog-id labelled training data."""
from __future__ import annotations

from click.testing import CliRunner

from plugin.classifiers import history
from plugin.classifiers.model import TrainedModel
from plugin.cli import cli

OS_FAULT = "桌面IT运维管理/操作系统故障处理/系统层面故障处理"
HARDWARE = "桌面IT运维管理/终端硬件报修/终端硬件报修跟进"


def closed(sim, title, body, category):
    tid = sim.create_ticket(title, body, "u@acme.example", customer_name="U")
    sim.agent_update(tid, state="closed", enrich_category=category)
    return tid


def test_zammad_history_is_labelled_with_catalog_ids(sim, tmp_path, monkeypatch):
    for i in range(6):
        closed(sim, f"蓝屏 {i}", "电脑蓝屏，系统反复重启", OS_FAULT)
        closed(sim, f"键盘坏了 {i}", "键盘按键失灵，需要报修更换", HARDWARE)
    sim.create_ticket("still open", "not closed yet", "o@acme.example")
    env = {"ENRICHER_ZAMMAD_URL": sim.base_url, "ENRICHER_ZAMMAD_TOKEN": sim.token,
           "ENRICHER_DATA_DIR": str(tmp_path), "ENRICHER_LOG_LEVEL": "ERROR"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    pairs = list(history.zammad_history())
    assert len(pairs) == 12
    assert {label for _, label, _ in pairs} == {"desktop.os_fault", "desktop.hardware_repair"}
    assert any("电脑蓝屏" in text for text, _, _ in pairs)
    assert all(at is None or at.tzinfo for _, _, at in pairs)     # when decided: newest held out
    out = tmp_path / "model.joblib"
    result = CliRunner().invoke(cli, ["train", "--from", "zammad", "--model", str(out), "--holdout", "0"],
                                env=env)
    assert result.exit_code == 0, result.output
    assert set(TrainedModel.load(out).labels) == {"desktop.os_fault", "desktop.hardware_repair"}
