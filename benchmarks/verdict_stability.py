"""Same code, same grade: does a file's verdict on a case depend on the student's seed?

    .venv/bin/python benchmarks/verdict_stability.py                  # every variant, 50 students
    .venv/bin/python benchmarks/verdict_stability.py --students 200
    .venv/bin/python benchmarks/verdict_stability.py --only adam_eps_1e-7 mse_einsum

Inputs are drawn per student, so a case whose tolerance sits near the size of a real
formula difference grades the same file differently for different students. This grades
two kinds of implementation, written here, for many student ids:

* near misses: a formula that differs from the asked one in a detail the case is about
  (another eps, eps inside the root, +1e-7 inside a log, a mean over every element,
  h = 1e-4, float32 arithmetic, a bias correction one step off, ...). Each must fail its
  target case(s) for every student;
* correct variants: the asked formula written differently (other association orders,
  fused expressions, np.einsum, log-sum-exp written out). Each must pass every case of
  its targets for every student.

It prints, per variant and case, every verdict that depends on the seed, every near miss
that passes a case it must fail, and every correct variant that fails. Target: nothing.

Grading runs in this process with grader.grading.case.evaluate_trusted, on the trusted
reference and the variants written here — a measuring tool only: student code is graded
in the sandbox, never like this.
"""

from __future__ import annotations

import argparse
import sys
import time
import types
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader.grading.case import AssignmentSpec, Case, evaluate_trusted  # noqa: E402
from grader.specs import load_spec  # noqa: E402
from reference import autodiff as ref_autodiff  # noqa: E402
from reference import backprop as ref_backprop  # noqa: E402
from reference import losses as ref_losses  # noqa: E402
from reference import optimizers as ref_opt  # noqa: E402


@dataclass(frozen=True)
class Variant:
    """An implementation of some names of an assignment; the reference supplies the rest.

    `must_fail`: for a near miss, the cases it must fail for every student (the other cases
    of its targets may go either way, but the same way for every student)."""

    assignment: str
    name: str
    correct: bool
    replacements: dict[str, Any]
    must_fail: tuple[str, ...] = ()
    note: str = ""
    graded: tuple[str, ...] = ()  # the targets whose cases are graded; the replaced names by default

    @property
    def targets(self) -> set[str]:
        return set(self.graded or self.replacements)


@dataclass
class CaseTally:
    passed: int = 0
    failed: int = 0
    messages: list[str] = field(default_factory=list)

    @property
    def seed_dependent(self) -> bool:
        return self.passed > 0 and self.failed > 0


REFERENCES = {"losses": ref_losses, "optimizers": ref_opt, "backprop": ref_backprop,
              "autodiff": ref_autodiff}


def patched(reference: types.ModuleType, *edits: tuple[str, str]) -> types.ModuleType:
    """The reference module with its source edited (old, new), each old found exactly once:
    a class whose methods build more instances of itself is varied this way."""
    source = Path(reference.__file__).read_text(encoding="utf-8")
    for old, new in edits:
        if source.count(old) != 1:
            raise ValueError(f"{old!r} occurs {source.count(old)} times in {reference.__name__}")
        source = source.replace(old, new)
    module = types.ModuleType(f"{reference.__name__}_patched")
    module.__file__ = reference.__file__
    sys.modules[module.__name__] = module  # dataclasses and annotations look the module up
    exec(compile(source, reference.__file__, "exec"), module.__dict__)
    del sys.modules[module.__name__]
    return module


def module_with(variant: Variant) -> types.ModuleType:
    reference = REFERENCES[variant.assignment]
    module = types.ModuleType(f"{variant.assignment}_{variant.name}")
    module.__dict__.update({k: v for k, v in vars(reference).items() if not k.startswith("__")})
    module.__dict__.update(variant.replacements)
    return module


# =============================================================== losses


def _rows(x: np.ndarray) -> int:
    return x.shape[0]


def mse_mean_all(pred, target):
    return float(np.mean((pred - target) ** 2))


