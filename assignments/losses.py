"""Assignment 3: loss functions and their gradients (numpy, float64).

The loss quantifies how bad the model is. It is only a proxy for what we want,
so choose it to fit the problem:

  regression       MSE = 1/N Σ_i Σ_d (y_i − ŷ_i)². Squaring lets large errors
                   dominate: a few outliers can drag the whole fit towards them.
                   L1 = 1/N Σ_i Σ_d |y_i − ŷ_i| grows only linearly, so it is more
                   robust to outliers; Huber is quadratic near the target and
                   linear far from it, a bit of both.
  classification   cross-entropy CE = −1/N Σ_i Σ_c y_i,c · log ŷ_i,c with
                   ŷ = softmax(logits) and y one-hot: only the log-probability of
                   the true class counts, and the logits matter only relative to
                   one another. For independent yes/no outputs: sigmoid with
                   binary cross-entropy.
  probabilistic    maximum likelihood: MLE = 1/N Σ_i Σ_d log N(y_i; ŷ_i, σ²).
                   We minimise its negative, the Gaussian NLL. With σ² = 1 it is
                   MSE / 2 plus a constant; a variance per output lets a model
                   state how uncertain it is.

Conventions: pred and target have the same shape, (N,) or (N, D), N the batch;
a loss sums over every axis but the first and averages over N (1/N Σ_i Σ_d);
it returns a Python float. Each *_grad returns dL/dpred, a float64 array of
pred's shape. Nothing modifies its inputs.

Numerical stability: exp(1000) overflows to inf. Every function here must be
finite for |logits| up to 1e4. Use the log-sum-exp trick,
    log Σ_k exp(z_k) = m + log Σ_k exp(z_k − m),   m = max_k z_k,
and the stable forms given in the docstrings.
Run `dlgrade check losses` for the public cases.
"""

from __future__ import annotations

import numpy as np

# --------------------------------------------------------------- regression: MSE, L1, Huber


def mse(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean squared error: 1/N Σ_i Σ_d (target − pred)².

    pred, target: float64 arrays of the same shape, (N,) or (N, D).
    Sum over every axis but the first, mean over the N rows. Returns a Python float.
    """
    raise NotImplementedError


def mse_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """dL/dpred of mse: −2/N · (target − pred). Returns a float64 array of pred's shape."""
    raise NotImplementedError


def l1(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean absolute error: 1/N Σ_i Σ_d |target − pred|.

    pred, target: float64 arrays of the same shape, (N,) or (N, D). Returns a Python float.
    """
    raise NotImplementedError


def l1_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """dL/dpred of l1: sign(pred − target) / N, and 0 where pred == target.

    Returns a float64 array of pred's shape.
    """
    raise NotImplementedError


def huber(pred: np.ndarray, target: np.ndarray, delta: float = 1.0) -> float:
    """Huber loss: 1/N Σ_i Σ_d h(pred − target), with residual r and threshold δ = delta:

        h(r) = ½·r²            if |r| ≤ δ   (quadratic near the target, like MSE)
        h(r) = δ·(|r| − ½·δ)   otherwise    (linear far away, like L1)

    pred, target: float64 arrays of the same shape, (N,) or (N, D); delta > 0.
    Returns a Python float.
    """
    raise NotImplementedError


def huber_grad(pred: np.ndarray, target: np.ndarray, delta: float = 1.0) -> np.ndarray:
    """dL/dpred of huber: r / N where |r| ≤ δ, else δ·sign(r) / N, with r = pred − target.

    Returns a float64 array of pred's shape.
    """
    raise NotImplementedError


# --------------------------------------------------------------- classification: softmax, CE


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis: exp(z_j) / Σ_k exp(z_k); each row sums to 1.

    logits: float64 array (N, C) (any shape works: the last axis holds the classes).
    Returns a float64 array of logits' shape. Must be finite for |logits| up to
    1e4: subtract the row's max before exp (softmax(z) == softmax(z − c)).
    """
    raise NotImplementedError


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log(softmax(logits)) over the last axis, computed without taking log of 0.

    Use the log-sum-exp trick: log_softmax(z) = (z − m) − log Σ_k exp(z_k − m), m = max z.
    Returns a float64 array of logits' shape, finite for |logits| up to 1e4.
    """
    raise NotImplementedError


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Cross-entropy of softmax(logits) against integer labels, mean over N.

    logits: (N, C) float64; labels: int array (N,) with values in [0, C).
    L = −1/N Σ_i log softmax(logits_i)[labels_i]  (the lecture's CE with one-hot y).
    Returns a Python float, finite for |logits| up to 1e4.
    """
    raise NotImplementedError


def cross_entropy_grad(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """dL/dlogits of cross_entropy: (softmax(logits) − one_hot(labels)) / N, shape (N, C)."""
    raise NotImplementedError


def binary_cross_entropy_with_logits(logits: np.ndarray, targets: np.ndarray) -> float:
    """Binary cross-entropy of sigmoid(logits) against targets in [0, 1].

    logits, targets: float64 arrays of the same shape, (N,) or (N, D).
    Per element: −[t·log σ(x) + (1 − t)·log(1 − σ(x))]; sum over non-batch axes, mean over N.
    Never compute σ(x) and then its log: use the stable form
    max(x, 0) − x·t + log(1 + exp(−|x|)), finite for |x| up to 1e4.
    Returns a Python float.
    """
    raise NotImplementedError


def binary_cross_entropy_with_logits_grad(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """dL/dlogits of binary_cross_entropy_with_logits: (σ(logits) − targets) / N.

    Returns a float64 array of logits' shape, finite for |logits| up to 1e4.
    """
    raise NotImplementedError


# --------------------------------------------------------------- probabilistic: Gaussian NLL


def gaussian_nll(mean: np.ndarray, target: np.ndarray, var: float | np.ndarray = 1.0) -> float:
    """Negative log-likelihood of target under N(mean, var): the lecture's MLE loss, negated.

    1/N Σ_i Σ_d [ (target − mean)² / (2·var) + ½·log(2π·var) ]
    mean, target: float64 arrays of the same shape, (N,) or (N, D); var: a
    positive float, or a positive float64 array of mean's shape (one variance
    per element). With var = 1 this is MSE / 2 plus a constant.
    Returns a Python float.
    """
    raise NotImplementedError


def gaussian_nll_grad(mean: np.ndarray, target: np.ndarray,
                      var: float | np.ndarray = 1.0) -> tuple[np.ndarray, float | np.ndarray]:
    """Gradients of gaussian_nll with respect to mean and var.

    dL/dmean = (mean − target) / (var·N), an array of mean's shape;
    dL/dvar  = [1/(2·var) − (target − mean)² / (2·var²)] / N per element,
    returned with var's shape: a Python float (the sum over all elements) when
    var is a scalar, an array of mean's shape when var is an array.
    Returns (dmean, dvar).
    """
    raise NotImplementedError
