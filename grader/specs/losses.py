"""Grading spec of assignment 3, loss functions and their gradients (numpy).

Every function is checked on (N,) and (N, D) shapes, the classification losses at
|logits| up to 1e4 with labels 0 and C − 1, the Gaussian NLL with a scalar and an
array variance; every case also reports which inputs the function modified.

The public cases live here (shipped to students); the hidden ones, with the inputs only
they use, in grader/specs/hidden/losses.py. grader.specs.load_spec("losses") joins them.
"""

from __future__ import annotations

import numpy as np

from grader.grading.case import Case, Data
from grader.grading.compare import close, grad_close
from grader.sandbox.harness import Harness
from grader.specs._common import fields, function_case

# float64 rounding of a correct formula only: another association order, np.einsum or a
# log-sum-exp written out stays within ~1e-13, while +1e-7 inside a log, a var + 1e-6 or
# float32 arithmetic is off by 1e-8 or more for every seed (benchmarks/verdict_stability.py)
VALUE = close(rtol=1e-10, atol=1e-12)
GRAD = grad_close(1e-10, atol=1e-13)
SUMMED_GRAD = close(rtol=1e-9, atol=1e-12)  # dvar of a scalar var: a sum that can nearly cancel

Rng = np.random.Generator


# --------------------------------------------------------------- running the functions (public harness)


def _scalar_runner(name: str, *args: str) -> Harness:
    """Call module.<name> with the inputs named in args (those present); return a float,
    and the batch's shape (a loss: hints know N and D)."""
    return Harness("losses.scalar", function=name, args=list(args))


def _array_runner(name: str, *args: str) -> Harness:
    """Call module.<name> with the inputs named in args (those present); return a float64
    array, and for a gradient the batch's shape (hints know N and D)."""
    return Harness("losses.array", function=name, args=list(args))


_run_gaussian_grad = Harness("losses.gaussian_grad")


# --------------------------------------------------------------- inputs


def _matrix_shape(rng: Rng) -> tuple[int, int]:
    return int(rng.integers(4, 9)), int(rng.integers(2, 5))


def _regression_matrix(rng: Rng) -> Data:
    """(N, D) predictions and targets."""
    shape = _matrix_shape(rng)
    return {"pred": rng.normal(0, 1.5, shape), "target": rng.normal(0, 1.5, shape)}


def _huber_matrix(rng: Rng) -> Data:
    """(N, D), default δ: residuals on both sides of 1."""
    return _regression_matrix(rng)


def _logits_moderate(rng: Rng) -> Data:
    n, c = int(rng.integers(3, 8)), int(rng.integers(3, 7))
    labels = rng.integers(0, c, n)
    labels[:2] = [0, c - 1]
    return {"logits": rng.normal(0, 2, (n, c)), "labels": rng.permutation(labels)}


def _bce_vector(rng: Rng) -> Data:
    """(N,) logits with hard 0/1 targets."""
    n = int(rng.integers(6, 15))
    return {"logits": rng.normal(0, 2, n), "targets": rng.integers(0, 2, n).astype(np.float64)}


def _gaussian_default(rng: Rng) -> Data:
    """(N, D), var left at its default 1.0."""
    shape = _matrix_shape(rng)
    return {"mean": rng.normal(0, 1.5, shape), "target": rng.normal(0, 1.5, shape)}


# --------------------------------------------------------------- the cases

REGRESSION = ("pred", "target")
HUBER = ("pred", "target", "delta")
CLASSES = ("logits", "labels")
BINARY = ("logits", "targets")
GAUSSIAN = ("mean", "target", "var")
GAUSSIAN_GRAD = fields(dmean=GRAD, dvar=SUMMED_GRAD)

PUBLIC_CASES: tuple[Case, ...] = (
    function_case("mse_matrix", "mse", 3, _scalar_runner("mse", *REGRESSION), VALUE,
                  _regression_matrix, True, "MSE of (N, D) predictions: sum over D, mean over N."),
    function_case("mse_grad_matrix", "mse_grad", 3, _array_runner("mse_grad", *REGRESSION), GRAD,
                  _regression_matrix, True, "dL/dpred of MSE for (N, D) predictions."),
    function_case("l1_matrix", "l1", 3, _scalar_runner("l1", *REGRESSION), VALUE,
                  _regression_matrix, True, "L1 loss of (N, D) predictions."),
    function_case("l1_grad_matrix", "l1_grad", 3, _array_runner("l1_grad", *REGRESSION), GRAD,
                  _regression_matrix, True, "dL/dpred of L1 for (N, D) predictions."),
    function_case("huber_default_delta", "huber", 3, _scalar_runner("huber", *HUBER), VALUE,
                  _huber_matrix, True, "Huber loss with δ = 1 for residuals on both sides of δ."),
    function_case("huber_grad_default_delta", "huber_grad", 3, _array_runner("huber_grad", *HUBER),
                  GRAD, _huber_matrix, True, "dL/dpred of Huber with δ = 1."),
    function_case("softmax_moderate", "softmax", 3, _array_runner("softmax", "logits"), VALUE,
                  _logits_moderate, True, "softmax of (N, C) logits of moderate size."),
    function_case("log_softmax_moderate", "log_softmax", 3, _array_runner("log_softmax", "logits"),
                  VALUE, _logits_moderate, True, "log_softmax of (N, C) logits of moderate size."),
    function_case("cross_entropy_moderate", "cross_entropy", 3,
                  _scalar_runner("cross_entropy", *CLASSES), VALUE, _logits_moderate, True,
                  "Cross-entropy of moderate logits, labels 0 and C − 1 included."),
    function_case("cross_entropy_grad_moderate", "cross_entropy_grad", 3,
                  _array_runner("cross_entropy_grad", *CLASSES), GRAD, _logits_moderate, True,
                  "dL/dlogits of cross-entropy for moderate logits."),
    function_case("bce_vector", "binary_cross_entropy_with_logits", 3,
                  _scalar_runner("binary_cross_entropy_with_logits", *BINARY), VALUE, _bce_vector,
                  True, "Binary cross-entropy of (N,) logits with 0/1 targets."),
    function_case("bce_grad_vector", "binary_cross_entropy_with_logits_grad", 3,
                  _array_runner("binary_cross_entropy_with_logits_grad", *BINARY), GRAD,
                  _bce_vector, True, "dL/dlogits of binary cross-entropy for (N,) logits."),
    function_case("gaussian_nll_default_var", "gaussian_nll", 3,
                  _scalar_runner("gaussian_nll", *GAUSSIAN), VALUE, _gaussian_default, True,
                  "Gaussian NLL of (N, D) means with the default var = 1."),
    function_case("gaussian_nll_grad_default_var", "gaussian_nll_grad", 3, _run_gaussian_grad,
                  GAUSSIAN_GRAD, _gaussian_default, True,
                  "dL/dmean and dL/dvar (a float) with the default var = 1."),
)
