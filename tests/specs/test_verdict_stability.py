"""Same code, same grade: a fast subset of benchmarks/verdict_stability.py.

Near misses (another eps, eps inside a root, +1e-7 in a log, float32, a mean over every
element, h = 1e-4) must fail their cases for every student; correct implementations
written differently must pass every case for every student.
"""

from __future__ import annotations

import pytest
from bench_helpers import load_benchmark

STABILITY = load_benchmark("verdict_stability")
BY_NAME = {v.name: v for v in STABILITY.VARIANTS}
STUDENTS = [f"student{i:03d}" for i in range(10)]

SUBSET = [
    "mse_mean_all_elements", "mse_float32", "cross_entropy_log_plus_1e-7",
    "gaussian_nll_var_plus_1e-6", "adam_default_eps_1e-7", "adam_eps_inside_root",
    "adagrad_default_eps_1e-8", "numerical_gradient_h_1e-4",
    "softmax_cross_entropy_log_plus_1e-7", "log_plus_1e-7",
    "cross_entropy_grad_from_log_softmax", "adam_fused_bias_correction", "mse_einsum",
    "affine_backward_einsum", "truediv_grad_via_output",
]


@pytest.mark.parametrize("name", SUBSET)
def test_verdicts_do_not_depend_on_the_student(name):
    from grader.specs import load_spec

    variant = BY_NAME[name]
    tallies = STABILITY.tally(variant, STUDENTS, load_spec(variant.assignment))
    assert tallies, "the variant's targets have no cases"
    assert not STABILITY.problems(variant, tallies), STABILITY.problems(variant, tallies)
    if variant.correct:
        assert all(t.failed == 0 for t in tallies.values())
    else:
        assert variant.must_fail
        assert all(tallies[n].passed == 0 for n in variant.must_fail)


def test_the_benchmark_reports_a_seed_dependent_verdict():
    """The finder itself: a case that passes for some students and not others is reported."""
    tally = STABILITY.CaseTally(passed=3, failed=2)
    variant = STABILITY.Variant("losses", "x", True, {"mse": None})
    assert any("seed-dependent" in p for p in STABILITY.problems(variant, {"mse_matrix": tally}))
    near = STABILITY.Variant("losses", "y", False, {"mse": None}, ("mse_matrix",))
    assert STABILITY.problems(near, {"mse_matrix": STABILITY.CaseTally(passed=5)})
