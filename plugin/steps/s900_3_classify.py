"""900.3 classify and start the right activity: the catalog item, value stream,
priority and group (the logic lives in plugin.classifiers; this is its place in
the pipeline)."""
from __future__ import annotations

from ..classifiers.catalog import STEP
from ..classifiers.step import classify
from .base import StepSpec

SPEC = StepSpec(STEP, classify, needs=())
