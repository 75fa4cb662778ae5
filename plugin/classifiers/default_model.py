"""The model a new desk on the default catalog gets on its first day.

Trained from `corpus/default_corpus.csv`, tickets written for the purpose in Chinese
and English (see corpus/README.md), plus the default catalog's own examples. Its
labels are the catalog's item ids and `_other` (what the catalog does not serve: an
invoice, a leave request, a bare "help"), so an unrelated word such as "charged" no
longer picks an item: the step only uses catalog ids, and probability that went to
`_other` lowers every item's confidence towards triage.

The built model ships as `default_model.joblib` (a few hundred kB): a new desk pays no
start-up time. `desk-enricher build-default-model` rebuilds it; the same corpus and
seed give the same predictions (tested). When the shipped file does not fit the
running scikit-learn, or the corpus changed since it was built, the model is built in
memory from the corpus instead, once per process (seconds).
"""
from __future__ import annotations

import csv
import hashlib
import logging
import threading
from pathlib import Path
from typing import Any

import sklearn

from ..errors import InputError
from .catalog import default_catalog
from .model import TrainedModel, train

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
CORPUS = HERE / "corpus" / "default_corpus.csv"
SHIPPED = HERE / "default_model.joblib"
OTHER = "_other"
SEED = 0

_lock = threading.Lock()
_cache: dict[str, Any] = {}


def read_corpus(path: Path = CORPUS) -> tuple[list[str], list[str]]:
    """(texts, labels): the corpus rows (title + body, as a ticket's text), then the
    default catalog's examples. Lines starting with '#' are the file's own notes."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    ids = {item.id for item in default_catalog()} | {OTHER}
    bad = sorted({r["item"] for r in rows} - ids)
    if bad:
        raise InputError(f"{path}: unknown item(s) {', '.join(bad)}", key="bad_corpus")
    texts = [f"{r['title']}\n{r['body']}".strip() for r in rows]
    labels = [r["item"] for r in rows]
    for item in default_catalog():
        texts += list(item.examples)
        labels += [item.id] * len(item.examples)
    return texts, labels


def corpus_digest(path: Path = CORPUS) -> str:
    digest = hashlib.sha256(path.read_bytes())
    digest.update(Path(HERE / "default_catalog.yaml").read_bytes())   # its examples train too
    return digest.hexdigest()


def build(corpus: Path = CORPUS, seed: int = SEED) -> TrainedModel:
    """Train the default model; deterministic for a given corpus, seed and scikit-learn."""
    texts, labels = read_corpus(corpus)
    model = train(texts, labels, seed=seed, n_jobs=1)
    model.metrics = {"corpus_sha256": corpus_digest(corpus), "seed": seed,
                     "choice": {k: v for k, v in model.views.choice.items() if k != "tried"}}
    return model


def _shipped() -> TrainedModel | None:
    if not SHIPPED.is_file():
        return None
    try:
        model = TrainedModel.load(SHIPPED)
    except InputError as exc:
        log.warning("default_model_unreadable", extra={"error": exc.message})
        return None
    fresh = model.metrics.get("corpus_sha256") == corpus_digest()
    if model.sklearn_version != sklearn.__version__ or not fresh:
        log.warning("default_model_stale", extra={"trained_with": model.sklearn_version,
                                                  "corpus_changed": not fresh})
        return None
    return model


def default_model() -> TrainedModel:
    """The shipped default model, loaded once per process (or built, see above)."""
    model = _cache.get("model")
    if model is None:
        with _lock:
            model = _cache.get("model")
            if model is None:
                model = _shipped()
                if model is None:
                    model = build()
                    log.info("default_model_built", extra={"labels": len(model.labels)})
                _cache["model"] = model
    return model
