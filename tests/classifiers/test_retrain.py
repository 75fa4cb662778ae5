"""Learning on its own: retrain, promote only what is not worse, reach running workers,
history and rollback (small generated data)."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from plugin.classifiers import versions
from plugin.classifiers.loader import model_source
from plugin.classifiers.model import train
from plugin.classifiers.retrain import retrain
from plugin.errors import InputError

NOW = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
WORDS = {"desktop.os_fault": ["蓝屏", "开不了机", "反复重启", "blue screen", "boot loop"],
         "desktop.hardware_repair": ["键盘坏了", "鼠标", "显示器", "keyboard", "monitor"],
         "business.permission": ["权限", "重置密码", "账号锁定", "access denied", "password"],
         "meeting.room_software": ["会议室", "投屏", "麦克风", "projector", "meeting room"]}
FILLER = ["请帮忙", "今天", "同事", "please help", "since this morning", "urgent", "谢谢"]


def examples(n: int = 160, seed: int = 1, relabel: dict[str, str] | None = None, newest: float = 0.0):
    """n tickets, oldest first; the newest share `newest` relabelled (a desk changing its mind)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        item = list(WORDS)[i % len(WORDS)]
        text = " ".join(rng.sample(WORDS[item], 2) + rng.sample(FILLER, 2))
        if relabel and i >= n * (1 - newest):
            item = relabel.get(item, item)
        out.append((text, item, NOW - timedelta(hours=n - i)))
    return out


def garbage_model(rows):
    """A running model that learned nothing: labels shuffled."""
    labels = [r[1] for r in rows]
    random.Random(0).shuffle(labels)
    return train([r[0] for r in rows], labels)


def test_a_better_candidate_is_promoted_and_reaches_a_running_worker(desk):
    settings, ledger = desk
    rows = examples()
    source = model_source(settings, ledger, check_seconds=0)
    before = source()                                  # the default catalog's shipped model
    assert before is not None and "_other" in before.labels
    weak = garbage_model(rows)
    row = retrain(settings, ledger, NOW, examples=lambda: rows, running=lambda: weak)
    assert row["status"] == "active" and row["n_eval"] == 32 and row["n_samples"] == 160
    assert row["accuracy"] > row["running_accuracy"]
    after = source()                                   # same source, no restart
    assert after is not before and after.metrics["retrained"] is True
    assert after.predict(["蓝屏 反复重启"]) == ["desktop.os_fault"]
    (stored,) = versions.history(ledger)
    assert stored["status"] == "active" and stored["path"] == row["path"]


def test_a_worse_candidate_is_refused_and_the_running_model_stays(desk):
    settings, ledger = desk
    # The desk moved projectors to hardware lately; the running model already knows, a model
    # of the older tickets does not.
    rows = examples(relabel={"meeting.room_software": "desktop.hardware_repair"}, newest=0.25)
    running = train([r[0] for r in rows], [r[1] for r in rows])
    row = retrain(settings, ledger, NOW, examples=lambda: rows, running=lambda: running)
    assert row["status"] == "refused" and row["path"] == ""
    assert row["accuracy"] < row["running_accuracy"]
    assert "worse than the running model" in row["reason"]
    assert model_source(settings, ledger, check_seconds=0)().metrics.get("retrained") is None


def test_too_few_tickets_is_a_refusal_with_the_reason(desk):
    settings, ledger = desk
    row = retrain(settings, ledger, NOW, examples=lambda: examples(n=20), running=lambda: None)
    assert row["status"] == "refused" and "too few labelled tickets (20" in row["reason"]


def test_a_worker_sees_a_promotion_within_the_check_interval(desk):
    settings, ledger = desk
    clock = [100.0]
    source = model_source(settings, ledger, check_seconds=5, clock=lambda: clock[0])
    first = source()
    rows = examples()
    retrain(settings, ledger, NOW, examples=lambda: rows, running=lambda: garbage_model(rows))
    clock[0] += 1
    assert source() is first                          # not looked again yet
    clock[0] += 5
    assert source() is not first and source().metrics["retrained"] is True


def test_rollback_restores_the_previous_model_then_the_default(desk):
    settings, ledger = desk
    rows = examples()
    one = retrain(settings, ledger, NOW, examples=lambda: rows, running=lambda: garbage_model(rows))
    two = retrain(settings, ledger, NOW + timedelta(days=7), examples=lambda: rows,
                  running=lambda: garbage_model(rows))
    assert [r["status"] for r in versions.history(ledger)] == ["promoted", "active"]
    out, back = versions.rollback(ledger)
    assert (out["id"], back["id"]) == (two["id"], one["id"])
    source = model_source(settings, ledger, check_seconds=0)
    assert str(source().views.choice) and source().metrics["retrained"]
    assert [r["status"] for r in versions.history(ledger)] == ["active", "rolled_back"]
    versions.rollback(ledger)
    assert "_other" in source().labels                # none promoted: the default model again
    with pytest.raises(InputError, match="nothing to roll back"):
        versions.rollback(ledger)


def test_model_history_and_rollback_commands(desk, monkeypatch):
    from plugin.cli import cli
    settings, ledger = desk
    rows = examples()
    retrain(settings, ledger, NOW, examples=lambda: rows, running=lambda: garbage_model(rows))
    env = {"ENRICHER_DATA_DIR": str(settings.data_dir), "ENRICHER_LOG_LEVEL": "ERROR",
           "ENRICHER_DATABASE_URL": settings.database_url}
    listed = CliRunner().invoke(cli, ["model", "history"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "active" in listed.output and "acc " in listed.output and "(running " in listed.output
    back = CliRunner().invoke(cli, ["model", "rollback"], env=env)
    assert back.exit_code == 0 and "now running: the settings' model file" in back.output
    again = CliRunner().invoke(cli, ["model", "rollback"], env=env)
    assert again.exit_code == 2 and "nothing_to_roll_back" in again.stderr
