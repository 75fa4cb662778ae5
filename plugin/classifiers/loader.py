"""Where the worker gets the learned model from: a file named in the settings,
reloaded when it changes, so retraining needs no restart."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


def model_path(settings: Any) -> str | None:
    """The model file the settings name (classification.model_path), or None: rules only."""
    return getattr(getattr(settings, "classification", None), "model_path", None)


def model_source(settings: Any) -> Callable[[], Any]:
    path = model_path(settings)
    if not path:
        return lambda: None
    from .model import ModelHolder
    holder = ModelHolder(path)
    return holder.get
