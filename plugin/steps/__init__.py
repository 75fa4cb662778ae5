"""The pipeline's steps, one module per step of the desk's practice, named by its seed
number (DOMAIN.md): s900_1 receive and record, s900_2 verify, s900_3 classify and
suggest a self-help article, s900_4 track (the desk following its tickets), s901
communicate, s902 measure. `STEPS` is the registry the manifest and settings name them from."""
from __future__ import annotations

from . import (
    s900_1_record,
    s900_2_verify,
    s900_3_classify,
    s900_3_knowledge,
    s900_4_track,
    s901_communicate,
    s902_measure,
)
from .base import StepSpec

STEPS: dict[str, StepSpec] = {spec.name: spec for spec in (
    s900_1_record.SPEC, s900_2_verify.SPEC, s900_3_classify.SPEC, s900_3_knowledge.SPEC, s900_4_track.SPEC,
    s901_communicate.SPEC, s902_measure.SPEC)}

__all__ = ["STEPS", "StepSpec"]
