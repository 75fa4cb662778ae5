"""Which views, and which class weighting of the final regression, suit this data set.

Measured by cross-validation on the views' out-of-fold outputs (`views.out_of_fold`),
so choosing costs only the final regression's fits, never a view's. What is offered
depends on the data: the topics network only from `stack_min_samples` tickets (on 100
Endava tickets a stack of views scored 0.545 against 0.589 for the text SVM alone); the
class-weighted SVM, the `flat` final regression (no group intercepts) and a weighted
final regression only where some group has fewer than `rare_group` tickets and the
largest outnumbers it `imbalance` times or more (Endava's smallest group has over a
thousand tickets: there they only cost training time). The score is accuracy plus
macro-F1: a desk wants most tickets right and no group forgotten. On the 74-group set
flat won in every fold: +0.034 accuracy over the shared regression (5-fold CV).

First the kind of final regression (`final.py`: full, shared, flat) is chosen with the
text view alone (from `large` tickets: with every view, all of which are kept); then
views are added greedily (keep one only if the score rises); then, where rare groups
exist, the class weighting of the final regression; then its C, by log-loss, so that
the confidences are honest; last, where rare groups exist, a shift of every group by its
share of the tickets (`prior_shift`, no fit more). A handful of fits instead of every
combination.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, log_loss
from sklearn.model_selection import StratifiedKFold, train_test_split

from .final import make_final


def offered(labels: np.ndarray, p: dict[str, Any]) -> list[str]:
    """The views worth fitting for this data set (size, imbalance, number of groups)."""
    _, counts = np.unique(labels, return_counts=True)
    names = ["text", "title"]
    if counts.min() < p["rare_group"] and counts.max() >= p["imbalance"] * counts.min():
        names.insert(1, "text_balanced")
    if len(labels) >= p["stack_min_samples"]:
        names.append("topics")
        if p.get("encoder"):             # an option of train: it costs milliseconds a ticket
            names.append("encoder")
    return names


def _sample(labels: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """At most `limit` rows, stratified where every group allows it: the final regression
    has few inputs, so a sample ranks the choices as the whole set would, much faster."""
    idx = np.arange(len(labels))
    if len(labels) <= limit:
        return idx
    _, counts = np.unique(labels, return_counts=True)
    strat = labels if counts.min() >= 2 else None
    keep, _ = train_test_split(idx, train_size=limit, stratify=strat, random_state=seed)
    return np.sort(keep)


def _cv(y: np.ndarray, p: dict[str, Any]) -> StratifiedKFold:
    _, counts = np.unique(y, return_counts=True)
    return StratifiedKFold(max(2, min(3, int(counts.max()))), shuffle=True, random_state=p["seed"])


class _Trial:
    """Cross-validated runs of the final regression on the sampled out-of-fold outputs."""

    def __init__(self, oof: dict[str, np.ndarray], labels: np.ndarray, p: dict[str, Any]):
        self.rows = _sample(labels, p["select_rows"], p["seed"])
        self.oof, self.y, self.p = oof, labels[self.rows], p
        self.tried: list[dict[str, Any]] = []

    def z(self, views: list[str]) -> np.ndarray:
        return np.hstack([self.oof[v][self.rows] for v in views])

    def proba(self, views: list[str], kind: str, power: float, c: float) -> np.ndarray:
        """Out-of-fold probabilities (a loop of our own: cross_val_predict would hand the
        regression integer-coded groups)."""
        z, out = self.z(views), np.zeros((len(self.y), len(np.unique(self.y))))
        classes = np.unique(self.y)
        for train, test in _cv(self.y, self.p).split(z, self.y):
            final = make_final(kind, self.y, len(views), power=power, C=c).fit(z[train], self.y[train])
            out[np.ix_(test, np.searchsorted(classes, final.classes_))] = final.predict_proba(z[test])
        return out

    def __call__(self, views: list[str], kind: str, power: float = 0.0) -> float:
        pred = np.unique(self.y)[self.proba(views, kind, power, self.p["final_C"]).argmax(axis=1)]
        acc, f1 = accuracy_score(self.y, pred), f1_score(self.y, pred, average="macro")
        self.tried.append({"views": list(views), "final": kind, "power": power,
                           "accuracy": round(float(acc), 4), "macro_f1": round(float(f1), 4)})
        return float(acc + f1)

    def prior_shift(self, views: list[str], kind: str, power: float, c: float) -> float:
        """How far to move the groups by their share of the tickets: log p(g) + shift *
        log(share of g), chosen by accuracy plus macro-F1 on the same out-of-fold
        probabilities (no fit more); below 0 the rare groups gain, above 0 the large ones.
        Folded into the final regression's intercepts (views.fit_views)."""
        proba = np.log(np.clip(self.proba(views, kind, power, c), 1e-12, 1))
        classes = np.unique(self.y)
        log_share = np.log(np.bincount(np.searchsorted(classes, self.y), minlength=len(classes))
                           / len(self.y))
        scores = {}
        for shift in self.p["prior_shift_grid"]:
            pred = classes[(proba + shift * log_share).argmax(axis=1)]
            acc, f1 = accuracy_score(self.y, pred), f1_score(self.y, pred, average="macro")
            self.tried.append({"views": list(views), "final": kind, "power": power, "shift": shift,
                               "accuracy": round(float(acc), 4), "macro_f1": round(float(f1), 4)})
            scores[shift] = float(acc + f1)
        return max(scores, key=lambda shift: (scores[shift], -abs(shift)))

    def sharpest(self, views: list[str], kind: str, power: float) -> float:
        """The C with the best cross-validated log-loss: the confidence the threshold compares
        must be honest."""
        losses = {}
        for c in self.p["final_C_grid"]:
            proba = np.clip(self.proba(views, kind, power, c), 1e-12, 1)
            losses[c] = log_loss(self.y, proba / proba.sum(axis=1, keepdims=True),
                                 labels=np.unique(self.y))
        return min(losses, key=losses.get)


