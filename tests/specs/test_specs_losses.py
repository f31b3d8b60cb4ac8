"""The losses spec: the reference passes it, the stub fails it, a buggy copy fails only its target."""

from __future__ import annotations

import numpy as np
from spec_helpers import SpecBench, function_spec_tests, per_case_tests

from assignments import losses as stub
from grader.specs import load_spec
from reference import losses as ref

SPEC = load_spec("losses")  # public cases + hidden ones (grader/specs/hidden/losses.py)
BENCH = SpecBench(SPEC, ref, stub)

# the tests every spec passes (spec_helpers), under this module's name
test_inputs_are_plain_deterministic_and_per_student, test_reference_passes, test_stub_fails = (
    per_case_tests(BENCH))


# --------------------------------------------------------------- bugs: each fails its target's cases


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
        {"cross_entropy_grad_moderate", "cross_entropy_grad_extreme"}, "no division by N"),
    "binary_cross_entropy_with_logits: log of sigmoid": (
        {"binary_cross_entropy_with_logits": _bce_naive}, {"bce_extreme_soft_targets"}, "non-finite"),
    "gaussian_nll: no log-variance term": (
        {"gaussian_nll": _gaussian_nll_without_log_term},
        {"gaussian_nll_default_var", "gaussian_nll_scalar_var", "gaussian_nll_array_var"}, "differs"),
    "gaussian_nll_grad: dvar of a scalar var not summed": (
        {"gaussian_nll_grad": _gaussian_grad_dvar_not_summed},
        {"gaussian_nll_grad_default_var", "gaussian_nll_grad_scalar_var"}, "dvar: expected a scalar"),
}


(test_points_and_visibility,
 test_every_function_of_the_api_is_a_target_with_visible_and_hidden_cases,
 test_a_buggy_copy_fails_exactly_the_cases_of_its_target,
 test_parameters_are_passed_by_position) = function_spec_tests(BENCH, BUGS)
