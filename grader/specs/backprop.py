"""Grading spec of assignment 1, backprop by hand (numpy).

Every case also reports which input arrays the student's function modified: API.md
says functions never modify their inputs, and a layer that writes into x or dout
breaks the layers around it.

The public cases live here (shipped to students); the hidden ones, with the inputs only
they use, in grader/specs/hidden/backprop.py. grader.specs.load_spec("backprop") joins them.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from grader.compare import close, grad_close
from grader.spec import Case, Check, Data, Verdict

VALUE = close(rtol=1e-6, atol=1e-9)  # forward values and losses
GRAD = grad_close(1e-7)  # analytic gradients: CS231n relative error


# --------------------------------------------------------------- helpers shared by the cases


def _copy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and a.shape == b.shape and bool(
            np.array_equal(a, b, equal_nan=True))
    if isinstance(b, dict):
        return isinstance(a, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in b)
    return True


def _call(fn: Callable[..., Any], *args: tuple[str, Any]) -> tuple[Any, list[str]]:
    """fn(*values), by position (a student may name the parameters differently), and the
    names of the arguments it modified."""
    before = [_copy(value) for _, value in args]
    result = fn(*(value for _, value in args))
    return result, [name for (name, value), old in zip(args, before, strict=True) if not _same(value, old)]


def _named(inputs: Data, *names: str) -> tuple[tuple[str, Any], ...]:
    """The inputs that are present, in the order of the API's parameters (optional ones last)."""
    return tuple((name, inputs[name]) for name in names if name in inputs)


def _forward_backward(forward: Callable[..., Any], backward: Callable[..., Any],
                      dout: np.ndarray, *x: tuple[str, Any]) -> tuple[Any, list[str]]:
    """backward(dout, cache) after (out, cache) = forward(*x); the inputs modified, and by whom."""
    (_, cache), modified = _call(forward, *x)
    blame = [f"{name} (in {forward.__name__})" for name in modified]
    grads, modified = _call(lambda d, *_: backward(d, cache), ("dout", dout), *x)
    return grads, blame + [f"{name} (in {backward.__name__})" for name in modified]