def mse_einsum(pred, target):
    r = (pred - target).reshape(_rows(pred), -1)
    return float(np.einsum("nd,nd->", r, r) / _rows(pred))


def mse_row_sums(pred, target):
    r = pred - target
    return float(np.mean(np.sum((r * r).reshape(_rows(pred), -1), axis=1)))


def mse_float32(pred, target):
    r = (pred.astype(np.float32) - target.astype(np.float32))
    return float(np.sum(r * r) / np.float32(_rows(pred)))


def mse_grad_by_size(pred, target):
    return 2.0 * (pred - target) / pred.size


def mse_grad_fused(pred, target):
    return (pred - target) * (2.0 / _rows(pred))


def mse_grad_float32(pred, target):
    return (2.0 * (pred.astype(np.float32) - target.astype(np.float32)) / _rows(pred)).astype(np.float64)


def _log_softmax_lse(z):
    m = z.max(axis=-1, keepdims=True)
    return z - (m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True)))


def ce_log_eps(logits, labels):
    p = ref_losses.softmax(logits)
    return float(-np.mean(np.log(p[np.arange(len(labels)), labels] + 1e-7)))


def ce_lse(logits, labels):
    lp = _log_softmax_lse(logits)
    return float(-np.take_along_axis(lp, labels[:, None], axis=1).sum() / len(labels))


def ce_one_hot_einsum(logits, labels):
    one_hot = np.eye(logits.shape[1])[labels]
    return float(-np.einsum("nc,nc->", one_hot, _log_softmax_lse(logits)) / logits.shape[0])


def ce_float32(logits, labels):
    z = logits.astype(np.float32)
    lp = z - z.max(axis=1, keepdims=True)
    lp = lp - np.log(np.exp(lp).sum(axis=1, keepdims=True))
    return float(-lp[np.arange(len(labels)), labels].mean())


def ce_grad_lse(logits, labels):
    p = np.exp(_log_softmax_lse(logits))
    p[np.arange(len(labels)), labels] -= 1.0
    return p / logits.shape[0]


def ce_grad_eps(logits, labels):
    p = (ref_losses.softmax(logits) + 1e-7) / (1 + 1e-7 * logits.shape[1])
    p[np.arange(len(labels)), labels] -= 1.0
    return p / logits.shape[0]


def softmax_divide(logits):
    e = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def softmax_eps(logits):
    e = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
    return e / (np.sum(e, axis=-1, keepdims=True) + 1e-7)


def log_softmax_eps(logits):
    return np.log(softmax_divide(logits) + 1e-7)


def bce_log_eps(logits, targets):
    s = 0.5 * (1.0 + np.tanh(0.5 * logits))
    per = -(targets * np.log(s + 1e-7) + (1 - targets) * np.log(1 - s + 1e-7))
    return float(per.sum() / logits.shape[0])


def bce_softplus(logits, targets):
    return float(np.sum(np.logaddexp(0.0, logits) - logits * targets) / logits.shape[0])


def bce_grad_tanh(logits, targets):
    return (0.5 * (1.0 + np.tanh(0.5 * logits)) - targets) / logits.shape[0]


def gaussian_nll_split(mean, target, var=1.0):
    r = target - mean
    per = 0.5 * (r * r / var) + 0.5 * np.log(2.0 * np.pi) + 0.5 * np.log(var)
    return float(np.sum(per * np.ones_like(mean)) / mean.shape[0])


def gaussian_nll_var_eps(mean, target, var=1.0):
    v = var + 1e-6
    per = (target - mean) ** 2 / (2.0 * v) + 0.5 * np.log(2.0 * np.pi * v)
    return float(np.sum(per * np.ones_like(mean)) / mean.shape[0])


