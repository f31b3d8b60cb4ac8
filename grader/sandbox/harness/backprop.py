"""Harness of assignment 1, backprop by hand: call one function or layer on the case's
inputs; report its outputs and which inputs it modified (and in which function)."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from grader.sandbox.harness import Data
from grader.sandbox.harness._common import (
    as_array,
    as_float,
    batch_of,
    call_noting_changes,
    floats,
    present,
)

__all__ = ["activation_backward", "activation_forward", "affine_backward", "affine_forward",
           "fit", "lr_grads", "net", "numerical_gradient", "sce"]


def _forward_backward(forward: Callable[..., Any], backward: Callable[..., Any],
                      dout: np.ndarray, *x: tuple[str, Any]) -> tuple[Any, list[str]]:
    """backward(dout, cache) after (out, cache) = forward(*x); the inputs modified, and by whom."""
    (_, cache), modified = call_noting_changes(forward, *x)
    blame = [f"{name} (in {forward.__name__})" for name in modified]
    grads, modified = call_noting_changes(lambda d, *_: backward(d, cache), ("dout", dout), *x)
    return grads, blame + [f"{name} (in {backward.__name__})" for name in modified]


def lr_grads(module: ModuleType, inputs: Data) -> Data:
    (dw, db), modified = call_noting_changes(module.linear_regression_grads,
                                             *present(inputs, "x", "y", "w", "b"))
    return {"out": {"dw": as_float(dw, "linear_regression_grads's dw"),
                    "db": as_float(db, "linear_regression_grads's db")},
            "modified": modified, "batch": batch_of(inputs, "x", "gradient")}


def fit(module: ModuleType, inputs: Data) -> Data:
    (w, b, losses), modified = call_noting_changes(module.fit_linear_regression,
                                                   *present(inputs, "x", "y", "lr", "steps"))
    return {"out": {"w": as_float(w, "fit_linear_regression's w"),
                    "b": as_float(b, "fit_linear_regression's b"),
                    "losses": as_array(losses, "fit_linear_regression's losses")},
            "modified": modified}


def affine_forward(module: ModuleType, inputs: Data) -> Data:
    (out, _), modified = call_noting_changes(module.affine_forward, *present(inputs, "x", "W", "b"))
    return {"out": floats(out), "modified": modified}


def affine_backward(module: ModuleType, inputs: Data) -> Data:
    (dx, dW, db), modified = _forward_backward(module.affine_forward, module.affine_backward,
                                               inputs["dout"], *present(inputs, "x", "W", "b"))
    return {"out": {"dx": floats(dx), "dW": floats(dW), "db": floats(db)}, "modified": modified}


def sce(module: ModuleType, inputs: Data) -> Data:
    (loss, dlogits), modified = call_noting_changes(module.softmax_cross_entropy,
                                                    *present(inputs, "logits", "labels"))
    return {"out": {"loss": as_float(loss, "softmax_cross_entropy's loss"),
                    "dlogits": as_array(dlogits, "softmax_cross_entropy's dlogits")},
            "modified": modified}


def net(module: ModuleType, inputs: Data) -> Data:
    (loss, grads), modified = call_noting_changes(module.two_layer_net,
                                                  *present(inputs, "params", "x", "labels"))
    return {"out": {"loss": as_float(loss, "two_layer_net's loss"),
                    "grads": {k: floats(grads[k]) for k in ("W1", "b1", "W2", "b2")}},
            "modified": modified}


def _polynomial(A: np.ndarray, c: np.ndarray, cubic: np.ndarray) -> Callable[[np.ndarray], float]:
    """The trusted scalar function: ½ vᵀAv + c·v + Σ cubic·v³ of v = x flattened."""

    def f(x: np.ndarray) -> float:
        v = np.asarray(x, dtype=np.float64).ravel()
        return float(0.5 * v @ A @ v + c @ v + cubic @ v**3)

    return f


def numerical_gradient(module: ModuleType, inputs: Data) -> Data:
    f = _polynomial(inputs["A"], inputs["c"], inputs["cubic"])
    h = () if inputs["h"] is None else (inputs["h"],)
    grad, modified = call_noting_changes(lambda x: module.numerical_gradient(f, x, *h),
                                         ("x", inputs["x"]))
    return {"out": floats(grad), "modified": modified}


def activation_forward(module: ModuleType, inputs: Data, name: str) -> Data:
    forward = getattr(module, f"{name}_forward")
    (out, _), modified = call_noting_changes(forward, ("x", inputs["x"]))
    return {"out": floats(out), "modified": modified}


def activation_backward(module: ModuleType, inputs: Data, name: str) -> Data:
    dx, modified = _forward_backward(getattr(module, f"{name}_forward"),
                                     getattr(module, f"{name}_backward"), inputs["dout"],
                                     ("x", inputs["x"]))
    return {"out": floats(dx), "modified": modified}
