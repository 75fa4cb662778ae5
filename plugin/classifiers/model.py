"""The learned classifier: TF-IDF word 1-2 grams + character 2-5 grams into a linear
SVM with calibrated (sigmoid, cross-validated) probabilities.

Character n-grams inside word boundaries (`char_wb`) work for Chinese too, where
a "word" is a whole run of characters. Only the first `max_chars` (1000) characters
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from ..errors import InputError

log = logging.getLogger(__name__)

FORMAT = 1
DEFAULT_PARAMS: dict[str, Any] = {"C": 0.3, "word_ngrams": (1, 2), "char_ngrams": (2, 5),
                                  "calibration_folds": 3, "min_df": 2, "n_jobs": 1,
                                  "max_chars": 1000}


@dataclass
class TrainedModel:
    pipeline: Pipeline
    labels: tuple[str, ...]
    trained_at: str
    n_samples: int
    params: Mapping[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    sklearn_version: str = sklearn.__version__
    format: int = FORMAT
    _fast: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        self._fast = FastScorer(self.pipeline)   # built once, before any thread calls scores()

    @property
    def version(self) -> str:
        """Identifies the model in facts and logs: its training time."""
        return self.trained_at

    def clip(self, text: str) -> str:
        """Title and the start of the body carry the topic; long quoted threads only cost time."""
        limit = self.params.get("max_chars") or None
        return text[:limit]

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.pipeline.predict_proba([self.clip(t) for t in texts])

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
        joblib.dump({"format": self.format, "pipeline": self.pipeline, "labels": list(self.labels),
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
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError(f"model file {p} is not a desk-enricher model (format {FORMAT})",
                             key="bad_model")
        if data["sklearn_version"] != sklearn.__version__:
            log.warning("model_sklearn_version", extra={"trained_with": data["sklearn_version"],
                                                        "running": sklearn.__version__})
        return cls(pipeline=data["pipeline"], labels=tuple(data["labels"]),
                   trained_at=data["trained_at"], n_samples=data["n_samples"],
                   params=data["params"], metrics=data.get("metrics") or {},
                   sklearn_version=data["sklearn_version"])


def build_pipeline(n_samples: int, min_class: int, **params: Any) -> Pipeline:
    p = {**DEFAULT_PARAMS, **params}
    min_df = p["min_df"] if n_samples >= 1000 else 1   # tiny sets: keep every term
    word = TfidfVectorizer(ngram_range=tuple(p["word_ngrams"]), sublinear_tf=True, min_df=min_df,
                           dtype=np.float32)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(p["char_ngrams"]),
                           sublinear_tf=True, min_df=min_df, dtype=np.float32)
    folds = max(2, min(p["calibration_folds"], min_class))
    clf = CalibratedClassifierCV(LinearSVC(C=p["C"], max_iter=5000), cv=folds, method="sigmoid")
    return Pipeline([("features", FeatureUnion([("word", word), ("char", char)],
                                               n_jobs=p["n_jobs"])),
                     ("clf", clf)])


def train(texts: Sequence[str], labels: Sequence[str], **params: Any) -> TrainedModel:
    """Fit on texts and labels; every label needs at least 2 examples (calibration folds)."""
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
    limit = {**DEFAULT_PARAMS, **params}["max_chars"] or None
    pipe = build_pipeline(len(texts), int(counts.min()), **params)
    pipe.fit([t[:limit] for t in texts], [str(v) for v in labels])
    return TrainedModel(pipeline=pipe, labels=tuple(str(c) for c in pipe.classes_),
                        trained_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        n_samples=len(texts), params={**DEFAULT_PARAMS, **params})


class FastScorer:
    """The pipeline's predict_proba for one text, without sklearn's per-call checks.

    Called one ticket at a time, the pipeline spends ~5 ms in input validation and
    per-class calibrator calls; the arithmetic itself is a few sparse rows. This does
    the same arithmetic (TF-IDF with sublinear tf and l2 norm per block, linear
    decision values, sigmoid calibration, normalisation, average over folds) in
    well under a millisecond. tests/classifiers check it equals predict_proba.
    """

    def __init__(self, pipeline: Pipeline):
        self.blocks, offset = [], 0
        for _, vec in pipeline.named_steps["features"].transformer_list:
            assert vec.norm == "l2" and vec.use_idf, "FastScorer needs l2-normalised TF-IDF"
            self.blocks.append((vec.build_analyzer(), vec.vocabulary_, vec.idf_.astype(np.float64),
                                vec.sublinear_tf, offset))
            offset += len(vec.vocabulary_)
        clf = pipeline.named_steps["clf"]
        self.n = len(clf.classes_)
        coefs, bias, a, b, self.parts = [], [], [], [], []
        for cc in clf.calibrated_classifiers_:
            est = cc.estimator
            pos = np.searchsorted(clf.classes_, est.classes_)
            start = sum(len(c) for c in bias)
            coefs.append(est.coef_)
            bias.append(np.atleast_1d(est.intercept_))
            a.extend(cal.a_ for cal in cc.calibrators)
            b.extend(cal.b_ for cal in cc.calibrators)
            self.parts.append((start, start + len(bias[-1]), pos))
        self.weights = np.ascontiguousarray(np.vstack(coefs).T, dtype=np.float32)
        self.bias, self.a, self.b = np.concatenate(bias), np.array(a), np.array(b)

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        idx_parts, val_parts = [], []
        for analyze, vocab, idf, sublinear, offset in self.blocks:
            grams = analyze(text)
            ids = np.fromiter(map(vocab.get, grams, repeat(-1, len(grams))), dtype=np.intp,
                              count=len(grams))
            ids = ids[ids >= 0]
            if not ids.size:
                continue
            idx, tf = np.unique(ids, return_counts=True)
            vals = (np.log(tf) + 1 if sublinear else tf) * idf[idx]
            vals /= np.sqrt(vals @ vals)
            idx_parts.append(idx + offset)
            val_parts.append(vals)
        if not idx_parts:
            return np.empty(0, dtype=np.intp), np.empty(0)
        return np.concatenate(idx_parts), np.concatenate(val_parts)

    def __call__(self, text: str) -> np.ndarray:
        idx, vals = self.features(text)
        decision = vals.astype(np.float32) @ self.weights[idx] + self.bias
        p = expit(-(self.a * decision + self.b))
        out = np.zeros(self.n)
        for start, end, pos in self.parts:
            part = np.zeros(self.n)
            if self.n == 2:     # binary: one decision column, for the second class
                part[1] = p[start]
                part[0] = 1 - p[start]
            else:
                part[pos] = p[start:end]
                total = part.sum()
                part = part / total if total else np.full(self.n, 1 / self.n)
            out += part
        return out / len(self.parts)


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
