"""The fitted views' predict_proba for one text, without sklearn's per-call checks.

Called one ticket at a time, sklearn spends most of its time validating input and
dispatching through the FeatureUnion and the estimators; the arithmetic is a few
sparse rows and small dense layers. This does the same arithmetic, read off the
fitted estimators: TF-IDF (sublinear tf, l2 norm per block), the SVMs' decision
values, the SVD projection, scaler and network of the topics view (and of the encoder
view, whose sentence vector comes from `encoder.py` as in training), and the final
logistic regression. tests/classifiers check it equals `Views.predict_proba` on every
kind of text, for multi-group and two-group models.
"""
from __future__ import annotations

from itertools import repeat

import numpy as np
from scipy.special import expit, softmax

from .views import Views, first_words


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


def _topics(pipe):
    """(mean, scale, layers, output activation) of StandardScaler + MLPClassifier."""
    scale, mlp = pipe.steps[0][1], pipe.steps[-1][1]
    return scale.mean_, scale.scale_, list(zip(mlp.coefs_, mlp.intercepts_)), mlp.out_activation_


class FastScorer:
    def __init__(self, views: Views):
        vectors = views.vectors.named_transformers
        self.text = _blocks([vectors[n] for n in ("word", "char")])
        title_pipe = vectors["title"]
        self.title = _blocks([v for _, v in title_pipe.named_steps["vec"].transformer_list])
        self.title_words = title_pipe.named_steps["cut"].kw_args["n"]
        # weights used as they are, not copied: a model is large
        self.members = [(name, est.coef_, np.atleast_1d(est.intercept_))
                        if name not in ("topics", "encoder")
                        else (name, *_topics(est)) for name, est in views.members.items()]
        self.encoder = views.encoder
        self.lsa = views.lsa.components_ if views.lsa is not None else None
        self.w_final, self.b_final = views.final.coef_.T, views.final.intercept_
        self.n = len(views.classes_)

    def __call__(self, text: str) -> np.ndarray:
        t_idx, t_val = _join([b(text) for b in self.text])
        outputs = []
        topics = self.lsa[:, t_idx] @ t_val if self.lsa is not None else None
        for name, *w in self.members:
            if name == "topics":
                outputs.append(self._topics(topics, *w))
            elif name == "encoder":
                meaning = self.encoder.encode([text])[0]
                outputs.append(self._topics(np.concatenate([topics, meaning]), *w))
            elif name == "title":
                cut = first_words([text], self.title_words)[0]
                h_idx, h_val = _join([b(cut) for b in self.title])
                outputs.append(w[0][:, h_idx] @ h_val + w[1])
            else:
                outputs.append(w[0][:, t_idx] @ t_val + w[1])
        meta = np.concatenate(outputs) @ self.w_final + self.b_final
        if self.n == 2:
            p = expit(meta[0])
            return np.array([1 - p, p])
        return softmax(meta)

    @staticmethod
    def _topics(z, mean, scale, layers, out_activation) -> np.ndarray:
        h = (z - mean) / scale
        for i, (w, b) in enumerate(layers):
            h = h @ w + b
            if i < len(layers) - 1:
                h = np.maximum(h, 0)                     # relu, MLPClassifier's default
        if out_activation == "logistic":                 # two groups: one output unit,
            return expit(h)                              # P(second group), as views pass on
        return softmax(h)