def choose(oof: dict[str, np.ndarray], labels: np.ndarray, p: dict[str, Any]) -> dict[str, Any]:
    """{"views", "final", "power", "C", "accuracy", "macro_f1", "rows", "tried"}."""
    run = _Trial(oof, labels, p)
    names = list(oof)
    starts = [v for v in ("text", "text_balanced") if v in names]
    # the full regression learns groups x views x groups weights: only with tickets enough
    kinds = ("shared", "full") if len(labels) >= p["full_min_per_group"] * len(np.unique(labels)) \
        else ("shared",)
    if "text_balanced" in names:         # rare groups: a final that keeps the weighted view's balance
        kinds += ("flat",)
    if len(labels) >= p["large"]:
        # every view has tickets enough: all of them (measured on Endava, a greedy choice on
        # the 8,000-row sample dropped views and lost 0.002-0.004 accuracy per fold)
        best, views, kind = max((run(names, k), names, k) for k in kinds)
    else:
        best, views, kind = max((run([v], k), [v], k) for v in starts for k in kinds)
    for extra in names:
        if extra not in views:
            score = run(views + [extra], kind)
            if score > best:
                best, views = score, views + [extra]
    power = 0.0
    if "text_balanced" in names:         # rare groups: weigh them up, if it pays
        for w in (0.5, 1.0):
            score = run(views, kind, w)
            if score > best:
                best, power = score, w
    views = [v for v in names if v in views]
    top = next(t for t in run.tried if set(t["views"]) == set(views) and t["final"] == kind
               and t["power"] == power)
    c = run.sharpest(views, kind, power)
    # two groups: the regression has one intercept, and its weighting already sets the balance
    shift = run.prior_shift(views, kind, power, c) \
        if "text_balanced" in names and len(np.unique(labels)) > 2 else 0.0
    if shift:
        top = next(t for t in reversed(run.tried) if t.get("shift") == shift)
    return {"views": views, "final": kind, "power": power, "C": c, "shift": shift,
            "accuracy": top["accuracy"], "macro_f1": top["macro_f1"], "rows": len(run.rows),
            "tried": run.tried}
