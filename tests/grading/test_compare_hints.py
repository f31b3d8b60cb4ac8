"""Hints from the shapes the grader knows, each built from the real mistake: a losses
implementation with one slip, graded as the engine grades (the case's run and judge, the
reference's run reporting the batch's shape), and the message read back.
"""

from __future__ import annotations

import numpy as np
import pytest
from spec_helpers import SpecBench

from grader.grading.case import case_rng, evaluate_trusted
from grader.grading.compare import Batch, compare, digits
from grader.specs import load_spec
from reference import losses as reference

SPEC = load_spec("losses")
BENCH = SpecBench(SPEC, reference, reference)


def _message(case_name: str, student: str = "alice", **replacements) -> str:
    verdict = evaluate_trusted(SPEC.case(case_name), BENCH.copy_with(**replacements), reference,
                               student, "losses")
    assert not verdict.passed
    return verdict.message


def _shape(case_name: str, student: str = "alice") -> tuple[int, int]:
    inputs = SPEC.case(case_name).make_inputs(case_rng(student, "losses", case_name))
    first = next(iter(inputs.values()))
    return first.shape[0], int(np.prod(first.shape[1:]))


def _student_with(case_name: str, want) -> str:
    """A student whose inputs of case_name have a shape for which want(n, d) holds."""
    for i in range(200):
        if want(*_shape(case_name, f"s{i}")):
            return f"s{i}"
    raise AssertionError("no such student")


def test_mse_as_np_mean_over_every_element_is_named_with_n_and_d():
    student = _student_with("mse_matrix", lambda n, d: d > 2 and n != d)
    n, d = _shape("mse_matrix", student)
    message = _message("mse_matrix", student,
                       mse=lambda pred, target: float(np.mean((pred - target) ** 2)))
    assert f"a mean over all N·D = {n * d} elements" in message, message
    assert "derivative of a square" not in message


def test_mse_grad_divided_by_pred_size_names_n_d_not_a_guessed_n():
    student = _student_with("mse_grad_matrix", lambda n, d: d > 2 and n != d)
    n, d = _shape("mse_grad_matrix", student)
    message = _message("mse_grad_matrix", student,
                       mse_grad=lambda pred, target: 2 * (pred - target) / pred.size)
    assert f"a division by N·D = {n * d} (pred.size) instead of N = {n}" in message, message
    assert f"(= {d})" not in message


def test_a_loss_without_the_mean_over_n():
    n, _ = _shape("mse_vector_outliers")
    message = _message("mse_vector_outliers",
                       mse=lambda pred, target: float(np.sum((pred - target) ** 2)))
    assert f"no division by N = {n}" in message, message


def test_an_extra_half_in_the_loss():
    student = _student_with("mse_matrix", lambda n, d: d != 2 and n != 2)
    message = _message("mse_matrix", student,
                       mse=lambda pred, target: float(0.5 * np.sum((pred - target) ** 2) / len(pred)))
    assert "an extra ½ in the loss" in message, message


def test_the_square_s_factor_2_missing_in_a_gradient():
    student = _student_with("mse_grad_matrix", lambda n, d: d != 2 and n != 2)
    message = _message("mse_grad_matrix", student,
                       mse_grad=lambda pred, target: (pred - target) / len(pred))
    assert "a missing factor 2 (the derivative of a square" in message, message


def test_a_flipped_sign_with_the_right_scale():
    message = _message("mse_grad_matrix", mse_grad=lambda pred, target: 2 * (target - pred) / len(pred))
    assert "the sign is flipped" in message, message


def test_two_mistakes_together_are_both_named():
    student = _student_with("mse_grad_matrix", lambda n, d: d > 2 and n != d and n != 2)
    message = _message("mse_grad_matrix", student,
                       mse_grad=lambda pred, target: (pred - target) / pred.size)
    assert "a missing factor 2" in message and "pred.size" in message, message


def test_where_n_equals_d_both_readings_are_given():
    verdict = compare(np.full((3, 3), 1 / 9), np.full((3, 3), 1 / 3), batch=Batch(3, 3, "gradient"))
    assert "a division by N = 3 once too often or a division by N·D = 9" in verdict.message


