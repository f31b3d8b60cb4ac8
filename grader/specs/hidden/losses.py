"""Hidden cases of assignment 3 (losses): (N,) shapes with outliers and ties, |logits| up
to 1e4, soft targets, scalar and array variances. Never shipped to students.
"""

from __future__ import annotations

from grader.spec import Case, Data
from grader.specs.losses import (
    BINARY,
    CLASSES,
    GAUSSIAN,
    GAUSSIAN_GRAD,
    GRAD,
    HUBER,
    REGRESSION,
    VALUE,
    Rng,
    _array_runner,
    _case,
    _matrix_shape,
    _run_gaussian_grad,
    _scalar_runner,
)

# --------------------------------------------------------------- inputs only hidden cases use


def _regression_vector(rng: Rng) -> Data:
    """(N,) with outliers (residuals far beyond any δ) and ties (target == pred: l1's kink)."""
    n = int(rng.integers(12, 30))
    pred = rng.normal(0, 2, n)
    target = pred + rng.normal(0, 1.5, n)
    target[:3] = pred[:3] + rng.choice([-1, 1], 3) * rng.uniform(20, 60, 3)
    target[3:6] = pred[3:6]
    order = rng.permutation(n)
    return {"pred": pred[order], "target": target[order]}


def _huber_vector_delta(rng: Rng) -> Data:
    return _regression_vector(rng) | {"delta": float(rng.uniform(0.2, 3.0))}


def _logits_extreme(rng: Rng) -> Data:
    """|logits| up to 1e4, rows of very different scales, labels 0 and C − 1 on extreme entries."""
    n, c = int(rng.integers(6, 12)), int(rng.integers(3, 8))
    logits = rng.normal(0, 1, (n, c)) * rng.choice([1.0, 1e2, 1e3, 1e4], size=(n, 1))
    logits[0, 0], logits[1, c - 1] = -1e4, -1e4  # the true class far below the others
    logits[2, 0], logits[3, c - 1] = 1e4, 1e4
    labels = rng.integers(0, c, n)
    labels[:4] = [0, c - 1, 0, c - 1]
    return {"logits": logits, "labels": labels}


def _bce_extreme(rng: Rng) -> Data:
    """(N, D) logits with |x| up to 1e4 and soft targets in [0, 1]."""
    shape = _matrix_shape(rng)
    logits = rng.normal(0, 1, shape) * rng.choice([1.0, 1e2, 1e4], size=shape)
    logits.flat[:4] = [1e4, -1e4, 1e4, -1e4]
    targets = rng.uniform(0, 1, shape)
    targets.flat[:4] = [0.0, 1.0, 1.0, 0.0]
    return {"logits": logits, "targets": targets}


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
