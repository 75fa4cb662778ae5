"""The desk's learned models in the ledger (`model_versions`): which one runs, which ran.

Statuses: `active` is the one running now (one row at most); `promoted` ran before and
was replaced by a newer promotion; `refused` was trained but was worse (or there was
too little to learn from); `rolled_back` was taken out of service by `model rollback`.
No active row: the settings' model file, or the shipped default model, runs.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from ..errors import InputError
from ..tables import model_versions as mv


def record(ledger: Any, row: dict[str, Any]) -> dict[str, Any]:
    """Insert one row; returns it with its id."""
    values = {"n_eval": 0, **row}
    with ledger.engine.begin() as conn:
        pk = conn.execute(insert(mv).values(**values)).inserted_primary_key[0]
    return {**values, "id": pk}


def set_active(ledger: Any, pk: int) -> None:
    """Row `pk` runs from now on; the one that ran before becomes `promoted`."""
    with ledger.engine.begin() as conn:
        conn.execute(update(mv).where(mv.c.status == "active", mv.c.id != pk)
                     .values(status="promoted"))
        conn.execute(update(mv).where(mv.c.id == pk).values(status="active"))


def history(ledger: Any) -> list[dict[str, Any]]:
    with ledger.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(mv).order_by(mv.c.id)).mappings()]


def rollback(ledger: Any, reason: str = "rolled back by an admin") -> tuple[dict, dict | None]:
    """Take the active model out of service and run the one promoted before it (or, with
    none, the settings' model or the default). Returns (taken out, now running or None)."""
    with ledger.engine.begin() as conn:
        active = conn.execute(select(mv).where(mv.c.status == "active")
                              .order_by(mv.c.id.desc()).limit(1)).mappings().first()
        if active is None:
            raise InputError("no promoted model is running: nothing to roll back",
                             key="nothing_to_roll_back")
        previous = conn.execute(select(mv).where(mv.c.status == "promoted", mv.c.id < active["id"])
                                .order_by(mv.c.id.desc()).limit(1)).mappings().first()
        conn.execute(update(mv).where(mv.c.id == active["id"])
                     .values(status="rolled_back", reason=reason))
        if previous is not None:
            conn.execute(update(mv).where(mv.c.id == previous["id"]).values(status="active"))
    return dict(active), (dict(previous) if previous else None)


def line(row: dict[str, Any]) -> str:
    """One row of `model history`."""
    def f(v):
        return "-" if v is None else f"{v:.4f}"
    at = row["trained_at"]
    when = at.strftime("%Y-%m-%d %H:%M") if hasattr(at, "strftime") else str(at)
    return (f"{row['id']:>4}  {when}  {row['status']:<11}  n {row['n_samples']:>6}  "
            f"eval {row['n_eval']:>5}  acc {f(row['accuracy'])} (running {f(row['running_accuracy'])})  "
            f"F1 {f(row['macro_f1'])} (running {f(row['running_macro_f1'])})  "
            f"{row['path'] or '-'}  {row['reason'] or ''}")
