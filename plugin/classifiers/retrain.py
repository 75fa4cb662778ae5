"""Learning on its own: retrain from the desk's own tickets, promote only what is not worse.

`retrain(settings, ledger, now)` gathers labelled tickets (the platforms' closed tickets
with their final category, and the ledger's corrections, which carry the ticket text),
holds out the most recent `eval_share` of them, trains a candidate on the rest and
scores both the candidate and the running model on the held-out tickets. The candidate
is promoted only when neither its accuracy nor its macro-F1 is lower; a promoted
candidate is refitted on every ticket and becomes the ledger's `active` model, which
every worker's `loader.ModelSource` picks up within seconds. Every run leaves a row in
`model_versions`, promoted or refused, with both models' figures and the reason.

The running model may have been trained on some of the held-out tickets (an earlier
retraining saw them); that favours it, so a promotion is the safer for it.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import InputError
from .items import find_item
from .loader import ModelSource
from .model import train
from .training import Dataset, evaluate, registered_sources, usable
from .versions import record, set_active

log = logging.getLogger(__name__)

MIN_TICKETS = 50
EVAL_SHARE = 0.2

Example = tuple[str, str, datetime | None]     # text, catalog item id, when it was decided


def corrections(ledger: Any, catalog) -> list[Example]:
    """The agents' category corrections that carry the ticket's text."""
    out = []
    for row in ledger.rows("corrections", field="enrich_category"):
        item = find_item(catalog, row.get("new"))
        if item and (row.get("text") or "").strip():
            out.append((row["text"].strip(), item.id, row.get("at")))
    return out


def platform_history(settings: Any) -> list[Example]:
    """Closed tickets of every configured platform with their final category."""
    from . import history  # noqa: F401  (registers the platform sources)
    out: list[Example] = []
    for name, fn in registered_sources().items():
        if not getattr(settings, f"{name}_url", None):
            continue
        for row in fn():
            text, label, at = (tuple(row) + (None,))[:3]
            out.append((str(text), str(label), at))
    return out


def gather(settings: Any, ledger: Any) -> list[Example]:
    """History and corrections, oldest first; a corrected ticket counts once, corrected."""
    catalog = settings.classification.catalog
    by_text: dict[str, Example] = {}
    for ex in platform_history(settings) + corrections(ledger, catalog):
        by_text[ex[0]] = ex
    return sorted(by_text.values(), key=lambda e: _when(e[2]))


def _when(at: datetime | None) -> float:
    return at.timestamp() if isinstance(at, datetime) else float("-inf")


def _score(model: Any, texts: list[str], labels: list[str]) -> tuple[float | None, float | None]:
    if model is None:
        return None, None
    m = evaluate(model, texts, labels)
    return m["accuracy"], m["macro_f1"]


def not_worse(candidate: tuple, running: tuple) -> bool:
    if running[0] is None:
        return True                       # rules only run now: any model is a start
    return candidate[0] >= running[0] and candidate[1] >= running[1]


def retrain(settings: Any, ledger: Any, now: datetime, *,
            examples: Callable[[], Iterable[Example]] | None = None,
            running: Callable[[], Any] | None = None, **train_params: Any) -> dict[str, Any]:
    """One retraining run; returns the `model_versions` row it wrote (as a dict)."""
    rows = list(examples() if examples else gather(settings, ledger))
    rows.sort(key=lambda e: _when(e[2]))
    base = {"trained_at": now, "n_samples": len(rows), "path": ""}
    data = _usable([r[0] for r in rows], [r[1] for r in rows])
    cut = int(len(data.texts) * (1 - EVAL_SHARE)) if data else 0
    old = _usable(data.texts[:cut], data.labels[:cut], 2) if data else None   # the newest held out
    if data is None or old is None or len(data.texts) < MIN_TICKETS:
        return record(ledger, {**base, "status": "refused",
                               "reason": f"too few labelled tickets ({len(rows)}; {MIN_TICKETS} "
                                         "needed, in 2 or more items of 5 or more each)"})
    new_x, new_y = data.texts[cut:], data.labels[cut:]
    now_running = (running or ModelSource(settings, ledger, check_seconds=0))()
    # a model trained with a sentence encoder (train --encoder) is retrained with it
    encoder = getattr(now_running, "params", {}).get("encoder")
    train_params = {**({"encoder": encoder} if encoder else {}), **train_params}
    candidate = _score(train(old.texts, old.labels, **train_params), new_x, new_y)
    current = _score(now_running, new_x, new_y)
    figures = {"n_eval": len(new_x), "accuracy": candidate[0], "macro_f1": candidate[1],
               "running_accuracy": current[0], "running_macro_f1": current[1]}
    if not not_worse(candidate, current):
        return record(ledger, {**base, **figures, "status": "refused",
                               "reason": "worse than the running model on the latest tickets"})
    model = train(data.texts, data.labels, **train_params)
    model.metrics = {"retrained": True, **figures}
    path = model.save(Path(settings.data_dir) / "models" / f"desk-{now:%Y%m%dT%H%M%S}.joblib")
    row = record(ledger, {**base, **figures, "path": str(path), "status": "active",
                          "reason": "not worse than the running model on the latest tickets"})
    set_active(ledger, row["id"])
    log.info("model_promoted", extra={"path": str(path), "accuracy": candidate[0]})
    return row


def _usable(texts: list[str], labels: list[str], min_examples: int = 5) -> Dataset | None:
    """The tickets of items with enough examples (order kept), or None: too few to learn."""
    try:
        return usable(Dataset(texts, labels, source="desk history"), min_examples)[0]
    except InputError:
        return None
