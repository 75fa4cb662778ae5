"""The learned classifier's estimator: views of a ticket, combined by a logistic regression.

- **text**: TF-IDF of word 1-2 grams and character 2-5 grams (`char_wb`: inside word
  boundaries, so a run of Chinese characters is a "word" too) into a linear SVM;
- **text_balanced**: the same SVM with class weights rising as a group gets rarer
  (offered where groups are unequal: it finds the rare ones the plain SVM never picks);
- **title**: the same features of the first `title_words` words only (the subject
  line carries the topic; a view of its own keeps a long body from drowning it);
- **topics**: a latent-semantic projection of the text features (TruncatedSVD) into a
  small neural network, the one non-linear view;
- **encoder** (only with `train --encoder`, `encoder.py`): the same network on the topics
  beside what a pre-trained sentence encoder makes of the text, knowledge of the language
  no TF-IDF of these tickets has.

Each view is first fitted `folds` times to get out-of-fold outputs for every ticket.
Those outputs serve twice: `select.choose` cross-validates, on them, which views and
which class weighting of the final logistic regression serve this data set best
(nothing is fitted again for that), and the chosen final regression is fitted on
them; it also calibrates the probabilities, one intercept and scale per group. Only
the chosen views are then refitted on every ticket. Everything is sklearn; this
module only wires it together.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import LinearSVC

from .encoder import SentenceEncoder
from .final import class_weights, make_final
from .select import choose, offered

VIEWS = ("text", "text_balanced", "title", "topics", "encoder")


def first_words(texts, n: int = 12) -> list[str]:
    """The first n whitespace-separated words (for Chinese: runs of characters) of each text."""
    return [" ".join(str(t).split()[:n]) for t in texts]


def _tfidf(p: dict[str, Any], min_df: int, char: bool) -> TfidfVectorizer:
    if char:
        return TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(p["char_ngrams"]),
                               sublinear_tf=True, min_df=min_df, dtype=np.float32)
    return TfidfVectorizer(ngram_range=tuple(p["word_ngrams"]), sublinear_tf=True, min_df=min_df,
                           dtype=np.float32)


def build_vectors(p: dict[str, Any], n_samples: int) -> FeatureUnion:
    """Columns: text words | text chars | title words + chars."""
    min_df = p["min_df"] if n_samples >= 1000 else 1      # small sets: keep every term
    title = FeatureUnion([("word", _tfidf(p, min_df, False)), ("char", _tfidf(p, min_df, True))])
    return FeatureUnion([
        ("word", _tfidf(p, min_df, False)), ("char", _tfidf(p, min_df, True)),
        ("title", Pipeline([("cut", FunctionTransformer(first_words, kw_args={"n": p["title_words"]})),
                            ("vec", title)]))],
        n_jobs=min(2, p["n_jobs"]) if n_samples >= 5000 else None)   # processes: start-up costs


def view_estimator(name: str, p: dict[str, Any], labels: np.ndarray, n: int):
    seed = p["seed"]
    if name in ("topics", "encoder"):
        return make_pipeline(StandardScaler(), MLPClassifier(
            hidden_layer_sizes=(p["hidden_units"],), early_stopping=n >= 1000,
            max_iter=p["max_epochs"], random_state=seed))
    weights = class_weights(labels, p["balance_power"]) if name == "text_balanced" else None
    # less regularisation below `large` tickets: on the 6,257 assignment tickets C 1 beat 0.3
    # (+0.005 accuracy, +0.04 macro-F1); on 38,269 Endava tickets 0.3 was best
    c = p["C"] if n >= p["large"] else p["C_small"]
    return LinearSVC(C=c, class_weight=weights, max_iter=5000, random_state=seed)


@dataclass
class Views:
    """The fitted model: vectors, the chosen views, and the final logistic regression."""

    vectors: FeatureUnion
    n_text: int                        # text columns; the title's follow
    lsa: TruncatedSVD | None
    members: dict[str, Any]            # view name -> fitted estimator, in VIEWS order
    final: Any                         # final.make_final: full, shared or flat regression
    choice: dict[str, Any] = field(default_factory=dict)
    encoder: SentenceEncoder | None = None     # only while the encoder view is a member

    @property
    def lsa_in_use(self) -> bool:
        return "topics" in self.members or "encoder" in self.members

    @property
    def classes_(self) -> np.ndarray:
        return self.final.classes_

    def inputs(self, x, texts: Sequence[str] | None = None) -> dict[str, Any]:
        """Each view's input matrix, from the vectors' output (and, for the encoder view,
        the texts themselves)."""
        out = {"text": x[:, :self.n_text], "title": x[:, self.n_text:]}
        out["text_balanced"] = out["text"]
        if self.lsa is not None:
            out["topics"] = self.lsa.transform(out["text"])
            if self.encoder is not None and texts is not None:
                out["encoder"] = np.hstack([out["topics"], self.encoder.encode(texts)])
        return out

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        inputs = self.inputs(self.vectors.transform(texts), texts)
        z = np.hstack([view_output(est, inputs[n]) for n, est in self.members.items()])
        return self.final.predict_proba(z)


def view_output(estimator, x) -> np.ndarray:
    """What a view passes on: SVM decision values, the network's probabilities; with two
    groups one column (the second group's), as sklearn's stacking does."""
    if hasattr(estimator, "decision_function"):
        d = estimator.decision_function(x)
        return d.reshape(-1, 1) if d.ndim == 1 else d
    proba = estimator.predict_proba(x)
    return proba[:, 1:] if proba.shape[1] == 2 else proba


def _fold(estimator, x, y, train, test, classes) -> tuple[np.ndarray, np.ndarray]:
    fitted = clone(estimator).fit(x[train], y[train])
    out = view_output(fitted, x[test])
    if len(fitted.classes_) == len(classes):
        return test, out
    # a group too rare to be in this fold's training part: the lowest output for it
    full = np.full((len(test), len(classes)), out.min() if out.size else 0.0)
    full[:, np.searchsorted(classes, fitted.classes_)] = out
    return test, full


def out_of_fold(estimator, x, y: np.ndarray, folds: list, classes, n_jobs: int) -> np.ndarray:
    """Every ticket's output from the view fitted without it (the folds run in threads:
    liblinear and numpy release the GIL, and threads share x instead of copying it)."""
    with Parallel(n_jobs=n_jobs, backend="threading") as run:
        parts = run(delayed(_fold)(estimator, x, y, tr, te, classes) for tr, te in folds)
    width = parts[0][1].shape[1]
    z = np.zeros((x.shape[0], width))
    for test, out in parts:
        z[test] = out
    return z


def fold_split(y: np.ndarray, folds: int, seed: int) -> list:
    _, counts = np.unique(y, return_counts=True)
    k = max(2, min(folds, int(counts.max())))
    with warnings.catch_warnings():       # groups rarer than k: expected, `_fold` fills them in
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def fit_views(texts: list[str], labels: list[str], p: dict[str, Any]) -> Views:
    """Fit vectors, the views' out-of-fold outputs, the choice, the final regression and
    the chosen views; texts are already clipped."""
    y = np.asarray(labels, dtype=object).astype(str)
    classes = np.unique(y)
    vectors = build_vectors(p, len(y))
    x = vectors.fit_transform(texts)
    n_text = sum(len(vectors.named_transformers[n].vocabulary_) for n in ("word", "char"))
    names = offered(y, p)
    lsa = None
    if "topics" in names:
        k = max(1, min(p["topics"], len(y) - 1, n_text - 1))
        lsa = TruncatedSVD(k, n_iter=2, random_state=p["seed"]).fit(x[:, :n_text])
        lsa.components_ = lsa.components_.astype(np.float32)   # topics x terms: half the memory
    encoder = SentenceEncoder(p["encoder"]) if "encoder" in names else None
    holder = Views(vectors, n_text, lsa, {}, LogisticRegression(), encoder=encoder)
    inputs = holder.inputs(x, texts)
    folds = fold_split(y, p["folds"], p["seed"])
    oof = {n: out_of_fold(view_estimator(n, p, y, len(y)), inputs[n], y, folds, classes, p["n_jobs"])
           for n in names}
    with warnings.catch_warnings():       # rare groups missing from a fold: expected
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        choice = choose(oof, y, p)
    final = make_final(choice["final"], y, len(choice["views"]), power=choice["power"], C=choice["C"])
    final.fit(np.hstack([oof[n] for n in choice["views"]]), y)
    if choice.get("shift"):           # select.prior_shift, folded into the intercepts
        share = np.bincount(np.searchsorted(classes, y), minlength=len(classes)) / len(y)
        final.intercept_ = final.intercept_ + choice["shift"] * np.log(
            share[np.searchsorted(classes, final.classes_)])
    with Parallel(n_jobs=p["n_jobs"], backend="threading") as run:
        fitted = run(delayed(view_estimator(n, p, y, len(y)).fit)(inputs[n], y) for n in choice["views"])
    for est in fitted:
        if isinstance(est, LinearSVC):           # groups x terms weights: half the memory
            est.coef_ = est.coef_.astype(np.float32)
    holder.members = dict(zip(choice["views"], fitted))
    holder.final = final
    holder.choice = choice
    if "encoder" not in holder.members:
        holder.encoder = None
    if not holder.lsa_in_use:
        holder.lsa = None
    return holder