def _floats(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


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
    """A dict output judged field by field, each with its own tolerance."""

    def judged(actual: Data, expected: Data) -> Verdict:
        for key, check in checks.items():
            verdict = check(actual[key], expected[key])
            if not verdict.passed:
                return Verdict(False, f"{key}: {verdict.message}")
        return Verdict(True)

    return judged


def _labels(rng: np.random.Generator, n: int, c: int) -> np.ndarray:
    """n labels in [0, c) that include both ends of the range, 0 and c − 1."""
    labels = rng.integers(0, c, n)
    labels[:2] = [0, c - 1]
    return rng.permutation(labels)


# --------------------------------------------------------------- linear regression


def _line_data(rng: np.random.Generator, n: int, spread: float) -> dict[str, Data]:
    x = rng.uniform(-spread, spread, n)
    y = rng.normal(2.0, 1.0) * x + rng.normal() + 0.1 * rng.normal(size=n)
    return {"x": x, "y": y}


def _lr_grads_small(rng: np.random.Generator) -> Data:
    return _line_data(rng, int(rng.integers(4, 9)), 2.0) | {"w": float(rng.normal()), "b": float(rng.normal())}


def _run_lr_grads(module: ModuleType, inputs: Data) -> Data:
    (dw, db), modified = _call(module.linear_regression_grads, *_named(inputs, "x", "y", "w", "b"))
    return {"out": {"dw": float(dw), "db": float(db)}, "modified": modified}


def _fit_default(rng: np.random.Generator) -> Data:
    return _line_data(rng, int(rng.integers(10, 30)), 1.0)


def _run_fit(module: ModuleType, inputs: Data) -> Data:
    (w, b, losses), modified = _call(module.fit_linear_regression,
                                    *_named(inputs, "x", "y", "lr", "steps"))
    return {"out": {"w": float(w), "b": float(b), "losses": _floats(losses)}, "modified": modified}


# --------------------------------------------------------------- affine layer


def _affine_inputs(rng: np.random.Generator, small: bool) -> Data:
    n, d, m = (rng.integers(2, 5, 3) if small else rng.integers(1, 9, 3)).tolist()
    return {"x": rng.normal(size=(n, d)), "W": rng.normal(size=(d, m)), "b": rng.normal(size=m),
            "dout": rng.normal(size=(n, m))}


def _run_affine_forward(module: ModuleType, inputs: Data) -> Data:
    (out, _), modified = _call(module.affine_forward, *_named(inputs, "x", "W", "b"))
    return {"out": _floats(out), "modified": modified}


def _run_affine_backward(module: ModuleType, inputs: Data) -> Data:
    (dx, dW, db), modified = _forward_backward(module.affine_forward, module.affine_backward,
                                               inputs["dout"], *_named(inputs, "x", "W", "b"))
    return {"out": {"dx": _floats(dx), "dW": _floats(dW), "db": _floats(db)}, "modified": modified}


# --------------------------------------------------------------- activations


def _activation_small(rng: np.random.Generator) -> Data:
    shape = tuple(rng.integers(2, 6, 2).tolist())
    return {"x": rng.normal(0, 2, shape), "dout": rng.normal(size=shape)}


def _forward_runner(name: str) -> Callable[[ModuleType, Data], Data]:
    def run(module: ModuleType, inputs: Data) -> Data:
        (out, _), modified = _call(getattr(module, f"{name}_forward"), ("x", inputs["x"]))
        return {"out": _floats(out), "modified": modified}

    return run


def _backward_runner(name: str) -> Callable[[ModuleType, Data], Data]:
    def run(module: ModuleType, inputs: Data) -> Data:
        dx, modified = _forward_backward(getattr(module, f"{name}_forward"),
                                         getattr(module, f"{name}_backward"), inputs["dout"], ("x", inputs["x"]))
        return {"out": _floats(dx), "modified": modified}

    return run


# --------------------------------------------------------------- softmax cross-entropy and the net


def _sce_moderate(rng: np.random.Generator) -> Data:
    n, c = int(rng.integers(3, 8)), int(rng.integers(3, 6))
    return {"logits": rng.normal(0, 2, (n, c)), "labels": _labels(rng, n, c)}


def _run_sce(module: ModuleType, inputs: Data) -> Data:
    (loss, dlogits), modified = _call(module.softmax_cross_entropy, *_named(inputs, "logits", "labels"))
    return {"out": {"loss": float(loss), "dlogits": _floats(dlogits)}, "modified": modified}


def _net_inputs(rng: np.random.Generator, small: bool) -> Data:
    n, d, h, c = (4, 3, 5, 3) if small else tuple(rng.integers(4, 10, 4).tolist())
    params = {"W1": rng.normal(0, 0.7, (d, h)), "b1": rng.normal(0, 0.1, h),
              "W2": rng.normal(0, 0.7, (h, c)), "b2": rng.normal(0, 0.1, c)}
    return {"params": params, "x": rng.normal(size=(n, d)), "labels": _labels(rng, n, c)}


def _run_net(module: ModuleType, inputs: Data) -> Data:
    (loss, grads), modified = _call(module.two_layer_net, *_named(inputs, "params", "x", "labels"))
    return {"out": {"loss": float(loss), "grads": {k: _floats(grads[k]) for k in ("W1", "b1", "W2", "b2")}},
            "modified": modified}


# --------------------------------------------------------------- numerical gradient


def _quadratic_inputs(rng: np.random.Generator) -> Data:
    d = int(rng.integers(3, 7))
    q = rng.normal(size=(d, d))
    return {"A": q @ q.T / d + np.eye(d), "c": rng.normal(size=d), "cubic": np.zeros(d),
            "x": rng.normal(size=d), "h": None}


def _polynomial(A: np.ndarray, c: np.ndarray, cubic: np.ndarray) -> Callable[[np.ndarray], float]:
    """The trusted scalar function: ½ vᵀAv + c·v + Σ cubic·v³ of v = x flattened."""

    def f(x: np.ndarray) -> float:
        v = np.asarray(x, dtype=np.float64).ravel()
        return float(0.5 * v @ A @ v + c @ v + cubic @ v**3)

    return f


def _run_numerical_gradient(module: ModuleType, inputs: Data) -> Data:
    f = _polynomial(inputs["A"], inputs["c"], inputs["cubic"])
    h = () if inputs["h"] is None else (inputs["h"],)
    grad, modified = _call(lambda x: module.numerical_gradient(f, x, *h), ("x", inputs["x"]))
    return {"out": _floats(grad), "modified": modified}


# numerical_gradient is compared with the reference's own central differences: a forward
# difference or an ignored h is off by ≥ 1e-5 (absolute), rounding by ≈ 1e-10.
NUMERIC = close(rtol=1e-6, atol=1e-7)


def _case(name: str, target: str, points: float, run, check: Check, make_inputs, visible: bool,
          description: str) -> Case:
    return Case(name=name, target=target, points=points, run=run, check=_inputs_kept(check),
                make_inputs=make_inputs, visibility="visible" if visible else "hidden",
                timeout=5.0, description=description)


GRADS_ONLY = _fields(dx=GRAD, dW=GRAD, db=GRAD)

PUBLIC_CASES: tuple[Case, ...] = (
    _case("linear_regression_grads", "linear_regression_grads", 4, _run_lr_grads, VALUE,
          _lr_grads_small, True, "dL/dw and dL/db of the mean squared error on a few points."),
    _case("fit_linear_regression_defaults", "fit_linear_regression", 4, _run_fit, VALUE,
          _fit_default, True, "w, b and the loss history of 100 gradient-descent steps with lr = 0.1."),
    _case("affine_forward", "affine_forward", 3, _run_affine_forward, VALUE,
          lambda rng: _affine_inputs(rng, True), True, "out = x @ W + b for a small batch."),
    _case("affine_backward", "affine_backward", 4, _run_affine_backward, GRADS_ONLY,
          lambda rng: _affine_inputs(rng, True), True, "dx, dW and db of the affine layer."),
    _case("relu_forward", "relu_forward", 3, _forward_runner("relu"), VALUE,
          _activation_small, True, "ReLU of a (N, D) array."),
    _case("relu_backward", "relu_backward", 3, _backward_runner("relu"), GRAD,
          _activation_small, True, "The gradient through ReLU of a (N, D) array."),
    _case("sigmoid_forward", "sigmoid_forward", 3, _forward_runner("sigmoid"), VALUE,
          _activation_small, True, "Sigmoid of a (N, D) array."),
    _case("sigmoid_backward", "sigmoid_backward", 3, _backward_runner("sigmoid"), GRAD,
          _activation_small, True, "The gradient through sigmoid of a (N, D) array."),
    _case("tanh_forward", "tanh_forward", 3, _forward_runner("tanh"), VALUE,
          _activation_small, True, "tanh of a (N, D) array."),
    _case("tanh_backward", "tanh_backward", 3, _backward_runner("tanh"), GRAD,
          _activation_small, True, "The gradient through tanh of a (N, D) array."),
    _case("softmax_cross_entropy", "softmax_cross_entropy", 4, _run_sce,
          _fields(loss=VALUE, dlogits=GRAD), _sce_moderate, True,
          "Loss and dlogits of softmax cross-entropy for moderate logits."),
    _case("two_layer_net", "two_layer_net", 4, _run_net,
          _fields(loss=VALUE, grads=GRAD), lambda rng: _net_inputs(rng, True), True,
          "Loss and the four parameter gradients of a small two-layer net."),
    _case("numerical_gradient_quadratic", "numerical_gradient", 3, _run_numerical_gradient, NUMERIC,
          _quadratic_inputs, True,
          "Central differences of a quadratic form at a vector x, leaving x unchanged."),
)
