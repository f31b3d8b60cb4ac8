"""Hidden cases of assignment 1 (backprop): larger and wider-spread data, other shapes
(sizes of 1 included), exact zeros and |x| up to 1e4, extreme logits, a given step h.
Never shipped to students.
"""

from __future__ import annotations

import numpy as np

from grader.spec import Case, Data
from grader.specs.backprop import (
    GRAD,
    GRADS_ONLY,
    NUMERIC,
    VALUE,
    _affine_inputs,
    _backward_runner,
    _case,
    _fields,
    _forward_runner,
    _labels,
    _line_data,
    _net_inputs,
    _run_affine_backward,
    _run_affine_forward,
    _run_fit,
    _run_lr_grads,
    _run_net,
    _run_numerical_gradient,
    _run_sce,
)


def _lr_grads_large(rng: np.random.Generator) -> Data:
    return _line_data(rng, int(rng.integers(30, 80)), 5.0) | {"w": float(rng.normal(0, 3)),
                                                                 "b": float(rng.normal(0, 3))}


def _fit_custom(rng: np.random.Generator) -> Data:
    return _line_data(rng, int(rng.integers(10, 40)), 1.0) | {
        "lr": float(rng.uniform(0.05, 0.3)), "steps": int(rng.integers(20, 80))}


def _activation_edges(rng: np.random.Generator) -> Data:
    """Shape (N,), exact zeros (ReLU's kink) and |x| up to 1e4 (overflow in exp)."""
    n = int(rng.integers(12, 24))
    x = rng.normal(0, 3, n)
    x[:6] = [0.0, 0.0, 1e4, -1e4, rng.uniform(500, 1e4), -rng.uniform(500, 1e4)]
    return {"x": rng.permutation(x), "dout": rng.normal(size=n)}


def _sce_extreme(rng: np.random.Generator) -> Data:
    n, c = int(rng.integers(6, 12)), int(rng.integers(3, 8))
    logits = rng.normal(0, 1, (n, c)) * rng.choice([1.0, 1e3, 1e4], size=(n, 1))
    logits[0, 0], logits[1, -1] = 1e4, -1e4
    return {"logits": logits, "labels": _labels(rng, n, c)}


def _cubic_inputs(rng: np.random.Generator) -> Data:
    rows, cols = (int(v) for v in rng.integers(2, 4, 2))
    d = rows * cols
    q = rng.normal(size=(d, d))
    return {"A": q @ q.T / d + np.eye(d), "c": rng.normal(size=d), "cubic": rng.uniform(0.5, 2.0, d),
            "x": rng.normal(size=(rows, cols)), "h": float(rng.choice([1e-2, 3e-2]))}


HIDDEN_CASES: tuple[Case, ...] = (
    _case("linear_regression_grads_larger", "linear_regression_grads", 4, _run_lr_grads, VALUE,
          _lr_grads_large, False, "dL/dw and dL/db on more, wider-spread points."),
    _case("fit_linear_regression_lr_steps", "fit_linear_regression", 4, _run_fit, VALUE,
          _fit_custom, False, "Gradient descent with a given lr and number of steps."),
    _case("affine_forward_shapes", "affine_forward", 4, _run_affine_forward, VALUE,
          lambda rng: _affine_inputs(rng, False), False, "out = x @ W + b for other shapes, sizes 1 included."),
    _case("affine_backward_shapes", "affine_backward", 6, _run_affine_backward, GRADS_ONLY,
          lambda rng: _affine_inputs(rng, False), False, "dx, dW, db for other shapes, sizes 1 included."),
    _case("relu_forward_edges", "relu_forward", 3, _forward_runner("relu"), VALUE,
          _activation_edges, False, "ReLU of a 1-D array with zeros and huge values."),
    _case("relu_backward_at_zero", "relu_backward", 4, _backward_runner("relu"), GRAD,
          _activation_edges, False, "The gradient through ReLU, which is 0 at x == 0."),
    _case("sigmoid_forward_extreme", "sigmoid_forward", 3, _forward_runner("sigmoid"), VALUE,
          _activation_edges, False, "Sigmoid for |x| up to 1e4: finite, no overflow."),
    _case("sigmoid_backward_extreme", "sigmoid_backward", 4, _backward_runner("sigmoid"), GRAD,
          _activation_edges, False, "The gradient through sigmoid for |x| up to 1e4."),
    _case("tanh_forward_edges", "tanh_forward", 3, _forward_runner("tanh"), VALUE,
          _activation_edges, False, "tanh of a 1-D array with huge values."),
    _case("tanh_backward_edges", "tanh_backward", 4, _backward_runner("tanh"), GRAD,
          _activation_edges, False, "The gradient through tanh of a 1-D array with huge values."),
    _case("softmax_cross_entropy_extreme", "softmax_cross_entropy", 5, _run_sce,
          _fields(loss=VALUE, dlogits=GRAD), _sce_extreme, False,
          "Softmax cross-entropy for |logits| up to 1e4 and labels 0 and C − 1."),
    _case("two_layer_net_larger", "two_layer_net", 7, _run_net,
          _fields(loss=VALUE, grads=GRAD), lambda rng: _net_inputs(rng, False), False,
          "Loss and gradients of a larger two-layer net, labels 0 and C − 1 included."),
    _case("numerical_gradient_cubic_with_h", "numerical_gradient", 5, _run_numerical_gradient, NUMERIC,
          _cubic_inputs, False, "Central differences with a given h at a matrix x, leaving x unchanged."),
)
