"""Helpers for the classification tests: tickets, contexts, a fake model."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from plugin.classifiers.catalog import ClassificationSettings
from plugin.models import Requester, StepContext, Ticket
from plugin.store import Ledger

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "classifiers"
NOW = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def desk(tmp_path):
    """(settings, ledger) of a desk on the default catalog, for retraining."""
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", lock_dir=tmp_path)
    settings = SimpleNamespace(classification=ClassificationSettings(), data_dir=tmp_path,
                               database_url=f"sqlite:///{tmp_path / 'ledger.db'}")
    yield settings, ledger
    ledger.dispose()


def make_ticket(title: str, body: str = "", *, vip: bool = False, tid: str = "1", **kw) -> Ticket:
    return Ticket(platform="zammad", id=tid, number=tid, title=title, body=body,
                  requester=Requester(id="7", vip=vip), event=kw.pop("event", "create"), **kw)


def make_ctx(settings: ClassificationSettings | None = None, **kw) -> StepContext:
    return StepContext(settings=settings or ClassificationSettings(), now=kw.pop("now", NOW), **kw)


class FakeModel:
    """Stands in for a TrainedModel: fixed probabilities per label."""

    version = "fake"

    def __init__(self, probs: dict[str, float]):
        self.probs = probs
        self.labels = tuple(probs)

    def scores(self, text: str) -> dict[str, float]:
        return dict(self.probs)


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
