"""`desk-enricher train` and `desk-enricher evaluate`.

Bad input (a missing file or column, one label only, an unreadable model) prints
`error: <key>: <message>` on stderr and exits with status 2, without a traceback.
"""
from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import click

from ..console import friendly
from ..errors import InputError
from . import (
    history,  # noqa: F401  (registers --from zammad|jira)
    training,
)
from .encoder import ENCODERS
from .model import TrainedModel


def _table(metrics: Mapping[str, Any]) -> list[str]:
    lines = [f"accuracy {metrics['accuracy']:.4f}  macro-F1 {metrics['macro_f1']:.4f}  n {metrics['n']}"]
    at = metrics["accuracy_at_threshold"]
    lines.append(f"at threshold {metrics['threshold']:.2f}: coverage "
                 f"{metrics['coverage_at_threshold']:.3f}, accuracy "
                 + ("-" if at is None else f"{at:.4f}"))
    width = max([len("label")] + [len(k) for k in metrics["per_label"]])
    lines.append(f"  {'label':<{width}}  precision  recall     f1  support")
    for name, m in metrics["per_label"].items():
        lines.append(f"  {name:<{width}}  {m['precision']:9.3f}  {m['recall']:6.3f}  "
                     f"{m['f1']:5.3f}  {m['support']:7d}")
    if metrics.get("unknown_labels"):
        lines.append("labels the model does not know: " + ", ".join(metrics["unknown_labels"]))
    return lines


@click.command()
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), help="labelled tickets (UTF-8 CSV)")
@click.option("--from", "source", type=click.Choice(training.KNOWN_SOURCES),
              help="train on the platform's closed tickets instead of a CSV")
@click.option("--text-column", "text_columns", multiple=True, help="text column(s), joined; repeatable")
@click.option("--label-column", default=None, help="the label column (catalog item ids for a desk)")
@click.option("--model", "model_path", required=True, type=click.Path(dir_okay=False),
              help="where to write the model file")
@click.option("--holdout", default=0.2, show_default=True, type=click.FloatRange(0, 0.5),
              help="share held out for the reported metrics (0: none)")
@click.option("--seed", default=42, show_default=True, type=int)
@click.option("--threshold", default=0.6, show_default=True, type=click.FloatRange(0, 1))
@click.option("--min-examples", default=5, show_default=True, type=click.IntRange(2),
              help="labels with fewer examples are left out")
@click.option("--svm-c", default=None, type=click.FloatRange(min=1e-4),
              help="regularisation of the linear SVMs (default: 0.3 from 20,000 tickets, else 1)")
@click.option("--encoder", type=click.Choice(sorted(ENCODERS)), default=None,
              help="add a view from a pre-trained sentence encoder (needs the [encoder] extra; "
                   "several ms a ticket instead of under one: see bench/README.md)")
@friendly
def train(csv_path, source, text_columns, label_column, model_path, holdout, seed, threshold,
          min_examples, svm_c, encoder):
    """Train the ticket classifier and report hold-out metrics."""
    started = time.monotonic()
    if source:
        data = training.read_history(source)
    elif csv_path:
        if not text_columns or not label_column:
            raise InputError("--csv needs --text-column and --label-column", key="bad_input")
        data = training.read_csv(csv_path, text_columns, label_column)
    else:
        raise InputError("give --csv FILE or --from zammad|jira", key="bad_input")
    model = training.train_from_dataset(data, holdout=holdout, seed=seed, threshold=threshold,
                                        min_examples=min_examples, encoder=encoder,
                                        **({} if svm_c is None else {"C": svm_c, "C_small": svm_c}))
    path = model.save(model_path)
    m = model.metrics
    click.echo(f"trained on {model.n_samples} tickets, {len(model.labels)} labels in "
               f"{time.monotonic() - started:.1f}s -> {path}")
    ch = model.views.choice
    click.echo(f"chosen by cross-validation: views {'+'.join(ch['views'])}, {ch['final']} final "
               f"regression, rare-group weighting {ch['power']}, shift {ch.get('shift', 0.0):+g}, "
               f"C {ch['C']} (out-of-fold accuracy "
               f"{ch['accuracy']:.4f}, macro-F1 {ch['macro_f1']:.4f})")
    if data.skipped_empty_text or data.skipped_empty_label:
        click.echo(f"skipped {data.skipped_empty_text} row(s) without text, "
                   f"{data.skipped_empty_label} without label")
    if m.get("dropped_labels"):
        click.echo("left out (too few examples): "
                   + ", ".join(f"{k} ({v})" for k, v in m["dropped_labels"].items()))
    if m.get("holdout"):
        click.echo(f"hold-out {m['holdout']:.0%} (stratified, seed {m['seed']}), "
                   "then refit on all rows:")
        for line in _table(m):
            click.echo(line)
    else:
        click.echo("no hold-out metrics: too few examples per label (or --holdout 0)")


@click.command()
@click.option("--csv", "csv_path", required=True, type=click.Path(dir_okay=False))
@click.option("--model", "model_path", required=True, type=click.Path(dir_okay=False))
@click.option("--text-column", "text_columns", multiple=True, required=True)
@click.option("--label-column", required=True)
@click.option("--threshold", default=0.6, show_default=True, type=click.FloatRange(0, 1))
@click.option("--json", "as_json", is_flag=True, help="print the metrics as JSON")
@friendly
def evaluate(csv_path, model_path, text_columns, label_column, threshold, as_json):
    """Measure a trained model on labelled tickets."""
    model = TrainedModel.load(model_path)
    data = training.read_csv(csv_path, text_columns, label_column)
    result = training.evaluate(model, data.texts, data.labels, threshold)
    result["model"] = {"version": model.version, "labels": list(model.labels),
                       "n_samples": model.n_samples, "sklearn_version": model.sklearn_version}
    result["skipped_empty_text"] = data.skipped_empty_text
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    click.echo(f"model {model.version} ({len(model.labels)} labels) on {data.source}:")
    for line in _table(result):
        click.echo(line)
