"""Training data in, trained model and honest metrics out.

`read_csv` turns a CSV export into (texts, labels) with clear InputErrors;
`train_from_csv` measures on a stratified hold-out, then refits on every row;
`evaluate` gives accuracy, macro-F1, per-label scores and what the confidence
threshold does (how many tickets the model would decide, and how well).
"""
from __future__ import annotations

import csv
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.model_selection import train_test_split

from ..errors import InputError
from .model import TrainedModel, train

HistorySource = Callable[[], Iterable[tuple[str, str]]]
_SOURCES: dict[str, HistorySource] = {}
KNOWN_SOURCES = ("zammad", "jira")


@dataclass(frozen=True)
class Dataset:
    texts: list[str]
    labels: list[str]
    skipped_empty_text: int = 0
    skipped_empty_label: int = 0
    source: str = ""


def read_csv(path: str | os.PathLike, text_columns: Sequence[str], label_column: str) -> Dataset:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file", key="csv_not_found")
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        with p.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames
            if not header:
                raise InputError(f"{p}: the file is empty (no header row)", key="csv_empty")
            missing = [c for c in [*text_columns, label_column] if c not in header]
            if missing:
                raise InputError(f"{p}: no column {', '.join(repr(c) for c in missing)}; "
                                 f"available: {', '.join(header)}", key="csv_missing_column")
            data = _rows(reader, text_columns, label_column, str(p))
            if not data.texts:
                raise InputError(f"{p}: no rows with both text and label ({data.skipped_empty_text}"
                                 f" without text, {data.skipped_empty_label} without label)",
                                 key="csv_empty")
    except UnicodeDecodeError:
        raise InputError(f"{p}: not UTF-8 text", key="csv_encoding") from None
    except csv.Error as exc:
        raise InputError(f"{p}: not a valid CSV file: {exc}", key="csv_invalid") from None
    return data


def _rows(reader: csv.DictReader, text_columns: Sequence[str], label_column: str,
          source: str) -> Dataset:
    texts, labels, no_text, no_label = [], [], 0, 0
    for row in reader:
        text = "\n".join((row.get(c) or "").strip() for c in text_columns).strip()
        label = (row.get(label_column) or "").strip()
        if not text:
            no_text += 1
        elif not label:
            no_label += 1
        else:
            texts.append(text)
            labels.append(label)
    return Dataset(texts, labels, no_text, no_label, source)


def usable(data: Dataset, min_examples: int) -> tuple[Dataset, dict[str, int]]:
    """Drop labels too rare to learn (and to hold out); at least 2 labels must remain."""
    values, counts = np.unique(data.labels, return_counts=True)
    rare = {str(v): int(c) for v, c in zip(values, counts) if c < min_examples}
    if len(values) < 2:
        raise InputError(f"{data.source}: need at least 2 different labels to train, found "
                         f"{len(values)} ({', '.join(map(str, values))})", key="too_few_labels")
    if len(values) - len(rare) < 2:
        raise InputError(f"{data.source}: need at least 2 labels with {min_examples} or more "
                         f"examples each; too rare: "
                         + ", ".join(f"{k} ({v})" for k, v in list(rare.items())[:10]),
                         key="too_few_labels")
    if not rare:
        return data, {}
    keep = [i for i, label in enumerate(data.labels) if label not in rare]
    return Dataset([data.texts[i] for i in keep], [data.labels[i] for i in keep],
                   data.skipped_empty_text, data.skipped_empty_label, data.source), rare


# --- history sources (platform clients register themselves) ----------------------

def register_history_source(name: str, fn: HistorySource) -> None:
    """fn() yields (text, label) or (text, label, decided_at): closed tickets and their
    agent-set category."""
    _SOURCES[name] = fn


def registered_sources() -> dict[str, HistorySource]:
    return dict(_SOURCES)


def read_history(name: str) -> Dataset:
    fn = _SOURCES.get(name)
    if fn is None:
        raise InputError(f"training from {name} is not available yet: no history source is "
                         f"registered for it; export a CSV and use --csv", key="source_unavailable")
    texts, labels = [], []
    for text, label, *_ in fn():          # a source may add when the ticket was decided
        if text and str(text).strip() and label and str(label).strip():
            texts.append(str(text).strip())
            labels.append(str(label).strip())
    if not texts:
        raise InputError(f"{name}: the history source returned no labelled tickets", key="no_rows")
    return Dataset(texts, labels, source=name)


# --- training and evaluation --------------------------------------------------------

def can_hold_out(labels: Sequence[str], fraction: float) -> bool:
    """Every label on both sides of a stratified hold-out, with 2+ examples for training."""
    values, counts = np.unique(labels, return_counts=True)
    n_test = len(labels) * fraction
    return n_test >= len(values) and counts.min() * (1 - fraction) >= 2


def train_from_dataset(data: Dataset, *, holdout: float = 0.2, seed: int = 42,
                       threshold: float = 0.6, refit: bool = True, min_examples: int = 5,
                       **params: Any) -> TrainedModel:
    """Train; metrics come from a stratified hold-out, then the model refits on all rows."""
    data, rare = usable(data, min_examples)
    metrics: dict[str, Any] = {"holdout": None, "dropped_labels": rare, "n_train": len(data.texts)}
    if holdout and can_hold_out(data.labels, holdout):
        xa, xb, ya, yb = train_test_split(data.texts, data.labels, test_size=holdout,
                                          stratify=data.labels, random_state=seed)
        first = train(xa, ya, **params)
        metrics.update({"holdout": holdout, "seed": seed, **evaluate(first, xb, yb, threshold)})
        if not refit:
            first.metrics = metrics
            return first
    model = train(data.texts, data.labels, **params)
    model.metrics = metrics
    return model


def train_from_csv(path: str | os.PathLike, text_columns: Sequence[str], label_column: str,
                   **kw: Any) -> tuple[TrainedModel, Dataset]:
    data = read_csv(path, text_columns, label_column)
    return train_from_dataset(data, **kw), data


def evaluate(model: TrainedModel, texts: Sequence[str], labels: Sequence[str],
             threshold: float = 0.6) -> dict[str, Any]:
    if not len(texts):
        raise InputError("nothing to evaluate: no rows", key="no_rows")
    proba = model.predict_proba(texts)
    predicted = [model.labels[i] for i in proba.argmax(axis=1)]
    sure = proba.max(axis=1) >= threshold
    truth = [str(v) for v in labels]
    names = sorted(set(truth) | set(model.labels))
    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=names, zero_division=0)
    covered = [(t, q) for t, q, ok in zip(truth, predicted, sure) if ok]
    return {
        "n": len(truth), "threshold": threshold,
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(f1_score(truth, predicted, labels=sorted(set(truth)), average="macro",
                                   zero_division=0)),
        "coverage_at_threshold": float(sure.mean()),
        "accuracy_at_threshold": (float(np.mean([t == q for t, q in covered]))
                                  if covered else None),
        "unknown_labels": sorted(set(truth) - set(model.labels)),
        "per_label": {n: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                          "support": int(s[i])} for i, n in enumerate(names)},
    }
