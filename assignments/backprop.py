"""Assignment 1: backprop by hand (numpy, float64).

The lecture's linear network  ŷ = w·x + b  with the loss  L = 1/N Σ_i (y_i − ŷ_i)²
has the partial derivatives

    ∂L/∂w = −2/N Σ_i (y_i − ŷ_i)·x_i          ∂L/∂b = −2/N Σ_i (y_i − ŷ_i)

and gradient descent repeats  w ← w − η·∂L/∂w,  b ← b − η·∂L/∂b.  Too large a
step size η makes the loss grow instead of shrink; too small, and it barely moves.

A neural network stacks affine maps followed by nonlinearities (ReLU, sigmoid,
tanh): the output is a chain of simple functions, so its gradient comes from the
chain rule. If out = f(x) and L depends on out, then dL/dx = dL/dout · dout/dx.
Backpropagation applies it one layer at a time:

  forward   each layer computes its output and keeps a *cache*: whatever its
            backward pass will need (its input, or its output);
  backward  each layer receives dout = dL/dout from the layer above and returns
            dL/d(its inputs), using only dout and its cache — nothing is recomputed.

For the affine layer out = x @ W + b, that gives
    dx = dout @ W.T,   dW = x.T @ dout,   db = dout summed over the batch,
and for an element-wise activation, dx = dout · f'(x).

Conventions: the batch is the first axis (N); every array is float64; a gradient
has the shape of the thing it is the gradient of; no function modifies its
inputs (compute new arrays instead of writing into x or dout).

Check your analytic gradients against numerical_gradient: where both are right
they agree to a relative error |a − b| / (|a| + |b|) of about 1e-7 or less.
Run `dlgrade check backprop` for the public cases.
"""

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
    raise NotImplementedError


def fit_linear_regression(x: np.ndarray, y: np.ndarray, lr: float = 0.1,
                          steps: int = 100) -> tuple[float, float, list[float]]:
    """Fit ŷ = w·x + b by gradient descent on the mean squared error.

    x, y: float64 arrays of shape (N,). Start from w = b = 0.0; each of the
    `steps` updates is  w ← w − lr·dL/dw,  b ← b − lr·dL/db  (both gradients
    taken at the same w, b: use linear_regression_grads).
    Returns (w, b, losses): the final w and b as floats, and a list of `steps`
    floats where losses[t] is L = 1/N Σ (y − ŷ)² just before update t.
    """
    raise NotImplementedError


# --------------------------------------------------------------- layers: forward and backward


def affine_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Any]:
    """Affine (fully connected) layer: out = x @ W + b.

    x: (N, D), W: (D, M), b: (M,), all float64.
    Returns (out, cache): out of shape (N, M), and a cache holding whatever
    affine_backward needs (for instance the tuple (x, W, b)).
    """
    raise NotImplementedError


def affine_backward(dout: np.ndarray, cache: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of the affine layer.

    dout: (N, M), the upstream gradient dL/dout; cache: what affine_forward returned.
    Returns (dx, dW, db) with the shapes of x (N, D), W (D, M) and b (M,).
    """
    raise NotImplementedError


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, Any]:
    """ReLU: out = max(x, 0), element-wise. x: float64 array of any shape.

    Returns (out, cache): out of x's shape; cache for relu_backward.
    """
    raise NotImplementedError


def relu_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Backward pass of ReLU: dx = dout where x > 0, else 0 (also 0 at x == 0).

    dout: upstream gradient of x's shape. Returns dx of x's shape.
    """
    raise NotImplementedError


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, Any]:
    """Sigmoid: out = 1 / (1 + exp(−x)), element-wise. x: float64 array of any shape.

    Must stay finite (and in [0, 1]) for |x| up to 1e4.
    Returns (out, cache): out of x's shape; cache for sigmoid_backward.
    """
    raise NotImplementedError


def sigmoid_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Backward pass of sigmoid: dx = dout · σ(x) · (1 − σ(x)).

    dout: upstream gradient of x's shape. Returns dx of x's shape.
    """
    raise NotImplementedError


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, Any]:
    """Hyperbolic tangent, element-wise. x: float64 array of any shape.

    Returns (out, cache): out of x's shape; cache for tanh_backward.
    """
    raise NotImplementedError


def tanh_backward(dout: np.ndarray, cache: Any) -> np.ndarray:
    """Backward pass of tanh: dx = dout · (1 − tanh(x)²).

    dout: upstream gradient of x's shape. Returns dx of x's shape.
    """
    raise NotImplementedError


# --------------------------------------------------------------- the loss and a whole network


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Softmax followed by the cross-entropy loss, and its gradient.

    logits: (N, C) float64 scores; labels: int array (N,) with values in [0, C).
    loss = −1/N Σ_i log softmax(logits_i)[labels_i]   (mean over the batch).
    Returns (loss, dlogits): loss a Python float, dlogits = dloss/dlogits of
    shape (N, C), i.e. (softmax(logits) − one_hot(labels)) / N.
    Must be finite for |logits| up to 1e4: subtract each row's max before exp.
    """
    raise NotImplementedError


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
    raise NotImplementedError


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
    raise NotImplementedError