LOSSES = [
    Variant("losses", "mse_mean_all_elements", False, {"mse": mse_mean_all},
            ("mse_matrix",), "np.mean over N·D elements"),
    Variant("losses", "mse_float32", False, {"mse": mse_float32},
            ("mse_matrix", "mse_vector_outliers"), "float32 arithmetic"),
    Variant("losses", "mse_grad_divide_by_size", False, {"mse_grad": mse_grad_by_size},
            ("mse_grad_matrix",), "2(p−t)/pred.size"),
    Variant("losses", "mse_grad_float32", False, {"mse_grad": mse_grad_float32},
            ("mse_grad_matrix", "mse_grad_vector_outliers"), "float32 arithmetic"),
    Variant("losses", "cross_entropy_log_plus_1e-7", False, {"cross_entropy": ce_log_eps},
            ("cross_entropy_moderate", "cross_entropy_extreme"), "−log(p + 1e-7)"),
    Variant("losses", "cross_entropy_float32", False, {"cross_entropy": ce_float32},
            ("cross_entropy_moderate",), "float32 log-softmax"),
    Variant("losses", "cross_entropy_grad_smoothed_eps", False, {"cross_entropy_grad": ce_grad_eps},
            ("cross_entropy_grad_moderate", "cross_entropy_grad_extreme"), "(p + 1e-7)/(1 + C·1e-7)"),
    Variant("losses", "softmax_sum_plus_1e-7", False, {"softmax": softmax_eps},
            ("softmax_moderate", "softmax_extreme"), "e / (Σe + 1e-7)"),
    Variant("losses", "log_softmax_log_plus_1e-7", False, {"log_softmax": log_softmax_eps},
            ("log_softmax_moderate", "log_softmax_extreme"), "log(softmax + 1e-7)"),
    Variant("losses", "bce_log_plus_1e-7", False, {"binary_cross_entropy_with_logits": bce_log_eps},
            ("bce_vector", "bce_extreme_soft_targets"), "log(σ + 1e-7)"),
    Variant("losses", "gaussian_nll_var_plus_1e-6", False, {"gaussian_nll": gaussian_nll_var_eps},
            ("gaussian_nll_default_var", "gaussian_nll_scalar_var", "gaussian_nll_array_var"),
            "var + 1e-6"),
    Variant("losses", "mse_einsum", True, {"mse": mse_einsum}),
    Variant("losses", "mse_row_sums", True, {"mse": mse_row_sums}),
    Variant("losses", "mse_grad_fused", True, {"mse_grad": mse_grad_fused}),
    Variant("losses", "cross_entropy_log_sum_exp", True, {"cross_entropy": ce_lse}),
    Variant("losses", "cross_entropy_one_hot_einsum", True, {"cross_entropy": ce_one_hot_einsum}),
    Variant("losses", "cross_entropy_grad_from_log_softmax", True, {"cross_entropy_grad": ce_grad_lse}),
    Variant("losses", "softmax_divide", True, {"softmax": softmax_divide}),
    Variant("losses", "log_softmax_log_sum_exp", True, {"log_softmax": _log_softmax_lse}),
    Variant("losses", "bce_softplus", True, {"binary_cross_entropy_with_logits": bce_softplus}),
    Variant("losses", "bce_grad_tanh_sigmoid", True,
            {"binary_cross_entropy_with_logits_grad": bce_grad_tanh}),
    Variant("losses", "gaussian_nll_split_logs", True, {"gaussian_nll": gaussian_nll_split}),
]


# =============================================================== optimizers


def _wd(g, p, wd):
    g = np.asarray(g, dtype=np.float64)
    return g + wd * p if wd else g


