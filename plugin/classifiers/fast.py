"""The stacked pipeline's predict_proba for one text, without sklearn's per-call checks.

Called one ticket at a time, sklearn spends most of its time validating input and
dispatching through the Pipeline, FeatureUnion, ColumnTransformer and Stacking layers;
the arithmetic is a few sparse rows and two small dense layers. This does the same
arithmetic, read off the fitted estimators: TF-IDF (sublinear tf, l2 norm per block),
the two SVMs' decision values, the SVD projection, scaler and network of the topics
view, and the final logistic regression. tests/classifiers check it equals
predict_proba on every kind of text, for multi-label and two-label models.
"""
from __future__ import annotations

from itertools import repeat

import numpy as np
from scipy.special import expit, softmax
from sklearn.ensemble import StackingClassifier
from sklearn.pipeline import Pipeline

from .views import first_words


class _Block:
    """One fitted TfidfVectorizer: text -> (column ids, l2-normalised values)."""

    def __init__(self, vec, offset: int):
        assert vec.norm == "l2" and vec.use_idf, "the fast path needs l2-normalised TF-IDF"
        self.analyze, self.vocab = vec.build_analyzer(), vec.vocabulary_
        self.idf, self.sublinear, self.offset = vec.idf_.astype(np.float64), vec.sublinear_tf, offset

    def __call__(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        grams = self.analyze(text)
        ids = np.fromiter(map(self.vocab.get, grams, repeat(-1, len(grams))), dtype=np.intp,
                          count=len(grams))
        ids = ids[ids >= 0]
        if not ids.size:
            return ids, np.empty(0)
        idx, tf = np.unique(ids, return_counts=True)
        vals = (np.log(tf) + 1 if self.sublinear else tf) * self.idf[idx]
        return idx + self.offset, vals / np.sqrt(vals @ vals)


def _blocks(vectorizers) -> list[_Block]:
    """Vectorizers side by side, each placed after the columns of those before it."""
    out, offset = [], 0
    for vec in vectorizers:
        out.append(_Block(vec, offset))
        offset += len(vec.vocabulary_)
    return out


def _join(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    parts = [p for p in parts if p[0].size]
    if not parts:
        return np.empty(0, dtype=np.intp), np.empty(0)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _linear(svm) -> tuple[np.ndarray, np.ndarray]:
    """The SVM's (labels x terms) weights as they are, not copied: a model is large."""
    return svm.coef_, np.atleast_1d(svm.intercept_)


class FastScorer:
    """For a stacked model (trained on `stack_min_samples` tickets or more)."""

    @staticmethod
    def fits(pipeline: Pipeline) -> bool:
        return isinstance(pipeline.named_steps["classifier"], StackingClassifier)

    def __init__(self, pipeline: Pipeline):
        vectors = pipeline.named_steps["vectors"]
        title_pipe = vectors.named_transformers["title"]
        self.text = _blocks([vectors.named_transformers[n] for n in ("word", "char")])
        self.title = _blocks([v for _, v in title_pipe.named_steps["vec"].transformer_list])
        self.title_words = title_pipe.named_steps["cut"].kw_args["n"]
        stack = pipeline.named_steps["classifier"]
        views = stack.named_estimators_
        self.w_text, self.b_text = _linear(views["text"].named_steps["svm"])
        self.w_title, self.b_title = _linear(views["title"].named_steps["svm"])
        lsa = pipeline.named_steps["topics"].transformer_list[1][1].named_steps["lsa"]
        self.lsa = lsa.components_              # topics x terms, float32; shared, not copied
        scale, mlp = views["topics"].named_steps["scale"], views["topics"].named_steps["mlp"]
        self.mean, self.scale = scale.mean_, scale.scale_
        self.layers = list(zip(mlp.coefs_, mlp.intercepts_))
        self.mlp_out = mlp.out_activation_
        final = stack.final_estimator_
        self.w_final, self.b_final = final.coef_.T, final.intercept_
        self.n = len(stack.classes_)

    def __call__(self, text: str) -> np.ndarray:
        t_idx, t_val = _join([b(text) for b in self.text])
        h_idx, h_val = _join([b(first_words([text], self.title_words)[0]) for b in self.title])
        outputs = [self.w_text[:, t_idx] @ t_val + self.b_text,
                   self.w_title[:, h_idx] @ h_val + self.b_title,
                   self._topics(self.lsa[:, t_idx] @ t_val)]
        meta = np.concatenate(outputs) @ self.w_final + self.b_final
        if self.n == 2:
            p = expit(meta[0])
            return np.array([1 - p, p])
        return softmax(meta)

    def _topics(self, z: np.ndarray) -> np.ndarray:
        h = (z - self.mean) / self.scale
        for i, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0)                     # relu, MLPClassifier's default
        if self.mlp_out == "logistic":                   # two labels: one output unit
            return expit(h)                              # stacking keeps P(second label)
        return softmax(h)
