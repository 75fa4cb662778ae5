"""Where the worker gets the learned model from, and how a new one reaches it without a
restart.

In order: the model the desk's retraining promoted (the `active` row of the ledger's
`model_versions`), else the file the settings name (`classification.model_path`), else,
on the default catalog, the shipped default model (`default_model.py`); an admin's own
catalog without a model of its own is classified by its rules alone, since the default
model's labels name the default catalog's items.

A source looks at the ledger at most every `check_seconds` (a cheap query) and at the
file's stat on every call (`ModelHolder`), so a promotion or a rollback reaches every
running worker within seconds, and an edited file at once.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

CHECK_SECONDS = 5.0


def model_path(settings: Any) -> str | None:
    """The model file the settings name (classification.model_path), or None."""
    return getattr(getattr(settings, "classification", None), "model_path", None)


def uses_default_model(settings: Any) -> bool:
    """No model named, the default catalog, and the default model not switched off."""
    from .catalog import default_catalog
    s = getattr(settings, "classification", None)
    if s is None or model_path(settings):
        return False
    return bool(getattr(s, "use_default_model", True)) and s.catalog == default_catalog()


def active_path(engine: Any) -> str | None:
    """The promoted model that runs now: the ledger's `active` row, or None."""
    from ..tables import model_versions as mv
    query = select(mv.c.path).where(mv.c.status == "active").order_by(mv.c.id.desc()).limit(1)
    try:
        with engine.connect() as conn:
            return conn.execute(query).scalar()
    except SQLAlchemyError:          # no ledger table yet (an old ledger): nothing promoted
        return None


class ModelSource:
    """Callable: the model to use now (or None: rules only). Thread-safe and cheap."""

    def __init__(self, settings: Any, ledger: Any = None, *, check_seconds: float = CHECK_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.settings, self.ledger = settings, ledger
        self.check_seconds, self.clock = check_seconds, clock
        self._lock = threading.Lock()
        self._checked: float | None = None
        self._active: str | None = None
        self._engine: Any = None
        self._holder: Any = None
        self._fallback = self._fallback_source()

    def _fallback_source(self) -> Callable[[], Any]:
        path = model_path(self.settings)
        if path:
            from .model import ModelHolder
            return ModelHolder(path).get
        if uses_default_model(self.settings):
            from .default_model import default_model
            return default_model
        return lambda: None

    def _engine_now(self) -> Any:
        if self.ledger is not None:
            return self.ledger.engine
        url = getattr(self.settings, "database_url", None)
        if url and self._engine is None:
            self._engine = create_engine(url)
        return self._engine

    def _refresh(self) -> None:
        engine = self._engine_now()
        path = active_path(engine) if engine is not None else None
        if path != self._active:
            from .model import ModelHolder
            log.info("model_source_switch", extra={"path": path or "(settings or default)"})
            self._active, self._holder = path, (ModelHolder(path) if path else None)

    def __call__(self) -> Any:
        now = self.clock()
        if self._checked is None or now - self._checked >= self.check_seconds:
            with self._lock:
                if self._checked is None or now - self._checked >= self.check_seconds:
                    self._checked = now
                    self._refresh()
        holder = self._holder
        model = holder.get() if holder is not None else None
        return model if model is not None else self._fallback()


def model_source(settings: Any, ledger: Any = None, **kw: Any) -> Callable[[], Any]:
    """What `Processor(model_source=...)` calls once per ticket."""
    return ModelSource(settings, ledger, **kw)
