"""grader.grading.compare: structure, shapes, finiteness, tolerances, and the hints in its messages."""

from __future__ import annotations

import numpy as np
import pytest

from grader.grading.compare import close, compare, grad_close

E = np.arange(1.0, 7.0).reshape(2, 3)


def test_equal_values_pass_and_tolerances_apply():
    assert compare(E, E.copy()).passed
    assert compare(E + 1e-12, E).passed
    assert not compare(E + 1e-3, E).passed
    assert compare(E + 1e-3, E, rtol=1e-2).passed
    assert close(rtol=1e-2)(E * 1.001, E).passed
    assert compare(3, 3.0).passed  # a Python int where a float is expected
    assert compare(E.astype(np.int64), E).passed


def test_shape_mismatch_says_both_shapes():
    verdict = compare(E.reshape(3, 2), E)
    assert not verdict.passed
    assert "expected shape (2, 3), got shape (3, 2)" in verdict.message
    assert "reshape" in verdict.message  # same size, not the transpose
    verdict = compare(np.float64(3.0), E)
    assert "got a scalar" in verdict.message
    verdict = compare(np.ones(4), np.ones((4, 1)))
    assert "expected shape (4, 1), got shape (4,)" in verdict.message


def test_transposed_gradient_is_recognised():
    verdict = compare(E.T, E)
    assert not verdict.passed
    assert "transpose" in verdict.message


@pytest.mark.parametrize(("factor", "phrase"), [
    (2.0, "every value is 2× the expected one"),
    (0.25, "every value is 0.25× the expected one"),
    (-1.0, "wrong sign"),
])
def test_a_constant_factor_is_named_without_guessing_n(factor, phrase):
    """Without the case's shapes the hint names the factor only: it cannot know whether 4 is
    N or D."""
    verdict = compare(E * factor, E)
    assert not verdict.passed
    assert phrase in verdict.message
    assert "N =" not in verdict.message and "N (=" not in verdict.message


def test_all_zeros_is_a_plain_mismatch():
    verdict = compare(np.zeros((2, 3)), E)
    assert not verdict.passed and "hint" not in verdict.message
    assert not compare(0.0, 2.5).passed


def test_no_hint_when_the_error_is_not_a_constant_factor():
    noisy = E + np.array([[0.1, -0.2, 0.3], [0.0, 0.5, -0.1]])
    verdict = compare(noisy, E)
    assert not verdict.passed
    assert "hint" not in verdict.message


def test_message_names_the_first_offending_index_and_the_errors():
    actual = E.copy()
    actual[1, 2] += 0.5
    verdict = compare(actual, E)
    assert "1 of 6 value(s) differ" in verdict.message
    assert "first at index (1, 2): got 6.5, expected 6" in verdict.message
    assert "max abs error 0.5" in verdict.message


def test_scalars_have_no_index():
    verdict = compare(30.0, 6.0)
    assert "value differs" in verdict.message and "index" not in verdict.message
    assert "got 30, expected 6" in verdict.message
    assert "the value is 5× the expected one" in verdict.message


def test_nan_and_inf_where_finite_values_are_expected():
    actual = E.copy()
    actual[0, 1] = np.nan
    verdict = compare(actual, E)
    assert not verdict.passed
    assert "non-finite" in verdict.message and "(0, 1)" in verdict.message
    actual[0, 1] = np.inf
    assert "non-finite" in compare(actual, E).message
    assert not compare(float("nan"), 1.0).passed


def test_expected_non_finite_values_must_be_matched_exactly():
    assert compare(np.array([np.inf, 1.0]), np.array([np.inf, 1.0])).passed
    assert compare(np.array([np.nan]), np.array([np.nan])).passed
    assert not compare(np.array([1.0]), np.array([np.inf])).passed
    assert not compare(np.array([-np.inf]), np.array([np.inf])).passed
    assert not compare(np.array([0.0]), np.array([np.nan])).passed


def test_nested_dicts_and_lists_report_the_path():
    expected = {"loss": 1.0, "grads": [E, {"db": np.zeros(3)}]}
    assert compare({"loss": 1.0, "grads": [E.copy(), {"db": np.zeros(3)}]}, expected).passed
    verdict = compare({"loss": 1.0, "grads": [E, {"db": np.ones(3)}]}, expected)
    assert not verdict.passed
    assert verdict.message.startswith("['grads'][1]['db']: ")
    assert "missing key(s): 'grads'" in compare({"loss": 1.0}, expected).message
    assert "expected 2 item(s), got 1" in compare({"loss": 1.0, "grads": [E]}, expected).message
    assert "expected a dict" in compare([1.0], expected).message


def test_wrong_types_are_failures_not_crashes():
    assert "expected a number or numeric array, got str" in compare("1.0", 1.0).message
    assert "got None" in compare(None, E).message
    assert not compare(1.0, None).passed
    assert compare(None, None).passed
    assert not compare(np.array(["a"]), E).passed


def test_gradient_check_uses_and_reports_the_cs231n_relative_error():
    actual = E * (1 + 1e-5)
    verdict = compare(actual, E, rtol=1e-7, atol=0.0, gradient=True)
    assert not verdict.passed
    assert "CS231n" in verdict.message
    # |a-b| / (|a|+|b|) = 1e-5 / (2 + 1e-5) ≈ 5e-6
    assert "max relative error 5e-06" in verdict.message
    assert grad_close(1e-5)(actual, E).passed
    # both zero: relative error 0 (the 1e-8 floor), not NaN
    assert grad_close(1e-7)(np.zeros(3), np.zeros(3)).passed
