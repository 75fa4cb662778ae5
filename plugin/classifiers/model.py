"""The learned classifier: a trained model, its file, and its reloading holder.

The estimator (views of a ticket chosen per data set by cross-validation, combined
by a logistic regression which also calibrates the probabilities) is built in
`views.py` and `select.py`; one ticket at a time is scored by `fast.py`, which
computes the same numbers without sklearn's per-call overhead. Only the first `max_chars` (1000) characters
are read: the title and the start of the body carry the topic, quoted threads and
signatures only cost time (on a validation split inside the training data, clipping
at 1000 instead of 3000 changed accuracy by 0.0005).

The model file is a joblib pickle: load only files you trained yourself.
`ModelHolder` reloads the file when it changes, so a retrained model takes effect
without a restart.
"""
from __future__ import annotations

import logging
import os
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning

from ..errors import InputError
from .encoder import check_name
from .fast import FastScorer
from .views import Views, fit_views

log = logging.getLogger(__name__)

FORMAT = 3      # 1: one calibrated SVM; 2: sklearn's StackingClassifier; retrain those files
DEFAULT_PARAMS: dict[str, Any] = {"C": 0.3, "word_ngrams": (1, 2), "char_ngrams": (2, 5),
                                  "title_words": 12, "topics": 100, "hidden_units": 256,
                                  "max_epochs": 60, "folds": 3, "stack_min_samples": 500,
                                  "min_df": 2, "n_jobs": 2, "max_chars": 1000, "seed": 0,
                                  "imbalance": 5.0, "balance_power": 1.0, "final_C": 10.0,
                                  "final_C_grid": (0.3, 1.0, 3.0, 10.0), "select_rows": 8000,
                                  "full_min_per_group": 50, "C_small": 1.0, "large": 20000,
                                  "rare_group": 100, "prior_shift_grid": (-0.5, -0.25, 0.0, 0.25, 0.5),
                                  "encoder": None}


@dataclass
class TrainedModel:
    views: Views
    labels: tuple[str, ...]
    trained_at: str
    n_samples: int
    params: Mapping[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    sklearn_version: str = sklearn.__version__
    format: int = FORMAT
    _fast: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        self._fast = FastScorer(self.views)    # built once, before any thread calls scores()

    @property
    def version(self) -> str:
        """Identifies the model in facts and logs: its training time."""
        return self.trained_at

    def clip(self, text: str) -> str:
        """Title and the start of the body carry the topic; long quoted threads only cost time."""
        limit = self.params.get("max_chars") or None
        return text[:limit]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.views.predict_proba([self.clip(t) for t in texts])

    def predict(self, texts: Sequence[str]) -> list[str]:
        proba = self.predict_proba(texts)
        return [self.labels[i] for i in proba.argmax(axis=1)]

    def scores(self, text: str) -> dict[str, float]:
        """Label -> probability for one ticket (what the classification step calls)."""
        return dict(zip(self.labels, self._fast(self.clip(text)).tolist()))

    def save(self, path: str | os.PathLike) -> Path:
        """Write atomically (temp file + rename): a reloading worker never sees half a file."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        joblib.dump({"format": self.format, "views": self.views, "labels": list(self.labels),
                     "version": self.version, "trained_at": self.trained_at, "n_samples": self.n_samples,
                     "params": dict(self.params), "metrics": self.metrics,
                     "sklearn_version": self.sklearn_version}, tmp, compress=3)
        os.replace(tmp, target)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike) -> TrainedModel:
        p = Path(path)
        if not p.is_file():
            raise InputError(f"model file {p} does not exist", key="model_not_found")
        try:
            data = joblib.load(p)
        except Exception as exc:  # noqa: BLE001 - unpickling fails in many types; all mean "bad file"
            raise InputError(f"model file {p} cannot be read: {type(exc).__name__}",
                             key="bad_model") from None
        if not isinstance(data, dict) or "format" not in data:
            raise InputError(f"model file {p} is not a desk-enricher model", key="bad_model")
        if data["format"] != FORMAT:
            raise InputError(f"model file {p} has format {data['format']}, this version reads "
                             f"format {FORMAT}: train the model again", key="bad_model")
        if data["sklearn_version"] != sklearn.__version__:
            log.warning("model_sklearn_version", extra={"trained_with": data["sklearn_version"],
                                                        "running": sklearn.__version__})
        if getattr(data["views"], "encoder", None) is not None:
            data["views"].encoder.open()     # here, not on the first ticket: missing packages
        return cls(views=data["views"], labels=tuple(data["labels"]),
                   trained_at=data["trained_at"], n_samples=data["n_samples"],
                   params=data["params"], metrics=data.get("metrics") or {},
                   sklearn_version=data["sklearn_version"])


def train(texts: Sequence[str], labels: Sequence[str], **params: Any) -> TrainedModel:
    """Fit on texts and labels; every label needs at least 2 examples (stacking folds)."""
    unknown = set(params) - set(DEFAULT_PARAMS)
    if unknown:
        raise InputError(f"unknown training parameter(s): {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(DEFAULT_PARAMS)}", key="bad_training_data")
    if len(texts) != len(labels):
        raise InputError(f"{len(texts)} texts but {len(labels)} labels", key="bad_training_data")
    values, counts = np.unique(np.asarray(labels, dtype=object).astype(str), return_counts=True)
    if len(values) < 2:
        raise InputError(f"need at least 2 different labels, found {len(values)}",
                         key="too_few_labels")
    rare = [str(v) for v, c in zip(values, counts) if c < 2]
    if rare:
        raise InputError(f"label(s) with fewer than 2 examples: {', '.join(rare[:10])}",
                         key="too_few_examples")
    p = {**DEFAULT_PARAMS, **params}
    if p["encoder"] is not None:
        check_name(p["encoder"])
    limit = p["max_chars"] or None
    with warnings.catch_warnings():      # small sets stop the network at max_epochs: expected
        warnings.simplefilter("ignore", ConvergenceWarning)
        views = fit_views([t[:limit] for t in texts], [str(v) for v in labels], p)
    return TrainedModel(views=views, labels=tuple(str(c) for c in views.classes_),
                        trained_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        n_samples=len(texts), params={**DEFAULT_PARAMS, **params})


class ModelHolder:
    """The current model of a file, reloaded when the file changes (mtime, size, inode).

    `get()` is cheap (one stat) and thread-safe. A file that fails to load is logged
    once and the previous model stays in service; a missing file means no model.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._model: TrainedModel | None = None
        self._key: tuple | None = None

    def _stat_key(self) -> tuple | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def get(self) -> TrainedModel | None:
        key = self._stat_key()
        if key == self._key:
            return self._model
        with self._lock:
            if key != self._key:
                self._reload(key)
            return self._model

    def _reload(self, key: tuple | None) -> None:
        self._key = key
        if key is None:
            if self._model is not None:
                log.warning("model_missing", extra={"path": str(self.path)})
            self._model = None
            return
        try:
            self._model = TrainedModel.load(self.path)
            log.info("model_loaded", extra={"path": str(self.path), "version": self._model.version,
                                            "labels": len(self._model.labels)})
        except InputError as exc:
            log.error("model_load_failed", extra={"path": str(self.path), "error": exc.message})
