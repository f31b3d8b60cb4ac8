"""Hidden cases of assignment 1 (backprop): larger and wider-spread data, other shapes
(sizes of 1 included), exact zeros and |x| up to 1e4, extreme logits, a given step h.
Never shipped to students.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from grader.grading.case import Case, Data
from grader.specs._common import hidden_variant, labels
from grader.specs.backprop import PUBLIC_CASES, _affine_inputs, _line_data, _net_inputs


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
    return {"logits": logits, "labels": labels(rng, n, c)}


def _cubic_inputs(rng: np.random.Generator) -> Data:
    rows, cols = (int(v) for v in rng.integers(2, 4, 2))
    d = rows * cols
    q = rng.normal(size=(d, d))
    return {"A": q @ q.T / d + np.eye(d), "c": rng.normal(size=d), "cubic": rng.uniform(0.5, 2.0, d),
            "x": rng.normal(size=(rows, cols)), "h": float(rng.choice([1e-2, 3e-2]))}


# (target, name, points, make_inputs, description): the target's public case on other inputs
_harder = partial(hidden_variant, PUBLIC_CASES)


HIDDEN_CASES: tuple[Case, ...] = (
    _harder("linear_regression_grads", "linear_regression_grads_larger", 4, _lr_grads_large,
            "dL/dw and dL/db on more, wider-spread points."),
    _harder("fit_linear_regression", "fit_linear_regression_lr_steps", 4, _fit_custom,
            "Gradient descent with a given lr and number of steps."),
    _harder("affine_forward", "affine_forward_shapes", 4, lambda rng: _affine_inputs(rng, False),
            "out = x @ W + b for other shapes, sizes 1 included."),
    _harder("affine_backward", "affine_backward_shapes", 6, lambda rng: _affine_inputs(rng, False),
            "dx, dW, db for other shapes, sizes 1 included."),
    _harder("relu_forward", "relu_forward_edges", 3, _activation_edges,
            "ReLU of a 1-D array with zeros and huge values."),
    _harder("relu_backward", "relu_backward_at_zero", 4, _activation_edges,
            "The gradient through ReLU, which is 0 at x == 0."),
    _harder("sigmoid_forward", "sigmoid_forward_extreme", 3, _activation_edges,
            "Sigmoid for |x| up to 1e4: finite, no overflow."),
    _harder("sigmoid_backward", "sigmoid_backward_extreme", 4, _activation_edges,
            "The gradient through sigmoid for |x| up to 1e4."),
    _harder("tanh_forward", "tanh_forward_edges", 3, _activation_edges,
            "tanh of a 1-D array with huge values."),
    _harder("tanh_backward", "tanh_backward_edges", 4, _activation_edges,
            "The gradient through tanh of a 1-D array with huge values."),
    _harder("softmax_cross_entropy", "softmax_cross_entropy_extreme", 5, _sce_extreme,
            "Softmax cross-entropy for |logits| up to 1e4 and labels 0 and C − 1."),
    _harder("two_layer_net", "two_layer_net_larger", 7, lambda rng: _net_inputs(rng, False),
            "Loss and gradients of a larger two-layer net, labels 0 and C − 1 included."),
    _harder("numerical_gradient", "numerical_gradient_cubic_with_h", 5, _cubic_inputs,
            "Central differences with a given h at a matrix x, leaving x unchanged."),
)