def adam_like(*, eps_inside_root: bool = False, eps_after_bias: bool = False,
              bias_step_off: bool = False, default_eps: float = 1e-8, fused: bool = False,
              decoupled: bool = False, default_wd: float = 0.0) -> type:
    """An Adam (or AdamW) written from scratch with one choice made differently."""

    class Variant(ref_opt.Optimizer):
        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=default_eps,
                     weight_decay=default_wd):
            super().__init__(params, lr)
            self.betas, self.eps, self.weight_decay = betas, eps, weight_decay

        def step(self, grads):
            b1, b2 = self.betas
            for p, g, state in zip(self.params, grads, self.state, strict=True):
                if decoupled:
                    p *= 1 - self.lr * self.weight_decay
                    g = np.asarray(g, dtype=np.float64)
                else:
                    g = _wd(g, p, self.weight_decay)
                t = state["t"] = state.get("t", 0) + 1
                m = state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
                v = state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
                tb = t + 1 if bias_step_off else t  # the count bumped once too often
                bc1, bc2 = 1 - b1**tb, 1 - b2**tb
                if eps_inside_root:
                    p -= self.lr * (m / bc1) / np.sqrt(v / bc2 + self.eps)
                elif eps_after_bias:  # Kingma & Ba's "efficient" form: eps before the correction
                    p -= self.lr * np.sqrt(bc2) / bc1 * m / (np.sqrt(v) + self.eps)
                elif fused:
                    p -= (self.lr / bc1) * m / (np.sqrt(v / bc2) + self.eps)
                else:
                    p -= self.lr * (m / bc1) / (np.sqrt(v) / np.sqrt(bc2) + self.eps)

    return Variant


def rmsprop_like(*, eps_inside_root: bool = False, default_eps: float = 1e-8,
                 fused: bool = False) -> type:
    class Variant(ref_opt.Optimizer):
        def __init__(self, params, lr=0.01, alpha=0.99, eps=default_eps, weight_decay=0.0):
            super().__init__(params, lr)
            self.alpha, self.eps, self.weight_decay = alpha, eps, weight_decay

        def step(self, grads):
            for p, g, state in zip(self.params, grads, self.state, strict=True):
                g = _wd(g, p, self.weight_decay)
                v = state["v"] = self.alpha * state.get("v", 0.0) + (1 - self.alpha) * g**2
                if eps_inside_root:
                    p -= self.lr * g / np.sqrt(v + self.eps)
                elif fused:
                    p -= g * (self.lr / (np.sqrt(v) + self.eps))
                else:
                    p -= self.lr * g / (np.sqrt(v) + self.eps)

    return Variant


def adagrad_like(*, eps_inside_root: bool = False, default_eps: float = 1e-10,
                 fused: bool = False) -> type:
    class Variant(ref_opt.Optimizer):
        def __init__(self, params, lr=0.01, eps=default_eps, weight_decay=0.0):
            super().__init__(params, lr)
            self.eps, self.weight_decay = eps, weight_decay

        def step(self, grads):
            for p, g, state in zip(self.params, grads, self.state, strict=True):
                g = _wd(g, p, self.weight_decay)
                s = state["s"] = state.get("s", 0.0) + g**2
                if eps_inside_root:
                    p -= self.lr * g / np.sqrt(s + self.eps)
                elif fused:
                    p -= g * self.lr / (s**0.5 + self.eps)
                else:
                    p -= self.lr * g / (np.sqrt(s) + self.eps)

    return Variant


def adadelta_like(*, eps_outside_root: bool = False, default_eps: float = 1e-6,
                  fused: bool = False) -> type:
    class Variant(ref_opt.Optimizer):
        def __init__(self, params, lr=1.0, rho=0.9, eps=default_eps, weight_decay=0.0):
            super().__init__(params, lr)
            self.rho, self.eps, self.weight_decay = rho, eps, weight_decay

        def step(self, grads):
            rho, eps = self.rho, self.eps
            for p, g, state in zip(self.params, grads, self.state, strict=True):
                g = _wd(g, p, self.weight_decay)
                v = state["v"] = rho * state.get("v", 0.0) + (1 - rho) * g * g
                u = state.get("u", 0.0)
                if eps_outside_root:
                    delta = (np.sqrt(u) + eps) / (np.sqrt(v) + eps) * g
                elif fused:
                    delta = g * np.sqrt((u + eps) / (v + eps))
                else:
                    delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
                state["u"] = rho * u + (1 - rho) * delta**2
                p -= self.lr * delta

    return Variant


def _opt_cases(name: str) -> tuple[str, ...]:
    return (f"{name}_defaults", f"{name}_hyperparameters_weight_decay")


