"""The losses spec: the reference passes it, the stub fails it, a buggy copy fails only its target."""

from __future__ import annotations

import inspect
import types

import numpy as np
import pytest

from assignments import losses as stub
from grader.spec import Case, Verdict, case_rng, evaluate_trusted
from grader.specs import load_spec
from reference import losses as ref

SPEC = load_spec("losses")  # public cases + hidden ones (grader/specs/hidden/losses.py)

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
    module = types.ModuleType("buggy_losses")
    module.__dict__.update({k: v for k, v in vars(ref).items() if not k.startswith("__")})
    module.__dict__.update(replacements)
    return module


def _mse_mean_over_everything(pred, target):
    return float(np.mean((target - pred) ** 2))  # 1/(N·D): the lecture's 1/N Σ_i Σ_d wants 1/N


def _mse_grad_wrong_sign(pred, target):
    return 2.0 * (target - pred) / pred.shape[0]


def _mse_grad_in_place(pred, target):
    pred -= target
    pred *= 2.0 / pred.shape[0]
    return pred


def _l1_grad_one_at_ties(pred, target):
    return np.where(pred >= target, 1.0, -1.0) / pred.shape[0]


def _huber_ignores_delta(pred, target, delta=1.0):
    return ref.huber(pred, target)


def _softmax_without_shift(logits):
    with np.errstate(all="ignore"):
        e = np.exp(logits)
        return e / e.sum(axis=-1, keepdims=True)


def _log_of_softmax(logits):
    with np.errstate(all="ignore"):
        return np.log(ref.softmax(logits))


def _cross_entropy_grad_sum(logits, labels):
    return ref.cross_entropy_grad(logits, labels) * logits.shape[0]  # forgot the 1/N


def _bce_naive(logits, targets):
    with np.errstate(all="ignore"):
        s = 1 / (1 + np.exp(-logits))
        per = -(targets * np.log(s) + (1 - targets) * np.log(1 - s))
    return float(per.sum() / logits.shape[0])


def _gaussian_nll_without_log_term(mean, target, var=1.0):
    return float(np.sum((target - mean) ** 2 / (2 * var)) / mean.shape[0])


def _gaussian_grad_dvar_not_summed(mean, target, var=1.0):
    dmean, _ = ref.gaussian_nll_grad(mean, target, var)
    dvar = (1 / (2 * var) - (target - mean) ** 2 / (2 * var**2)) / mean.shape[0]
    return dmean, dvar  # an array even when var is a scalar


BUGS = {  # bug -> (replacements, the cases that must fail, a phrase of the message)
    "mse: mean over every element": (
        {"mse": _mse_mean_over_everything}, {"mse_matrix"}, "value differs"),
    "mse_grad: wrong sign": (
        {"mse_grad": _mse_grad_wrong_sign}, {"mse_grad_matrix", "mse_grad_vector_outliers"}, "sign"),
    "mse_grad: writes into pred": (
        {"mse_grad": _mse_grad_in_place}, {"mse_grad_matrix", "mse_grad_vector_outliers"},
        "modified its input(s) pred"),
    "l1_grad: 1 where pred == target": (
        {"l1_grad": _l1_grad_one_at_ties}, {"l1_grad_vector_ties"}, "relative error"),
    "huber: ignores delta": (
        {"huber": _huber_ignores_delta}, {"huber_vector_delta"}, "value differs"),
    "softmax: no max shift": (
        {"softmax": _softmax_without_shift}, {"softmax_extreme"}, "non-finite"),
    "log_softmax: log of softmax": (
        {"log_softmax": _log_of_softmax}, {"log_softmax_extreme"}, "non-finite"),
    "cross_entropy_grad: no 1/N": (
        {"cross_entropy_grad": _cross_entropy_grad_sum},
        {"cross_entropy_grad_moderate", "cross_entropy_grad_extreme"}, "divide by N"),
    "binary_cross_entropy_with_logits: log of sigmoid": (
        {"binary_cross_entropy_with_logits": _bce_naive}, {"bce_extreme_soft_targets"}, "non-finite"),
    "gaussian_nll: no log-variance term": (
        {"gaussian_nll": _gaussian_nll_without_log_term},
        {"gaussian_nll_default_var", "gaussian_nll_scalar_var", "gaussian_nll_array_var"}, "differs"),
    "gaussian_nll_grad: dvar of a scalar var not summed": (
        {"gaussian_nll_grad": _gaussian_grad_dvar_not_summed},
        {"gaussian_nll_grad_default_var", "gaussian_nll_grad_scalar_var"}, "dvar: expected a scalar"),
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