def test_a_transposed_square_gradient():
    expected = np.arange(1.0, 10.0).reshape(3, 3)
    verdict = compare(expected.T, expected, gradient=True)
    assert "transpose" in verdict.message


def test_loss_hints_speak_of_the_loss_and_gradient_hints_of_the_gradient():
    loss = compare(0.5, 1.0, batch=Batch(5, 3, "loss"))
    grad = compare(np.full(5, 0.5), np.ones(5), batch=Batch(5, 1, "gradient"))
    assert "an extra ½ in the loss" in loss.message
    assert "derivative of a square" in grad.message


# ------------------------------------------------------------ the grader's own conversions


@pytest.mark.parametrize(("returned", "said"), [
    (lambda pred, target: (pred - target) ** 2, "mse returned an array of shape (8, 3); it must "
                                                "return a float"),
    (lambda pred, target: None, "mse returned None; it must return a float"),
    (lambda pred, target: [1.0, 2.0], "mse returned a list of 2 item(s); it must return a float"),
    (lambda pred, target: "0.5", "mse returned a str; it must return a float"),
])
def test_a_loss_that_returns_no_float_is_told_so(returned, said):
    student = _student_with("mse_matrix", lambda n, d: (n, d) == (8, 3))
    message = _message("mse_matrix", student, mse=returned)
    assert message == said
    assert "TypeError" not in message


def test_a_gradient_that_returns_none_is_told_so():
    assert _message("mse_grad_matrix", mse_grad=lambda p, t: None) == (
        "mse_grad returned None; it must return a float64 array")


def test_gaussian_nll_grad_returning_one_array_is_told_so():
    message = _message("gaussian_nll_grad_default_var", gaussian_nll_grad=lambda m, t, v=1.0: m - t)
    assert message.startswith("gaussian_nll_grad returned an array of shape"), message
    assert "a tuple (dmean, dvar)" in message


def test_a_one_element_array_is_a_float():
    mse = reference.mse
    verdict = evaluate_trusted(SPEC.case("mse_matrix"),
                               BENCH.copy_with(mse=lambda p, t: np.array([mse(p, t)])),
                               reference, "alice", "losses")
    assert verdict.passed, verdict.message


# ------------------------------------------------------------ digits that show the difference


def test_numbers_carry_the_digits_that_differ():
    assert digits(0.0999440012, 0.0999440071) == ("0.099944001", "0.099944007")
    verdict = compare(0.0999440012, 0.0999440071, rtol=1e-10, atol=1e-12)
    assert "got 0.099944001, expected 0.099944007" in verdict.message
    assert verdict.message.index("rel error") < verdict.message.index("abs error")


def test_a_near_miss_message_shows_different_numbers():
    message = _message("cross_entropy_moderate", cross_entropy=lambda z, y: float(
        -np.mean(np.log(reference.softmax(z)[np.arange(len(y)), y] + 1e-7))))
    got = message.split("got ")[1].split(",")[0]
    expected = message.split("expected ")[1].split(" ")[0].rstrip(";")
    assert got != expected, message


def test_a_transposed_dw_from_affine_backward_is_recognised():
    """The real mistake: dW = dout.T @ x, the transpose of x.T @ dout; for a square W its
    shape is right and only the values say so."""
    from reference import backprop

    spec = load_spec("backprop")
    case = spec.case("affine_backward")

    def transposed(dout, cache):
        dx, dw, db = backprop.affine_backward(dout, cache)
        return dx, dw.T, db

    module = SpecBench(spec, backprop, backprop).copy_with(affine_backward=transposed)
    seen = set()
    for i in range(200):
        inputs = case.make_inputs(case_rng(f"s{i}", "backprop", case.name))
        d, m = inputs["W"].shape
        square = d == m
        if square in seen:
            continue
        verdict = evaluate_trusted(case, module, backprop, f"s{i}", "backprop")
        assert not verdict.passed
        assert "transpose" in verdict.message, verdict.message
        seen.add(square)
        if seen == {True, False}:
            break
    assert seen == {True, False}