OPTIMIZERS = [
    Variant("optimizers", "adam_default_eps_1e-7", False, {"Adam": adam_like(default_eps=1e-7)},
            ("Adam_defaults",), "eps = 1e-7 by default (Keras)"),
    Variant("optimizers", "adam_eps_inside_root", False, {"Adam": adam_like(eps_inside_root=True)},
            _opt_cases("Adam"), "√(v̂ + eps)"),
    Variant("optimizers", "adam_eps_before_bias_correction", False,
            {"Adam": adam_like(eps_after_bias=True)}, _opt_cases("Adam"),
            "lr·√(1−β₂ᵗ)/(1−β₁ᵗ)·m/(√v + eps)"),
    Variant("optimizers", "adam_bias_correction_one_step_off", False,
            {"Adam": adam_like(bias_step_off=True)}, _opt_cases("Adam"), "t + 1 in the corrections"),
    Variant("optimizers", "adamw_eps_inside_root", False,
            {"AdamW": adam_like(eps_inside_root=True, decoupled=True, default_wd=0.01)},
            _opt_cases("AdamW"), "√(v̂ + eps)"),
    Variant("optimizers", "rmsprop_eps_inside_root", False,
            {"RMSprop": rmsprop_like(eps_inside_root=True)}, _opt_cases("RMSprop"), "√(v + eps)"),
    Variant("optimizers", "rmsprop_default_eps_1e-10", False,
            {"RMSprop": rmsprop_like(default_eps=1e-10)}, ("RMSprop_defaults",), "eps = 1e-10"),
    Variant("optimizers", "adagrad_default_eps_1e-8", False,
            {"Adagrad": adagrad_like(default_eps=1e-8)}, ("Adagrad_defaults",), "eps = 1e-8"),
    Variant("optimizers", "adagrad_eps_inside_root", False,
            {"Adagrad": adagrad_like(eps_inside_root=True)}, _opt_cases("Adagrad"), "√(s + eps)"),
    Variant("optimizers", "adadelta_eps_outside_root", False,
            {"Adadelta": adadelta_like(eps_outside_root=True)}, _opt_cases("Adadelta"),
            "(√u + eps)/(√v + eps)"),
    Variant("optimizers", "adam_from_scratch", True, {"Adam": adam_like()}),
    Variant("optimizers", "adam_fused_bias_correction", True, {"Adam": adam_like(fused=True)}),
    Variant("optimizers", "adamw_from_scratch", True,
            {"AdamW": adam_like(decoupled=True, default_wd=0.01)}),
    Variant("optimizers", "rmsprop_fused", True, {"RMSprop": rmsprop_like(fused=True)}),
    Variant("optimizers", "adagrad_power_half", True, {"Adagrad": adagrad_like(fused=True)}),
    Variant("optimizers", "adadelta_one_root", True, {"Adadelta": adadelta_like(fused=True)}),
]


# =============================================================== backprop


def numerical_gradient_h(h_default: float, forward: bool = False) -> Callable:
    def numerical_gradient(f, x, h=h_default):
        grad = np.zeros(x.shape, dtype=np.float64)
        for index in np.ndindex(x.shape):
            e = np.zeros(x.shape)
            e[index] = h
            if forward:
                grad[index] = (f(x + e) - f(x)) / h
            else:
                grad[index] = (f(x + e) - f(x - e)) / (2 * h)
        return grad

    return numerical_gradient


def sce_log_eps(logits, labels):
    n = logits.shape[0]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(n), labels] + 1e-7))
    d = p.copy()
    d[np.arange(n), labels] -= 1
    return float(loss), d / n


def sce_one_hot(logits, labels):
    n, c = logits.shape
    lp = _log_softmax_lse(logits)
    one_hot = np.eye(c)[labels]
    return float(-np.einsum("nc,nc->", one_hot, lp) / n), (np.exp(lp) - one_hot) / n


def affine_backward_einsum(dout, cache):
    x, w, _ = cache
    return (np.einsum("nm,dm->nd", dout, w), np.einsum("nd,nm->dm", x, dout),
            np.einsum("nm->m", dout))


