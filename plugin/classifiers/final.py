"""The final regression over the views' outputs: three kinds, chosen per data set.

- **full**: sklearn's multinomial LogisticRegression on every view's every column (what
  stacking usually does). It can learn that one group's SVM score speaks for another
  group; with tens of thousands of tickets that is worth +0.018 accuracy on Endava.
- **shared**: one weight per view, shared by all groups, and one intercept per group:
  the probability of group g is softmax over groups of sum_v w_v * out_v[g] + b_g. With
  few tickets per group the full regression learns noise (on 32 tickets it turned one
  group's own SVM score negative); this keeps each view's vote for its own group and
  still calibrates each group (its intercept). Fitted by sklearn's LogisticRegression on
  (ticket, group) pairs: "is this ticket in this group?", given the views' scores for
  that group and which group it is.
- **flat**: shared without the group intercepts. Fitted for log-loss, the intercepts
  learn each group's share of the tickets, and where one group holds half of them (the
  74-group set) that share decides the close calls a class-weighted view had given to a
  rare group; flat keeps the views' own balance and only sets how sure they are.

All expose `coef_` (groups x view columns), `intercept_`, `classes_` and
`predict_proba`, so the one-ticket fast path treats them alike.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression


class SharedWeights(ClassifierMixin, BaseEstimator):
    # model files saved before these parameters existed carry no such attributes
    power, intercepts = 0.0, True

    def __init__(self, n_views: int = 1, C: float = 1.0, classes: tuple = (), power: float = 0.0,
                 intercepts: bool = True):
        self.n_views = n_views
        self.C = C
        self.classes = classes          # the views' columns: every group, even one a fold lacks
        self.power = power              # a rare group's tickets weigh (largest / its size)^power
        self.intercepts = intercepts    # False: no group gets a head start ("flat")

    def fit(self, z: np.ndarray, y) -> SharedWeights:
        y = np.asarray(y)
        self.classes_ = np.asarray(self.classes) if len(self.classes) else np.unique(y)
        n, k, v = len(y), len(self.classes_), self.n_views
        # row (ticket i, group g): each view's output for g, then a one-hot of g
        scores = z.reshape(n, v, k).transpose(0, 2, 1).reshape(n * k, v)
        x = sp.csr_matrix(scores)
        if self.intercepts:
            x = sp.hstack([x, sp.csr_matrix(np.tile(np.eye(k, dtype=np.float32), (n, 1)))], format="csr")
        target = (y[:, None] == self.classes_[None, :]).reshape(-1)
        weights = class_weights(y, self.power)
        rows = np.repeat([weights[g] for g in y], k) if weights else None
        lr = LogisticRegression(C=self.C, fit_intercept=False, max_iter=2000)
        lr.fit(x, target, sample_weight=rows)
        w, b = lr.coef_[0][:v], (lr.coef_[0][v:] if self.intercepts else np.zeros(k))
        self.coef_ = np.zeros((k, v * k))
        for i in range(v):
            self.coef_[np.arange(k), i * k + np.arange(k)] = w[i]
        self.intercept_ = b
        return self

    def predict_proba(self, z: np.ndarray) -> np.ndarray:
        return softmax(z @ self.coef_.T + self.intercept_, axis=1)

    def predict(self, z: np.ndarray) -> np.ndarray:
        return self.classes_[self.predict_proba(z).argmax(axis=1)]


def class_weights(labels: np.ndarray, power: float) -> dict[str, float] | None:
    """(largest group / group)^power: 0 none, 1 sklearn's "balanced" up to a constant."""
    if not power:
        return None
    values, counts = np.unique(labels, return_counts=True)
    return dict(zip(values.tolist(), ((counts.max() / counts) ** power).tolist()))


def make_final(kind: str, labels: np.ndarray, n_views: int, *, power: float = 0.0,
               C: float = 10.0) -> Any:
    """A final regression; `shared` needs several groups (two groups have one column per
    view already, where both kinds are the same)."""
    if kind in ("shared", "flat") and len(np.unique(labels)) > 2:
        return SharedWeights(n_views=n_views, C=C, classes=tuple(np.unique(labels)), power=power,
                             intercepts=kind == "shared")
    return LogisticRegression(C=C, class_weight=class_weights(labels, power), max_iter=3000)
