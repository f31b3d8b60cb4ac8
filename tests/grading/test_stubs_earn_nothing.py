"""Stubs and do-nothing functions earn nothing: every assignment's untouched stub, graded
by the engine in the sandbox, scores 0 with "not implemented" on every case it runs; a
make_mlp that always raises ValueError does not earn the unknown-activation points, and a
get_device that always raises does not earn the unavailable-device points.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_helpers import SpecBench

from grader.catalog import assignment_names
from grader.grading.grader import Grader
from grader.specs import load_spec
from reference import cuda_training as reference_cuda
from reference import mlp as reference_mlp

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def grader():
    with Grader() as g:
        yield g


@pytest.mark.parametrize("assignment", assignment_names())
def test_an_untouched_stub_scores_nothing_and_says_not_implemented(grader, assignment):
    stub = ROOT / "assignments" / f"{assignment}.py"
    report = grader.grade_source(stub.read_text(encoding="utf-8"), assignment, "stub")
    ran = [t for t in report.tests if t.status != "skipped"]
    assert ran
    assert sum(t.points for t in report.tests) == 0
    wrong = {t.name: t.message for t in ran if "not implemented" not in t.message}
    assert not wrong, wrong


def _always_raises(*args, **kwargs):
    raise ValueError("nope")


def test_a_make_mlp_that_always_raises_earns_no_unknown_activation_points():
    import torch

    bench = SpecBench(load_spec("mlp"), reference_mlp, reference_mlp)
    with torch.no_grad():
        verdict = bench.judge(bench.cases["make_mlp_unknown_activation"],
                              bench.copy_with(make_mlp=_always_raises))
    assert not verdict.passed
    assert "a known activation must build the model" in verdict.message
    assert bench.judge(bench.cases["make_mlp_unknown_activation"], reference_mlp).passed


def test_a_get_device_that_always_raises_earns_no_unavailable_device_points():
    bench = SpecBench(load_spec("cuda_training"), reference_cuda, reference_cuda)
    verdict = bench.judge(bench.cases["get_device_unavailable"],
                          bench.copy_with(get_device=_always_raises))
    assert not verdict.passed
    assert "get_device('cpu')" in verdict.message
    assert bench.judge(bench.cases["get_device_unavailable"], reference_cuda).passed