def sigmoid_forward_tanh(x):
    out = 0.5 * (1.0 + np.tanh(0.5 * x))
    return out, out


def lr_grads_float32(x, y, w, b):
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    r = np.float32(w) * x32 + np.float32(b) - y32
    return float(2 * np.mean(r * x32)), float(2 * np.mean(r))


def lr_grads_fused(x, y, w, b):
    r = (w * x + b - y) * (2.0 / len(x))
    return float(r @ x), float(r.sum())


BACKPROP = [
    Variant("backprop", "numerical_gradient_h_1e-4", False,
            {"numerical_gradient": numerical_gradient_h(1e-4)},
            ("numerical_gradient_default_h",), "default h = 1e-4"),
    Variant("backprop", "numerical_gradient_forward_difference", False,
            {"numerical_gradient": numerical_gradient_h(1e-5, forward=True)},
            ("numerical_gradient_default_h", "numerical_gradient_cubic_with_h"),
            "(f(x+h) − f(x))/h"),
    Variant("backprop", "softmax_cross_entropy_log_plus_1e-7", False,
            {"softmax_cross_entropy": sce_log_eps},
            ("softmax_cross_entropy", "softmax_cross_entropy_extreme"), "−log(p + 1e-7)"),
    Variant("backprop", "linear_regression_grads_float32", False,
            {"linear_regression_grads": lr_grads_float32},
            ("linear_regression_grads", "linear_regression_grads_larger"), "float32 arithmetic"),
    Variant("backprop", "numerical_gradient_added_step", True,
            {"numerical_gradient": numerical_gradient_h(1e-5)}),
    Variant("backprop", "softmax_cross_entropy_one_hot", True, {"softmax_cross_entropy": sce_one_hot}),
    Variant("backprop", "affine_backward_einsum", True, {"affine_backward": affine_backward_einsum}),
    Variant("backprop", "sigmoid_forward_tanh", True, {"sigmoid_forward": sigmoid_forward_tanh}),
    Variant("backprop", "linear_regression_grads_fused", True,
            {"linear_regression_grads": lr_grads_fused}),
]

# =============================================================== autodiff


def value_class(*edits: tuple[str, str]) -> type:
    return patched(ref_autodiff, *edits).Value


def _value_variant(name: str, correct: bool, target: str, edits: list[tuple[str, str]],
                   must_fail: tuple[str, ...] = (), note: str = "") -> Variant:
    return Variant("autodiff", name, correct, {"Value": value_class(*edits)}, must_fail, note,
                   graded=(target,))


def _autodiff_cases(target: str) -> tuple[str, ...]:
    from grader.specs import load_spec

    return tuple(c.name for c in load_spec("autodiff").cases if c.target == target)


AUTODIFF = [
    _value_variant("log_plus_1e-7", False, "Value.log",
                   [("math.log(self.data)", "math.log(self.data + 1e-7)")],
                   _autodiff_cases("Value.log"), "log(a + 1e-7)"),
    _value_variant("log_grad_plus_1e-7", False, "Value.log",
                   [("out.grad / self.data", "out.grad / (self.data + 1e-7)")],
                   _autodiff_cases("Value.log"), "1/(a + 1e-7)"),
    _value_variant("tanh_float32", False, "Value.tanh",
                   [("math.tanh(self.data)", "float(np.tanh(np.float32(self.data)))"),
                    ("import math", "import math\n\nimport numpy as np")],
                   _autodiff_cases("Value.tanh"), "float32 arithmetic"),
    _value_variant("log_grad_reciprocal", True, "Value.log",
                   [("out.grad / self.data", "(1.0 / self.data) * out.grad")]),
    _value_variant("tanh_grad_factored", True, "Value.tanh",
                   [("(1.0 - out.data**2) * out.grad", "(1.0 - out.data) * (1.0 + out.data) * out.grad")]),
    _value_variant("sigmoid_grad_expanded", True, "Value.sigmoid",
                   [("out.data * (1.0 - out.data) * out.grad", "(out.data - out.data * out.data) * out.grad")]),
    _value_variant("pow_grad_divided", True, "Value.pow",
                   [("exponent * self.data ** (exponent - 1) * out.grad",
                     "exponent * (out.data / self.data) * out.grad if self.data != 0 else "
                     "exponent * self.data ** (exponent - 1) * out.grad")]),
    _value_variant("truediv_grad_via_output", True, "Value.truediv",
                   [("other.grad -= out.grad * self.data / other.data**2",
                     "other.grad -= out.grad * out.data / other.data")]),
]

