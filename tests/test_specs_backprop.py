"""The backprop spec: the reference passes it, the stub fails it, a buggy copy fails only its target."""

from __future__ import annotations

import inspect
import types

import numpy as np
import pytest

from assignments import backprop as stub
from grader.spec import Case, Verdict, case_rng, evaluate_trusted
from grader.specs import load_spec
from reference import backprop as ref

SPEC = load_spec("backprop")  # public cases + hidden ones (grader/specs/hidden/backprop.py)

STUDENTS = ("alice", "bob")
CASES = {case.name: case for case in SPEC.cases}


def judge(case: Case, module: types.ModuleType, student: str = "alice") -> Verdict:
    """What the engine reports: an exception in run is a failed case."""
    try:
        return evaluate_trusted(case, module, ref, student, SPEC.name)
    except Exception as exc:
        return Verdict(False, f"{type(exc).__name__}: {exc}")


def is_plain(x) -> bool:
    if x is None or isinstance(x, (bool, int, float, str)):
        return True
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "biuf"
    if isinstance(x, (list, tuple)):
        return all(is_plain(v) for v in x)
    if isinstance(x, dict):
        return all(isinstance(k, str) and is_plain(v) for k, v in x.items())
    return False


def same(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(map(same, a, b))
    return bool(np.array_equal(a, b)) if isinstance(a, np.ndarray) or isinstance(b, np.ndarray) else a == b


def public_functions(module: types.ModuleType) -> set[str]:
    return {name for name, obj in vars(module).items()
            if not name.startswith("_") and inspect.isfunction(obj) and obj.__module__ == module.__name__}


# --------------------------------------------------------------- the spec's shape


def test_points_and_visibility():
    assert SPEC.max_points == 100
    visible = sum(c.points for c in SPEC.public_cases)
    assert 35 <= visible <= 45, visible
    assert all(c.description for c in SPEC.cases)
    assert all(c.timeout <= 5 for c in SPEC.cases)


def test_every_function_of_the_api_is_a_target_with_visible_and_hidden_cases():
    targets = {c.target for c in SPEC.cases}
    assert targets == public_functions(ref)
    for target in targets:
        kinds = {c.visibility for c in SPEC.cases if c.target == target}
        assert kinds == {"visible", "hidden"}, target


@pytest.mark.parametrize("name", list(CASES))
def test_inputs_are_plain_deterministic_and_per_student(name):
    case = CASES[name]
    alice = case.make_inputs(case_rng("alice", SPEC.name, name))
    assert is_plain(alice)
    assert same(alice, case.make_inputs(case_rng("alice", SPEC.name, name)))
    assert not same(alice, case.make_inputs(case_rng("bob", SPEC.name, name)))
    assert is_plain(case.run(ref, alice))


# --------------------------------------------------------------- who passes


@pytest.mark.parametrize("student", STUDENTS)
@pytest.mark.parametrize("name", list(CASES))
def test_reference_passes(name, student):
    verdict = judge(CASES[name], ref, student)
    assert verdict.passed, verdict.message


@pytest.mark.parametrize("name", list(CASES))
def test_stub_fails(name):
    with pytest.raises(NotImplementedError):
        evaluate_trusted(CASES[name], stub, ref, "alice", SPEC.name)


def copy_with(**replacements) -> types.ModuleType:
    """The reference with some functions swapped for buggy ones (the others keep calling the reference)."""
    module = types.ModuleType("buggy_backprop")
    module.__dict__.update({k: v for k, v in vars(ref).items() if not k.startswith("__")})
    module.__dict__.update(replacements)
    return module


def _half_grads(x, y, w, b):
    dw, db = ref.linear_regression_grads(x, y, w, b)
    return dw / 2, db / 2  # forgot the 2 of the square's derivative


def _fit_records_after_update(x, y, lr=0.1, steps=100):
    w, b, losses = 0.0, 0.0, []
    for _ in range(steps):
        dw, db = ref.linear_regression_grads(x, y, w, b)
        w, b = w - lr * dw, b - lr * db
        losses.append(float(np.mean((y - (w * x + b)) ** 2)))
    return w, b, losses


def _affine_backward_mean_db(dout, cache):
    dx, dW, _ = ref.affine_backward(dout, cache)
    return dx, dW, dout.mean(axis=0)


def _relu_backward_one_at_zero(dout, cache):
    return dout * (cache >= 0)


def _relu_forward_in_place(x):
    np.maximum(x, 0.0, out=x)
    return x, x.copy()


def _sce_without_shift(logits, labels):
    n = logits.shape[0]
    with np.errstate(all="ignore"):
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(n), labels]).mean()
    grad = probs.copy()
    grad[np.arange(n), labels] -= 1
    return float(loss), grad / n


