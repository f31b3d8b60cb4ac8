"""Assignment 1, backprop by hand: dmitri's submission."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

# --------------------------------------------------------------- linear regression


def linear_regression_grads(x: np.ndarray, y: np.ndarray, w: float, b: float) -> tuple[float, float]:
    """Gradients of the mean squared error of the line ŷ = w·x + b.

    x, y: float64 arrays of shape (N,); w, b: floats.
    L = 1/N Σ_i (y_i − ŷ_i)²  with  ŷ_i = w·x_i + b.
    Returns (dL/dw, dL/db) as Python floats:
        dL/dw = −2/N Σ_i (y_i − ŷ_i)·x_i,   dL/db = −2/N Σ_i (y_i − ŷ_i).
    """
    residual = y - (w * x + b)
    n = x.shape[0]
    return float(-2.0 / n * np.sum(residual * x)), float(-2.0 / n * np.sum(residual))


def fit_linear_regression(x: np.ndarray, y: np.ndarray, lr: float = 0.1,
                          steps: int = 100) -> tuple[float, float, list[float]]:
    """Fit ŷ = w·x + b by gradient descent on the mean squared error.

    x, y: float64 arrays of shape (N,). Start from w = b = 0.0; each of the
    `steps` updates is  w ← w − lr·dL/dw,  b ← b − lr·dL/db  (both gradients
    taken at the same w, b: use linear_regression_grads).
    Returns (w, b, losses): the final w and b as floats, and a list of `steps`
    floats where losses[t] is L = 1/N Σ (y − ŷ)² just before update t.
    """
    w, b = 0.0, 0.0
    losses: list[float] = []
    for _ in range(steps):
        losses.append(float(np.mean((y - (w * x + b)) ** 2)))
        dw, db = linear_regression_grads(x, y, w, b)
        w, b = w - lr * dw, b - lr * db
    return w, b, losses


# --------------------------------------------------------------- layers: forward and backward


def affine_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Any]:
    """Affine (fully connected) layer: out = x @ W + b.

    x: (N, D), W: (D, M), b: (M,), all float64.
    Returns (out, cache): out of shape (N, M), and a cache holding whatever
    affine_backward needs (for instance the tuple (x, W, b)).
    """
    return x @ W + b, (x, W, b)


def affine_backward(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of the affine layer.

    dout: (N, M), the upstream gradient dL/dout; cache: what affine_forward returned.
    Returns (dx, dW, db) with the shapes of x (N, D), W (D, M) and b (M,).
    """
    x, W, _ = cache
    return dout @ W.T, x.T @ dout, dout.mean(axis=0)


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, Any]:
    """ReLU: out = max(x, 0), element-wise. x: float64 array of any shape.

    Returns (out, cache): out of x's shape; cache for relu_backward.
    """
    return np.maximum(x, 0.0), x


def relu_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Backward pass of ReLU: dx = dout where x > 0, else 0 (also 0 at x == 0).

    dout: upstream gradient of x's shape. Returns dx of x's shape.
    """
    x = cache
    return dout * (x > 0)


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, Any]:
    """Sigmoid: out = 1 / (1 + exp(−x)), element-wise. x: float64 array of any shape.

    Must stay finite (and in [0, 1]) for |x| up to 1e4.
    Returns (out, cache): out of x's shape; cache for sigmoid_backward.
    """
    out = np.exp(-np.logaddexp(0.0, -x))  # 1 / (1 + e^−x) without overflow
    return out, out


def sigmoid_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Backward pass of sigmoid: dx = dout · σ(x) · (1 − σ(x)).

    dout: upstream gradient of x's shape. Returns dx of x's shape.
    """
    out = cache
    return dout * out * (1.0 - out)


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, Any]:
    """Hyperbolic tangent, element-wise. x: float64 array of any shape.

    Returns (out, cache): out of x's shape; cache for tanh_backward.
    """
    out = np.tanh(x)
    return out, out


def tanh_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Backward pass of tanh: dx = dout · (1 − tanh(x)²).

    dout: upstream gradient of x's shape. Returns dx of x's shape.
    """
    out = cache
    return dout * (1.0 - out**2)


# --------------------------------------------------------------- the loss and a whole network


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Softmax followed by the cross-entropy loss, and its gradient.

    logits: (N, C) float64 scores; labels: int array (N,) with values in [0, C).
    loss = −1/N Σ_i log softmax(logits_i)[labels_i]   (mean over the batch).
    Returns (loss, dlogits): loss a Python float, dlogits = dloss/dlogits of
    shape (N, C), i.e. (softmax(logits) − one_hot(labels)) / N.
    Must be finite for |logits| up to 1e4: subtract each row's max before exp.
    """
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(n)
    loss = -log_probs[rows, labels].mean()
    dlogits = np.exp(log_probs)
    dlogits[rows, labels] -= 1.0
    return float(loss), dlogits / n


def two_layer_net(params: dict[str, np.ndarray], x: np.ndarray,
                  labels: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    """Loss and gradients of a two-layer classifier.

    affine → relu → affine → softmax cross-entropy:
        h = relu(x @ W1 + b1);  scores = h @ W2 + b2;  loss = softmax_cross_entropy(scores, labels).
    params: dict with "W1" (D, H), "b1" (H,), "W2" (H, C), "b2" (C,), float64;
    x: (N, D) float64; labels: int array (N,).
    Returns (loss, grads): loss a Python float; grads a dict with the same keys
    and shapes as params, grads[k] = dloss/dparams[k]. No regularisation.
    Use the layer functions above: cache on the way forward, reuse on the way back.
    """
    hidden_pre, cache1 = affine_forward(x, params["W1"], params["b1"])
    hidden, cache_relu = relu_forward(hidden_pre)
    scores, cache2 = affine_forward(hidden, params["W2"], params["b2"])
    loss, dscores = softmax_cross_entropy(scores, labels)

    dhidden, dW2, db2 = affine_backward(dscores, cache2)
    dhidden_pre = relu_backward(dhidden, cache_relu)
    _, dW1, db1 = affine_backward(dhidden_pre, cache1)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


# --------------------------------------------------------------- checking gradients


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray,
                       h: float = 1e-5) -> np.ndarray:
    """Central-difference estimate of the gradient of a scalar function f at x.

    f: takes an array shaped like x and returns a number; x: float64 array of
    any shape; h: the step.
    grad[i] = (f(x + h·e_i) − f(x − h·e_i)) / (2h) for every index i of x.
    Returns grad, a float64 array of x's shape. x must hold exactly its
    original values when the function returns (if you perturb x in place,
    restore each entry right after using it).
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        original = x[index]
        try:
            x[index] = original + h
            f_plus = float(f(x))
            x[index] = original - h
            f_minus = float(f(x))
        finally:
            x[index] = original
        grad[index] = (f_plus - f_minus) / (2.0 * h)
    return grad
