"""Grading spec of assignment 3, loss functions and their gradients (numpy).

Every function is checked on (N,) and (N, D) shapes, the classification losses at
|logits| up to 1e4 with labels 0 and C − 1, the Gaussian NLL with a scalar and an
array variance; every case also reports which inputs the function modified.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from grader.compare import close, grad_close
from grader.spec import AssignmentSpec, Case, Check, Data, Verdict

VALUE = close(rtol=1e-7, atol=1e-9)
GRAD = grad_close(1e-7)
SUMMED_GRAD = close(rtol=1e-6, atol=1e-9)  # dvar of a scalar var: a sum that can nearly cancel

Rng = np.random.Generator


# --------------------------------------------------------------- helpers shared by the cases


def _call(fn: Callable[..., Any], inputs: Data, names: tuple[str, ...]) -> tuple[Any, list[str]]:
    """fn called with the inputs that are present, by position in the API's order (a student may
    name the parameters differently; optional ones come last), and the arrays it modified."""
    args = [(name, inputs[name]) for name in names if name in inputs]
    before = {name: value.copy() for name, value in args if isinstance(value, np.ndarray)}
    result = fn(*(value for _, value in args))
    modified = [name for name, old in before.items()
                if not (inputs[name].shape == old.shape and np.array_equal(inputs[name], old, equal_nan=True))]
    return result, modified


def _inputs_kept(check: Check) -> Check:
    """Fail a case whose function modified its inputs; otherwise judge actual["out"] with check."""

    def judged(actual: Data, expected: Data) -> Verdict:
        if actual["modified"]:
            names = ", ".join(actual["modified"])
            return Verdict(False, f"the function modified its input(s) {names}: compute new arrays "
                                  "instead of writing into the arguments")
        return check(actual["out"], None if expected is None else expected["out"])

    return judged


def _fields(**checks: Check) -> Check:
    def judged(actual: Data, expected: Data) -> Verdict:
        for key, check in checks.items():
            verdict = check(actual[key], expected[key])
            if not verdict.passed:
                return Verdict(False, f"{key}: {verdict.message}")
        return Verdict(True)

    return judged


def _scalar_runner(name: str, *args: str) -> Callable[[ModuleType, Data], Data]:
    """Call module.<name> with the inputs named in args (those present); return a float."""

    def run(module: ModuleType, inputs: Data) -> Data:
        value, modified = _call(getattr(module, name), inputs, args)
        return {"out": float(value), "modified": modified}

    return run


def _array_runner(name: str, *args: str) -> Callable[[ModuleType, Data], Data]:
    """Call module.<name> with the inputs named in args (those present); return a float64 array."""

    def run(module: ModuleType, inputs: Data) -> Data:
        value, modified = _call(getattr(module, name), inputs, args)
        return {"out": np.asarray(value, dtype=np.float64), "modified": modified}

    return run


def _run_gaussian_grad(module: ModuleType, inputs: Data) -> Data:
    (dmean, dvar), modified = _call(module.gaussian_nll_grad, inputs, ("mean", "target", "var"))
    return {"out": {"dmean": np.asarray(dmean, dtype=np.float64), "dvar": np.asarray(dvar, dtype=np.float64)},
            "modified": modified}


# --------------------------------------------------------------- inputs


def _matrix_shape(rng: Rng) -> tuple[int, int]:
    return int(rng.integers(4, 9)), int(rng.integers(2, 5))


def _regression_matrix(rng: Rng) -> Data:
    """(N, D) predictions and targets."""
    shape = _matrix_shape(rng)
    return {"pred": rng.normal(0, 1.5, shape), "target": rng.normal(0, 1.5, shape)}


def _regression_vector(rng: Rng) -> Data:
    """(N,) with outliers (residuals far beyond any δ) and ties (target == pred: l1's kink)."""
    n = int(rng.integers(12, 30))
    pred = rng.normal(0, 2, n)
    target = pred + rng.normal(0, 1.5, n)
    target[:3] = pred[:3] + rng.choice([-1, 1], 3) * rng.uniform(20, 60, 3)
    target[3:6] = pred[3:6]
    order = rng.permutation(n)
    return {"pred": pred[order], "target": target[order]}


def _huber_matrix(rng: Rng) -> Data:
    """(N, D), default δ: residuals on both sides of 1."""
    return _regression_matrix(rng)


def _huber_vector_delta(rng: Rng) -> Data:
    return _regression_vector(rng) | {"delta": float(rng.uniform(0.2, 3.0))}


def _logits_moderate(rng: Rng) -> Data:
    n, c = int(rng.integers(3, 8)), int(rng.integers(3, 7))
    labels = rng.integers(0, c, n)
    labels[:2] = [0, c - 1]
    return {"logits": rng.normal(0, 2, (n, c)), "labels": rng.permutation(labels)}


def _logits_extreme(rng: Rng) -> Data:
    """|logits| up to 1e4, rows of very different scales, labels 0 and C − 1 on extreme entries."""
    n, c = int(rng.integers(6, 12)), int(rng.integers(3, 8))
    logits = rng.normal(0, 1, (n, c)) * rng.choice([1.0, 1e2, 1e3, 1e4], size=(n, 1))
    logits[0, 0], logits[1, c - 1] = -1e4, -1e4  # the true class far below the others
    logits[2, 0], logits[3, c - 1] = 1e4, 1e4
    labels = rng.integers(0, c, n)
    labels[:4] = [0, c - 1, 0, c - 1]
    return {"logits": logits, "labels": labels}


def _bce_vector(rng: Rng) -> Data:
    """(N,) logits with hard 0/1 targets."""
    n = int(rng.integers(6, 15))
    return {"logits": rng.normal(0, 2, n), "targets": rng.integers(0, 2, n).astype(np.float64)}


def _bce_extreme(rng: Rng) -> Data:
    """(N, D) logits with |x| up to 1e4 and soft targets in [0, 1]."""
    shape = _matrix_shape(rng)
    logits = rng.normal(0, 1, shape) * rng.choice([1.0, 1e2, 1e4], size=shape)
    logits.flat[:4] = [1e4, -1e4, 1e4, -1e4]
    targets = rng.uniform(0, 1, shape)
    targets.flat[:4] = [0.0, 1.0, 1.0, 0.0]
    return {"logits": logits, "targets": targets}


def _gaussian_default(rng: Rng) -> Data:
    """(N, D), var left at its default 1.0."""
    shape = _matrix_shape(rng)
    return {"mean": rng.normal(0, 1.5, shape), "target": rng.normal(0, 1.5, shape)}


def _gaussian_scalar(rng: Rng) -> Data:
    """(N,), a scalar variance well away from the residuals' spread."""
    n = int(rng.integers(8, 20))
    return {"mean": rng.normal(0, 2, n), "target": rng.normal(0, 2, n),
            "var": float(rng.choice([rng.uniform(0.1, 0.5), rng.uniform(20.0, 40.0)]))}


def _gaussian_array(rng: Rng) -> Data:
    """(N, D), one variance per element."""
    shape = _matrix_shape(rng)
    return {"mean": rng.normal(0, 1.5, shape), "target": rng.normal(0, 1.5, shape),
            "var": rng.uniform(0.05, 4.0, shape)}


# --------------------------------------------------------------- the cases


def _case(name: str, target: str, points: float, run, check: Check, make_inputs, visible: bool,
          description: str) -> Case:
    return Case(name=name, target=target, points=points, run=run, check=_inputs_kept(check),
                make_inputs=make_inputs, visibility="visible" if visible else "hidden",
                timeout=5.0, description=description)


REGRESSION = ("pred", "target")
HUBER = ("pred", "target", "delta")
CLASSES = ("logits", "labels")
BINARY = ("logits", "targets")
GAUSSIAN = ("mean", "target", "var")
GAUSSIAN_GRAD = _fields(dmean=GRAD, dvar=SUMMED_GRAD)

PUBLIC_CASES: tuple[Case, ...] = (
    _case("mse_matrix", "mse", 3, _scalar_runner("mse", *REGRESSION), VALUE, _regression_matrix, True,
          "MSE of (N, D) predictions: sum over D, mean over N."),
    _case("mse_grad_matrix", "mse_grad", 3, _array_runner("mse_grad", *REGRESSION), GRAD,
          _regression_matrix, True, "dL/dpred of MSE for (N, D) predictions."),
    _case("l1_matrix", "l1", 3, _scalar_runner("l1", *REGRESSION), VALUE, _regression_matrix, True,
          "L1 loss of (N, D) predictions."),
    _case("l1_grad_matrix", "l1_grad", 3, _array_runner("l1_grad", *REGRESSION), GRAD,
          _regression_matrix, True, "dL/dpred of L1 for (N, D) predictions."),
    _case("huber_default_delta", "huber", 3, _scalar_runner("huber", *HUBER), VALUE, _huber_matrix, True,
          "Huber loss with δ = 1 for residuals on both sides of δ."),
    _case("huber_grad_default_delta", "huber_grad", 3, _array_runner("huber_grad", *HUBER), GRAD,
          _huber_matrix, True, "dL/dpred of Huber with δ = 1."),
    _case("softmax_moderate", "softmax", 3, _array_runner("softmax", "logits"), VALUE,
          _logits_moderate, True, "softmax of (N, C) logits of moderate size."),
    _case("log_softmax_moderate", "log_softmax", 3, _array_runner("log_softmax", "logits"), VALUE,
          _logits_moderate, True, "log_softmax of (N, C) logits of moderate size."),
    _case("cross_entropy_moderate", "cross_entropy", 3, _scalar_runner("cross_entropy", *CLASSES),
          VALUE, _logits_moderate, True, "Cross-entropy of moderate logits, labels 0 and C − 1 included."),
    _case("cross_entropy_grad_moderate", "cross_entropy_grad", 3,
          _array_runner("cross_entropy_grad", *CLASSES), GRAD, _logits_moderate, True,
          "dL/dlogits of cross-entropy for moderate logits."),
    _case("bce_vector", "binary_cross_entropy_with_logits", 3,
          _scalar_runner("binary_cross_entropy_with_logits", *BINARY), VALUE, _bce_vector, True,
          "Binary cross-entropy of (N,) logits with 0/1 targets."),
    _case("bce_grad_vector", "binary_cross_entropy_with_logits_grad", 3,
          _array_runner("binary_cross_entropy_with_logits_grad", *BINARY), GRAD, _bce_vector, True,
          "dL/dlogits of binary cross-entropy for (N,) logits."),
    _case("gaussian_nll_default_var", "gaussian_nll", 3, _scalar_runner("gaussian_nll", *GAUSSIAN),
          VALUE, _gaussian_default, True, "Gaussian NLL of (N, D) means with the default var = 1."),
    _case("gaussian_nll_grad_default_var", "gaussian_nll_grad", 3, _run_gaussian_grad, GAUSSIAN_GRAD,
          _gaussian_default, True, "dL/dmean and dL/dvar (a float) with the default var = 1."),
)

HIDDEN_CASES: tuple[Case, ...] = (
    _case("mse_vector_outliers", "mse", 4, _scalar_runner("mse", *REGRESSION), VALUE,
          _regression_vector, False, "MSE of (N,) predictions with outliers."),
    _case("mse_grad_vector_outliers", "mse_grad", 4, _array_runner("mse_grad", *REGRESSION), GRAD,
          _regression_vector, False, "dL/dpred of MSE for (N,) predictions with outliers."),
    _case("l1_vector_ties", "l1", 4, _scalar_runner("l1", *REGRESSION), VALUE,
          _regression_vector, False, "L1 of (N,) predictions with outliers and exact ties."),
    _case("l1_grad_vector_ties", "l1_grad", 4, _array_runner("l1_grad", *REGRESSION), GRAD,
          _regression_vector, False, "dL/dpred of L1, which is 0 where pred == target."),
    _case("huber_vector_delta", "huber", 4, _scalar_runner("huber", *HUBER), VALUE,
          _huber_vector_delta, False, "Huber loss of (N,) predictions with a given δ and outliers."),
    _case("huber_grad_vector_delta", "huber_grad", 4, _array_runner("huber_grad", *HUBER), GRAD,
          _huber_vector_delta, False, "dL/dpred of Huber with a given δ and outliers."),
    _case("softmax_extreme", "softmax", 4, _array_runner("softmax", "logits"), VALUE,
          _logits_extreme, False, "softmax for |logits| up to 1e4: finite, rows sum to 1."),
    _case("log_softmax_extreme", "log_softmax", 4, _array_runner("log_softmax", "logits"), VALUE,
          _logits_extreme, False, "log_softmax for |logits| up to 1e4: finite (log-sum-exp)."),
    _case("cross_entropy_extreme", "cross_entropy", 4, _scalar_runner("cross_entropy", *CLASSES),
          VALUE, _logits_extreme, False,
          "Cross-entropy for |logits| up to 1e4 with labels 0 and C − 1."),
    _case("cross_entropy_grad_extreme", "cross_entropy_grad", 4,
          _array_runner("cross_entropy_grad", *CLASSES), GRAD, _logits_extreme, False,
          "dL/dlogits of cross-entropy for |logits| up to 1e4."),
    _case("bce_extreme_soft_targets", "binary_cross_entropy_with_logits", 4,
          _scalar_runner("binary_cross_entropy_with_logits", *BINARY), VALUE, _bce_extreme, False,
          "Binary cross-entropy of (N, D) logits up to 1e4 with soft targets."),
    _case("bce_grad_extreme_soft_targets", "binary_cross_entropy_with_logits_grad", 4,
          _array_runner("binary_cross_entropy_with_logits_grad", *BINARY), GRAD, _bce_extreme, False,
          "dL/dlogits of binary cross-entropy for (N, D) logits up to 1e4."),
    _case("gaussian_nll_scalar_var", "gaussian_nll", 2, _scalar_runner("gaussian_nll", *GAUSSIAN),
          VALUE, _gaussian_scalar, False, "Gaussian NLL of (N,) means with a given scalar var."),
    _case("gaussian_nll_array_var", "gaussian_nll", 2, _scalar_runner("gaussian_nll", *GAUSSIAN),
          VALUE, _gaussian_array, False, "Gaussian NLL with one variance per element."),
    _case("gaussian_nll_grad_scalar_var", "gaussian_nll_grad", 3, _run_gaussian_grad, GAUSSIAN_GRAD,
          _gaussian_scalar, False, "dL/dmean and dL/dvar (a float) for a given scalar var."),
    _case("gaussian_nll_grad_array_var", "gaussian_nll_grad", 3, _run_gaussian_grad, GAUSSIAN_GRAD,
          _gaussian_array, False, "dL/dmean and dL/dvar (an array of var's shape) for an array var."),
)

SPEC = AssignmentSpec(name="losses", framework="numpy", cases=PUBLIC_CASES + HIDDEN_CASES)