VARIANTS: list[Variant] = LOSSES + OPTIMIZERS + BACKPROP + AUTODIFF


# =============================================================== grading


def _cases_of(spec: AssignmentSpec, variant: Variant) -> list[Case]:
    return [c for c in spec.cases if c.target in variant.targets and not c.needs_cuda]


def tally(variant: Variant, students: Sequence[str], spec: AssignmentSpec) -> dict[str, CaseTally]:
    """Each case of the variant's targets graded for every student: passes and failures."""
    module = module_with(variant)
    reference = REFERENCES[variant.assignment]
    out: dict[str, CaseTally] = {}
    for case in _cases_of(spec, variant):
        t = out[case.name] = CaseTally()
        for student in students:
            try:
                verdict = evaluate_trusted(case, module, reference, student, spec.name)
                passed, message = verdict.passed, verdict.message
            except Exception as exc:  # what the engine reports as a failed case
                passed, message = False, f"raised {type(exc).__name__}: {exc}"
            if passed:
                t.passed += 1
            else:
                t.failed += 1
                if len(t.messages) < 2:
                    t.messages.append(f"{student}: {message}")
    return out


def problems(variant: Variant, tallies: dict[str, CaseTally]) -> list[str]:
    """What is wrong with this variant's verdicts: empty when it grades the same for everyone
    (and fails its cases, for a near miss; passes everything, for a correct variant)."""
    found = []
    for name in variant.must_fail:
        if name not in tallies:
            found.append(f"{name}: no such case of {sorted(variant.targets)}")
    for name, t in tallies.items():
        n = t.passed + t.failed
        if t.seed_dependent:
            found.append(f"{name}: seed-dependent, passed {t.passed} of {n}")
        elif variant.correct and t.failed:
            found.append(f"{name}: a correct variant fails for every student — {t.messages[0]}")
        elif not variant.correct and name in variant.must_fail and t.passed:
            found.append(f"{name}: a near miss passes for every student")
    return found


def run(variants: Iterable[Variant], n_students: int, out: Callable[[str], None] = print) -> int:
    """Grade every variant for n_students ids; print the findings; return how many there are."""
    students = [f"student{i:03d}" for i in range(n_students)]
    specs: dict[str, AssignmentSpec] = {}
    total = 0
    for variant in variants:
        spec = specs.setdefault(variant.assignment, load_spec(variant.assignment))
        started = time.perf_counter()
        tallies = tally(variant, students, spec)
        found = problems(variant, tallies)
        total += len(found)
        kind = "correct" if variant.correct else "near miss"
        summary = ", ".join(f"{name} {t.passed}/{t.passed + t.failed}" for name, t in tallies.items())
        status = "ok" if not found else f"{len(found)} problem(s)"
        out(f"{variant.assignment:10s} {variant.name:40s} {kind:9s} {status:13s} "
            f"[passed: {summary}] {time.perf_counter() - started:.1f}s")
        for line in found:
            out(f"    ! {line}")
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--only", nargs="*", default=None, help="variant names")
    args = parser.parse_args()
    chosen = [v for v in VARIANTS if args.only is None or v.name in args.only]
    if not chosen:
        print(f"no such variant; known: {', '.join(v.name for v in VARIANTS)}")
        return 2
    near = sum(not v.correct for v in chosen)
    print(f"{len(chosen)} variants ({near} near misses, {len(chosen) - near} correct), "
          f"{args.students} students each")
    found = run(chosen, args.students)
    print(f"\n{found} seed-dependent or wrong verdict(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
