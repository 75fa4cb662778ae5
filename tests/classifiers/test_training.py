"""Training, evaluation, the CLI commands, the model file and its live reload."""
from __future__ import annotations

import importlib.util
import json
import os
import warnings

import joblib
import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.decomposition import TruncatedSVD
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from plugin.classifiers import training
from plugin.classifiers.commands import evaluate, train
from plugin.classifiers.encoder import SentenceEncoder
from plugin.classifiers.fast import FastScorer
from plugin.classifiers.model import DEFAULT_PARAMS, ModelHolder, TrainedModel
from plugin.classifiers.model import train as train_model
from plugin.classifiers.step import classify
from plugin.classifiers.views import VIEWS, view_estimator, view_output
from plugin.errors import InputError

from .conftest import FIXTURES, make_ctx, make_ticket

SMALL = str(FIXTURES / "tickets_small.csv")
COLS = ["--text-column", "title", "--text-column", "body", "--label-column", "category"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("model") / "model.joblib"
    result = CliRunner().invoke(train, ["--csv", SMALL, *COLS, "--model", str(path)])
    assert result.exit_code == 0, result.output
    return str(path)


def test_train_prints_a_summary_with_holdout_metrics(tmp_path):
    out = tmp_path / "m.joblib"
    result = CliRunner().invoke(train, ["--csv", SMALL, *COLS, "--model", str(out)])
    assert result.exit_code == 0, result.output
    assert "trained on 32 tickets, 4 labels" in result.output
    assert "skipped 1 row(s) without text" in result.output
    assert "hold-out 20% (stratified, seed 42)" in result.output
    assert "macro-F1" in result.output and "business.permission" in result.output
    assert out.is_file()


def test_evaluate_prints_json(trained):
    result = CliRunner().invoke(evaluate, ["--csv", SMALL, "--model", trained, *COLS,
                                           "--threshold", "0.5", "--json"])
    assert result.exit_code == 0, result.output
    m = json.loads(result.output)
    assert {"accuracy", "macro_f1", "per_label", "coverage_at_threshold", "accuracy_at_threshold",
            "threshold", "n"} <= set(m)
    assert m["n"] == 32 and m["threshold"] == 0.5 and m["accuracy"] >= 0.9
    assert set(m["per_label"]["desktop.software_fault"]) == {"precision", "recall", "f1", "support"}
    text = CliRunner().invoke(evaluate, ["--csv", SMALL, "--model", trained, *COLS])
    assert text.exit_code == 0 and "at threshold 0.60: coverage" in text.output


@pytest.mark.parametrize("args,message", [
    (["--csv", "nope.csv", *COLS], "error: csv_not_found: nope.csv: no such file"),
    (["--csv", str(FIXTURES / "empty.csv"), *COLS], "error: csv_empty:"),
    (["--csv", SMALL, "--text-column", "subject", "--label-column", "category"],
     "error: csv_missing_column: " + SMALL + ": no column 'subject'; available: title, body, category"),
    (["--csv", str(FIXTURES / "one_label.csv"), "--text-column", "text", "--label-column", "label"],
     "error: too_few_labels: " + str(FIXTURES / "one_label.csv")
     + ": need at least 2 different labels to train, found 1 (desktop.software_fault)"),
    (["--from", "zammad"], "error: not_configured: ENRICHER_ZAMMAD_URL and ENRICHER_ZAMMAD_TOKEN must be set"),
    (["--csv", SMALL], "error: bad_input: --csv needs --text-column and --label-column"),
    ([], "error: bad_input: give --csv FILE or --from zammad|jira"),
])
def test_train_bad_input_exits_2_with_the_reason(tmp_path, args, message):
    result = CliRunner().invoke(train, [*args, "--model", str(tmp_path / "m.joblib")])
    assert result.exit_code == 2
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "m.joblib").exists()


def test_evaluate_bad_model_file_exits_2(tmp_path):
    bad = tmp_path / "bad.joblib"
    bad.write_bytes(b"not a model")
    result = CliRunner().invoke(evaluate, ["--csv", SMALL, "--model", str(bad), *COLS])
    assert result.exit_code == 2 and result.stderr.startswith("error: bad_model:")
    missing = CliRunner().invoke(evaluate, ["--csv", SMALL, "--model", str(tmp_path / "x"), *COLS])
    assert missing.exit_code == 2 and missing.stderr.startswith("error: model_not_found:")


def test_registered_history_source_trains(tmp_path, monkeypatch):
    rows = training.read_csv(SMALL, ["title", "body"], "category")
    monkeypatch.setattr(training, "_SOURCES", {})
    training.register_history_source("jira", lambda: zip(rows.texts, rows.labels))
    result = CliRunner().invoke(train, ["--from", "jira", "--model", str(tmp_path / "m.joblib")])
    assert result.exit_code == 0, result.output
    assert "trained on 32 tickets" in result.output


def test_read_csv_joins_text_columns_and_counts_skipped_rows():
    data = training.read_csv(SMALL, ["title", "body"], "category")
    assert data.texts[0] == "VPN 连不上\n在家 VPN 连接失败"
    assert len(data.texts) == 32 and data.skipped_empty_text == 1


def test_rare_labels_are_left_out(tmp_path):
    data = training.read_csv(SMALL, ["title", "body"], "category")
    data = training.Dataset(data.texts + ["odd one"], data.labels + ["rare.item"], source="t")
    model = training.train_from_dataset(data, holdout=0)
    assert "rare.item" not in model.labels and model.metrics["dropped_labels"] == {"rare.item": 1}


