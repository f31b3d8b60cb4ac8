"""Shared by every test folder.

- The helper modules beside this file (batch_fakes, spec_helpers, proc_helpers,
  server_helpers, bench_helpers) and tests/data are importable from every subfolder.
- Each test is marked with the assignment it tests, so `pytest -m losses` runs every test of
  the losses assignment (its spec, its reference, its grading, its stub): a test file named
  for an assignment (`test_specs_losses.py`) marks all its tests; a test parametrized over
  assignments marks each case with its own.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from grader.catalog import Assignment, assignment_names

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

ASSIGNMENTS = assignment_names()


def assignments_of(item: pytest.Item) -> set[str]:
    found = {name for name in ASSIGNMENTS if item.path.stem.endswith(f"_{name}")}
    callspec = getattr(item, "callspec", None)
    for value in (callspec.params.values() if callspec else ()):
        if isinstance(value, Assignment):
            found.add(value.name)
        elif isinstance(value, str) and value in ASSIGNMENTS:
            found.add(value)
    return found


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for name in sorted(assignments_of(item)):
            item.add_marker(getattr(pytest.mark, name))
