"""Hidden cases of assignment 3 (losses): (N,) shapes with outliers and ties, |logits| up
to 1e4, soft targets, scalar and array variances. Never shipped to students.
"""

from __future__ import annotations

from functools import partial

from grader.grading.case import Case, Data
from grader.specs._common import hidden_variant
from grader.specs.losses import PUBLIC_CASES, Rng, _matrix_shape

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

# (target, name, points, make_inputs, description): the target's public case on other inputs
_harder = partial(hidden_variant, PUBLIC_CASES)

HIDDEN_CASES: tuple[Case, ...] = (
    _harder("mse", "mse_vector_outliers", 4, _regression_vector,
            "MSE of (N,) predictions with outliers."),
    _harder("mse_grad", "mse_grad_vector_outliers", 4, _regression_vector,
            "dL/dpred of MSE for (N,) predictions with outliers."),
    _harder("l1", "l1_vector_ties", 4, _regression_vector,
            "L1 of (N,) predictions with outliers and exact ties."),
    _harder("l1_grad", "l1_grad_vector_ties", 4, _regression_vector,
            "dL/dpred of L1, which is 0 where pred == target."),
    _harder("huber", "huber_vector_delta", 4, _huber_vector_delta,
            "Huber loss of (N,) predictions with a given δ and outliers."),
    _harder("huber_grad", "huber_grad_vector_delta", 4, _huber_vector_delta,
            "dL/dpred of Huber with a given δ and outliers."),
    _harder("softmax", "softmax_extreme", 4, _logits_extreme,
            "softmax for |logits| up to 1e4: finite, rows sum to 1."),
    _harder("log_softmax", "log_softmax_extreme", 4, _logits_extreme,
            "log_softmax for |logits| up to 1e4: finite (log-sum-exp)."),
    _harder("cross_entropy", "cross_entropy_extreme", 4, _logits_extreme,
            "Cross-entropy for |logits| up to 1e4 with labels 0 and C − 1."),
    _harder("cross_entropy_grad", "cross_entropy_grad_extreme", 4, _logits_extreme,
            "dL/dlogits of cross-entropy for |logits| up to 1e4."),
    _harder("binary_cross_entropy_with_logits", "bce_extreme_soft_targets", 4, _bce_extreme,
            "Binary cross-entropy of (N, D) logits up to 1e4 with soft targets."),
    _harder("binary_cross_entropy_with_logits_grad", "bce_grad_extreme_soft_targets", 4,
            _bce_extreme, "dL/dlogits of binary cross-entropy for (N, D) logits up to 1e4."),
    _harder("gaussian_nll", "gaussian_nll_scalar_var", 2, _gaussian_scalar,
            "Gaussian NLL of (N,) means with a given scalar var."),
    _harder("gaussian_nll", "gaussian_nll_array_var", 2, _gaussian_array,
            "Gaussian NLL with one variance per element."),
    _harder("gaussian_nll_grad", "gaussian_nll_grad_scalar_var", 3, _gaussian_scalar,
            "dL/dmean and dL/dvar (a float) for a given scalar var."),
    _harder("gaussian_nll_grad", "gaussian_nll_grad_array_var", 3, _gaussian_array,
            "dL/dmean and dL/dvar (an array of var's shape) for an array var."),
)