def test_save_load_round_trip(trained, tmp_path):
    model = TrainedModel.load(trained)
    assert model.labels == ("business.permission", "desktop.hardware_repair",
                            "desktop.software_fault", "meeting.room_software")
    assert model.n_samples == 32 and model.metrics["holdout"] == 0.2
    assert model.sklearn_version and model.trained_at.endswith("Z")
    copy = TrainedModel.load(model.save(tmp_path / "copy.joblib"))
    text = "VPN 连接失败"
    assert copy.scores(text) == pytest.approx(model.scores(text))
    assert copy.predict([text]) == ["desktop.software_fault"]
    assert sum(copy.scores(text).values()) == pytest.approx(1.0)


def test_a_desk_model_feeds_the_classification_step(trained):
    model = TrainedModel.load(trained)
    found = classify(make_ticket("Zoom", "Zoom in room 3 has no sound"), make_ctx(model=model))
    assert found.facts["model"]["used"] is True
    assert found.facts["candidate"] == "meeting.room_software"


def test_model_holder_reloads_when_the_file_changes(trained, tmp_path):
    path = tmp_path / "live.joblib"
    holder = ModelHolder(path)
    assert holder.get() is None                               # no file yet: no model
    first = TrainedModel.load(trained)
    first.save(path)
    loaded = holder.get()
    assert loaded is not None and holder.get() is loaded      # unchanged file: same object
    second = TrainedModel.load(trained)
    second.metrics = {"marker": 2}
    second.save(path)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    reloaded = holder.get()
    assert reloaded is not loaded and reloaded.metrics == {"marker": 2}


def test_model_holder_keeps_the_old_model_when_the_new_file_is_bad(trained, tmp_path):
    path = tmp_path / "live.joblib"
    TrainedModel.load(trained).save(path)
    holder = ModelHolder(path)
    good = holder.get()
    path.write_bytes(b"garbage")
    assert holder.get() is good


def test_evaluate_counts_coverage_and_unknown_labels(trained):
    model = TrainedModel.load(trained)
    m = training.evaluate(model, ["VPN 连接失败", "咖啡机坏了"], ["desktop.software_fault", "kitchen"],
                          threshold=0.0)
    assert m["n"] == 2 and m["coverage_at_threshold"] == 1.0
    assert m["unknown_labels"] == ["kitchen"] and m["accuracy"] == 0.5
    with pytest.raises(InputError):
        training.evaluate(model, [], [])


def _with_every_view(model, texts, labels):
    """Every view fitted, whatever the choice kept: the fast path must handle each."""
    v, y = model.views, np.asarray(labels)
    if v.lsa is None:
        v.lsa = TruncatedSVD(5, random_state=0).fit(v.vectors.transform(texts)[:, :v.n_text])
    names = list(VIEWS)
    if importlib.util.find_spec("onnxruntime"):     # the [encoder] extra (CI installs it)
        v.encoder = SentenceEncoder("minilm")
    else:
        names.remove("encoder")
    inputs = v.inputs(v.vectors.transform(texts), texts)
    p = {**DEFAULT_PARAMS, "imbalance": 1.0}
    with warnings.catch_warnings():       # the network stops at max_epochs on 32 tickets
        warnings.simplefilter("ignore", ConvergenceWarning)
        v.members = {n: view_estimator(n, p, y, len(y)).fit(inputs[n], y) for n in names}
    v.final = LogisticRegression(max_iter=1000).fit(
        np.hstack([view_output(est, inputs[n]) for n, est in v.members.items()]), y)
    model._fast = FastScorer(v)


@pytest.mark.parametrize("labels", [None, ["desktop.software_fault", "desktop.hardware_repair"]])
def test_fast_one_ticket_path_equals_the_views_predict_proba(labels):
    data = training.read_csv(SMALL, ["title", "body"], "category")
    keep = [i for i, lab in enumerate(data.labels) if not labels or lab in labels]
    texts, ys = [data.texts[i] for i in keep], [data.labels[i] for i in keep]
    model = train_model(texts, ys)
    _with_every_view(model, texts, ys)      # two labels: the one-column branch of every view
    samples = ["VPN 连接失败", "Zoom echo in the meeting room", "", "qqqq zzzz", "键盘" * 800,
               "Outlook crashes\n" + "long body " * 300]
    for text in samples:
        fast = [model.scores(text)[label] for label in model.labels]
        assert fast == pytest.approx(model.predict_proba([text])[0].tolist(), abs=1e-6)
        assert sum(fast) == pytest.approx(1.0)


def test_the_views_are_chosen_by_cross_validation_on_out_of_fold_outputs(trained):
    choice = TrainedModel.load(trained).views.choice
    assert choice["views"][0] in ("text", "text_balanced") and choice["tried"]
    assert {"views", "power", "C", "accuracy", "macro_f1"} <= set(choice)
    assert all({"views", "power", "accuracy", "macro_f1"} <= set(t) for t in choice["tried"])


def test_an_old_format_model_file_asks_for_retraining(tmp_path):
    path = tmp_path / "old.joblib"
    joblib.dump({"format": 1, "pipeline": None}, path)
    with pytest.raises(InputError, match="has format 1, this version reads format 3: train the "
                                         "model again"):
        TrainedModel.load(path)


def test_train_rejects_unknown_parameters_and_single_examples():
    with pytest.raises(InputError, match="unknown training parameter"):
        train_model(["a b", "c d"], ["x", "y"], alpha=1)
    with pytest.raises(InputError, match="fewer than 2 examples: y"):
        train_model(["a b", "c d", "e f"], ["x", "x", "y"])


def test_labels_too_rare_to_learn_are_named():
    data = training.Dataset(["a", "b", "c", "d"], ["x", "x", "y", "y"], source="t.csv")
    with pytest.raises(InputError, match=r"t.csv: need at least 2 labels with 5 or more examples each; "
                                         r"too rare: x \(2\), y \(2\)"):
        training.train_from_dataset(data)
