"""Grading spec of assignment 1, backprop by hand (numpy).

Every case also reports which input arrays the student's function modified: API.md
says functions never modify their inputs, and a layer that writes into x or dout
breaks the layers around it.

The public cases live here (shipped to students); the hidden ones, with the inputs only
they use, in grader/specs/hidden/backprop.py. grader.specs.load_spec("backprop") joins them.
"""

from __future__ import annotations

import numpy as np

from grader.grading.case import Case, Data
from grader.grading.compare import close, grad_close
from grader.sandbox.harness import Harness
from grader.specs._common import (
    fields,
    function_case,
    labels,
)

# float64 rounding of a correct formula only (benchmarks/verdict_stability.py): +1e-7 in a
# log or float32 arithmetic fails for every seed
VALUE = close(rtol=1e-10, atol=1e-12)  # forward values and losses
GRAD = grad_close(1e-10, atol=1e-13)  # analytic gradients: CS231n relative error


# --------------------------------------------------------------- running the functions (public harness)

_run_lr_grads = Harness("backprop.lr_grads")
_run_fit = Harness("backprop.fit")
_run_affine_forward = Harness("backprop.affine_forward")
_run_affine_backward = Harness("backprop.affine_backward")
_run_sce = Harness("backprop.sce")
_run_net = Harness("backprop.net")
_run_numerical_gradient = Harness("backprop.numerical_gradient")


def _forward_runner(name: str) -> Harness:
    return Harness("backprop.activation_forward", name=name)


def _backward_runner(name: str) -> Harness:
    return Harness("backprop.activation_backward", name=name)


# --------------------------------------------------------------- linear regression


def _line_data(rng: np.random.Generator, n: int, spread: float) -> dict[str, Data]:
    x = rng.uniform(-spread, spread, n)
    y = rng.normal(2.0, 1.0) * x + rng.normal() + 0.1 * rng.normal(size=n)
    return {"x": x, "y": y}


def _lr_grads_small(rng: np.random.Generator) -> Data:
    return _line_data(rng, int(rng.integers(4, 9)), 2.0) | {"w": float(rng.normal()), "b": float(rng.normal())}


def _fit_default(rng: np.random.Generator) -> Data:
    return _line_data(rng, int(rng.integers(10, 30)), 1.0)


# --------------------------------------------------------------- affine layer


def _affine_inputs(rng: np.random.Generator, small: bool) -> Data:
    n, d, m = (rng.integers(2, 5, 3) if small else rng.integers(1, 9, 3)).tolist()
    return {"x": rng.normal(size=(n, d)), "W": rng.normal(size=(d, m)), "b": rng.normal(size=m),
            "dout": rng.normal(size=(n, m))}


# --------------------------------------------------------------- activations


def _activation_small(rng: np.random.Generator) -> Data:
    shape = tuple(rng.integers(2, 6, 2).tolist())
    return {"x": rng.normal(0, 2, shape), "dout": rng.normal(size=shape)}


# --------------------------------------------------------------- softmax cross-entropy and the net


def _sce_moderate(rng: np.random.Generator) -> Data:
    n, c = int(rng.integers(3, 8)), int(rng.integers(3, 6))
    return {"logits": rng.normal(0, 2, (n, c)), "labels": labels(rng, n, c)}


def _net_inputs(rng: np.random.Generator, small: bool) -> Data:
    n, d, h, c = (4, 3, 5, 3) if small else tuple(rng.integers(4, 10, 4).tolist())
    params = {"W1": rng.normal(0, 0.7, (d, h)), "b1": rng.normal(0, 0.1, h),
              "W2": rng.normal(0, 0.7, (h, c)), "b2": rng.normal(0, 0.1, c)}
    return {"params": params, "x": rng.normal(size=(n, d)), "labels": labels(rng, n, c)}


# --------------------------------------------------------------- numerical gradient


def _default_h_inputs(rng: np.random.Generator) -> Data:
    """A vector x and a polynomial with cubic terms (coefficients 0.5 to 2): central
    differences are off by h²·cubic, so a step other than the default 1e-5 shows (h = 1e-4:
    ≥ 5e-9 in every entry) while rounding stays near 1e-16 relative."""
    d = int(rng.integers(3, 7))
    q = rng.normal(size=(d, d))
    return {"A": q @ q.T / d + np.eye(d), "c": rng.normal(size=d),
            "cubic": rng.uniform(0.5, 2.0, d), "x": rng.normal(size=d), "h": None}


# numerical_gradient is compared with the reference's own central differences, which
# evaluate f at the very same points: a correct one differs only in the last division
# (≈ 1e-16 relative), a forward difference by ≥ 1e-5, h = 1e-4 instead of 1e-5 by ≥ 5e-9.
NUMERIC = close(rtol=1e-11, atol=1e-9)


GRADS_ONLY = fields(dx=GRAD, dW=GRAD, db=GRAD)

PUBLIC_CASES: tuple[Case, ...] = (
    function_case("linear_regression_grads", "linear_regression_grads", 4, _run_lr_grads, VALUE,
                  _lr_grads_small, True,
                  "dL/dw and dL/db of the mean squared error on a few points."),
    function_case("fit_linear_regression_defaults", "fit_linear_regression", 4, _run_fit, VALUE,
                  _fit_default, True,
                  "w, b and the loss history of 100 gradient-descent steps with lr = 0.1."),
    function_case("affine_forward", "affine_forward", 3, _run_affine_forward, VALUE,
                  lambda rng: _affine_inputs(rng, True), True, "out = x @ W + b for a small batch."),
    function_case("affine_backward", "affine_backward", 4, _run_affine_backward, GRADS_ONLY,
                  lambda rng: _affine_inputs(rng, True), True, "dx, dW and db of the affine layer."),
    function_case("relu_forward", "relu_forward", 3, _forward_runner("relu"), VALUE,
                  _activation_small, True, "ReLU of a (N, D) array."),
    function_case("relu_backward", "relu_backward", 3, _backward_runner("relu"), GRAD,
                  _activation_small, True, "The gradient through ReLU of a (N, D) array."),
    function_case("sigmoid_forward", "sigmoid_forward", 3, _forward_runner("sigmoid"), VALUE,
                  _activation_small, True, "Sigmoid of a (N, D) array."),
    function_case("sigmoid_backward", "sigmoid_backward", 3, _backward_runner("sigmoid"), GRAD,
                  _activation_small, True, "The gradient through sigmoid of a (N, D) array."),
    function_case("tanh_forward", "tanh_forward", 3, _forward_runner("tanh"), VALUE,
                  _activation_small, True, "tanh of a (N, D) array."),
    function_case("tanh_backward", "tanh_backward", 3, _backward_runner("tanh"), GRAD,
                  _activation_small, True, "The gradient through tanh of a (N, D) array."),
    function_case("softmax_cross_entropy", "softmax_cross_entropy", 4, _run_sce,
                  fields(loss=VALUE, dlogits=GRAD), _sce_moderate, True,
                  "Loss and dlogits of softmax cross-entropy for moderate logits."),
    function_case("two_layer_net", "two_layer_net", 4, _run_net,
                  fields(loss=VALUE, grads=GRAD), lambda rng: _net_inputs(rng, True), True,
                  "Loss and the four parameter gradients of a small two-layer net."),
    function_case("numerical_gradient_default_h", "numerical_gradient", 3, _run_numerical_gradient,
                  NUMERIC, _default_h_inputs, True,
                  "Central differences with the default h = 1e-5 of a cubic polynomial at a vector "
                  "x, leaving x unchanged."),
)
