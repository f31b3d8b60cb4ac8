"""Assignment 3, loss functions: hiro's submission."""

from __future__ import annotations

import numpy as np

# --------------------------------------------------------------- regression: MSE, L1, Huber


def mse(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean squared error: 1/N Σ_i Σ_d (target − pred)².

    pred, target: float64 arrays of the same shape, (N,) or (N, D).
    Sum over every axis but the first, mean over the N rows. Returns a Python float.
    """
    return float(np.sum((target - pred) ** 2) / pred.shape[0])


def mse_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """dL/dpred of mse: −2/N · (target − pred). Returns a float64 array of pred's shape."""
    return -2.0 / pred.shape[0] * (target - pred)


def l1(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean absolute error: 1/N Σ_i Σ_d |target − pred|.

    pred, target: float64 arrays of the same shape, (N,) or (N, D). Returns a Python float.
    """
    return float(np.sum(np.abs(target - pred)) / pred.shape[0])


def l1_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """dL/dpred of l1: sign(pred − target) / N, and 0 where pred == target.

    Returns a float64 array of pred's shape.
    """
    return np.sign(pred - target) / pred.shape[0]


def huber(pred: np.ndarray, target: np.ndarray, delta: float = 1.0) -> float:
    """Huber loss: 1/N Σ_i Σ_d h(pred − target), with residual r and threshold δ = delta:

        h(r) = ½·r²            if |r| ≤ δ   (quadratic near the target, like MSE)
        h(r) = δ·(|r| − ½·δ)   otherwise    (linear far away, like L1)

    pred, target: float64 arrays of the same shape, (N,) or (N, D); delta > 0.
    Returns a Python float.
    """
    r = np.abs(pred - target)
    per_element = np.where(r <= delta, 0.5 * r**2, delta * (r - 0.5 * delta))
    return float(np.sum(per_element) / pred.shape[0])


def huber_grad(pred: np.ndarray, target: np.ndarray, delta: float = 1.0) -> np.ndarray:
    """dL/dpred of huber: r / N where |r| ≤ δ, else δ·sign(r) / N, with r = pred − target.

    Returns a float64 array of pred's shape.
    """
    r = pred - target
    return r / pred.shape[0]


# --------------------------------------------------------------- classification: softmax, CE


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis: exp(z_j) / Σ_k exp(z_k); each row sums to 1.

    logits: float64 array (N, C) (any shape works: the last axis holds the classes).
    Returns a float64 array of logits' shape. Must be finite for |logits| up to
    1e4: subtract the row's max before exp (softmax(z) == softmax(z − c)).
    """
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    e /= e.sum(axis=-1, keepdims=True)  # e is ours: divide in place
    return e


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log(softmax(logits)) over the last axis, computed without taking log of 0.

    Use the log-sum-exp trick: log_softmax(z) = (z − m) − log Σ_k exp(z_k − m), m = max z.
    Returns a float64 array of logits' shape, finite for |logits| up to 1e4.
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return shifted


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Cross-entropy of softmax(logits) against integer labels, mean over N.

    logits: (N, C) float64; labels: int array (N,) with values in [0, C).
    L = −1/N Σ_i log softmax(logits_i)[labels_i]  (the lecture's CE with one-hot y).
    Returns a Python float, finite for |logits| up to 1e4.
    """
    n = logits.shape[0]
    return float(-log_softmax(logits)[np.arange(n), labels].sum() / n)


def cross_entropy_grad(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """dL/dlogits of cross_entropy: (softmax(logits) − one_hot(labels)) / N, shape (N, C)."""
    n = logits.shape[0]
    grad = softmax(logits)
    grad[np.arange(n), labels] -= 1.0
    grad /= n
    return grad


def binary_cross_entropy_with_logits(logits: np.ndarray, targets: np.ndarray) -> float:
    """Binary cross-entropy of sigmoid(logits) against targets in [0, 1].

    logits, targets: float64 arrays of the same shape, (N,) or (N, D).
    Per element: −[t·log σ(x) + (1 − t)·log(1 − σ(x))]; sum over non-batch axes, mean over N.
    Never compute σ(x) and then its log: use the stable form
    max(x, 0) − x·t + log(1 + exp(−|x|)), finite for |x| up to 1e4.
    Returns a Python float.
    """
    s = 1.0 / (1.0 + np.exp(-logits))
    per_element = -(targets * np.log(s) + (1.0 - targets) * np.log(1.0 - s))
    return float(np.sum(per_element) / logits.shape[0])


def binary_cross_entropy_with_logits_grad(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """dL/dlogits of binary_cross_entropy_with_logits: (σ(logits) − targets) / N.

    Returns a float64 array of logits' shape, finite for |logits| up to 1e4.
    """
    sigmoid = np.exp(-np.logaddexp(0.0, -logits))
    return (sigmoid - targets) / logits.shape[0]


# --------------------------------------------------------------- probabilistic: Gaussian NLL


def gaussian_nll(mean: np.ndarray, target: np.ndarray, var: float | np.ndarray = 1.0) -> float:
    """Negative log-likelihood of target under N(mean, var): the lecture's MLE loss, negated.

    1/N Σ_i Σ_d [ (target − mean)² / (2·var) + ½·log(2π·var) ]
    mean, target: float64 arrays of the same shape, (N,) or (N, D); var: a
    positive float, or a positive float64 array of mean's shape (one variance
    per element). With var = 1 this is MSE / 2 plus a constant.
    Returns a Python float.
    """
    per_element = (target - mean) ** 2 / (2.0 * var) + 0.5 * np.log(2.0 * np.pi * var)
    return float(np.sum(per_element) / mean.shape[0])


def gaussian_nll_grad(mean: np.ndarray, target: np.ndarray,
                      var: float | np.ndarray = 1.0) -> tuple[np.ndarray, float | np.ndarray]:
    """Gradients of gaussian_nll with respect to mean and var.

    dL/dmean = (mean − target) / (var·N), an array of mean's shape;
    dL/dvar  = [1/(2·var) − (target − mean)² / (2·var²)] / N per element,
    returned with var's shape: a Python float (the sum over all elements) when
    var is a scalar, an array of mean's shape when var is an array.
    Returns (dmean, dvar).
    """
    n = mean.shape[0]
    sq = (target - mean) ** 2
    dmean = (mean - target) / (var * n)
    dvar = (1.0 / (2.0 * var) - sq / (2.0 * var**2)) / n
    if np.ndim(var) == 0:
        return dmean, float(np.sum(dvar))
    return dmean, dvar
