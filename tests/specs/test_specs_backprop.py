"""The backprop spec: the reference passes it, the stub fails it, a buggy copy fails only its target."""

from __future__ import annotations

import numpy as np
from spec_helpers import SpecBench, function_spec_tests, per_case_tests

from assignments import backprop as stub
from grader.specs import load_spec
from reference import backprop as ref

SPEC = load_spec("backprop")  # public cases + hidden ones (grader/specs/hidden/backprop.py)
BENCH = SpecBench(SPEC, ref, stub)

# the tests every spec passes (spec_helpers), under this module's name
test_inputs_are_plain_deterministic_and_per_student, test_reference_passes, test_stub_fails = (
    per_case_tests(BENCH))


# --------------------------------------------------------------- bugs: each fails its target's cases


def _half_grads(x, y, w, b):
    dw, db = ref.linear_regression_grads(x, y, w, b)
    return dw / 2, db / 2  # forgot the 2 of the square's derivative


def _fit_records_after_update(x, y, lr=0.1, steps=100):
    w, b, losses = 0.0, 0.0, []
    for _ in range(steps):
        dw, db = ref.linear_regression_grads(x, y, w, b)
        w, b = w - lr * dw, b - lr * db
        losses.append(float(np.mean((y - (w * x + b)) ** 2)))
    return w, b, losses


def _affine_backward_mean_db(dout, cache):
    dx, dW, _ = ref.affine_backward(dout, cache)
    return dx, dW, dout.mean(axis=0)


def _relu_backward_one_at_zero(dout, cache):
    return dout * (cache >= 0)


def _relu_forward_in_place(x):
    np.maximum(x, 0.0, out=x)
    return x, x.copy()


def _sce_without_shift(logits, labels):
    n = logits.shape[0]
    with np.errstate(all="ignore"):
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(n), labels]).mean()
    grad = probs.copy()
    grad[np.arange(n), labels] -= 1
    return float(loss), grad / n


def _net_without_relu_backward(params, x, labels):
    h = np.maximum(x @ params["W1"] + params["b1"], 0)
    loss, dscores = ref.softmax_cross_entropy(h @ params["W2"] + params["b2"], labels)
    dh = dscores @ params["W2"].T  # the ReLU's mask is missing
    return loss, {"W1": x.T @ dh, "b1": dh.sum(0), "W2": h.T @ dscores, "b2": dscores.sum(0)}


def _forward_difference(f, x, h=1e-5):
    grad, fx = np.zeros_like(x), f(x)
    for i in np.ndindex(x.shape):
        y = x.copy()
        y[i] += h
        grad[i] = (f(y) - fx) / h
    return grad


def _ignores_h(f, x, h=1e-5):
    return ref.numerical_gradient(f, x)


def _does_not_restore(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        fp = f(x)
        x[i] -= 2 * h
        grad[i] = (fp - f(x)) / (2 * h)  # x[i] is left at x − h
    return grad


BUGS = {  # bug -> (replacements, the cases that must fail, a phrase of the message)
    "linear_regression_grads: forgot the 2": (
        {"linear_regression_grads": _half_grads},
        {"linear_regression_grads", "linear_regression_grads_larger"},
        "a missing factor 2 (the derivative of a square"),
    "fit_linear_regression: loss recorded after the update": (
        {"fit_linear_regression": _fit_records_after_update},
        {"fit_linear_regression_defaults", "fit_linear_regression_lr_steps"}, "losses"),
    "affine_backward: db averaged": (
        {"affine_backward": _affine_backward_mean_db},
        {"affine_backward", "affine_backward_shapes"}, "db"),
    "relu_backward: gradient 1 at x == 0": (
        {"relu_backward": _relu_backward_one_at_zero}, {"relu_backward_at_zero"}, "relative error"),
    "relu_forward: in place": (  # the relu_backward cases run relu_forward first, and say so
        {"relu_forward": _relu_forward_in_place},
        {"relu_forward", "relu_forward_edges", "relu_backward", "relu_backward_at_zero"},
        "modified its input(s) x"),
    "softmax_cross_entropy: no max shift": (
        {"softmax_cross_entropy": _sce_without_shift}, {"softmax_cross_entropy_extreme"}, "non-finite"),
    "two_layer_net: no ReLU mask going back": (
        {"two_layer_net": _net_without_relu_backward}, {"two_layer_net", "two_layer_net_larger"}, "grads"),
    "numerical_gradient: forward difference": (
        {"numerical_gradient": _forward_difference},
        {"numerical_gradient_default_h", "numerical_gradient_cubic_with_h"}, "differ"),
    "numerical_gradient: ignores h": (
        {"numerical_gradient": _ignores_h}, {"numerical_gradient_cubic_with_h"}, "differ"),
    "numerical_gradient: leaves x perturbed": (
        {"numerical_gradient": _does_not_restore},
        {"numerical_gradient_default_h", "numerical_gradient_cubic_with_h"}, "modified"),
}


(test_points_and_visibility,
 test_every_function_of_the_api_is_a_target_with_visible_and_hidden_cases,
 test_a_buggy_copy_fails_exactly_the_cases_of_its_target,
 test_parameters_are_passed_by_position) = function_spec_tests(BENCH, BUGS)
