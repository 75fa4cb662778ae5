"""`desk-enricher model history|rollback|retrain` and `desk-enricher build-default-model`."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from ..console import friendly


def _settings_and_ledger():
    from ..settings import load_settings
    from ..store import Ledger
    settings = load_settings()
    return settings, Ledger(settings.database_url, lock_dir=settings.data_dir)


@click.group()
def model():
    """The desk's learned models: history, rollback, a retraining run now."""


@model.command("history")
@friendly
def history_cmd():
    """List every retraining: figures, status (active, promoted, refused, rolled_back)."""
    from .versions import history, line
    _, ledger = _settings_and_ledger()
    rows = history(ledger)
    for row in rows:
        click.echo(line(row))
    if not rows:
        click.echo("no retraining yet: the settings' model or the shipped default model runs")


@model.command("rollback")
@friendly
def rollback_cmd():
    """Take the running promoted model out of service; the one before it runs again."""
    from .versions import rollback
    _, ledger = _settings_and_ledger()
    out, back = rollback(ledger)
    click.echo(f"rolled back model {out['id']} ({out['path']})")
    click.echo(f"now running: model {back['id']} ({back['path']})" if back else
               "now running: the settings' model file, or the shipped default model")


@model.command("retrain")
@friendly
def retrain_cmd():
    """Retrain from closed tickets and corrections now; promote only if not worse."""
    from .retrain import retrain
    settings, ledger = _settings_and_ledger()
    row = retrain(settings, ledger, datetime.now(UTC))
    from .versions import line
    click.echo(line({"id": row["id"], "accuracy": None, "macro_f1": None, "running_accuracy": None,
                     "running_macro_f1": None, **row}))


@click.command("build-default-model")
@click.option("--corpus", type=click.Path(dir_okay=False, exists=True), default=None,
              help="the corpus CSV (default: the shipped corpus/default_corpus.csv)")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="where to write the model (default: the shipped default_model.joblib)")
@click.option("--seed", default=0, show_default=True, type=int)
@friendly
def build_default_model(corpus, out, seed):
    """Rebuild the default model of the default catalog from the written corpus."""
    from . import default_model as dm
    model = dm.build(Path(corpus) if corpus else dm.CORPUS, seed=seed)
    path = model.save(out or dm.SHIPPED)
    choice = model.metrics["choice"]
    click.echo(f"trained on {model.n_samples} tickets, {len(model.labels)} labels -> {path} "
               f"({path.stat().st_size / 1024:.0f} kB)")
    click.echo(f"views {', '.join(choice['views'])}; cross-validated accuracy "
               f"{choice['accuracy']:.3f}, macro-F1 {choice['macro_f1']:.3f}; corpus sha256 "
               f"{model.metrics['corpus_sha256'][:12]}")
