"""Every reference solution scores full marks and every stub scores 0, through the sandbox.

GPU cases are skipped without CUDA (left out of the maximum), so cuda_training's
reference still gets every point it can get here.
"""

from __future__ import annotations

import pytest

from grader.catalog import ASSIGNMENTS, ROOT
from grader.grading.grader import Grader, cuda_available
from grader.specs import load_spec

NAMES = [a.name for a in ASSIGNMENTS]


@pytest.fixture(scope="module")
def grader():
    with Grader() as g:
        yield g


@pytest.mark.parametrize("name", NAMES)
def test_reference_scores_full_marks(grader, name):
    report = grader.grade_file(ROOT / "reference" / f"{name}.py", name)
    failed = [(t.name, t.message) for t in report.tests if t.status == "failed"]
    assert not failed
    spec = load_spec(name)
    gpu_points = sum(c.points for c in spec.cases if c.needs_cuda)
    expected_max = 100 if cuda_available() else 100 - gpu_points
    assert report.score == report.max_score == expected_max
    if gpu_points and not cuda_available():
        assert all(t.status == "skipped" for t in report.tests if spec.case(t.name).needs_cuda)
        assert any("skipped (no CUDA)" in n for n in report.notes)


@pytest.mark.parametrize("name", NAMES)
def test_stub_scores_zero_and_says_not_implemented(grader, name):
    report = grader.grade_file(ROOT / "assignments" / f"{name}.py", name)
    assert report.score == 0
    for t in report.tests:
        if t.status == "skipped":
            continue
        assert t.status == "failed"
        assert "not implemented" in t.message or "NotImplementedError" in t.message, (t.name, t.message)
