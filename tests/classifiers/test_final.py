"""The final regression's kinds: `flat` keeps a class-weighted view's balance where
`shared` hands the close calls to the largest group; selection offers flat only where
rare groups are."""
from __future__ import annotations

import numpy as np
import pytest

from plugin.classifiers.fast import FastScorer
from plugin.classifiers.final import make_final
from plugin.classifiers.model import DEFAULT_PARAMS
from plugin.classifiers.model import train as train_model
from plugin.classifiers.views import view_output


def _imbalanced_scores(seed: int = 0):
    """One view's scores for 5 groups; group a holds 80 % of the tickets and every
    ticket's own group scores highest but only just, so priors decide close calls."""
    rng = np.random.default_rng(seed)
    classes = np.array(["a", "b", "c", "d", "e"])
    y = rng.choice(classes, size=2000, p=[0.8, 0.05, 0.05, 0.05, 0.05])
    z = rng.normal(0, 1, size=(len(y), 5))
    z[np.arange(len(y)), np.searchsorted(classes, y)] += 1.5
    return z, y, classes


def test_flat_has_no_group_head_start_and_keeps_the_views_ranking():
    z, y, classes = _imbalanced_scores()
    flat = make_final("flat", y, 1).fit(z, y)
    shared = make_final("shared", y, 1).fit(z, y)
    assert np.all(flat.intercept_ == 0)
    assert np.array_equal(flat.predict(z), classes[z.argmax(axis=1)])
    # shared learns group a's share into its intercept and names it more often
    assert shared.intercept_[0] > shared.intercept_[1:].max()
    assert (shared.predict(z) == "a").sum() > (flat.predict(z) == "a").sum() + 100
    probs = flat.predict_proba(z)
    assert probs.sum(axis=1) == pytest.approx(np.ones(len(y)))


def _texts(counts: dict[str, int], seed: int = 0):
    rng = np.random.default_rng(seed)
    words = {"vpn": "vpn tunnel connect remote", "mail": "outlook mailbox inbox send",
             "print": "printer toner paper jam", "pay": "invoice payment refund charge"}
    filler = ["please", "help", "today", "user", "office", "issue", "urgent", "thanks"]
    texts, labels = [], []
    for label, n in counts.items():
        for _ in range(n):
            own = rng.choice(words[label].split(), size=2)
            texts.append(" ".join([*own, *rng.choice(filler, size=4)]))
            labels.append(label)
    return texts, labels


def test_flat_is_tried_only_where_some_groups_are_rare():
    rare = train_model(*_texts({"vpn": 300, "mail": 20, "print": 20, "pay": 20}))
    even = train_model(*_texts({"vpn": 40, "mail": 40, "print": 40, "pay": 40}))
    assert any(t["final"] == "flat" for t in rare.views.choice["tried"])
    assert not any(t["final"] == "flat" for t in even.views.choice["tried"])


def test_the_one_ticket_path_equals_predict_proba_with_a_flat_final():
    texts, labels = _texts({"vpn": 300, "mail": 20, "print": 20, "pay": 20})
    model = train_model(texts, labels)
    v, y = model.views, np.asarray(labels)
    inputs = v.inputs(v.vectors.transform(texts))
    z = np.hstack([view_output(est, inputs[n]) for n, est in v.members.items()])
    v.final = make_final("flat", y, len(v.members)).fit(z, y)
    model._fast = FastScorer(v)
    for text in ["vpn tunnel down", "printer jam again", "", "invoice charged twice"]:
        fast = [model.scores(text)[label] for label in model.labels]
        assert fast == pytest.approx(model.predict_proba([text])[0].tolist(), abs=1e-6)


def test_a_prior_shift_toward_rare_groups_is_chosen_where_the_large_group_takes_their_tickets():
    from plugin.classifiers.select import _Trial

    z, y, _ = _imbalanced_scores(seed=1)
    z[:, 0] += 3.0                      # the view over-scores the large group a
    trial = _Trial({"text": z}, y, DEFAULT_PARAMS)
    shift = trial.prior_shift(["text"], "flat", 0.0, 1.0)
    assert shift < 0
    by_shift = {t["shift"]: t for t in trial.tried}
    assert by_shift[shift]["macro_f1"] > by_shift[0.0]["macro_f1"]


def test_the_chosen_shift_is_in_the_model_and_the_one_ticket_path_agrees():
    model = train_model(*_texts({"vpn": 300, "mail": 20, "print": 20, "pay": 20}))
    assert "shift" in model.views.choice
    assert model.views.choice["shift"] in DEFAULT_PARAMS["prior_shift_grid"]
    for text in ["vpn tunnel down", "printer jam again", "", "invoice charged twice"]:
        fast = [model.scores(text)[label] for label in model.labels]
        assert fast == pytest.approx(model.predict_proba([text])[0].tolist(), abs=1e-6)


def test_two_unequal_groups_train_and_predict_without_a_shift():
    """Two groups have one intercept between them: no per-group shift to fold in."""
    texts, labels = _texts({"vpn": 300, "mail": 20})
    model = train_model(texts, labels, prior_shift_grid=(-0.5,))   # the only shift on offer
    assert model.views.choice["shift"] == 0.0
    assert model.predict(["outlook mailbox full", "vpn tunnel down"]) == ["mail", "vpn"]
    for text in ["outlook inbox", ""]:
        fast = [model.scores(text)[label] for label in model.labels]
        assert fast == pytest.approx(model.predict_proba([text])[0].tolist(), abs=1e-6)
