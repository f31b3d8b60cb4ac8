"""Grading specs, one module per assignment.

`grader/specs/<name>.py` holds the public cases (shipped in the student release);
`grader/specs/hidden/<name>.py`, when present, the hidden ones (never shipped).
"""

from __future__ import annotations

import importlib

from grader.catalog import get_assignment
from grader.grading.case import AssignmentSpec, Case


def load_spec(name: str) -> AssignmentSpec:
    """The assignment's spec: public cases, plus hidden cases where they are installed."""
    assignment = get_assignment(name)
    public = importlib.import_module(f"grader.specs.{name}")
    cases: tuple[Case, ...] = tuple(public.PUBLIC_CASES)
    try:
        hidden = importlib.import_module(f"grader.specs.hidden.{name}")
    except ModuleNotFoundError as exc:
        if exc.name not in (f"grader.specs.hidden.{name}", "grader.specs.hidden"):
            raise
    else:
        cases += tuple(hidden.HIDDEN_CASES)
    return AssignmentSpec(name=name, framework=assignment.framework, cases=cases)