def _net_without_relu_backward(params, x, labels):
    h = np.maximum(x @ params["W1"] + params["b1"], 0)
    loss, dscores = ref.softmax_cross_entropy(h @ params["W2"] + params["b2"], labels)
    dh = dscores @ params["W2"].T  # the ReLU's mask is missing
    return loss, {"W1": x.T @ dh, "b1": dh.sum(0), "W2": h.T @ dscores, "b2": dscores.sum(0)}


def _forward_difference(f, x, h=1e-5):
    grad, fx = np.zeros_like(x), f(x)
    for i in np.ndindex(x.shape):
        y = x.copy()
        y[i] += h
        grad[i] = (f(y) - fx) / h
    return grad


def _ignores_h(f, x, h=1e-5):
    return ref.numerical_gradient(f, x)


def _does_not_restore(f, x, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        fp = f(x)
        x[i] -= 2 * h
        grad[i] = (fp - f(x)) / (2 * h)  # x[i] is left at x − h
    return grad


BUGS = {  # bug -> (replacements, the cases that must fail, a phrase of the message)
    "linear_regression_grads: forgot the 2": (
        {"linear_regression_grads": _half_grads},
        {"linear_regression_grads", "linear_regression_grads_larger"}, "half"),
    "fit_linear_regression: loss recorded after the update": (
        {"fit_linear_regression": _fit_records_after_update},
        {"fit_linear_regression_defaults", "fit_linear_regression_lr_steps"}, "losses"),
    "affine_backward: db averaged": (
        {"affine_backward": _affine_backward_mean_db},
        {"affine_backward", "affine_backward_shapes"}, "db"),
    "relu_backward: gradient 1 at x == 0": (
        {"relu_backward": _relu_backward_one_at_zero}, {"relu_backward_at_zero"}, "relative error"),
    "relu_forward: in place": (  # the relu_backward cases run relu_forward first, and say so
        {"relu_forward": _relu_forward_in_place},
        {"relu_forward", "relu_forward_edges", "relu_backward", "relu_backward_at_zero"},
        "modified its input(s) x"),
    "softmax_cross_entropy: no max shift": (
        {"softmax_cross_entropy": _sce_without_shift}, {"softmax_cross_entropy_extreme"}, "non-finite"),
    "two_layer_net: no ReLU mask going back": (
        {"two_layer_net": _net_without_relu_backward}, {"two_layer_net", "two_layer_net_larger"}, "grads"),
    "numerical_gradient: forward difference": (
        {"numerical_gradient": _forward_difference},
        {"numerical_gradient_quadratic", "numerical_gradient_cubic_with_h"}, "differ"),
    "numerical_gradient: ignores h": (
        {"numerical_gradient": _ignores_h}, {"numerical_gradient_cubic_with_h"}, "differ"),
    "numerical_gradient: leaves x perturbed": (
        {"numerical_gradient": _does_not_restore},
        {"numerical_gradient_quadratic", "numerical_gradient_cubic_with_h"}, "modified"),
}


@pytest.mark.parametrize("bug", list(BUGS))
def test_a_buggy_copy_fails_exactly_the_cases_of_its_target(bug):
    replacements, must_fail, phrase = BUGS[bug]
    module = copy_with(**replacements)
    verdicts = {name: judge(case, module) for name, case in CASES.items()}
    failed = {name for name, v in verdicts.items() if not v.passed}
    assert failed == must_fail
    for name in must_fail:
        assert phrase in verdicts[name].message, verdicts[name].message


def test_parameters_are_passed_by_position():
    """A right answer whose parameters carry other names (z, y instead of logits, labels) passes."""

    def positional(fn):
        return lambda *args: fn(*args)

    module = copy_with(**{name: positional(getattr(ref, name)) for name in public_functions(ref)})
    failed = {name: v.message for name, case in CASES.items() if not (v := judge(case, module)).passed}
    assert not failed
